"""Shared by the assessment views: loading what the user may see, and what a conflict says on
these pages. Refusals are answered by the app's error handler (`app.errors`): 404 invisible
(an undeclared assessor is sent to the conflict-of-interest declaration), 403 not allowed, 409
changed meanwhile (with `request_changed_message`)."""

from __future__ import annotations

from flask import request as http_request
from flask_babel import gettext as _
from flask_login import current_user

from app.assessment import bp
from app.domain.errors import DomainError, InvalidTransition
from app.errors import explain_conflicts_of
from app.requests.queries import get_request_for

UNPROCESSABLE = 422


def actor():
    return current_user._get_current_object()


def client_ip() -> str | None:
    return http_request.remote_addr


def version_of(form) -> str:
    """The version the page was opened at, as sent: the kernel refuses a blank or malformed
    one with Conflict (app.core.locking.parse_version), never ignores it."""
    return (form.expected_version.data or "").strip()


def load_request(request_id: int):
    """The request through the scoped loader (NotFound when invisible; CoiDeclarationRequired
    for an assessor who has not declared, whom the error handler sends to declare)."""
    return get_request_for(actor(), request_id)


def request_changed_message(error: DomainError) -> str:
    """What a conflict (409) on an assessment page says."""
    if isinstance(error, InvalidTransition):
        return _(
            "This is not possible in the request's current state. Nothing was saved: reload "
            "the page to see what you can do now."
        )
    return _(
        "Someone else changed this request while you were working on it. Nothing was "
        "saved: reload the page and try again."
    )


explain_conflicts_of(bp, request_changed_message)
