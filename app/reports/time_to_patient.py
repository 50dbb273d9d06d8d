"""Time to patient (pure): from a request's submission to the first patient at one IRCCS,
each day attributed to whoever held the file.

The request's stage visits up to the publication of the recommendation give the days of the
manufacturer (clock stops), the agency (intake, prioritisation, assignment, suspension), the
regional HTA body (assessment) and the committee (appraisal and consultation); then, for one
designated IRCCS, the publication to its decision (and on to the start of procurement when it
buys the device) is the IRCCS's evaluation, and procurement runs to the first patient.
An IRCCS still on its way counts up to `now` (the last segment is open).

The regional tariff ("Region (tariff)"): the IRCCS is *ready* when, on its side, nothing but
the tariff stands between the device and a patient: when its procurement was awarded (the
award date, at midday in Rome), or, when it buys nothing, when it approved the device. If its
region's tariff was requested, the days from the later of that moment and the request to the
region's decision (assigned, not needed or refused; still pending: to the end of the path)
are the region's. They are taken out of the IRCCS's evaluation or procurement days that
would otherwise cover them, never counted twice: the holders' days still sum to the path,
from submission to the first patient (or `now`). A tariff decided before the IRCCS was ready,
or never requested, gives the region no days.

Plain attributes only: stage visits (`state`, `entered_at`, `left_at`, `clock_stopped`), the
adoption record (`decided_at`, `first_use_at`), its procurement (start, award date) and its
region's tariff case (requested, decided).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l

from app.domain.deadlines import ROME
from app.reports.stats import Distribution, distribution
from app.workflow.facts import facts

MANUFACTURER = "manufacturer"
AGENCY = "agency"
REGIONAL_BODY = "regional_body"
COMMITTEE = "committee"
IRCCS = "irccs"
PROCUREMENT = "procurement"
REGION = "region"
# In the order the file passes between them.
HOLDERS: tuple[str, ...] = (
    MANUFACTURER,
    AGENCY,
    REGIONAL_BODY,
    COMMITTEE,
    IRCCS,
    PROCUREMENT,
    REGION,
)
# The holders after the recommendation whose days the region's tariff wait is taken from.
IRCCS_SIDE = frozenset({IRCCS, PROCUREMENT})
SECONDS_PER_DAY = 86400

HOLDER_LABELS = {
    "manufacturer": _l("Manufacturer (clock stops)"),
    "agency": _l("Agency"),
    "regional_body": _l("Regional HTA body"),
    "committee": _l("Committee (appraisal, consultation)"),
    "irccs": _l("IRCCS evaluation"),
    "procurement": _l("Procurement"),
    "region": _l("Region (tariff)"),
}


def holder_label(holder: str) -> str:
    return str(HOLDER_LABELS.get(holder, holder))


@dataclass(frozen=True)
class Segment:
    holder: str
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return max((self.end - self.start).total_seconds(), 0) / SECONDS_PER_DAY


@dataclass(frozen=True)
class TimeToPatient:
    """One device at one IRCCS: the segments in order, and whether the first patient came."""

    segments: tuple[Segment, ...]
    reached_patient: bool

    def days_by_holder(self) -> dict[str, float]:
        """Days per holder, every holder present (0 when it never held the file)."""
        days = dict.fromkeys(HOLDERS, 0.0)
        for segment in self.segments:
            days[segment.holder] += segment.days
        return days

    @property
    def total_days(self) -> float:
        return sum(segment.days for segment in self.segments)


def stage_holder(state: str, clock_stopped: bool) -> str:
    """Who held the file during a visit of a request state before the recommendation."""
    if clock_stopped:
        return MANUFACTURER
    state_facts = facts(state)
    if state_facts.body_engaged:
        return REGIONAL_BODY
    if state_facts.under_appraisal:
        return COMMITTEE
    return AGENCY


def request_segments(stages: Iterable, published_at: datetime) -> list[Segment]:
    """The request's timed visits (from submission) up to the publication, clipped there."""
    segments = []
    for stage in sorted(stages, key=lambda s: s.entered_at):
        if not facts(stage.state).timed or stage.entered_at >= published_at:
            continue
        end = min(stage.left_at or published_at, published_at)
        holder = stage_holder(stage.state, stage.clock_stopped)
        segments.append(Segment(holder, stage.entered_at, end))
    return segments


@dataclass(frozen=True)
class TariffWait:
    """What the region's tariff means for one IRCCS: when the IRCCS was ready (None: not yet),
    when the tariff was requested, and when the region decided (None: pending)."""

    ready_at: datetime | None
    requested_at: datetime
    decided_at: datetime | None


def midday_in_rome(day: date) -> datetime:
    """The moment a step known only by its day counts from (the award of a tender)."""
    return datetime.combine(day, time(12), tzinfo=ROME)


def ready_at(
    approved_at: datetime | None,
    procurement_started_at: datetime | None,
    award_date: date | None,
) -> datetime | None:
    """When the IRCCS was ready on its side: its procurement awarded, or, buying nothing, its
    approval; None while it is still evaluating or its tender is not awarded (or declined)."""
    if procurement_started_at is not None:
        return midday_in_rome(award_date) if award_date is not None else None
    return approved_at


def time_to_patient(
    before_recommendation: Sequence[Segment],
    published_at: datetime,
    procurement_started_at: datetime | None,
    first_use_at: datetime | None,
    now: datetime,
    tariff: TariffWait | None = None,
) -> TimeToPatient:
    """The whole path at one IRCCS (see the module docstring)."""
    end = max(first_use_at or now, published_at)
    evaluation_end = end
    if procurement_started_at is not None:
        evaluation_end = min(max(procurement_started_at, published_at), end)
    segments = [*before_recommendation, Segment(IRCCS, published_at, evaluation_end)]
    if procurement_started_at is not None:
        segments.append(Segment(PROCUREMENT, evaluation_end, end))
    wait = region_wait(tariff, end)
    if wait is not None:
        segments = carve(segments, wait[0], wait[1], REGION)
    return TimeToPatient(tuple(segments), first_use_at is not None)


def region_wait(tariff: TariffWait | None, end: datetime) -> tuple[datetime, datetime] | None:
    """The region's interval (see the module docstring), or None when it holds no days."""
    if tariff is None or tariff.ready_at is None:
        return None
    start = max(tariff.ready_at, tariff.requested_at)
    stop = min(tariff.decided_at or end, end)
    return (start, stop) if start < stop else None


def carve(segments: Sequence[Segment], start: datetime, stop: datetime, holder: str):
    """The IRCCS-side segments' days between `start` and `stop` given to `holder`: each
    overlapping segment is split, so no day is lost or counted twice."""
    carved: list[Segment] = []
    for segment in segments:
        if segment.holder not in IRCCS_SIDE or segment.end <= start or stop <= segment.start:
            carved.append(segment)
            continue
        if segment.start < start:
            carved.append(Segment(segment.holder, segment.start, start))
        carved.append(Segment(holder, max(segment.start, start), min(segment.end, stop)))
        if stop < segment.end:
            carved.append(Segment(segment.holder, stop, segment.end))
    return carved


def holder_distributions(paths: Iterable[TimeToPatient]) -> dict[str, Distribution]:
    """Median and P90 days per holder over the paths that reached the first patient."""
    done = [path.days_by_holder() for path in paths if path.reached_patient]
    return {holder: distribution([days[holder] for days in done]) for holder in HOLDERS}
