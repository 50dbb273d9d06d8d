"""Errors as `application/problem+json` (RFC 9457).

Every error of the API is a problem object: a stable `type` URI (`/api/v1/problems/<slug>`,
each documented on the API's documentation page), a `title`, the HTTP `status`, a `detail`
sentence for this occurrence and, for invalid input, `errors` mapping each field to its
messages (the same messages the web forms show) and `error_codes` mapping it to stable codes.

    raise ApiError(404, "not-found")                    # from a view
    problem_response(422, "validation", errors={...})     # a Response
    problem_for_domain_error(error, messages=...)          # DomainError -> ApiError
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.domain.errors import DomainError, GuardFailed, ValidationFailed

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: object  # a lazy string
    description: object  # a lazy string (the documentation page)

    @property
    def uri(self) -> str:
        return TYPE_BASE + self.slug


PROBLEM_TYPES: dict[str, ProblemType] = {
    problem.slug: problem
    for problem in (
        ProblemType(
            "bad-request",
            400,
            _l("Bad request"),
            _l("The request could not be read: malformed JSON or a malformed header."),
        ),
        ProblemType(
            "unauthorized",
            401,
            _l("Authentication required"),
            _l(
                "Send a personal API token as `Authorization: Bearer <token>`. The token is "
                "missing, unknown, expired or revoked, or its user or organisation is no longer "
                "active."
            ),
        ),
        ProblemType(
            "forbidden",
            403,
            _l("Not allowed"),
            _l("You can see this object, but your role may not do this to it (now)."),
        ),
        ProblemType(
            "coi-declaration-required",
            403,
            _l("Conflict-of-interest declaration required"),
            _l(
                "Assessors declare their conflicts of interest for a request (on its web page) "
                "before they can open it."
            ),
        ),
        ProblemType(
            "not-found",
            404,
            _l("Not found"),
            _l("The object does not exist, or you may not see it (the API never says which)."),
        ),
        ProblemType(
            "method-not-allowed",
            405,
            _l("Method not allowed"),
            _l("This URL does not accept this HTTP method; the Allow header lists those it does."),
        ),
        ProblemType(
            "conflict",
            409,
            _l("Changed by someone else"),
            _l("Someone else changed the object first. Read it again, then retry."),
        ),
        ProblemType(
            "invalid-transition",
            409,
            _l("Action not possible now"),
            _l("The action cannot be taken in the object's current state."),
        ),
        ProblemType(
            "idempotency-in-progress",
            409,
            _l("Request in progress"),
            _l(
                "A request with this Idempotency-Key is still being processed. Retry later to "
                "get its result."
            ),
        ),
        ProblemType(
            "precondition-failed",
            412,
            _l("Precondition failed"),
            _l("The If-Match version is not the object's current version. Read it again."),
        ),
        ProblemType(
            "payload-too-large",
            413,
            _l("Too large"),
            _l("The body (or the uploaded file) is larger than allowed."),
        ),
        ProblemType(
            "unsupported-media-type",
            415,
            _l("Unsupported media type"),
            _l(
                "Send JSON bodies with `Content-Type: application/json`, uploads as "
                "`multipart/form-data`."
            ),
        ),
        ProblemType(
            "validation",
            422,
            _l("Invalid data"),
            _l(
                "Some fields are not valid: `errors` maps each field to its messages and "
                "`error_codes` to stable codes. List rows are named like the web form's fields "
                "(e.g. `evidence-0-design`)."
            ),
        ),
        ProblemType(
            "guard-failed",
            422,
            _l("Not ready"),
            _l(
                "A condition of the action is not met: `detail` says which, `guard` and "
                "`guard_code` name it, `missing` lists what is missing."
            ),
        ),
        ProblemType(
            "idempotency-key-reused",
            422,
            _l("Idempotency-Key reused"),
            _l("This Idempotency-Key was already used with a different request body."),
        ),
        ProblemType(
            "rate-limited",
            429,
            _l("Too many requests"),
            _l("This token sent too many requests. Wait for the seconds in Retry-After."),
        ),
        ProblemType(
            "server-error",
            500,
            _l("Something went wrong"),
            _l("An unexpected error occurred. Nothing was saved."),
        ),
        ProblemType(
            "unavailable",
            503,
            _l("Temporarily unavailable"),
            _l(
                "The database could not be reached. Nothing was saved: send the same request "
                "again (with the same Idempotency-Key) after the seconds in Retry-After."
            ),
        ),
    )
}


class ApiError(Exception):
    """Raised by API code to answer with a problem."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str = "",
        *,
        errors: Mapping[str, list[str]] | None = None,
        error_codes: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra,
    ):
        super().__init__(detail or slug)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.errors = errors
        self.error_codes = error_codes
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> Response:
        return problem_response(
            self.status,
            self.slug,
            self.detail,
            errors=self.errors,
            error_codes=self.error_codes,
            headers=self.headers,
            **self.extra,
        )


def problem_body(status: int, slug: str, detail: str = "", **members) -> dict:
    kind = PROBLEM_TYPES[slug]
    body = {"type": kind.uri, "title": str(kind.title), "status": status}
    body["detail"] = detail or str(kind.description)
    body.update({name: value for name, value in members.items() if value is not None})
    return body


def problem_response(
    status: int, slug: str, detail: str = "", *, headers: Mapping[str, str] | None = None, **members
) -> Response:
    body = problem_body(status, slug, detail, **members)
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MEDIA_TYPE
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# --- Domain errors ------------------------------------------------------------------------------

MessageFor = Callable[[str, str, Mapping], str]  # (field, code, error details) -> message


def field_errors(
    fields: Mapping[str, object], message_for: MessageFor, details: Mapping | None = None
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """({field: [message]}, {field: [code]}) from a service's {field: code}."""
    errors, codes = {}, {}
    for name, code in fields.items():
        errors[name] = [str(message_for(name, str(code), details or {}))]
        codes[name] = [str(code)]
    return errors, codes


def generic_message(_field: str, _code: str, _details: Mapping) -> str:
    return _("This value is not valid.")


def problem_for_domain_error(
    error: DomainError, message_for: MessageFor = generic_message
) -> ApiError:
    """The problem a DomainError answers with: the status and problem type the error declares
    (`app.domain.errors`), the same the web pages answer with, and what it carries: a
    permission or transition refusal says so in a sentence, a failed guard lists what is
    missing, invalid input maps each field to its messages. A NotFound never says more."""
    status, slug = error.http_status, error.problem_type
    if slug not in PROBLEM_TYPES or PROBLEM_TYPES[slug].status != status:
        status, slug = 400, "bad-request"
    details = error.details or {}
    if isinstance(error, ValidationFailed):
        errors, codes = field_errors(details.get("fields") or {}, message_for, details)
        return ApiError(status, slug, errors=errors, error_codes=codes)
    if isinstance(error, GuardFailed):
        details = error.details or {}
        field = details.get("field")
        return ApiError(
            status,
            slug,
            error.message,
            guard=details.get("guard"),
            guard_code=details.get("code"),
            missing=missing_items(error),
            missing_documents=details.get("missing_documents"),
            errors={field: [error.message]} if field else None,
            error_codes={field: [details.get("code")]} if field else None,
        )
    return ApiError(status, slug, str(DETAILS.get(slug, "")))


# The `detail` sentence of a problem whose type's description does not say it all.
DETAILS = {
    "forbidden": _l("Your role may not do this to this object now."),
    "invalid-transition": _l("This action is not possible now."),
}


def missing_items(error: GuardFailed) -> list[str]:
    """What a refused action is missing, as field names or sentences (JSON-safe)."""
    items = (error.details or {}).get("missing") or []
    return [str(getattr(item, "field", item)) for item in items]
