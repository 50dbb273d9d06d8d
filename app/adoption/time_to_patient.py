"""Time to patient of one request at each IRCCS its reader may see (the request page's
waterfall).

The computation is `app.reports.time_to_patient` (pure); this module reads the adoption
records with their procurement and their region's tariff case in one statement.

`with_path_columns` and `adoption_path` are the one way to load a path: every caller (this
page, the adoption report's `patient_paths`) adds the same columns and joins to its query and
turns each row into a `TimeToPatient` with the same function, so a new stage of the path
(the regional tariff) reaches them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, select

from app.domain.redaction import RequestView
from app.extensions import db
from app.models import Adoption, Organisation, Procurement, Reimbursement
from app.reports.time_to_patient import (
    HOLDERS,
    Segment,
    TariffWait,
    TimeToPatient,
    ready_at,
    request_segments,
    time_to_patient,
)


def with_path_columns(query, irccs=Organisation):
    """`query` (over adoption records, with `irccs` joined as their IRCCS) with the columns
    `adoption_path` reads: the record's moments, its procurement's start and award, and its
    region's tariff case (outer joins: one row per record still)."""
    return (
        query.add_columns(
            Adoption.first_use_at.label("first_use_at"),
            Adoption.decided_at.label("decided_at"),
            Adoption.decline_reason.label("decline_reason"),
            Procurement.started_at.label("procurement_started_at"),
            Procurement.award_date.label("award_date"),
            Reimbursement.requested_at.label("tariff_requested_at"),
            Reimbursement.decided_at.label("tariff_decided_at"),
        )
        .outerjoin(Procurement, Procurement.adoption_id == Adoption.id)
        .outerjoin(
            Reimbursement,
            and_(
                Reimbursement.request_id == Adoption.request_id,
                Reimbursement.region == irccs.region,
            ),
        )
    )


def adoption_path(
    before: list[Segment], published: datetime, row, now: datetime, aware=lambda v: v
) -> TimeToPatient:
    """The path of one row of `with_path_columns` (or a `PathRecord`, whose fields carry the
    same names; `aware` makes a database moment timezone-aware where the dialect returns it
    naive)."""
    started = aware(row.procurement_started_at)
    # A declined record was decided, never approved: it is never ready for a tariff.
    approved = aware(row.decided_at) if row.decline_reason is None else None
    tariff = None
    if row.tariff_requested_at is not None:
        tariff = TariffWait(
            ready_at=ready_at(approved, started, row.award_date),
            requested_at=aware(row.tariff_requested_at),
            decided_at=aware(row.tariff_decided_at),
        )
    first_use = aware(row.first_use_at)
    return time_to_patient(before, published, started, first_use, now, tariff)


@dataclass(frozen=True)
class Bar:
    """One holder's bar of the waterfall: where it starts and how wide it is (percent)."""

    holder: str
    days: float
    offset: float
    width: float


@dataclass(frozen=True)
class PatientPath:
    irccs: str
    path: TimeToPatient

    @property
    def days(self) -> dict[str, float]:
        return self.path.days_by_holder()

    def bars(self) -> list[Bar]:
        """The waterfall: each holder's total days, one after the other, as shares of the
        whole path (a holder's several visits make one bar)."""
        total = self.path.total_days or 1.0
        by_holder = self.days  # summed once, not once per holder
        bars, offset = [], 0.0
        for holder in HOLDERS:
            days = by_holder[holder]
            if days <= 0:
                continue
            width = 100 * days / total
            bars.append(Bar(holder, days, round(offset, 2), round(width, 2)))
            offset += width
        return bars


@cache
def paths_statement():
    """`request_paths`' SELECT, built once (the request id bound at each execution); the
    request page runs it among its other reads (`paths_of` its rows)."""
    query = select(Adoption.irccs_id, Organisation.name).join(
        Organisation, Organisation.id == Adoption.irccs_id
    )
    return (
        with_path_columns(query)
        .add_columns(Adoption.id.label("adoption_id"))
        .where(Adoption.request_id == bindparam("request_id"))
        .order_by(Organisation.name, Adoption.id)
    )


def shows_paths(view: RequestView, request) -> bool:
    """Whether the page reads the paths: after publication, for a reader who may see the
    figures of every adoption record or of its own organisation's."""
    return _published(request) is not None and bool(
        view.sees_every_adoption or view.organisation_id
    )


def _published(request) -> datetime | None:
    recommendation = getattr(request, "recommendation", None)
    return recommendation.published_at if recommendation is not None else None


def request_paths(view: RequestView, request, timeline, now: datetime) -> list[PatientPath]:
    """The path to the first patient at every IRCCS with an adoption record whose figures
    this reader may see (the agency every one, an IRCCS its own); [] before publication."""
    if not shows_paths(view, request):
        return []
    rows = db.session.execute(paths_statement(), {"request_id": request.id}).all()
    return paths_of(view, request, timeline, now, rows)


def paths_of(view: RequestView, request, timeline, now: datetime, rows) -> list[PatientPath]:
    """`request_paths` from `paths_statement`'s rows (when `shows_paths`)."""
    published = _published(request)
    before = request_segments(timeline, published)
    return [
        PatientPath(row.name, adoption_path(before, published, row, now))
        for row in rows
        if view.sees_adoption_figures(row.irccs_id)
    ]
