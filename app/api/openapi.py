"""The OpenAPI 3.1 document, generated from the declared operations (`app.api.registry`) and
component schemas (`app.api.schema_types`), and the documentation pages rendered from it:
/api/v1/openapi.json, /api/v1/docs and /api/v1/problems/<slug> (the problem `type` URIs).
"""

from __future__ import annotations

import json
import re
from functools import cache

from flask import Response, abort, render_template

from app.api import schema_types as t
from app.api.idempotency import KEY_HEADER
from app.api.paging import MAX_LIMIT
from app.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES
from app.api.registry import INT32_MAX, OPERATIONS, Operation, operation

API_VERSION = "1.0.0"
RULE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
# The objects whose GET answers with an ETag (their version, for If-Match on an action).
VERSIONED = ("Request", "Adoption", "Reimbursement")

TAGS = (
    ("Account", "The token's own user."),
    ("Requests", "Requests to introduce an innovation and their dossier."),
    ("Workflow", "Actions, the stage timeline and the audit trail of a request."),
    ("Documents", "The dossier's documents and their versions."),
    ("Information requests", "Questions to the manufacturer and its answers (clock stops)."),
    ("Adoption", "IRCCS adoption records and quarterly usage reports."),
    ("Reimbursement", "Regional tariff cases: requested, evaluated and decided by the region."),
    ("Needs", "Unmet clinical needs posted by IRCCS and regional bodies, endorsed, linked."),
    ("Evidence milestones", "Milestones of evidence-generation outcomes: set, delivered, missed."),
    ("Safety", "Safety alerts (adverse events over threshold, expired CE certificates)."),
    ("Reuse", "Requests matching one, existing assessments and the domains reused."),
    ("Reports", "Timing and adoption figures, as on the report pages."),
    ("Notifications", "Your notifications (the in-app inbox): list and mark read."),
    ("Documentation", "This document and its pages."),
)
INTRODUCTION = f"""The HTA Tracker API: the same data, rules and permissions as the web pages.

**Authentication.** Create a personal token on your profile page (Account → API tokens) and send
it as `Authorization: Bearer hta_...`. A token acts exactly as its user. A missing, unknown,
expired or revoked token, or one of a deactivated user or organisation, gets 401.

**Errors** are `application/problem+json` (RFC 9457): `type` (a stable URI documented under
/api/v1/problems/), `title`, `status`, `detail`; invalid input adds `errors` (field → messages,
the web form's wording in the user's language) and `error_codes` (field → stable codes).
Objects you may not see answer 404, never 403.

**Idempotency.** POSTs that act accept an `{KEY_HEADER}` header (1-255 printable ASCII
characters, e.g. a UUID). A retry with the same key and body returns the first response
(`Idempotent-Replayed: true`) without acting twice; the same key with another body gets 422;
while the first is still running, 409. Keys are kept 24 hours.

**Pagination.** Lists are newest first, at most `limit` (1-{MAX_LIMIT}) items; pass the
`next_cursor` of a page as `cursor` for the next one (also in the `Link` header).

**Rate limit.** Each token may make a configured number of requests per window (default
120 per minute); beyond it, 429 with `Retry-After` (seconds). `RateLimit-Limit`,
`RateLimit-Remaining` and `RateLimit-Reset` come with every response.

**Concurrency.** Reads return an `ETag` (the object's version); send it as `If-Match` to
update or act only if nobody changed it meanwhile (412 otherwise).
"""

ERROR_DESCRIPTIONS = {
    400: "Malformed JSON or header",
    401: "Missing, invalid, expired or revoked token",
    403: "Not allowed for your role (now)",
    404: "Not found, or not visible to you",
    405: "Method not allowed",
    409: "Conflict: changed meanwhile, not possible in this state, or still in progress",
    412: "If-Match does not match the current version",
    413: "Body or file too large",
    415: "Wrong Content-Type",
    422: "Invalid data (see `errors`), a condition not met (see `missing`), or a reused key",
    429: "Rate limit exceeded (see Retry-After)",
    503: "The database could not be reached; nothing was saved: retry after Retry-After",
}
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"schema": t.STRING}},
    405: {"Allow": {"schema": t.STRING}},
    429: {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
    503: {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
}
PROBLEM = t.component(
    "Problem",
    t.obj(
        {
            "type": {"type": "string", "format": "uri-reference"},
            "title": t.STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": t.STRING,
            "errors": {"type": "object", "additionalProperties": t.array(t.STRING)},
            "error_codes": {"type": "object", "additionalProperties": t.array(t.STRING)},
            "missing": t.array(t.STRING),
            "missing_documents": t.array(t.STRING),
            "guard": t.STRING,
            "guard_code": t.STRING,
        },
        required=("type", "title", "status", "detail"),
    ),
)


def openapi_path(rule: str) -> str:
    return RULE_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def _schema_for(value) -> dict:
    return t.ref(value) if isinstance(value, str) else value


def _path_parameters(op: Operation) -> list[dict]:
    parameters = []
    for converter, name in RULE_PARAM.findall(op.rule):
        schema = op.path_schemas.get(name)
        if schema is None:
            schema = (
                {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
                if converter == "int"
                else t.STRING
            )
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _parameters(op: Operation) -> list[dict]:
    parameters = _path_parameters(op)
    for param in op.params:
        entry = {"name": param.name, "in": param.location, "required": param.required}
        parameters.append(entry | {"schema": param.schema, "description": param.description})
    if op.idempotent:
        parameters.append(
            {
                "name": KEY_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "Retry safely: the same key and body return the first result.",
            }
        )
    return parameters


def _request_body(op: Operation) -> dict | None:
    if op.body is None:
        return None
    schema = _schema_for(op.body_schema or t.ANY_OBJECT)
    multipart = {"multipart/form-data": {"schema": schema}}
    if op.body == "json_or_multipart":
        form = t.obj(
            {"text": t.STRING, "file": {"type": "string", "format": "binary"}, "title": t.STRING},
            required=(),
        )
        content = {"application/json": {"schema": schema}, "multipart/form-data": {"schema": form}}
    elif op.body == "multipart":
        content = multipart
    else:
        content = {"application/json": {"schema": schema}}
    return {"required": op.body != "json_optional", "content": content}


def _error_statuses(op: Operation) -> list[int]:
    statuses = set(op.errors) | {503}
    if not op.public:
        statuses |= {401, 429}
    if op.body is not None:
        statuses |= {400, 413, 415, 422}
    if op.idempotent:
        statuses |= {400, 409, 422}
    if RULE_PARAM.search(op.rule):
        statuses.add(404)
    if "<int:request_id>" in op.rule:
        statuses.add(403)  # e.g. an assessor who has not declared conflicts of interest
    return sorted(statuses)


def _success(op: Operation) -> dict:
    media_types = op.produces if isinstance(op.produces, tuple) else (op.produces,)
    response: dict = {"description": op.summary}
    if op.response is not None:
        schema = _schema_for(op.response)
        response["content"] = {media: {"schema": schema} for media in media_types}
    headers = {}
    if op.status == 201:
        headers["Location"] = {"schema": t.STRING, "description": "The new object's URL."}
    if op.method == "GET" and op.rule.count("<") >= 1 and op.response in VERSIONED:
        headers["ETag"] = {"schema": t.STRING, "description": "The object's version."}
    if headers:
        response["headers"] = headers
    return response


def _operation_object(op: Operation) -> dict:
    responses = {str(op.status): _success(op)}
    for status in _error_statuses(op):
        responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    responses["default"] = {"$ref": "#/components/responses/ProblemDefault"}
    result = {
        "operationId": op.endpoint,
        "tags": [op.tag],
        "summary": op.summary,
        "description": op.description,
        "parameters": _parameters(op),
        "responses": responses,
    }
    body = _request_body(op)
    if body is not None:
        result["requestBody"] = body
    if op.public:
        result["security"] = []
    return result


def _error_responses() -> dict:
    content = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM}}
    responses = {
        f"Problem{status}": {"description": text, "content": content}
        | ({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {})
        for status, text in ERROR_DESCRIPTIONS.items()
    }
    responses["ProblemDefault"] = {"description": "Any other error", "content": content}
    return responses


@cache
def openapi_document() -> dict:
    """The whole document (built once per process: it only depends on the code)."""
    import importlib

    from app.api import VIEW_MODULES

    for module in VIEW_MODULES:  # every operation registered, whoever asks first
        importlib.import_module(module)
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(openapi_path(op.path), {})[op.method.lower()] = _operation_object(op)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "HTA Tracker API",
            "version": API_VERSION,
            "description": INTRODUCTION,
        },
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(t.COMPONENTS.items())),
            "responses": _error_responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "hta_<43 characters>",
                    "description": "A personal API token from your profile page.",
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }


# --- Views --------------------------------------------------------------------------------------

HTML = "text/html"


@operation(
    "GET",
    "/openapi.json",
    tag="Documentation",
    summary="This OpenAPI 3.1 document",
    response={"type": "object"},
    public=True,
)
def openapi_json():
    return Response(json.dumps(openapi_document()), mimetype="application/json")


@operation(
    "GET",
    "/docs",
    tag="Documentation",
    summary="The API documentation as a web page",
    response=t.STRING,
    produces=HTML,
    public=True,
)
def docs():
    """Every operation with its parameters, bodies, responses and examples; the schemas; the
    problem types."""
    from app.api.docs_page import docs_context

    return render_template("api/docs.html", **docs_context(openapi_document()))


@operation(
    "GET",
    "/problems/<slug>",
    tag="Documentation",
    summary="What a problem type means",
    response=t.STRING,
    produces=HTML,
    path_schemas={"slug": t.enum(PROBLEM_TYPES)},
    errors=(404,),
    public=True,
)
def problem_type(slug: str):
    problem = PROBLEM_TYPES.get(slug)
    if problem is None:
        abort(404)
    from app.api.docs_page import problem_view

    return render_template("api/problem.html", problem=problem_view(problem))
