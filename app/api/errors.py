"""HTTP errors under /api/v1 as problems, including those Flask raises before a view runs
(an unknown URL, a wrong method) and unexpected errors (500). Domain errors are answered by the
app's one handler (`app.errors.answer_domain_error`), which gives API paths their problem."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect

from app.api import bp
from app.api.problems import ApiError
from app.errors import is_api_path
from app.extensions import db
from app.i18n import forget_cached_locale

SLUG_FOR_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
}


def problem_for_http_error(error: HTTPException) -> ApiError:
    status = error.code or 500
    slug = SLUG_FOR_STATUS.get(status, "server-error" if status >= 500 else "bad-request")
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 404:
        return ApiError(404, "not-found", _("There is nothing at this URL."))
    return ApiError(status if slug != "bad-request" else 400, slug, headers=headers)


def unmatched_api_url():
    """Unknown URLs and methods under /api/v1 never reach the blueprint: answer them here,
    before any other hook (the CSRF check would answer a POST with an HTML page)."""
    error = request.routing_exception
    if error is None or isinstance(error, RequestRedirect) or not is_api_path(request.path):
        return None
    if not isinstance(error, HTTPException):
        return None
    g.pop("_login_user", None)  # nobody is authenticated here (and none from before)
    forget_cached_locale()
    return problem_for_http_error(error).response()


@bp.record_once
def _answer_unmatched_urls_first(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, unmatched_api_url)


@bp.errorhandler(ApiError)
def api_problem(error: ApiError):
    db.session.rollback()
    return error.response()


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    db.session.rollback()
    return problem_for_http_error(error).response()


@bp.errorhandler(500)
def server_error(_error):
    db.session.rollback()
    return ApiError(500, "server-error").response()
