"""Adoption barriers in the adoption report: one statement reads the barriers of the
filtered recommendations (IRCCS region, kind, status, due date, when recorded and resolved);
the figures per region and kind are computed from them by `app.reports.barriers` (barriers
are few: a handful per adoption record at most).

Scope: the barriers of every adoption record of the filtered recommendations (they name no
device nor IRCCS); an IRCCS reads only its own, like its procurement times.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import islice

from sqlalchemy import select

from app.domain.deadlines import rome_date
from app.extensions import db
from app.models import Adoption, AdoptionBarrier, Organisation
from app.reports.barriers import BarrierFact, barrier_figures
from app.reports.filters import ReportFilters
from app.reports_pages.queries.adoption import recommendations_cte
from app.reports_pages.queries.common import aware, current_sql


def barrier_facts(actor, filters: ReportFilters) -> list[BarrierFact]:
    """Every barrier of the filtered recommendations' adoption records (one statement)."""
    recs = recommendations_cte(filters, current_sql())
    query = (
        select(
            Organisation.region,
            AdoptionBarrier.kind,
            AdoptionBarrier.status,
            AdoptionBarrier.due_date,
            AdoptionBarrier.recorded_at,
            AdoptionBarrier.resolved_at,
        )
        .select_from(recs)
        .join(Adoption, Adoption.request_id == recs.c.request_id)
        .join(AdoptionBarrier, AdoptionBarrier.adoption_id == Adoption.id)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
    )
    if actor is not None and actor.role == "irccs":
        query = query.where(Adoption.irccs_id == actor.organisation_id)
    return [
        BarrierFact(region, kind, status, due, aware(recorded), aware(resolved))
        for region, kind, status, due, recorded, resolved in db.session.execute(query)
    ]


def barrier_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """(region, kind, recorded, open, escalated, resolved, overdue, median days open, median
    days to resolution) per region and kind, by region then kind."""
    rows = barrier_figures(barrier_facts(actor, filters), now, rome_date(now))
    return islice(iter(rows), limit)
