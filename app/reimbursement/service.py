"""The regional tariff's rules around `fire`: the guard of `request_tariff`, the case it
opens, and who is told (listed in `transition_hooks.HOOK_MODULES`).

`request_tariff` is an internal transition of the adoption record (audited there); its after
hook opens the region's case in "requested" with its deadline ("regional_tariff") and writes
the case's first audit entry, in the same transaction. Then every move of the case is a
`fire` on the case (its own audit entries).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.audit import record_audit
from app.core.deadline_settings import effective_deadlines
from app.core.guards import GuardFailure, state_guard
from app.core.transition_hooks import after
from app.domain.deadlines import due_at
from app.extensions import db
from app.models import Adoption, Organisation, Reimbursement, User
from app.notifications.messages import request_ref
from app.notifications.outbox import notify
from app.notifications.recipients import Recipient, active_users
from app.workflow.definitions import REIMBURSEMENT_WORKFLOW
from app.workflow.facts import REIMBURSEMENT, TARIFF_DEADLINE_KEY, facts

ENTITY_TYPE = "reimbursement"
OPENING_ACTION = "request_tariff"


def case_of_region(request_id: int, region: str | None) -> Reimbursement | None:
    if region is None:
        return None
    return db.session.scalars(
        select(Reimbursement).where(
            Reimbursement.request_id == request_id, Reimbursement.region == region
        )
    ).one_or_none()


@state_guard("tariff_requestable")
def tariff_requestable(adoption, actor) -> GuardFailure | None:
    """One case per recommendation and region: the region of the adoption record's IRCCS has
    none for this request yet."""
    if case_of_region(adoption.request_id, adoption.irccs.region) is None:
        return None
    return GuardFailure(
        "tariff_requestable",
        "tariff_already_requested",
        _l("The regional tariff of this device is already requested for this region."),
    )


@after("adoption", OPENING_ACTION)
def open_case(adoption, spec, actor, now, data, entry) -> None:
    """Open the region's case (state "requested", its deadline running from now)."""
    region = adoption.irccs.region
    case = Reimbursement(
        request_id=adoption.request_id,
        region=region,
        state=REIMBURSEMENT_WORKFLOW.initial,
        requested_by_id=adoption.irccs_id,
        requested_at=now,
        state_changed_at=now,
        due_at=due_at(effective_deadlines(db.session).get(TARIFF_DEADLINE_KEY), now),
    )
    db.session.add(case)
    db.session.flush()
    record_audit(
        actor,
        entity_type=ENTITY_TYPE,
        entity_id=case.id,
        request_id=adoption.request_id,
        action=OPENING_ACTION,
        now=now,
        to_state=case.state,
        # The IRCCS that asked is on its adoption record's entry (which a manufacturer does
        # not read): the case's own trail, on the request's, names only the region.
        data={"region": region},
    )
    _tell_region(adoption.request, region, now, exclude=actor)


def _tell_region(request, region: str, now: datetime, exclude) -> None:
    """The region's users (its regional HTA body's assessors) have a case to act on."""
    users = db.session.scalars(
        active_users()
        .where(
            User.role == "assessor",
            Organisation.kind == "regional_body",
            Organisation.region == region,
        )
        .order_by(User.id)
    )
    told = [Recipient(user, None) for user in users if exclude is None or user.id != exclude.id]
    notify("tariff_requested", told, now, params=_params(request))


def _params(request) -> dict:
    return {"ref": request_ref(request.receipt_number, request.id)}


DECISIONS = tuple(
    spec.trigger
    for spec in REIMBURSEMENT_WORKFLOW.transitions
    if facts(spec.dest, REIMBURSEMENT).tariff_decided
)


@after(REIMBURSEMENT, *DECISIONS)
def tell_decision(case, spec, actor, now, data, entry) -> None:
    """The region decided: the IRCCS of the region with an adoption record for the request
    (linked to their own record) and the agency are told."""
    rows = db.session.execute(
        active_users()
        .add_columns(Adoption.id)
        .join(Adoption, Adoption.irccs_id == Organisation.id)
        .where(
            User.role == "irccs",
            Adoption.request_id == case.request_id,
            Organisation.region == case.region,
        )
        .order_by(User.id)
    ).all()
    told = [Recipient(user, case.request_id, adoption_id) for user, adoption_id in rows]
    agency = db.session.scalars(active_users().where(User.role == "agency").order_by(User.id))
    told += [Recipient(user, case.request_id) for user in agency]
    notify("tariff_decided", told, now, params=_params(case.request))
