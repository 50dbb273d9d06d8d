"""Demo regional tariffs: for the published recommendations, the IRCCS of Lombardia,
Emilia-Romagna and Lazio (the regions with a regional HTA body in the demo) ask their region
for the tariff, and the region's assessor takes the case to one of its states in turn:
requested, under evaluation, assigned (a DRG or an outpatient code), not needed, refused.
Everything goes through `fire`, so the audit trail, the deadlines and the time to patient
are those of real cases.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import cycle

from sqlalchemy import select

from app.core.fire import fire
from app.extensions import db
from app.models import Adoption, Organisation, Reimbursement
from app.workflow.definitions import TARIFF_REQUESTABLE_STATES

# Each case's path after the request: (trigger, days after the previous step, reason, data).
ASSIGN_DRG = {"tariff_kind": "drg", "tariff_code": "DRG 105", "tariff_amount": "21450.00"}
ASSIGN_OUTPATIENT = {
    "tariff_kind": "outpatient",
    "tariff_code": "89.52.1",
    "tariff_amount": "640.00",
}
NOT_NEEDED = "La procedura rientra nel DRG esistente: nessuna nuova tariffa."
REFUSED = "Evidenze di costo-efficacia insufficienti per la Regione."

# Each case's path after the request: (trigger, days after the previous step, reason, data),
# in the order the cases are opened: the decided states first, so that even a small demo
# (one copy per scenario: four cases) shows the region's three decisions.
CASE_PATHS = (
    (("start_tariff_evaluation", 12, "", {}),),
    (("start_tariff_evaluation", 10, "", {}), ("assign_tariff", 35, "", ASSIGN_DRG)),
    (("start_tariff_evaluation", 15, "", {}), ("refuse_tariff", 60, REFUSED, {})),
    (("start_tariff_evaluation", 7, "", {}), ("declare_tariff_not_needed", 20, NOT_NEEDED, {})),
    (),
    (("start_tariff_evaluation", 9, "", {}), ("assign_tariff", 25, "", ASSIGN_OUTPATIENT)),
)
REQUEST_AFTER_DAYS = 5


def create_tariffs(cast, now: datetime) -> int:
    """Ask and play the demo's tariff cases; returns how many cases were opened."""
    region_users = {body.region: cast.assessors[body.id] for body in cast.bodies}
    records = db.session.execute(
        select(Adoption, Organisation.region)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
        .where(
            Adoption.state.in_(TARIFF_REQUESTABLE_STATES),
            Organisation.region.in_(region_users),
        )
        # The records that have waited longest first: the paths that end in a decision go to
        # them, so every decision fits before `now` whatever the database's order of the rest.
        .order_by(Adoption.state_changed_at, Adoption.request_id, Adoption.irccs_id)
    ).all()
    paths = cycle(CASE_PATHS)
    asked: set[tuple[int, str]] = set()
    for adoption, region in records:
        if (adoption.request_id, region) in asked:
            continue  # one case per region: the other IRCCS wait for the same one
        moment = adoption.state_changed_at + timedelta(days=REQUEST_AFTER_DAYS)
        if moment >= now:
            continue
        asked.add((adoption.request_id, region))
        fire(adoption, "request_tariff", cast.irccs_users[adoption.irccs_id], moment)
        case = db.session.scalars(
            select(Reimbursement).where(
                Reimbursement.request_id == adoption.request_id, Reimbursement.region == region
            )
        ).one()
        _play(case, next(paths), region_users[region], moment, now)
    return len(asked)


def _play(case, steps, user, moment: datetime, now: datetime) -> None:
    for trigger, days, reason, data in steps:
        moment += timedelta(days=days)
        if moment >= now:
            return
        if trigger == "assign_tariff":
            data = {**data, "effective_date": (moment + timedelta(days=30)).date()}
        fire(case, trigger, user, moment, reason=reason, **data)
