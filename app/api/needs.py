"""IRCCS needs: the list, one need, posting (IRCCS, regional body), endorsing (another
IRCCS) and linking a request (its manufacturer). The same services and permissions as the
pages (`app.needs.operations`); linked requests are named only to those who may see them."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.api import schema_types as t
from app.api.bodies import json_body
from app.api.paging import CURSOR, LIMIT, page
from app.api.problems import ApiError
from app.api.registry import actor, operation
from app.domain import permissions
from app.domain.needs import PATIENTS_MAX, TEXT_MAX
from app.extensions import db
from app.models import ClinicalNeed, NeedEndorsement, NeedLink
from app.models.types import utcnow
from app.needs import operations as service
from app.needs import queries
from app.requests.queries import get_request_for

NEED_MESSAGES = {
    "required": _l("This field is required."),
    "too_long": _l("This text is too long."),
    "invalid_number": _l("Enter a whole number of patients."),
    "out_of_range": _l("Enter a number from 1 to %(max)s.", max=PATIENTS_MAX),
}
NEED_FIELDS = ("title", "condition", "population", "patients_per_year", "standard_of_care", "gap")

TEXT = {"type": "string", "minLength": 1, "maxLength": TEXT_MAX}
NEED = t.component(
    "Need",
    t.obj(
        {
            "id": t.ID,
            "title": t.STRING,
            "condition": t.STRING,
            "population": t.STRING,
            "patients_per_year": t.INTEGER,
            "standard_of_care": t.STRING,
            "gap": t.STRING,
            "posted_by": t.obj({"id": t.ID, "name": t.STRING, "kind": t.STRING}),
            "posted_at": t.DATETIME,
            "endorsements": t.INTEGER,
            "linked_requests": t.INTEGER,
        }
    ),
)
t.component("NeedPage", t.page_of(NEED))
t.component(
    "NeedDetail",
    t.obj(
        {
            "need": NEED,
            "endorsed_by": t.array(
                t.obj(
                    {"id": t.ID, "name": t.STRING, "endorsed_at": t.DATETIME, "comment": t.STRING}
                )
            ),
            "visible_linked_requests": t.array(t.obj({"id": t.ID, "title": t.STRING})),
        }
    ),
)
t.component(
    "NeedInput",
    t.obj(
        {
            "title": {"type": "string", "maxLength": 200},
            "condition": TEXT,
            "population": TEXT,
            "patients_per_year": {"type": "integer", "minimum": 1, "maximum": PATIENTS_MAX},
            "standard_of_care": TEXT,
            "gap": TEXT,
        },
        required=("condition", "population", "patients_per_year", "standard_of_care", "gap"),
        additionalProperties=False,
    ),
)
t.component(
    "EndorsementInput",
    t.obj(
        {"comment": {"type": "string", "maxLength": TEXT_MAX}},
        required=(),
        additionalProperties=False,
    ),
)
t.component(
    "NeedLinkInput",
    t.obj({"need_id": t.ID}, additionalProperties=False),
)
t.component(
    "RequestNeeds",
    t.obj(
        {
            "items": t.array(NEED),
            "declared_need": t.obj(
                {"needs": t.INTEGER, "irccs": t.INTEGER, "patients": t.INTEGER, "score": t.INTEGER}
            ),
        }
    ),
)


def need_message(_field: str, code: str, _details=None) -> str:
    return str(NEED_MESSAGES.get(code) or _("This value is not valid."))


def need_json(need: ClinicalNeed, endorsements: int, links: int) -> dict:
    org = need.organisation
    return {
        "id": need.id,
        "title": need.title,
        "condition": need.condition,
        "population": need.population,
        "patients_per_year": need.patients_per_year,
        "standard_of_care": need.standard_of_care,
        "gap": need.gap,
        "posted_by": {"id": org.id, "name": org.name, "kind": org.kind},
        "posted_at": need.posted_at,
        "endorsements": endorsements,
        "linked_requests": links,
    }


def _counts(model, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = db.session.execute(
        select(model.need_id, func.count(model.id))
        .where(model.need_id.in_(ids))
        .group_by(model.need_id)
    )
    return dict(rows.all())


def _readers_only():
    if not permissions.can_read_needs(actor()):
        raise ApiError(403, "forbidden", _("Your role does not read the IRCCS needs."))


def _unknown_fields(body: dict, allowed) -> None:
    unknown = set(body) - set(allowed)
    if unknown:
        errors = {name: [_("Unknown field.")] for name in unknown}
        raise ApiError(
            422, "validation", errors=errors, error_codes={n: ["invalid"] for n in unknown}
        )


@operation(
    "GET",
    "/needs",
    tag="Needs",
    summary="List the IRCCS needs",
    response="NeedPage",
    params=(LIMIT, CURSOR),
    errors=(403, 422),
)
def list_needs():
    """Every need, newest first, with how many IRCCS endorsed it and how many requests are
    linked to it."""
    _readers_only()
    query = select(ClinicalNeed).options(joinedload(ClinicalNeed.organisation))
    items, cursor, headers = page(query, ClinicalNeed.id, "api.list_needs")
    ids = [n.id for n in items]
    endorsed, linked = _counts(NeedEndorsement, ids), _counts(NeedLink, ids)
    payload = [need_json(n, endorsed.get(n.id, 0), linked.get(n.id, 0)) for n in items]
    return {"items": payload, "next_cursor": cursor}, 200, headers


@operation(
    "GET",
    "/needs/<int:need_id>",
    tag="Needs",
    summary="Read a need, who endorsed it and the linked requests you may see",
    response="NeedDetail",
    errors=(403, 404),
)
def get_need(need_id: int):
    _readers_only()
    user = actor()
    need = service.get_need(user, need_id)
    endorsements = queries.endorsements_of(need.id)
    visible, total = queries.linked_requests(user, need.id)
    return {
        "need": need_json(need, len(endorsements), total),
        "endorsed_by": [
            {
                "id": e.organisation_id,
                "name": e.organisation.name,
                "endorsed_at": e.endorsed_at,
                "comment": e.comment,
            }
            for e in endorsements
        ],
        "visible_linked_requests": [{"id": r.id, "title": r.title} for r in visible],
    }


@operation(
    "POST",
    "/needs",
    tag="Needs",
    summary="Post an unmet clinical need (IRCCS, regional body)",
    response="Need",
    status=201,
    body="json",
    body_schema="NeedInput",
    errors=(403, 413, 415, 422),
    idempotent=True,
    messages=need_message,
)
def post_need():
    body = json_body()
    _unknown_fields(body, NEED_FIELDS)
    values = {name: body.get(name) for name in NEED_FIELDS}
    for name in NEED_FIELDS:
        if (
            name != "patients_per_year"
            and values[name] is not None
            and not isinstance(values[name], str)
        ):
            values[name] = None
    need = service.post_need(actor(), values, utcnow(), ip=request.remote_addr)
    return need_json(need, 0, 0), 201


@operation(
    "POST",
    "/needs/<int:need_id>/endorsements",
    tag="Needs",
    summary="Endorse a need (another IRCCS)",
    response="Need",
    status=201,
    body="json_optional",
    body_schema="EndorsementInput",
    errors=(403, 404, 409, 413, 415, 422),
    idempotent=True,
)
def endorse_need(need_id: int):
    user = actor()
    need = service.get_need(user, need_id)
    body = json_body()
    _unknown_fields(body, ("comment",))
    comment = body.get("comment") if isinstance(body.get("comment"), str) else ""
    service.endorse_need(user, need, utcnow(), comment=comment, ip=request.remote_addr)
    counts = _counts(NeedEndorsement, [need.id]), _counts(NeedLink, [need.id])
    return need_json(need, counts[0].get(need.id, 0), counts[1].get(need.id, 0)), 201


def _request_needs(request_id: int) -> dict:
    figures = service.need_figures([request_id])[request_id]
    score = service.derived_scores([request_id])[request_id]["declared_need"]
    items = [
        need_json(need, endorsed, 0) for need, endorsed in queries.needs_of_request(request_id)
    ]
    return {
        "items": items,
        "declared_need": {
            "needs": figures.needs,
            "irccs": figures.irccs,
            "patients": figures.patients,
            "score": score,
        },
    }


@operation(
    "GET",
    "/requests/<int:request_id>/needs",
    tag="Needs",
    summary="The needs a request is linked to, and its declared-need score",
    response="RequestNeeds",
    errors=(404,),
)
def list_request_needs(request_id: int):
    req = get_request_for(actor(), request_id)
    return _request_needs(req.id)


@operation(
    "POST",
    "/requests/<int:request_id>/needs",
    tag="Needs",
    summary="Link your request to a need (its manufacturer, before appraisal)",
    response="RequestNeeds",
    status=201,
    body="json",
    body_schema="NeedLinkInput",
    errors=(403, 404, 409, 413, 415, 422),
    idempotent=True,
)
def link_request_need(request_id: int):
    user = actor()
    req = get_request_for(user, request_id)
    body = json_body()
    _unknown_fields(body, ("need_id",))
    need_id = body.get("need_id")
    if not isinstance(need_id, int) or isinstance(need_id, bool) or not 0 < need_id <= 2147483647:
        raise ApiError(
            422,
            "validation",
            errors={"need_id": [_("Enter a whole number, e.g. 4000.")]},
            error_codes={"need_id": ["invalid"]},
        )
    need = service.get_need(user, need_id)
    service.link_need(user, req, need, utcnow(), ip=request.remote_addr)
    return _request_needs(req.id), 201
