"""Requests: list (filters state and q, cursor pages), read, create a draft, update a dossier.

Loaded through the same scoped queries as the pages (`visible_requests`, `get_request_for`):
a request the caller may not see is a 404. Dossier input is validated by the web form
(`app.api.dossier_input`) and saved by `app.requests.operations`. Confidential values are null for
readers who are not parties to the request (as on the request page).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

from flask import request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from app.api import schema_types as t
from app.api.bodies import json_body
from app.api.dossier_input import (
    BOOLEAN,
    DOSSIER_FIELDS,
    EVIDENCE_KEYS,
    NUMERIC,
    domain_message,
    validated_dossier,
)
from app.api.paging import CURSOR, LIMIT, decode_cursor, encode_cursor, read_limit
from app.api.problems import ApiError
from app.api.registry import Param, actor, operation
from app.core.paging import plain_rows
from app.documents.operations import missing_mandatory_types
from app.domain import permissions
from app.domain.dossier_fields import CONFIDENTIAL_CAPABLE_FIELDS
from app.domain.errors import Conflict
from app.domain.redaction import RequestView, redact_fields, view_of
from app.domain.vocab import (
    CARE_SETTINGS,
    EVIDENCE_DESIGNS,
    RISK_CLASSES,
    SEVERITIES,
    Regulation,
)
from app.forms import dossier as form_module
from app.models import DeviceRequest, Organisation
from app.models.types import utcnow
from app.requests.list_rows import LinkPattern, Reader, reader_of, request_title, state_labels
from app.requests.operations import (
    create_draft,
    dossier_snapshot,
    local_today,
    missing_by_section,
    update_dossier,
)
from app.requests.queries import get_request_for, search_filter, visible_requests
from app.workflow.labels import state_label
from app.workflow.states import OUTCOMES, REQUEST_STATES

# --- Schemas --------------------------------------------------------------------------------

_CHOICES = {
    "regulation": [r.value for r in Regulation],
    "risk_class": list(RISK_CLASSES),
    "severity": list(SEVERITIES),
    "care_setting": list(CARE_SETTINGS),
}


def _dossier_value_schema(name: str, *, output: bool) -> dict:
    if name in form_module.MONEY_FIELDS:
        return t.MONEY if output else {"type": ["string", "number"]}
    if name in form_module.COUNT_FIELDS:
        return t.INTEGER if output else {"type": ["integer", "string"]}
    if name in form_module.DATE_FIELDS:
        return t.DATE if output else t.STRING
    if name in BOOLEAN:
        return t.BOOLEAN
    if name in _CHOICES and output:
        return t.enum(_CHOICES[name] + ([""] if name in ("severity", "care_setting") else []))
    if name == "confidential_fields":
        return t.array(t.enum(CONFIDENTIAL_CAPABLE_FIELDS))
    if name == "comparators":
        row = t.obj({"description": t.STRING}, required=["description"] if output else ())
        return t.array(row if output else {"anyOf": [t.STRING, row]})
    if name == "evidence":
        return t.array(_evidence_schema(output))
    return t.STRING


def _evidence_schema(output: bool) -> dict:
    properties = {
        "design": t.enum(EVIDENCE_DESIGNS) if output else t.STRING,
        "patients": t.INTEGER if output else {"type": ["integer", "string"]},
        "follow_up_months": t.INTEGER if output else {"type": ["integer", "string"]},
        "published_on": t.DATE if output else t.STRING,
        "reference": t.STRING,
    }
    properties = {name: t.nullable(schema) for name, schema in properties.items()}
    if output:
        return t.obj(properties)
    return t.obj(properties, required=(), additionalProperties=False)


DOSSIER = t.component(
    "Dossier",
    t.obj(
        {name: t.nullable(_dossier_value_schema(name, output=True)) for name in DOSSIER_FIELDS},
        description="Every field of the dossier. Values of confidential fields are null for "
        "readers who are not parties to the request.",
    ),
)
DOSSIER_INPUT = t.component(
    "DossierInput",
    t.obj(
        {name: t.nullable(_dossier_value_schema(name, output=False)) for name in DOSSIER_FIELDS},
        required=(),
        additionalProperties=False,
        description='Any subset of the dossier\'s fields (null or "" clears one). Validated '
        "by the web form's rules: the same messages, field names like `evidence-0-design`. "
        'Amounts as "18500.00" or a number; dates as YYYY-MM-DD.',
        examples=[
            {
                "trade_name": "CardioValve X",
                "regulation": "mdr",
                "risk_class": "III",
                "udi_di": "08001234567897",
                "list_price": "18500.00",
                "comparators": [{"description": "Surgical valve replacement"}],
            }
        ],
    ),
)
RECOMMENDATION = t.obj(
    {
        "outcome": t.enum(OUTCOMES),
        "review_date": t.nullable(t.DATE),
        "published_at": t.nullable(t.DATETIME),
    }
)
_SUMMARY_PROPERTIES = {
    "id": t.ID,
    "state": t.enum(REQUEST_STATES),
    "state_label": t.STRING,
    "title": t.STRING,
    "version": t.INTEGER,
    "receipt_number": t.nullable(t.STRING),
    "manufacturer": t.NAMED,
    "assigned_body": t.nullable(t.NAMED),
    "submitted_at": t.nullable(t.DATETIME),
    "created_at": t.DATETIME,
    "updated_at": t.DATETIME,
    "url": t.STRING,
}
REQUEST_SUMMARY = t.component("RequestSummary", t.obj(_SUMMARY_PROPERTIES))
REQUEST = t.component(
    "Request",
    t.obj(
        _SUMMARY_PROPERTIES
        | {
            "dossier": DOSSIER,
            "recommendation": t.nullable(RECOMMENDATION),
            "can_edit": t.BOOLEAN,
            "missing_for_submission": t.nullable(
                t.array(t.STRING, description="Dossier fields a submission still needs.")
            ),
            "missing_documents": t.nullable(
                t.array(t.STRING, description="Mandatory document types not uploaded yet.")
            ),
        }
    ),
)
REQUEST_PAGE = t.component("RequestPage", t.page_of(REQUEST_SUMMARY))

# --- Serialisation --------------------------------------------------------------------------


def request_summary(req: DeviceRequest, role: str) -> dict:
    return {
        "id": req.id,
        "state": req.state,
        "state_label": state_label(req.state, role),
        "title": req.title,
        "version": req.version,
        "receipt_number": req.receipt_number,
        "manufacturer": {"id": req.manufacturer.id, "name": req.manufacturer.name},
        "assigned_body": (
            {"id": req.assigned_body.id, "name": req.assigned_body.name}
            if req.assigned_body is not None
            else None
        ),
        "submitted_at": req.submitted_at,
        "created_at": req.created_at,
        "updated_at": req.updated_at,
        "url": url_for("api.get_request", request_id=req.id),
    }


def _dossier(req: DeviceRequest, view: RequestView) -> dict:
    """Every dossier field; the ones hidden from the reader (`app.domain.redaction`) null."""
    snapshot = dossier_snapshot(req)
    values = {name: snapshot[name] for name in DOSSIER_FIELDS}
    values["comparators"] = [{"description": text} for text in snapshot["comparators"]]
    values["evidence"] = [{key: row[key] for key in EVIDENCE_KEYS} for row in snapshot["evidence"]]
    for name in NUMERIC:
        if name in form_module.COUNT_FIELDS and values[name] is not None:
            values[name] = int(values[name])
    return redact_fields(view, values)


def request_detail(req: DeviceRequest, user) -> dict:
    view = view_of(user, req)
    recommendation = getattr(req, "recommendation", None)
    if recommendation is not None and not (view.sees_confidential or recommendation.published_at):
        recommendation = None
    owner_editing = permissions.can_edit_dossier(user, req)
    return request_summary(req, user.role) | {
        "dossier": _dossier(req, view),
        "recommendation": (
            {
                "outcome": recommendation.outcome,
                "review_date": recommendation.review_date,
                "published_at": recommendation.published_at,
            }
            if recommendation is not None
            else None
        ),
        "can_edit": owner_editing,
        "missing_for_submission": _missing(req) if owner_editing else None,
        "missing_documents": missing_mandatory_types(req) if owner_editing else None,
    }


def _missing(req: DeviceRequest) -> list[str]:
    return [name for fields in missing_by_section(req).values() for name in fields]


def etag(version: int) -> str:
    return f'"{version}"'


def with_etag(payload: dict, version: int) -> tuple[dict, int, dict]:
    """A 200 answer carrying the resource's version as its `ETag`."""
    return payload, 200, {"ETag": etag(version)}


def if_match_version(version: int) -> int | None:
    """The version the client's If-Match names, for the operation to compare under the row
    lock (a 412 when it no longer matches then, see `precondition_failed_on_conflict`); None
    without If-Match or with `*`. 412 at once when it names none of the current version."""
    if not request.if_match or request.if_match.star_tag:
        return None
    if not request.if_match.contains(str(version)):
        raise ApiError(412, "precondition-failed")
    return version


@contextmanager
def precondition_failed_on_conflict(expected_version: int | None):
    """With If-Match, a version that changed before the row lock was taken is a 412, as when
    it had changed before the request arrived."""
    try:
        yield
    except (Conflict, StaleDataError):
        if expected_version is None:
            raise
        raise ApiError(412, "precondition-failed") from None


# --- Views ----------------------------------------------------------------------------------

STATE_PARAM = Param("state", t.enum(REQUEST_STATES), "Only requests in this state.")
Q_PARAM = Param(
    "q",
    {"type": "string", "maxLength": 200},
    "Text in the trade name, model, receipt number or EMDN code.",
)
IF_MATCH = Param(
    "If-Match",
    {"type": "string"},
    'The request\'s ETag (its version, e.g. "3"): refused with 412 if someone changed it.',
    location="header",
)


@operation(
    "GET",
    "/requests",
    tag="Requests",
    summary="List the requests you may see",
    response="RequestPage",
    params=(STATE_PARAM, Q_PARAM, LIMIT, CURSOR),
    errors=(422,),
)
def list_requests():
    """Newest first. A manufacturer sees its own requests, the agency every submitted one, an
    assessor those assigned to its body, an IRCCS the published positive recommendations."""
    user = actor()
    state = request.args.get("state") or None
    if state is not None and state not in REQUEST_STATES:
        message = _("Choose a value from the list.")
        raise ApiError(
            422,
            "validation",
            errors={"state": [message]},
            error_codes={"state": ["choice_unknown"]},
        )
    text = (request.args.get("q") or "")[:200]
    items, cursor, headers = _summary_page(reader_of(user), state or "", text)
    payload = {"items": _summaries(items, user.role), "next_cursor": cursor}
    return payload, 200, headers


# The list reads the summary's columns as plain rows (no ORM object per request), the
# manufacturer and the assigned body by the LEFT OUTER JOINs their joinedloads used;
# `_summaries` gives exactly `request_summary`'s dicts (tests/functional/test_api_requests.py).
_MANUFACTURER = aliased(Organisation, name="api_manufacturer")
_BODY = aliased(Organisation, name="api_body")
SUMMARY_COLUMNS = (
    DeviceRequest.id,
    DeviceRequest.state,
    DeviceRequest.trade_name,
    DeviceRequest.model,
    DeviceRequest.version,
    DeviceRequest.receipt_number,
    _MANUFACTURER.id,
    _MANUFACTURER.name,
    _BODY.id,
    _BODY.name,
    DeviceRequest.submitted_at,
    DeviceRequest.created_at,
    DeviceRequest.updated_at,
)


def _summary_query(reader: Reader, state: str, text: str, limit: int, after: bool) -> Select:
    """The requests `reader` may see (in `state`, matching `text`), newest first, `limit` + 1
    of them, read as the summary's columns; `after`: only ids below the `after` parameter."""
    query = search_filter(visible_requests(reader), text)
    if state:
        query = query.where(DeviceRequest.state == state)
    if after:
        query = query.where(DeviceRequest.id < bindparam("after"))
    return (
        query.with_only_columns(*SUMMARY_COLUMNS)
        .outerjoin(_MANUFACTURER, _MANUFACTURER.id == DeviceRequest.manufacturer_id)
        .outerjoin(_BODY, _BODY.id == DeviceRequest.assigned_body_id)
        .order_by(DeviceRequest.id.desc())
        .limit(limit + 1)
    )


# Built once per reader, state filter and page size (not per free text: any text would be a
# new key), as the requests list's (app/requests/list_rows.py: `Reader`, `kept_list_query`).
_kept_summary_query = lru_cache(maxsize=256)(_summary_query)


def _summary_page(reader: Reader, state: str, text: str) -> tuple[list, str | None, dict]:
    """app.api.paging.page over the summary's columns: the same rows, cursor and Link."""
    limit = read_limit()
    after = decode_cursor(request.args.get("cursor"))
    build = _summary_query if text else _kept_summary_query
    query = build(reader, state, text, limit, after is not None)
    rows = plain_rows(query, {"after": after} if after is not None else None).all()
    items = rows[:limit]
    if len(rows) <= limit or not items:
        return items, None, {}
    cursor = encode_cursor(items[-1][0])
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    link = url_for("api.list_requests", **args, cursor=cursor)
    return items, cursor, {"Link": f'<{link}>; rel="next"'}


def _summaries(rows, role: str) -> list[dict]:
    links = LinkPattern("api.get_request", "request_id")
    labels = state_labels(role)
    result = []
    for row in rows:
        request_id, state, trade_name, model, version, receipt = row[:6]
        manufacturer_id, manufacturer, body_id, body, submitted, created, updated = row[6:]
        label = labels.get(state)
        if label is None:  # (not a request state: as state_label, the name itself)
            label = state_label(state, role)
        result.append(
            {
                "id": request_id,
                "state": state,
                "state_label": label,
                "title": request_title(trade_name, model, request_id),
                "version": version,
                "receipt_number": receipt,
                "manufacturer": {"id": manufacturer_id, "name": manufacturer},
                "assigned_body": {"id": body_id, "name": body} if body_id is not None else None,
                "submitted_at": submitted,
                "created_at": created,
                "updated_at": updated,
                "url": links.link(request_id),
            }
        )
    return result


@operation(
    "GET",
    "/requests/<int:request_id>",
    tag="Requests",
    summary="Read a request and its dossier",
    response="Request",
    errors=(403, 404),
)
def get_request(request_id: int):
    """The `ETag` header is the request's version (send it back as `If-Match` to update)."""
    user = actor()
    req = get_request_for(user, request_id)
    return with_etag(request_detail(req, user), req.version)


@operation(
    "POST",
    "/requests",
    tag="Requests",
    summary="Create a draft request",
    response="Request",
    status=201,
    body="json",
    body_schema="DossierInput",
    errors=(403, 409, 413, 415, 422),
    idempotent=True,
    messages=domain_message,
)
def create_request():
    """Manufacturers only. Any subset of the dossier may be sent; the draft can be completed
    later. Send an `Idempotency-Key` to retry safely."""
    user = actor()
    if not permissions.can_create_request(user):
        raise ApiError(403, "forbidden", _("Only a manufacturer can create a request."))
    now = utcnow()
    data = validated_dossier(json_body(), local_today(now))
    draft = create_draft(user, data, now)
    location = url_for("api.get_request", request_id=draft.id)
    headers = {"Location": location, "ETag": etag(draft.version)}
    return request_detail(draft, user), 201, headers


@operation(
    "PATCH",
    "/requests/<int:request_id>",
    tag="Requests",
    summary="Update the dossier of a draft (or of an incomplete file)",
    response="Request",
    body="json",
    body_schema="DossierInput",
    params=(IF_MATCH,),
    errors=(403, 404, 409, 412, 413, 415, 422),
    messages=domain_message,
)
def update_request(request_id: int):
    """Only the fields sent change. Outside the draft the changes are audit-logged."""
    user = actor()
    req = get_request_for(user, request_id)
    if not permissions.can_edit_dossier(user, req):
        raise ApiError(403, "forbidden", _("This dossier cannot be edited now."))
    expected = if_match_version(req.version)
    now = utcnow()
    data = validated_dossier(json_body(), local_today(now), stored=req)
    with precondition_failed_on_conflict(expected):
        update_dossier(user, req, data, now, expected_version=expected, ip=request.remote_addr)
    return with_etag(request_detail(req, user), req.version)
