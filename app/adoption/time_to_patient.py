"""Time to patient of one request at each IRCCS its reader may see (the request page's
waterfall).

The computation is `app.reports.time_to_patient` (pure); this module reads the adoption
records with the start of their procurement in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.domain.redaction import RequestView
from app.extensions import db
from app.models import Adoption, Organisation, Procurement
from app.reports.time_to_patient import (
    HOLDERS,
    TimeToPatient,
    request_segments,
    time_to_patient,
)


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
        bars, offset = [], 0.0
        for holder in HOLDERS:
            days = self.days[holder]
            if days <= 0:
                continue
            width = 100 * days / total
            bars.append(Bar(holder, days, round(offset, 2), round(width, 2)))
            offset += width
        return bars


def request_paths(view: RequestView, request, timeline, now: datetime) -> list[PatientPath]:
    """The path to the first patient at every IRCCS with an adoption record whose figures
    this reader may see (the agency every one, an IRCCS its own); [] before publication."""
    recommendation = getattr(request, "recommendation", None)
    published = recommendation.published_at if recommendation is not None else None
    if published is None or not (view.sees_every_adoption or view.organisation_id):
        return []
    rows = db.session.execute(
        select(Adoption.irccs_id, Organisation.name, Adoption.first_use_at, Procurement.started_at)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
        .outerjoin(Procurement, Procurement.adoption_id == Adoption.id)
        .where(Adoption.request_id == request.id)
        .order_by(Organisation.name, Adoption.id)
    ).all()
    before = request_segments(timeline, published)
    return [
        PatientPath(name, time_to_patient(before, published, started, first_use, now))
        for irccs_id, name, first_use, started in rows
        if view.sees_adoption_figures(irccs_id)
    ]
