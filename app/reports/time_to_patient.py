"""Time to patient (pure): from a request's submission to the first patient at one IRCCS,
each day attributed to whoever held the file.

The request's stage visits up to the publication of the recommendation give the days of the
manufacturer (clock stops), the agency (intake, prioritisation, assignment, suspension), the
regional HTA body (assessment) and the committee (appraisal and consultation); then, for one
designated IRCCS, the publication to its decision (and on to the start of procurement when it
buys the device) is the IRCCS's evaluation, and procurement runs to the first patient.
An IRCCS still on its way counts up to `now` (the last segment is open).

Plain attributes only: stage visits (`state`, `entered_at`, `left_at`, `clock_stopped`), the
adoption record (`decided_at`, `first_use_at`) and the start of its procurement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.reports.stats import Distribution, distribution
from app.workflow.facts import facts

MANUFACTURER = "manufacturer"
AGENCY = "agency"
REGIONAL_BODY = "regional_body"
COMMITTEE = "committee"
IRCCS = "irccs"
PROCUREMENT = "procurement"
# In the order the file passes between them.
HOLDERS: tuple[str, ...] = (MANUFACTURER, AGENCY, REGIONAL_BODY, COMMITTEE, IRCCS, PROCUREMENT)
SECONDS_PER_DAY = 86400

HOLDER_LABELS = {
    "manufacturer": _l("Manufacturer (clock stops)"),
    "agency": _l("Agency"),
    "regional_body": _l("Regional HTA body"),
    "committee": _l("Committee (appraisal, consultation)"),
    "irccs": _l("IRCCS evaluation"),
    "procurement": _l("Procurement"),
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


def time_to_patient(
    before_recommendation: Sequence[Segment],
    published_at: datetime,
    procurement_started_at: datetime | None,
    first_use_at: datetime | None,
    now: datetime,
) -> TimeToPatient:
    """The whole path at one IRCCS (see the module docstring)."""
    end = max(first_use_at or now, published_at)
    evaluation_end = end
    if procurement_started_at is not None:
        evaluation_end = min(max(procurement_started_at, published_at), end)
    segments = [*before_recommendation, Segment(IRCCS, published_at, evaluation_end)]
    if procurement_started_at is not None:
        segments.append(Segment(PROCUREMENT, evaluation_end, end))
    return TimeToPatient(tuple(segments), first_use_at is not None)


def holder_distributions(paths: Iterable[TimeToPatient]) -> dict[str, Distribution]:
    """Median and P90 days per holder over the paths that reached the first patient."""
    done = [path.days_by_holder() for path in paths if path.reached_patient]
    return {holder: distribution([days[holder] for days in done]) for holder in HOLDERS}
