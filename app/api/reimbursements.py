"""Regional tariff cases (the reimbursement workflow): read one, list the actions you may
take on it, take one (the same `fire` and permissions as the case page: another region's case
is a 404; only the region's users, its regional HTA body's assessors, decide).

A tariff is public (regional tariff decrees): its code and amount are in the case for every
party that may read it (the agency, the region, its IRCCS with an adoption record for the
request, the manufacturer of the device).
"""

from __future__ import annotations

from flask import url_for

from app.api import schema_types as t
from app.api.registry import actor, operation
from app.api.requests import with_etag
from app.api.workflow import FIRE_OPERATION, fire_and_report, transitions_payload
from app.models import Reimbursement
from app.reimbursement.queries import get_case_for
from app.workflow.definitions import REIMBURSEMENT_WORKFLOW
from app.workflow.labels import reimbursement_state_label
from app.workflow.states import REIMBURSEMENT_STATES, TARIFF_KINDS

REIMBURSEMENT = t.component(
    "Reimbursement",
    t.obj(
        {
            "id": t.ID,
            "request": t.obj({"id": t.ID, "title": t.STRING, "url": t.STRING}),
            "region": t.STRING,
            "state": t.enum(REIMBURSEMENT_STATES),
            "state_label": t.STRING,
            "version": t.INTEGER,
            "requested_at": t.DATETIME,
            "due_at": t.nullable(t.DATETIME),
            "decided_at": t.nullable(t.DATETIME),
            "tariff_kind": t.nullable(t.enum(TARIFF_KINDS)),
            "tariff_code": t.nullable(t.STRING),
            "tariff_amount": t.nullable(t.STRING),
            "effective_date": t.nullable(t.DATE),
        }
    ),
)


def reimbursement_json(case: Reimbursement) -> dict:
    return {
        "id": case.id,
        "request": {
            "id": case.request_id,
            "title": case.request.title,
            "url": url_for("api.get_request", request_id=case.request_id),
        },
        "region": case.region,
        "state": case.state,
        "state_label": reimbursement_state_label(case.state),
        "version": case.version,
        "requested_at": case.requested_at,
        "due_at": case.due_at,
        "decided_at": case.decided_at,
        "tariff_kind": case.tariff_kind,
        "tariff_code": case.tariff_code,
        "tariff_amount": None if case.tariff_amount is None else f"{case.tariff_amount:.2f}",
        "effective_date": case.effective_date,
    }


@operation(
    "GET",
    "/reimbursements/<int:case_id>",
    tag="Reimbursement",
    summary="Read a regional tariff case",
    response="Reimbursement",
    errors=(404,),
)
def get_reimbursement(case_id: int):
    case = get_case_for(actor(), case_id)
    return with_etag(reimbursement_json(case), case.version)


@operation(
    "GET",
    "/reimbursements/<int:case_id>/transitions",
    tag="Reimbursement",
    summary="The actions you may take on a regional tariff case now",
    response="TransitionList",
    errors=(404,),
)
def list_reimbursement_transitions(case_id: int):
    user = actor()
    return transitions_payload(user, get_case_for(user, case_id))


@operation(
    "POST",
    "/reimbursements/<int:case_id>/transitions/<trigger>",
    tag="Reimbursement",
    summary="Take an action on a regional tariff case",
    path_schemas={"trigger": t.enum(REIMBURSEMENT_WORKFLOW.triggers)},
    **FIRE_OPERATION,
)
def fire_reimbursement_transition(case_id: int, trigger: str):
    """The region's users: `start_tariff_evaluation`, then `assign_tariff` (with
    `tariff_kind`, `tariff_code`, `tariff_amount`, `effective_date`),
    `declare_tariff_not_needed` or `refuse_tariff` (with a `reason`). Send an
    `Idempotency-Key` to retry safely."""
    user = actor()
    return fire_and_report(get_case_for(user, case_id), REIMBURSEMENT_WORKFLOW, trigger, user)
