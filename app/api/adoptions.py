"""IRCCS adoption records and their quarterly usage reports.

The agency sees every adoption record, an IRCCS its own (`app.adoption.queries`). An IRCCS
moves its record through the adoption workflow (the same `fire`) and, once the device is in
use, reports per quarter the units, procedures, spend and adverse events
(`app.adoption.usage.report_usage`); a correction of a quarter is its next version and needs a
reason.
"""

from __future__ import annotations

from decimal import Decimal

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.adoption import usage as usage_service
from app.adoption.barriers import barrier_rows
from app.adoption.queries import get_adoption_for, visible_adoptions
from app.api import schema_types as t
from app.api.bodies import json_body
from app.api.paging import CURSOR, LIMIT, page
from app.api.problems import ApiError
from app.api.registry import Param, actor, operation
from app.api.requests import with_etag
from app.api.workflow import FIRE_OPERATION, fire_and_report, transitions_payload
from app.domain import permissions
from app.domain.dossier_rules import COUNT_MAX, InvalidValueError, check_money, parse_money
from app.models import Adoption
from app.models.types import utcnow
from app.reports.texts import adoption_label
from app.workflow.action_labels import choice_label
from app.workflow.definitions import ADOPTION_WORKFLOW
from app.workflow.states import (
    ADOPTION_STATES,
    BARRIER_KINDS,
    BARRIER_OWNERS,
    BARRIER_STATUSES,
    DECLINE_REASONS,
)

FIGURES = ("units", "procedures", "adverse_events")
VIGILANCE = ("fsn_number", "authority_reference")  # optional references of adverse events
USAGE_MESSAGES = {
    "in_future": _l("This quarter has not started yet."),
    "required": _l("Please fill this in."),
}

# --- Schemas --------------------------------------------------------------------------------

ADOPTION = t.component(
    "Adoption",
    t.obj(
        {
            "id": t.ID,
            "request": t.obj({"id": t.ID, "title": t.STRING, "url": t.STRING}),
            "irccs": t.obj({"id": t.ID, "name": t.STRING, "region": t.nullable(t.STRING)}),
            "state": t.enum(ADOPTION_STATES),
            "state_label": t.STRING,
            "version": t.INTEGER,
            "decline_reason": t.nullable(t.enum(DECLINE_REASONS)),
            "created_at": t.DATETIME,
            "state_changed_at": t.DATETIME,
            "decided_at": t.nullable(t.DATETIME),
            "first_use_at": t.nullable(t.DATETIME),
            "can_report_usage": t.BOOLEAN,
        }
    ),
)
t.component("AdoptionPage", t.page_of(ADOPTION))
USAGE_REPORT = t.component(
    "UsageReport",
    t.obj(
        {
            "year": t.INTEGER,
            "quarter": {"type": "integer", "minimum": 1, "maximum": 4},
            "version": t.INTEGER,
            "units": t.INTEGER,
            "procedures": t.INTEGER,
            "spend": t.MONEY,
            "adverse_events": t.INTEGER,
            "fsn_number": t.STRING,
            "authority_reference": t.STRING,
            "reported_at": t.DATETIME,
        }
    ),
)
t.component(
    "UsageReportList",
    t.obj({"items": t.array(USAGE_REPORT, description="Latest quarter and version first.")}),
)
COUNT = {"type": "integer", "minimum": 0, "maximum": COUNT_MAX}
t.component(
    "UsageInput",
    t.obj(
        {
            "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
            "quarter": {"type": "integer", "minimum": 1, "maximum": 4},
            "units": COUNT,
            "procedures": COUNT,
            "spend": {"type": ["string", "number"], "description": 'EUR, e.g. "12500.00"'},
            "adverse_events": COUNT,
            "fsn_number": {"type": "string", "maxLength": 100},
            "authority_reference": {"type": "string", "maxLength": 100},
            "reason": {"type": "string", "description": "Required to correct a reported quarter."},
        },
        required=("year", "quarter", "units", "procedures", "spend", "adverse_events"),
        additionalProperties=False,
        examples=[
            {
                "year": 2025,
                "quarter": 1,
                "units": 12,
                "procedures": 12,
                "spend": "222000.00",
                "adverse_events": 0,
            }
        ],
    ),
)

BARRIER = t.component(
    "AdoptionBarrier",
    t.obj(
        {
            "id": t.ID,
            "kind": t.enum(BARRIER_KINDS),
            "kind_label": t.STRING,
            "description": t.STRING,
            "owner": t.enum(BARRIER_OWNERS),
            "due_date": t.DATE,
            "status": t.enum(BARRIER_STATUSES),
            "overdue": t.BOOLEAN,
            "recorded_at": t.DATETIME,
            "escalated_at": t.nullable(t.DATETIME),
            "escalation_reason": t.STRING,
            "resolved_at": t.nullable(t.DATETIME),
            "resolution_note": t.STRING,
        }
    ),
)
t.component(
    "AdoptionBarrierList",
    t.obj({"items": t.array(BARRIER, description="Unresolved first, then newest.")}),
)

# --- Serialisation --------------------------------------------------------------------------


def adoption_json(adoption: Adoption, user) -> dict:
    irccs = adoption.irccs
    return {
        "id": adoption.id,
        "request": {
            "id": adoption.request_id,
            "title": adoption.request.title,
            "url": url_for("api.get_request", request_id=adoption.request_id),
        },
        "irccs": {"id": irccs.id, "name": irccs.name, "region": irccs.region},
        "state": adoption.state,
        "state_label": adoption_label(adoption.state),
        "version": adoption.version,
        "decline_reason": adoption.decline_reason,
        "created_at": adoption.created_at,
        "state_changed_at": adoption.state_changed_at,
        "decided_at": adoption.decided_at,
        "first_use_at": adoption.first_use_at,
        "can_report_usage": permissions.can_report_usage(user, adoption),
    }


def barrier_json(row) -> dict:
    barrier = row.barrier
    return {
        "id": barrier.id,
        "kind": barrier.kind,
        "kind_label": choice_label("barrier_kind", barrier.kind),
        "description": barrier.description,
        "owner": barrier.owner,
        "due_date": barrier.due_date,
        "status": barrier.status,
        "overdue": row.overdue,
        "recorded_at": barrier.recorded_at,
        "escalated_at": barrier.escalated_at,
        "escalation_reason": barrier.escalation_reason,
        "resolved_at": barrier.resolved_at,
        "resolution_note": barrier.resolution_note,
    }


def usage_json(report) -> dict:
    return {
        "year": report.year,
        "quarter": report.quarter,
        "version": report.version,
        "units": report.units,
        "procedures": report.procedures,
        "spend": f"{Decimal(report.spend):.2f}",
        "adverse_events": report.adverse_events,
        "fsn_number": report.fsn_number,
        "authority_reference": report.authority_reference,
        "reported_at": report.reported_at,
    }


def usage_message(_field: str, code: str, _details=None) -> str:
    return str(USAGE_MESSAGES.get(code) or _("This value is not valid."))


def usage_figures(body: dict) -> tuple[dict, str]:
    """The figures and the reason; 422 (with the field) for anything not a figure."""
    errors = {}
    figures: dict = {}
    for name in ("year", "quarter", *FIGURES):
        value = body.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= COUNT_MAX:
            errors[name] = [_("Enter a whole number, e.g. 4000.")]
        figures[name] = value
    try:
        spend = parse_money(str(body.get("spend"))) if body.get("spend") is not None else None
    except InvalidValueError:
        spend = None
    if spend is None or check_money(spend) is not None or isinstance(body.get("spend"), bool):
        errors["spend"] = [_("Enter an amount in euro, e.g. 1234.50.")]
    figures["spend"] = spend
    reason = body.get("reason") or ""
    if not isinstance(reason, str):
        errors["reason"] = [_("Expected a text (string).")]
    for name in VIGILANCE:
        value = body.get(name) or ""
        if not isinstance(value, str) or len(value) > 100:
            errors[name] = [_("Expected a text (string).")]
        figures[name] = value if isinstance(value, str) else ""
    errors |= {name: [_("Unknown field.")] for name in set(body) - {*figures, "reason"}}
    if errors:
        codes = {name: ["invalid"] for name in errors}
        raise ApiError(422, "validation", errors=errors, error_codes=codes)
    return figures, reason


# --- Views ----------------------------------------------------------------------------------

ADOPTION_STATE = Param("state", t.enum(ADOPTION_STATES), "Only records in this state.")
REQUEST_FILTER = Param("request_id", t.ID | {"maximum": 2147483647}, "Only this request's.")


@operation(
    "GET",
    "/adoptions",
    tag="Adoption",
    summary="List the adoption records you may see",
    response="AdoptionPage",
    params=(ADOPTION_STATE, REQUEST_FILTER, LIMIT, CURSOR),
    errors=(422,),
)
def list_adoptions():
    """The agency sees every record, an IRCCS its own; other roles an empty list."""
    user = actor()
    query = visible_adoptions(user)
    state, request_id = request.args.get("state"), request.args.get("request_id")
    errors = {}
    if state and state not in ADOPTION_STATES:
        errors["state"] = [_("Choose a value from the list.")]
    if request_id and not (request_id.isdigit() and 0 < int(request_id) <= 2147483647):
        errors["request_id"] = [_("Enter a whole number, e.g. 4000.")]
    if errors:
        raise ApiError(
            422, "validation", errors=errors, error_codes={k: ["invalid"] for k in errors}
        )
    if state:
        query = query.where(Adoption.state == state)
    if request_id:
        query = query.where(Adoption.request_id == int(request_id))
    items, cursor, headers = page(query, Adoption.id, "api.list_adoptions")
    return {"items": [adoption_json(a, user) for a in items], "next_cursor": cursor}, 200, headers


@operation(
    "GET",
    "/adoptions/<int:adoption_id>",
    tag="Adoption",
    summary="Read an adoption record",
    response="Adoption",
    errors=(404,),
)
def get_adoption(adoption_id: int):
    user = actor()
    adoption = get_adoption_for(user, adoption_id)
    return with_etag(adoption_json(adoption, user), adoption.version)


@operation(
    "GET",
    "/adoptions/<int:adoption_id>/transitions",
    tag="Adoption",
    summary="The actions you may take on an adoption record now",
    response="TransitionList",
    errors=(404,),
)
def list_adoption_transitions(adoption_id: int):
    user = actor()
    return transitions_payload(user, get_adoption_for(user, adoption_id))


@operation(
    "POST",
    "/adoptions/<int:adoption_id>/transitions/<trigger>",
    tag="Adoption",
    summary="Take an action on an adoption record",
    path_schemas={"trigger": t.enum(ADOPTION_WORKFLOW.triggers)},
    **FIRE_OPERATION,
)
def fire_adoption_transition(adoption_id: int, trigger: str):
    """E.g. `start_evaluation`, `approve_for_use`, `decline` with `decline_reason`,
    `start_use`. The users of the regional HTA body of the IRCCS's region may take
    `resolve_barrier` on a barrier their region owns, and nothing else (the record is not
    found to them, as its page is not). Send an `Idempotency-Key` to retry safely."""
    user = actor()
    adoption = get_adoption_for(user, adoption_id, trigger=trigger)
    return fire_and_report(adoption, ADOPTION_WORKFLOW, trigger, user)


@operation(
    "GET",
    "/adoptions/<int:adoption_id>/barriers",
    tag="Adoption",
    summary="The adoption barriers of an adoption record",
    response="AdoptionBarrierList",
    errors=(404,),
)
def list_adoption_barriers(adoption_id: int):
    """Record one with the `record_barrier` transition; resolve or escalate it with
    `resolve_barrier` / `escalate_barrier`, naming it in `data.barrier`."""
    user = actor()
    adoption = get_adoption_for(user, adoption_id)
    return {"items": [barrier_json(row) for row in barrier_rows(user, adoption, utcnow())]}


@operation(
    "GET",
    "/adoptions/<int:adoption_id>/usage-reports",
    tag="Adoption",
    summary="The quarterly usage reports of an adoption record (every version)",
    response="UsageReportList",
    errors=(404,),
)
def list_usage_reports(adoption_id: int):
    adoption = get_adoption_for(actor(), adoption_id)
    return {"items": [usage_json(r) for r in usage_service.history(adoption.id)]}


@operation(
    "POST",
    "/adoptions/<int:adoption_id>/usage-reports",
    tag="Adoption",
    summary="Report (or correct) a quarter's usage",
    response="UsageReport",
    status=201,
    body="json",
    body_schema="UsageInput",
    errors=(403, 404, 409, 413, 415, 422),
    idempotent=True,
    messages=usage_message,
)
def report_usage(adoption_id: int):
    """The IRCCS of the record, once the device is in use. Sending a quarter again stores a
    correction (its next version) and needs a `reason`. Send an `Idempotency-Key` to retry
    safely."""
    user = actor()
    adoption = get_adoption_for(user, adoption_id)
    figures, reason = usage_figures(json_body())
    report = usage_service.report_usage(
        user, adoption, figures, utcnow(), reason=reason, ip=request.remote_addr
    )
    return usage_json(report), 201
