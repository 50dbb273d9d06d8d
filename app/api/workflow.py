"""A request's workflow: the actions the caller may take now, firing one, the stage timeline
and the audit trail. The same service calls as the request page (`available_transitions`,
`fire`, `stage_timeline`, `entries_for_request`); the helpers here serve adoptions too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select

from app.adoption.presenters import irccs_choices
from app.api import schema_types as t
from app.api.bodies import json_body
from app.api.problems import ApiError
from app.api.registry import actor, operation
from app.api.requests import IF_MATCH, if_match_version, precondition_failed_on_conflict
from app.core import fire as workflow_service
from app.core.audit import entries_for_request
from app.core.guards import GuardFailure
from app.domain.redaction import RequestView, redact_audit_values, view_of
from app.extensions import db
from app.models import AuditEntry, User
from app.models.types import utcnow
from app.requests.action_panel import regional_body_choices
from app.requests.queries import get_request_for
from app.workflow.action_labels import (
    ACTION_HELP,
    action_label,
    choice_label,
    field_error_message,
    field_label,
)
from app.workflow.definitions import REIMBURSEMENT_WORKFLOW, REQUEST_WORKFLOW
from app.workflow.labels import reimbursement_state_label, state_label
from app.workflow.spec import DataField, WorkflowSpec
from app.workflow.states import REQUEST_STATES

if TYPE_CHECKING:
    from app.core.fire import ActionAvailability

FIELD_KINDS = (
    "text",
    "textarea",
    "lines",
    "choice",
    "date",
    "regional_body",
    "irccs",
    "irccs_list",
    "cig",
    "amount",
    "barrier",
)

# --- Schemas --------------------------------------------------------------------------------

TRANSITION_FIELD = t.obj(
    {
        "name": t.STRING,
        "label": t.STRING,
        "kind": t.enum(FIELD_KINDS),
        "required": t.BOOLEAN,
        "future_only": t.BOOLEAN,
        "past_only": t.BOOLEAN,
        "choices": t.array(t.obj({"value": {"type": ["string", "integer"]}, "label": t.STRING})),
    }
)
t.component(
    "Transition",
    t.obj(
        {
            "trigger": t.STRING,
            "label": t.STRING,
            "help": t.STRING,
            "to_state": t.STRING,
            "reason_required": t.BOOLEAN,
            "fields": t.array(TRANSITION_FIELD),
            "missing": t.array(
                t.STRING, description="What the blocking guards say is still missing."
            ),
            "blocked": t.BOOLEAN,
            "blocked_reasons": t.array(
                t.ref("BlockedReason"),
                description="Why the action cannot be taken now (empty when it can): the same "
                "guards a POST of the action checks, each with its stable code.",
            ),
        }
    ),
)
t.component(
    "BlockedReason",
    t.obj(
        {
            "guard": t.STRING,
            "code": t.STRING,
            "message": t.STRING,
            "missing": t.array(t.STRING),
        }
    ),
)
t.component("TransitionList", t.obj({"items": t.array(t.ref("Transition"))}))
t.component(
    "FireInput",
    t.obj(
        {
            "reason": {"type": "string", "maxLength": 10000},
            "data": {
                "type": "object",
                "additionalProperties": {
                    "type": ["string", "integer", "array", "null"],
                    "items": {"type": ["string", "integer"]},
                },
                "description": "The action's fields (see its `fields`): text as strings, "
                "`lines` as a list of strings, dates as YYYY-MM-DD, a regional body or an IRCCS "
                "as its id, `irccs_list` (the designated centres) as a list of IRCCS ids, "
                "`barrier` (an adoption barrier) as its id.",
            },
        },
        required=(),
        additionalProperties=False,
        examples=[{"reason": "", "data": {"missing_items": ["CE certificate"]}}],
    ),
)
AUDIT_ENTRY = t.component(
    "AuditEntry",
    t.obj(
        {
            "seq": t.INTEGER,
            "occurred_at": t.DATETIME,
            "actor": t.obj(
                {
                    "id": t.nullable(t.INTEGER),
                    "name": t.STRING,
                    "role": t.STRING,
                    "organisation_id": t.nullable(t.INTEGER),
                }
            ),
            "action": t.STRING,
            "action_label": t.STRING,
            "entity_type": t.STRING,
            "entity_id": t.INTEGER,
            "from_state": t.nullable(t.STRING),
            "to_state": t.nullable(t.STRING),
            "reason": t.STRING,
            "data": t.ANY_OBJECT,
            "changes": t.ANY_OBJECT,
            "hash": t.STRING,
            "prev_hash": t.STRING,
        }
    ),
)
t.component("AuditTrail", t.obj({"items": t.array(AUDIT_ENTRY)}))
t.component(
    "FireResult",
    t.obj(
        {
            "state": t.STRING,
            "state_label": t.STRING,
            "version": t.INTEGER,
            "audit_entry": AUDIT_ENTRY,
        }
    ),
)
STAGE = t.obj(
    {
        "state": t.enum(REQUEST_STATES),
        "state_label": t.STRING,
        "entered_at": t.DATETIME,
        "left_at": t.nullable(t.DATETIME),
        "due_at": t.nullable(t.DATETIME),
        "gross_days": t.nullable(t.NUMBER),
        "net_days": t.nullable(t.NUMBER),
        "clock_stopped": t.BOOLEAN,
        "late": t.BOOLEAN,
        "near_due": t.BOOLEAN,
        "days_late": t.NUMBER,
    }
)
t.component(
    "Timeline",
    t.obj({"state": t.enum(REQUEST_STATES), "stages": t.array(STAGE)}),
)

# --- Transitions ----------------------------------------------------------------------------


def _choices(data_field: DataField) -> list[dict]:
    if data_field.kind == "regional_body":
        return [{"value": value, "label": label} for value, label in regional_body_choices()]
    if data_field.kind in ("irccs", "irccs_list"):
        return [{"value": value, "label": label} for value, label in irccs_choices()]
    return [
        {"value": code, "label": choice_label(data_field.name, code)} for code in data_field.choices
    ]


def blocked_reason_json(failure: GuardFailure) -> dict:
    return {
        "guard": failure.guard,
        "code": failure.code,
        "message": failure.text,
        "missing": missing_of(failure),
    }


def missing_of(failure: GuardFailure) -> list[str]:
    """The missing items as JSON strings (a dossier item as its field name)."""
    return [str(getattr(item, "field", item)) for item in failure.missing]


def transition_json(action: ActionAvailability) -> dict:
    spec = action.spec
    return {
        "trigger": spec.trigger,
        "label": action_label(spec.trigger),
        "help": str(ACTION_HELP.get(spec.trigger, "")),
        "to_state": spec.dest,
        "reason_required": spec.reason_required,
        "fields": [
            {
                "name": f.name,
                "label": field_label(f.name),
                "kind": f.kind,
                "required": f.required,
                "future_only": f.future_only,
                "past_only": f.past_only,
                "choices": _choices(f),
            }
            for f in spec.fields
        ],
        "missing": [item for failure in action.blocked_by for item in missing_of(failure)],
        "blocked": action.blocked,
        "blocked_reasons": [blocked_reason_json(failure) for failure in action.blocked_by],
    }


def transitions_payload(user, obj) -> dict:
    actions = workflow_service.action_availability(user, obj)
    return {"items": [transition_json(action) for action in actions]}


def _data_error(data_field: DataField, value: Any) -> str | None:
    if data_field.kind == "lines":
        ok = isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
        return None if ok else _("Expected a list of texts.")
    if data_field.kind == "regional_body":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else _("Expected the id of a regional body (a number).")
    if data_field.kind == "irccs":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else _("Expected the id of an IRCCS (a number).")
    if data_field.kind == "barrier":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else _("Expected the id of a barrier of this adoption record (a number).")
    if data_field.kind == "irccs_list":
        ok = isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        )
        return None if ok else _("Expected a list of IRCCS ids (numbers).")
    if data_field.kind == "amount":
        ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        return None if ok else _('Expected an amount in euro as a text, e.g. "12500.00".')
    return None if isinstance(value, str) else _("Expected a text (string).")


def fire_input(workflow: WorkflowSpec, trigger: str) -> tuple[str, dict]:
    """(reason, data) from the JSON body; 422 for unknown fields and wrong JSON types."""
    body = json_body()
    reason = body.get("reason") or ""
    data = body.get("data") or {}
    errors = {}
    if not isinstance(reason, str):
        errors["reason"] = [_("Expected a text (string).")]
    unknown = set(body) - {"reason", "data"}
    errors |= {name: [_("Unknown field.")] for name in unknown}
    if not isinstance(data, dict):
        errors["data"] = [_("Expected an object.")]
        data = {}
    fields = {f.name: f for spec in workflow.by_trigger(trigger) for f in spec.fields}
    for name, value in data.items():
        if name not in fields:
            errors[name] = [_("Unknown field.")]
        elif value is not None and (message := _data_error(fields[name], value)):
            errors[name] = [message]
    if errors:
        codes = {name: ["invalid"] for name in errors}
        raise ApiError(422, "validation", errors=errors, error_codes=codes)
    return reason, {name: value for name, value in data.items() if value is not None}


def check_trigger(workflow: WorkflowSpec, trigger: str, user) -> None:
    specs = workflow.by_trigger(trigger)
    if not specs:
        raise ApiError(404, "not-found", _("There is no such action."))
    if not any(spec.may_be_fired_by(user.role) for spec in specs):
        raise ApiError(403, "forbidden", _("Your role does not take this action."))


def fire_and_report(obj, workflow: WorkflowSpec, trigger: str, user) -> dict:
    """Fire `trigger` with the body's reason and data; the new state and the audit entry."""
    check_trigger(workflow, trigger, user)
    expected = if_match_version(obj.version)
    reason, data = fire_input(workflow, trigger)
    with precondition_failed_on_conflict(expected):
        entry = workflow_service.fire(
            obj,
            trigger,
            user,
            utcnow(),
            reason=reason,
            expected_version=expected,
            ip=request.remote_addr,
            **data,
        )
    return {
        "state": obj.state,
        "state_label": _state_label_of(workflow, obj.state, user.role),
        "version": obj.version,
        "audit_entry": audit_json(entry, actor_names([entry])),
    }


def _state_label_of(workflow: WorkflowSpec, state: str, role: str) -> str:
    if workflow is REQUEST_WORKFLOW:
        return state_label(state, role)
    if workflow is REIMBURSEMENT_WORKFLOW:
        return reimbursement_state_label(state)
    from app.reports.texts import adoption_label

    return adoption_label(state)


def workflow_message(_field: str, code: str, _details=None) -> str:
    return field_error_message(code)


# What every "take an action" endpoint (a request's, an adoption record's) declares besides
# its path, tag and summary.
FIRE_OPERATION = {
    "response": "FireResult",
    "body": "json_optional",
    "body_schema": "FireInput",
    "params": (IF_MATCH,),
    "errors": (403, 404, 409, 412, 413, 415, 422),
    "idempotent": True,
    "messages": workflow_message,
}


# --- Audit --------------------------------------------------------------------------------


def actor_names(entries) -> dict[int, str]:
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def audit_json(entry: AuditEntry, names: dict[int, str], view: RequestView | None = None) -> dict:
    """An audit entry as JSON; with a `view`, its data and changes redacted for that reader."""
    return {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at,
        "actor": {
            "id": entry.actor_id,
            "name": names.get(entry.actor_id, entry.actor_name) if entry.actor_id else "",
            "role": entry.actor_role,
            "organisation_id": entry.actor_org_id,
        },
        "action": entry.action,
        "action_label": action_label(entry.action),
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "reason": entry.reason,
        "data": redact_audit_values(view, entry.data) if view else entry.data or {},
        "changes": redact_audit_values(view, entry.changes) if view else entry.changes or {},
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
    }


# --- Views ----------------------------------------------------------------------------------

TRIGGER_SCHEMA = t.enum(REQUEST_WORKFLOW.triggers)


@operation(
    "GET",
    "/requests/<int:request_id>/transitions",
    tag="Workflow",
    summary="The actions you may take on a request now",
    response="TransitionList",
    errors=(403, 404),
)
def list_request_transitions(request_id: int):
    """Each with the data fields it takes. An action a guard blocks now is listed with
    `blocked: true` and its `blocked_reasons` (code, message, missing items: e.g. the dossier
    items or documents a submission needs; an assessor not cleared of conflicts of interest);
    posting it would answer 422 with the same message. `missing` gathers the missing items."""
    user = actor()
    return transitions_payload(user, get_request_for(user, request_id))


@operation(
    "POST",
    "/requests/<int:request_id>/transitions/<trigger>",
    tag="Workflow",
    summary="Take an action on a request",
    path_schemas={"trigger": TRIGGER_SCHEMA},
    **FIRE_OPERATION,
)
def fire_request_transition(request_id: int, trigger: str):
    """E.g. `submit` (no data), `mark_incomplete` with `missing_items`, `assign_body` with
    `regional_body`. 409 when the action is not possible in the current state; 422
    (`guard-failed`) with the guard's `guard`, `guard_code`, message (`detail`) and `missing`
    items when a precondition is not met (a guard about one data field, e.g. the conditions of
    a restricted recommendation, also names it in `errors`). Send an `Idempotency-Key` to
    retry safely."""
    user = actor()
    return fire_and_report(get_request_for(user, request_id), REQUEST_WORKFLOW, trigger, user)


@operation(
    "GET",
    "/requests/<int:request_id>/timeline",
    tag="Workflow",
    summary="The stages of a request with their gross and net days and deadlines",
    response="Timeline",
    errors=(403, 404),
)
def request_timeline(request_id: int):
    """Oldest first. Net days leave out the clock stops (the manufacturer's time)."""
    user = actor()
    req = get_request_for(user, request_id)
    stages = [
        {
            "state": row.state,
            "state_label": state_label(row.state, user.role),
            "entered_at": row.entered_at,
            "left_at": row.left_at,
            "due_at": row.due_at,
            "gross_days": row.gross_days,
            "net_days": row.net_days,
            "clock_stopped": row.clock_stopped,
            "late": row.late,
            "near_due": row.near_due,
            "days_late": row.days_late,
        }
        for row in workflow_service.stage_timeline(req, utcnow())
    ]
    return {"state": req.state, "stages": stages}


@operation(
    "GET",
    "/requests/<int:request_id>/audit",
    tag="Workflow",
    summary="The audit trail of a request",
    response="AuditTrail",
    errors=(403, 404),
)
def request_audit(request_id: int):
    """For the parties to the request (its manufacturer, the agency, the assigned body), as on
    the request page; others get 403. Hash-chained: `prev_hash` links each entry to the one
    before it in the whole trail."""
    user = actor()
    req = get_request_for(user, request_id)
    view = view_of(user, req)
    if not view.sees_audit_trail:
        raise ApiError(403, "forbidden", _("The audit trail is for the parties to the request."))
    entries = entries_for_request(req.id, view)
    names = actor_names(entries)
    return {"items": [audit_json(entry, names, view) for entry in entries]}
