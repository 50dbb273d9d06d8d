"""Domain errors. Operations raise these; one handler (`app.errors`) answers them.

Each error declares how it is answered over HTTP, so the web pages and the API agree:
`http_status` (the status of the web page and of the API's problem) and `problem_type` (the slug
of the API's problem type, `app.api.problems.PROBLEM_TYPES`).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class; `message` says what went wrong. A lazy-translated message (`_l(...)`) is
    written for users and may be shown to them; a plain one is for logs and tests only."""

    http_status = 400
    problem_type = "bad-request"

    def __init__(self, message: str = "", **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The object does not exist *or the actor may not see it* (never reveal which)."""

    http_status = 404
    problem_type = "not-found"


class CoiDeclarationRequired(NotFound):
    """An assessor of the assigned body has not declared conflicts of interest for the request
    (`details['request_id']`) yet. The API says so (403); a web page sends them to declare."""

    http_status = 403
    problem_type = "coi-declaration-required"


class PermissionDenied(DomainError):
    """The actor can see the object but may not do this to it."""

    http_status = 403
    problem_type = "forbidden"


class Conflict(DomainError):
    """Someone else changed the object first (optimistic lock, duplicate fire)."""

    http_status = 409
    problem_type = "conflict"


class InvalidTransition(DomainError):
    """The trigger cannot fire from the object's current state."""

    http_status = 409
    problem_type = "invalid-transition"


class GuardFailed(DomainError):
    """A condition of the transition is not met (e.g. the dossier is incomplete)."""

    http_status = 422
    problem_type = "guard-failed"


class ValidationFailed(DomainError):
    """Input data is invalid; `details['fields']` maps field names to messages."""

    http_status = 422
    problem_type = "validation"
