"""Shared by the assessment views: loading what the user may see, and turning domain errors
into responses (404 invisible, 403 not allowed, 409 changed meanwhile)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask import request as http_request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.domain.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from app.extensions import db
from app.requests.queries import CoiDeclarationRequired, get_request_for

UNPROCESSABLE = 422


def actor():
    return current_user._get_current_object()


def client_ip() -> str | None:
    return http_request.remote_addr


def version_of(form) -> int | None:
    value = (form.expected_version.data or "").strip()
    return int(value) if value.isdigit() else None


def load_request(request_id: int):
    """The request through the scoped loader: 404 when invisible; an undeclared assessor is
    sent to the conflict-of-interest declaration."""
    try:
        return get_request_for(actor(), request_id)
    except CoiDeclarationRequired:
        flash(_("Declare your conflicts of interest for this request first."), "warning")
        abort(redirect(url_for("assessment.coi_declaration", request_id=request_id)))
    except NotFound:
        abort(404)


def abort_for(error: Exception):
    """Roll back and answer a domain error that has no form to show it on."""
    db.session.rollback()
    if isinstance(error, NotFound):
        abort(404)
    if isinstance(error, PermissionDenied):
        abort(403)
    if isinstance(error, Conflict | StaleDataError):
        abort(
            409,
            description=_(
                "Someone else changed this request while you were working on it. Nothing was "
                "saved: reload the page and try again."
            ),
        )
    if isinstance(error, InvalidTransition):
        abort(
            409,
            description=_(
                "This is not possible in the request's current state. Nothing was saved: reload "
                "the page to see what you can do now."
            ),
        )
    raise error
