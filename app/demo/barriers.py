"""Demo adoption barriers: every kind and every status (open, overdue, escalated, resolved,
escalated then resolved) across regions, on the demo's declined and stalled adoption records.
Each step goes through `fire` (recorded by the IRCCS, escalated, resolved by the IRCCS, the
region's body or the agency), backdated, so the audit trail and the report agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.adoption.barriers import barrier_after_days, suggested_barrier
from app.core.fire import fire
from app.extensions import db
from app.models import Adoption, AdoptionBarrier

# (kind, owner, what happens next, description), cycled over the candidate records.
SCENARIOS = (
    ("no_budget", "irccs", "open", "Il bilancio 2026 non prevede la spesa per il dispositivo."),
    ("awaiting_tariff", "region", "overdue", "Manca la tariffa regionale per la procedura."),
    ("infrastructure", "irccs", "escalated", "Serve una sala ibrida, in costruzione."),
    ("training", "irccs", "resolved", "L'équipe deve completare il corso del produttore."),
    ("clinical_consensus", "agency", "open", "I clinici chiedono dati sui pazienti fragili."),
    ("organisational", "region", "resolved", "Il percorso regionale non prevede il centro."),
    ("other", "irccs", "escalated_resolved", "Contratto di manutenzione non definito."),
)
# The record is written this long ago; a barrier is due this long after it.
RECORDED_AGO = timedelta(days=45)
DUE_AFTER = timedelta(days=90)
OVERDUE_AFTER = timedelta(days=30)  # due 15 days ago by now
SETTLED_AFTER = timedelta(days=20)  # escalated or resolved this long after being recorded


def create_barriers(cast, now: datetime) -> int:
    """Barriers on the records that may get one at `now - RECORDED_AGO`; returns how many."""
    recorded_at = now - RECORDED_AGO
    region_users = {body.region: cast.assessors.get(body.id) for body in cast.bodies}
    count = 0
    for adoption in _candidates(recorded_at):
        kind, owner, outcome, description = SCENARIOS[count % len(SCENARIOS)]
        if owner == "region" and region_users.get(adoption.irccs.region) is None:
            owner = "irccs"  # no regional body in the demo for that region
        kind = (suggested_barrier(adoption) or (kind, owner))[0]
        _play(adoption, cast, region_users, kind, owner, outcome, description, recorded_at)
        count += 1
    return count


def _candidates(recorded_at: datetime) -> list[Adoption]:
    """Declined records and records stalled long enough by `recorded_at`."""
    adoptions = db.session.scalars(select(Adoption).order_by(Adoption.id)).all()
    return [
        a
        for a in adoptions
        if (days := barrier_after_days(a.state)) is not None
        and a.state_changed_at + timedelta(days=days) <= recorded_at
    ]


def _play(adoption, cast, region_users, kind, owner, outcome, description, at) -> None:
    irccs_user = cast.irccs_users[adoption.irccs_id]
    due = at + (OVERDUE_AFTER if outcome == "overdue" else DUE_AFTER)
    entry = fire(
        adoption,
        "record_barrier",
        irccs_user,
        at,
        barrier_kind=kind,
        barrier_description=description,
        barrier_owner=owner,
        barrier_due_date=due.date(),
    )
    barrier = db.session.get(AdoptionBarrier, entry.data["barrier"])
    later = at + SETTLED_AFTER
    if outcome in ("escalated", "escalated_resolved"):
        fire(
            adoption,
            "escalate_barrier",
            irccs_user,
            later,
            reason="Non risolvibile dall'IRCCS: serve una decisione dell'agenzia.",
            barrier=barrier.id,
        )
    if outcome == "resolved":
        resolver = region_users.get(adoption.irccs.region) if owner == "region" else irccs_user
        fire(
            adoption,
            "resolve_barrier",
            resolver or cast.agency,
            later,
            barrier=barrier.id,
            resolution_note="Risolto: delibera approvata.",
        )
    if outcome == "escalated_resolved":
        fire(
            adoption,
            "resolve_barrier",
            cast.agency,
            later + SETTLED_AFTER,
            barrier=barrier.id,
            resolution_note="L'agenzia ha concordato un contratto quadro nazionale.",
        )
