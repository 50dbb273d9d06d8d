"""Token authentication and rate limiting, before every API view.

`Authorization: Bearer hta_...` finds the token by its hash; a missing, unknown, expired or
revoked token, or one whose user or organisation is deactivated, answers 401 with
`WWW-Authenticate: Bearer`. The token's user then acts exactly as on the web pages (same role,
organisation, predicates and services); session cookies are ignored under /api/v1.

Refused tokens are counted per client address (`API_TOKEN_FAILURE_LIMIT_PER_ADDRESS`, in the
rate limiter's storage): past the limit the address gets 429 for a while, whatever it sends.

The rate counter and the token's last-used time are written and committed in a short
transaction of their own, so no lock is held while the view works. That commit does not expire
the token, user and organisation just checked (no second SELECT of the user per request).
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _

from app.accounts import api_tokens
from app.api import bp
from app.api.problems import ApiError
from app.api.ratelimit import configured_limit, hit
from app.api.registry import PUBLIC_ENDPOINTS
from app.extensions import db
from app.models.types import utcnow
from app.security import HeaderWriter, client_address, failure_counter

REALM = 'Bearer realm="HTA Tracker API"'


def _refusal_detail(problem: str) -> str:
    return {
        api_tokens.MISSING: _(
            "Send your personal API token in the Authorization header: Bearer <token>."
        ),
        api_tokens.INVALID: _("This token is not valid."),
        api_tokens.EXPIRED: _("This token has expired: create a new one in your profile."),
        api_tokens.REVOKED: _("This token has been revoked."),
        api_tokens.INACTIVE: _("The account or the organisation of this token is deactivated."),
    }[problem]


def _challenge(problem: str) -> str:
    if problem == api_tokens.MISSING:
        return REALM
    return f'{REALM}, error="invalid_token", error_description="{problem}"'


def bearer_credentials() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.strip():
        return None
    scheme, _sep, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return credentials.strip()


def _token_failures():
    return failure_counter(
        "api-token-failures", current_app.config["API_TOKEN_FAILURE_LIMIT_PER_ADDRESS"]
    )


def token_failures_exhausted() -> bool:
    """This client address sent too many unknown, expired or revoked tokens: it is refused for
    a while, even with a good token (so tokens cannot be guessed from one address)."""
    return _token_failures().exhausted(client_address())


def record_token_failure() -> None:
    _token_failures().record(client_address())


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS or request.routing_exception is not None:
        return None
    now = utcnow()
    credentials = bearer_credentials()
    check = api_tokens.authenticate(credentials, now)
    if credentials == "":  # another scheme (Basic, a cookie...): not a token
        check = api_tokens.TokenCheck(None, None, api_tokens.INVALID)
    if token_failures_exhausted():
        db.session.rollback()
        return ApiError(
            429,
            "rate-limited",
            _("Too many requests with a wrong token from your address: wait a minute."),
            headers={"Retry-After": "60"},
        ).response()
    if not check.ok:
        db.session.rollback()
        if check.problem != api_tokens.MISSING:
            record_token_failure()
        return ApiError(
            401,
            "unauthorized",
            _refusal_detail(check.problem),
            headers={"WWW-Authenticate": _challenge(check.problem)},
        ).response()
    token, user = check.token, check.user
    limit = configured_limit()
    usage = hit(token.id, now, limit) if limit else None
    api_tokens.touch(token, now)
    g.api_token_id = token.id
    g.api_user_id = user.id
    _commit_keeping(db.session())
    g.api_user = user
    g._login_user = user  # Flask-Login's current_user, e.g. for the user's language
    g.api_rate = usage
    if usage is not None and usage.exceeded:
        return ApiError(
            429,
            "rate-limited",
            _("Too many requests: wait %(seconds)s seconds.", seconds=usage.reset_after),
            headers={"Retry-After": str(usage.reset_after)},
        ).response()
    return None


def _commit_keeping(session) -> None:
    """Commit the rate counter and the last-used time without expiring what the session holds.

    The token, its user and their organisation were read and checked a moment ago in this same
    transaction, and the commit writes only the counter (a Core UPSERT) and the token's
    last-used time. Expiring them on commit (the session's default) made the view's first
    look at the user reload the same row with one more SELECT on every API request; keeping
    them, the view acts as the user that was authenticated, exactly as checked. Anything not
    loaded yet is read in the view's own transaction as before.
    """
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


@bp.after_request
def add_headers(response):
    headers = HeaderWriter(response.headers)  # (setdefault, the names read once)
    usage = g.get("api_rate")
    if usage is not None:
        for name, value in usage.headers().items():
            headers.setdefault(name, value)
    headers.setdefault("Cache-Control", "private, no-store")
    response.vary.add("Authorization")
    return response
