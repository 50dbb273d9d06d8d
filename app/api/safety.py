"""The safety loop (agency only): safety alerts, suspending a device from an alert (with
vigilance references), dismissing one, and a device's adverse-event threshold."""

from __future__ import annotations

from flask import request

from app.api import schema_types as t
from app.api.bodies import json_body
from app.api.problems import ApiError
from app.api.registry import actor, operation
from app.domain.safety import ALERT_KINDS, ALERT_STATUSES
from app.models.types import utcnow
from app.requests.queries import get_request_for
from app.safety import operations as service

ALERT = t.component(
    "SafetyAlert",
    t.obj(
        {
            "id": t.ID,
            "request_id": t.ID,
            "kind": t.enum(ALERT_KINDS),
            "status": t.enum(ALERT_STATUSES),
            "rate": t.nullable(t.STRING),
            "threshold": t.nullable(t.STRING),
            "summary": t.STRING,
            "raised_at": t.DATETIME,
            "closed_at": t.nullable(t.DATETIME),
        }
    ),
)
t.component("SafetyAlertList", t.obj({"items": t.array(ALERT)}))
t.component(
    "SuspensionInput",
    t.obj(
        {
            "reason": {"type": "string", "maxLength": 2000},
            "fsn_number": {"type": "string", "maxLength": 100},
            "authority_reference": {"type": "string", "maxLength": 100},
        },
        required=(),
        additionalProperties=False,
    ),
)
t.component(
    "DismissalInput",
    t.obj(
        {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
        additionalProperties=False,
    ),
)
t.component(
    "SafetyThreshold",
    t.obj({"per_100": t.STRING, "source": t.enum(("agency", "dossier"))}),
)
t.component(
    "SafetyThresholdInput",
    t.obj(
        {
            "per_100": {
                "type": ["string", "number"],
                "description": "adverse events per 100 procedures",
            }
        },
        additionalProperties=False,
    ),
)


def _agency():
    if actor().role != "agency":
        raise ApiError(403, "forbidden")


def _json(alert) -> dict:
    return {
        "id": alert.id,
        "request_id": alert.request_id,
        "kind": alert.kind,
        "status": alert.status,
        "rate": None if alert.rate is None else f"{alert.rate:.2f}",
        "threshold": None if alert.threshold is None else f"{alert.threshold:.2f}",
        "summary": alert.summary,
        "raised_at": alert.raised_at,
        "closed_at": alert.closed_at,
    }


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


@operation(
    "GET",
    "/safety/alerts",
    tag="Safety",
    summary="Safety alerts, newest first (agency)",
    response="SafetyAlertList",
    errors=(403,),
)
def list_safety_alerts():
    _agency()
    return {"items": [_json(a) for a in service.alerts()]}


@operation(
    "POST",
    "/safety/alerts/<int:alert_id>/suspension",
    tag="Safety",
    summary="Suspend the device of an alert (agency); every IRCCS concerned is told",
    response="SafetyAlert",
    body="json_optional",
    body_schema="SuspensionInput",
    errors=(403, 404, 409, 413, 415, 422),
    idempotent=True,
)
def suspend_from_alert(alert_id: int):
    _agency()
    alert = service.get_alert(actor(), alert_id)
    body = json_body()
    service.suspend_from(
        actor(),
        alert,
        utcnow(),
        reason=_text(body, "reason"),
        fsn_number=_text(body, "fsn_number"),
        authority_reference=_text(body, "authority_reference"),
        ip=request.remote_addr,
    )
    return _json(alert)


@operation(
    "POST",
    "/safety/alerts/<int:alert_id>/dismissal",
    tag="Safety",
    summary="Dismiss an alert, with the reason (agency)",
    response="SafetyAlert",
    body="json",
    body_schema="DismissalInput",
    errors=(403, 404, 409, 413, 415, 422),
    idempotent=True,
)
def dismiss_alert(alert_id: int):
    _agency()
    alert = service.get_alert(actor(), alert_id)
    service.dismiss(actor(), alert, utcnow(), _text(json_body(), "reason"), ip=request.remote_addr)
    return _json(alert)


@operation(
    "PUT",
    "/requests/<int:request_id>/safety-threshold",
    tag="Safety",
    summary="Set the device's adverse-event threshold (agency)",
    response="SafetyThreshold",
    body="json",
    body_schema="SafetyThresholdInput",
    errors=(403, 404, 413, 415, 422),
)
def set_safety_threshold(request_id: int):
    _agency()
    req = get_request_for(actor(), request_id)
    value = json_body().get("per_100")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        value = "invalid"
    per_100 = service.set_threshold(actor(), req, value, utcnow(), ip=request.remote_addr)
    return {"per_100": f"{per_100:.2f}", "source": "agency"}
