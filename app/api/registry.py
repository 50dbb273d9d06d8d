"""One place where every API operation is declared: its route, its documentation and how it
is run. The OpenAPI document (`app.api.openapi`) is generated from `OPERATIONS`, so the two
cannot drift apart (a test also compares it with the URL map).

    @operation("GET", "/requests/<int:request_id>", tag="Requests", summary="...",
               response="Request", errors=(404,))
    def get_request(request_id): ...

The wrapper around each view: ids beyond the 32-bit range answer 404; the body is read and
checked (JSON or multipart); an `Idempotency-Key` is claimed when the operation accepts one;
the view runs; domain errors become problems (with the operation's field messages); the
transaction is committed once, with the stored idempotent response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Response, g, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.api import bp, idempotency
from app.api.bodies import (
    JSON_MEDIA_TYPE,
    MULTIPART_MEDIA_TYPE,
    dumps,
    read_json_body,
    refuse_unstorable_text,
    require_multipart,
)
from app.api.problems import ApiError, MessageFor, generic_message, problem_for_domain_error
from app.domain.errors import Conflict, DomainError
from app.extensions import db
from app.models.types import utcnow

INT32_MAX = 2_147_483_647
PREFIX = "/api/v1"


@dataclass(frozen=True)
class Param:
    """A query or header parameter, documented in the OpenAPI document."""

    name: str
    schema: dict
    description: str = ""
    location: str = "query"
    required: bool = False


@dataclass
class Operation:
    method: str
    rule: str  # relative to /api/v1, Flask syntax
    endpoint: str
    tag: str
    summary: str
    description: str = ""
    response: str | dict | None = None  # a component schema name, or a schema
    status: int = 200
    produces: str | tuple[str, ...] = JSON_MEDIA_TYPE
    params: Sequence[Param] = ()
    body: str | None = None  # "json", "json_optional", "multipart" or "json_or_multipart"
    body_schema: str | dict | None = None
    errors: Sequence[int] = ()
    idempotent: bool = False
    public: bool = False
    messages: MessageFor = generic_message
    example: Any = None
    response_headers: dict = field(default_factory=dict)
    path_schemas: dict = field(default_factory=dict)

    @property
    def path(self) -> str:
        return PREFIX + self.rule


OPERATIONS: list[Operation] = []
PUBLIC_ENDPOINTS: set[str] = set()


def operation(method: str, rule: str, *, tag: str, summary: str, **options) -> Callable:
    """Declare and register one operation (see the module docstring)."""

    def decorator(view: Callable) -> Callable:
        endpoint = view.__name__
        description = options.pop("description", None) or (view.__doc__ or "").strip()
        spec = Operation(method, rule, endpoint, tag, summary, description, **options)
        OPERATIONS.append(spec)
        if spec.public:
            PUBLIC_ENDPOINTS.add(f"{bp.name}.{endpoint}")
        bp.add_url_rule(rule, endpoint=endpoint, view_func=_run(view, spec), methods=[method])
        return view

    return decorator


def _run(view: Callable, spec: Operation) -> Callable:
    @wraps(view)
    def handle(**kwargs):
        try:
            _check_input(spec, kwargs)
            claim = _claim(spec)
        except (ApiError, HTTPException) as error:
            db.session.rollback()
            return _problem(error, spec).response()
        if isinstance(claim, Response):
            return claim
        return _execute(view, spec, kwargs, claim)

    return handle


def _check_input(spec: Operation, kwargs: dict) -> None:
    if any(isinstance(value, int) and value > INT32_MAX for value in kwargs.values()):
        raise ApiError(404, "not-found")
    refuse_unstorable_text(request.args.to_dict(flat=False))
    body = spec.body
    if body == "json_or_multipart":
        body = "multipart" if request.mimetype == MULTIPART_MEDIA_TYPE else "json"
    if body in ("json", "json_optional"):
        read_json_body(optional=body == "json_optional")
    elif body == "multipart":
        require_multipart()


def _claim(spec: Operation) -> tuple[int, str] | Response | None:
    """(record id, key) when the request's Idempotency-Key is claimed for its transaction."""
    if not spec.idempotent:
        return None
    key = idempotency.request_key()
    if key is None:
        return None
    claimed = idempotency.claim(g.api_user_id, key, utcnow())
    return claimed if isinstance(claimed, Response) else (claimed, key)


def _execute(view: Callable, spec: Operation, kwargs: dict, claim: tuple[int, str] | None):
    try:
        response = to_response(view(**kwargs), spec)
        if claim is not None:
            idempotency.complete(claim[0], response)
        db.session.commit()
        return response
    except (ApiError, DomainError, HTTPException, StaleDataError, IntegrityError) as error:
        # Answered here, not by the app's handler: the problem is stored with the idempotency
        # key, and its field messages are the operation's own (the mapping is the same one).
        db.session.rollback()
        if isinstance(error, DomainError):
            from app.errors import audit_denial

            audit_denial(error)  # a refused object is a security event
        response = _problem(error, spec).response()
    except BaseException:
        # The claim goes with the work: a retry may run again (app.api.idempotency).
        db.session.rollback()
        raise
    if claim is not None and response.status_code < 500:
        idempotency.remember(g.api_user_id, claim[1], response, utcnow())
    return response


def _problem(error: Exception, spec: Operation) -> ApiError:
    if isinstance(error, ApiError):
        return error
    if isinstance(error, DomainError):
        return problem_for_domain_error(error, spec.messages)
    if isinstance(error, StaleDataError | IntegrityError):
        return problem_for_domain_error(Conflict("changed meanwhile"))
    from app.api.errors import problem_for_http_error

    return problem_for_http_error(error)


def to_response(result: Any, spec: Operation) -> Response:
    """A view returns a Response, or a payload, or (payload, status[, headers])."""
    if isinstance(result, Response):
        return result
    if isinstance(result, str):  # a rendered page (the documentation)
        return Response(result, status=spec.status, mimetype=str(spec.produces))
    status, headers = spec.status, {}
    if isinstance(result, tuple):
        result, status, *rest = result
        headers = rest[0] if rest else {}
    response = Response(dumps(result), status=status, mimetype=JSON_MEDIA_TYPE)
    for name, value in headers.items():
        response.headers[name] = value
    return response


def actor():
    """The user the request's token acts as (set by `app.api.auth`)."""
    return g.api_user
