"""Error pages (403, 404, 409, 413, 500) in the user's language, and `abort_for`, which turns
a service's domain error into one of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from flask import Flask, abort, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from app.domain.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from app.extensions import db

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please go back and try again."),
    ),
    403: (_l("Not allowed"), _l("You do not have permission to do this.")),
    404: (_l("Not found"), _l("This page does not exist, or you cannot see it.")),
    405: (_l("Not allowed"), _l("This action cannot be done this way.")),
    409: (
        _l("Changed by someone else"),
        _l(
            "Someone else changed this item while you were working on it. "
            "Reload the page to see its current state, then try again."
        ),
    ),
    413: (_l("Too large"), _l("The file or form you sent is larger than allowed.")),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. Nothing was saved.")),
}


def register_error_handlers(app: Flask) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, _render_error(code))


def _render_error(code: int):
    def handler(error):
        if code == 500:
            db.session.rollback()
        title, message = MESSAGES[code]
        detail = getattr(error, "description", None) if code == 409 else None
        return (
            render_template(
                "errors/error.html",
                code=code,
                title=title,
                message=detail if isinstance(detail, str) and detail else message,
            ),
            code,
        )

    return handler


def abort_for(error: Exception, moved_on: Callable[[], str] | None = None) -> NoReturn:
    """Roll back, then answer a service's error: NotFound 404, PermissionDenied 403, and, when
    `moved_on` is given, a conflict (Conflict, InvalidTransition, StaleDataError) 409 with
    the message `moved_on()` (read after the rollback). Any other error is raised again."""
    db.session.rollback()
    if isinstance(error, NotFound):
        abort(404)
    if isinstance(error, PermissionDenied):
        abort(403)
    if moved_on is not None and isinstance(error, Conflict | InvalidTransition | StaleDataError):
        db.session.expire_all()
        abort(409, description=moved_on())
    raise error
