"""Evidence milestones of a request whose recommendation is "with evidence generation" or
"only in research": list (whoever may see the request), set, deliver (multipart, with its
document) and miss (agency). A missed milestone or the delivery of the last moves the request
to reassessment due (`app.assessment.milestones`)."""

from __future__ import annotations

from datetime import date

from flask import request
from flask_babel import gettext as _

from app.api import schema_types as t
from app.api.bodies import json_body
from app.api.problems import ApiError
from app.api.registry import actor, operation
from app.assessment import milestones as service
from app.domain.errors import NotFound
from app.domain.evidence import ID_KINDS, STATUSES, takes_milestones
from app.forms.milestones import STUDY_ID_MESSAGES
from app.models.types import utcnow
from app.requests.queries import get_request_for

MILESTONE = t.component(
    "EvidenceMilestone",
    t.obj(
        {
            "id": t.ID,
            "evidence": t.STRING,
            "id_kind": t.enum(ID_KINDS),
            "study_id": t.STRING,
            "irccs": t.obj({"id": t.ID, "name": t.STRING}),
            "due_on": t.DATE,
            "status": t.enum(STATUSES),
            "document_id": t.nullable(t.ID),
            "closed_at": t.nullable(t.DATETIME),
        }
    ),
)
t.component(
    "MilestoneList",
    t.obj({"items": t.array(MILESTONE), "request_state": t.STRING}),
)
t.component(
    "MilestoneInput",
    t.obj(
        {
            "evidence": {"type": "string", "minLength": 1, "maxLength": 4000},
            "id_kind": t.enum(ID_KINDS),
            "study_id": {
                "type": "string",
                "description": "EU CT number YYYY-NNNNNN-NN-NN, NCT########, "
                "CIV-CC-YY-MM-NNNNNN, or a registry's name",
            },
            "irccs_id": t.ID,
            "due_on": t.DATE,
        },
        additionalProperties=False,
    ),
)
t.component(
    "MilestoneMissInput",
    t.obj(
        {"reason": {"type": "string", "maxLength": 2000}}, required=(), additionalProperties=False
    ),
)
t.component(
    "MilestoneDeliveryInput",
    t.obj(
        {"file": {"type": "string", "contentMediaType": "application/octet-stream"}},
        description="The document that delivers the evidence (PDF, DOCX, ...).",
    ),
)


def milestone_message(_field: str, code: str, _details=None) -> str:
    return str(STUDY_ID_MESSAGES.get(code) or _("This value is not valid."))


def _json(m) -> dict:
    return {
        "id": m.id,
        "evidence": m.evidence,
        "id_kind": m.id_kind,
        "study_id": m.study_id,
        "irccs": {"id": m.irccs.id, "name": m.irccs.name},
        "due_on": m.due_on,
        "status": m.status,
        "document_id": m.document_id,
        "closed_at": m.closed_at,
    }


def _load(request_id: int):
    req = get_request_for(actor(), request_id)
    if not takes_milestones(service.outcome_of(req)):
        raise ApiError(404, "not-found")
    return req


def _list(req) -> dict:
    return {"items": [_json(m) for m in service.milestones_of(req.id)], "request_state": req.state}


def _milestone(req, milestone_id: int):
    for milestone in service.milestones_of(req.id):
        if milestone.id == milestone_id:
            return milestone
    raise NotFound("no such milestone")


@operation(
    "GET",
    "/requests/<int:request_id>/milestones",
    tag="Evidence milestones",
    summary="The evidence milestones of a request",
    response="MilestoneList",
    errors=(404,),
)
def list_milestones(request_id: int):
    return _list(_load(request_id))


@operation(
    "POST",
    "/requests/<int:request_id>/milestones",
    tag="Evidence milestones",
    summary="Set an evidence milestone (agency)",
    response="MilestoneList",
    status=201,
    body="json",
    body_schema="MilestoneInput",
    errors=(403, 404, 413, 415, 422),
    idempotent=True,
    messages=milestone_message,
)
def set_milestone(request_id: int):
    req = _load(request_id)
    body = json_body()
    try:
        due_on = date.fromisoformat(body["due_on"]) if isinstance(body.get("due_on"), str) else None
    except ValueError:
        due_on = None
    values = {
        "evidence": body.get("evidence") if isinstance(body.get("evidence"), str) else "",
        "id_kind": body.get("id_kind"),
        "study_id": body.get("study_id") if isinstance(body.get("study_id"), str) else "",
        "irccs_id": body.get("irccs_id") if isinstance(body.get("irccs_id"), int) else None,
        "due_on": due_on,
    }
    service.set_milestone(actor(), req, values, utcnow(), ip=request.remote_addr)
    return _list(req), 201


@operation(
    "POST",
    "/requests/<int:request_id>/milestones/<int:milestone_id>/delivery",
    tag="Evidence milestones",
    summary="Record a milestone as delivered, with its document (agency)",
    response="MilestoneList",
    status=201,
    body="multipart",
    body_schema="MilestoneDeliveryInput",
    errors=(403, 404, 409, 413, 415, 422),
)
def deliver_milestone(request_id: int, milestone_id: int):
    req = _load(request_id)
    milestone = _milestone(req, milestone_id)
    service.deliver(
        actor(), req, milestone, request.files.get("file"), utcnow(), ip=request.remote_addr
    )
    return _list(req), 201


@operation(
    "POST",
    "/requests/<int:request_id>/milestones/<int:milestone_id>/missed",
    tag="Evidence milestones",
    summary="Record a milestone as missed (agency)",
    response="MilestoneList",
    body="json_optional",
    body_schema="MilestoneMissInput",
    errors=(403, 404, 409, 413, 415, 422),
    idempotent=True,
)
def miss_milestone(request_id: int, milestone_id: int):
    req = _load(request_id)
    milestone = _milestone(req, milestone_id)
    reason = json_body().get("reason")
    service.miss(
        actor(),
        req,
        milestone,
        utcnow(),
        reason=reason if isinstance(reason, str) else "",
        ip=request.remote_addr,
    )
    return _list(req)
