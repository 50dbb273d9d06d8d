"""Every error the app answers with, in one place.

- HTTP errors (400, 403, 404, 405, 409, 413, 422, 500) render the error page in the user's
  language.
- A DomainError (`app.domain.errors`) that a view lets through is answered by
  `answer_domain_error`, with the status the error declares. The session is rolled back first,
  so nothing half-done is ever committed; a refused object (`denied` in its details) is
  audited (`app.core.security_events`, rate-limited). Then:
  - under /api/v1: the problem+json of `app.api.problems.problem_for_domain_error`;
  - an assessor who has not declared conflicts of interest: sent to the declaration;
  - a form POST whose view declared its page (`form_page(...)`), for an error the page takes
    (invalid input or a failed guard unless it says otherwise): the page again with the
    user's input, the error shown on the form (the page's `show`) or flashed, and the error's
    status (422; 409 for a conflict);
  - otherwise the error page; for a conflict (409) its message is the one the view or its
    blueprint gave (`explain_conflicts`, `explain_conflicts_of`), else the generic one.
- SQLAlchemy's StaleDataError (a concurrent write caught at flush) is answered as a Conflict.
- A database that cannot be reached (a lost or terminated connection, a server restarting,
  SQLite busy beyond its timeout) answers 503 with Retry-After, on the web and in the API: the
  transaction was rolled back, so nothing was saved and the same request may simply be sent
  again (with the same Idempotency-Key in the API). A value the database refuses (a number out
  of range, a NUL character) that slipped past the forms' and the API's checks answers 400.
  Both are logged as warnings, not crashes.

A view therefore only catches an error it answers differently (and says why).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.exc import DataError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from app.domain.errors import (
    CoiDeclarationRequired,
    Conflict,
    DomainError,
    GuardFailed,
    ValidationFailed,
)
from app.extensions import db

API_PREFIX = "/api/v1"

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
    422: (
        _l("Not possible now"),
        _l("This could not be done as it was sent. Nothing was saved: please go back and check."),
    ),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. Nothing was saved.")),
    503: (
        _l("Temporarily unavailable"),
        _l("The database could not be reached. Nothing was saved: please try again."),
    ),
}
RETRY_AFTER_SECONDS = "1"
# What a form page flashes for a refusal it does not show on the form itself.
FORM_MESSAGES = {
    409: MESSAGES[409][1],
    422: _l("Please correct the errors below."),
}


def register_error_handlers(app: Flask) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, _render_http_error(code))
    app.register_error_handler(DomainError, answer_domain_error)
    app.register_error_handler(StaleDataError, _answer_stale_data)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(DataError, _value_not_storable)


# --- What a view declares ---------------------------------------------------------------------


@dataclass(frozen=True)
class FormPage:
    """The page a form POST answers a refusal with."""

    render: Callable[[int], ResponseReturnValue]  # the page with the posted form, this status
    show: Callable[[DomainError], object] | None  # puts the refusal on the form
    refusals: tuple[type[DomainError], ...]  # the errors it takes (others: the error page)


def form_page(
    render: Callable[[int], ResponseReturnValue],
    show: Callable[[DomainError], object] | None = None,
    *,
    refusals: Collection[type[DomainError]] = (ValidationFailed, GuardFailed),
) -> None:
    """Declare, before calling the operation, how this form POST shows a refusal:
    `render(status)` draws the page again with the bound form (the user's input kept) and the
    error's status, after `show(error)` put the refusal on the form (`said_by_the_page` when
    `render` says it itself); without `show` the handler flashes it."""
    g.form_page = FormPage(render, show, tuple(refusals))


def said_by_the_page(_error: DomainError) -> None:
    """A `show` for a form page whose `render` already says why the form was refused."""


def explain_conflicts(describe: Callable[[DomainError], str]) -> None:
    """This request answers a conflict (409) with `describe(error)`, called after the rollback
    (so it may read the object's current state)."""
    g.explain_conflict = describe


def explain_conflicts_of(blueprint: Blueprint, describe: Callable[[DomainError], str]) -> None:
    """Every page of `blueprint` answers a conflict with `describe(error)` unless the view
    says otherwise (`explain_conflicts`)."""

    @blueprint.before_request
    def _explain_conflicts() -> None:
        g.explain_conflict = describe


# --- The handlers -----------------------------------------------------------------------------


def answer_domain_error(error: DomainError) -> ResponseReturnValue:
    """The one answer to a DomainError (see the module docstring)."""
    db.session.rollback()
    audit_denial(error)
    if is_api_path(request.path):
        from app.api.problems import problem_for_domain_error

        return problem_for_domain_error(error).response()
    if isinstance(error, CoiDeclarationRequired):
        flash(_("Declare your conflicts of interest for this request first."), "warning")
        request_id = error.details.get("request_id")
        return redirect(url_for("assessment.coi_declaration", request_id=request_id))
    status = error.http_status if error.http_status in MESSAGES else 400
    page: FormPage | None = g.get("form_page")
    if page is not None and request.method == "POST" and isinstance(error, page.refusals):
        if page.show is not None:
            page.show(error)
        else:
            flash(_user_message(error, status), "danger")
        return page.render(status)
    return error_page(status, _conflict_message(error) if status == 409 else None)


def audit_denial(error: DomainError) -> None:
    """An object refused to a known user is a security event (app.core.security_events)."""
    from flask_login import current_user

    from app.core.security_events import denied_object, record_denial

    if denied_object(error) is None:
        return
    actor = g.get("api_user")
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    record_denial(actor, error, error.http_status)


def _answer_stale_data(_error: StaleDataError) -> ResponseReturnValue:
    return answer_domain_error(Conflict("someone else changed this item meanwhile"))


def _database_unavailable(error: OperationalError) -> ResponseReturnValue:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone: the pool discards it
        db.session.close()
    current_app.logger.warning(
        "database unavailable during %s %s: %s", request.method, request.path, error.orig
    )
    headers = {"Retry-After": RETRY_AFTER_SECONDS}
    if is_api_path(request.path):
        from app.api.problems import ApiError

        return ApiError(503, "unavailable", headers=headers).response()
    page, status = error_page(503)
    return page, status, headers


def _value_not_storable(error: DataError) -> ResponseReturnValue:
    db.session.rollback()
    current_app.logger.warning(
        "value refused by the database during %s %s: %s", request.method, request.path, error.orig
    )
    if is_api_path(request.path):
        from app.api.problems import ApiError

        return ApiError(400, "bad-request").response()
    return error_page(400)


def _render_http_error(code: int):
    def handler(error):
        if code == 500:
            db.session.rollback()
        detail = getattr(error, "description", None) if code == 409 else None
        return error_page(code, detail if isinstance(detail, str) and detail else None)

    return handler


def error_page(code: int, message: str | None = None) -> ResponseReturnValue:
    title, default_message = MESSAGES[code]
    return (
        render_template(
            "errors/error.html", code=code, title=title, message=message or default_message
        ),
        code,
    )


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def _conflict_message(error: DomainError) -> str | None:
    describe = g.get("explain_conflict")
    if describe is None:
        return None
    db.session.expire_all()
    return describe(error)


def _user_message(error: DomainError, status: int) -> str:
    """The error's own message when it was written for users (lazy-translated), else the
    page's sentence for its status."""
    if isinstance(error.message, LazyString):
        return str(error.message)
    return str(FORM_MESSAGES.get(status, MESSAGES[status][1]))
