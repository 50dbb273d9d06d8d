"""Web front-end defences: rate limits (Flask-Limiter) and the security headers of every response.

Rate limits. The limits themselves are strings in the config (`LOGIN_LIMIT_PER_ADDRESS`...),
applied by the decorators below on the routes they guard. Their storage is Flask-Limiter's:
memory for one server, Redis (`RATELIMIT_STORAGE_URI=redis://...`) so that the counts hold
across several app servers. `failure_counter(...)` uses the same storage for counts that are not
one per request (failed logins of one account, failed API token checks of one address).

Headers. Every response carries a Content-Security-Policy without 'unsafe-inline' or
'unsafe-eval' (scripts and styles come from /static; the few elements a script must add carry
the per-request nonce, `csp_nonce()` in templates), frame-ancestors 'none' and X-Frame-Options,
X-Content-Type-Options, Referrer-Policy, Permissions-Policy, and HSTS in production
(`HSTS_SECONDS`). A response to a logged-in user (pages, exports, the API) is never stored by a
browser or a proxy: `Cache-Control: no-store`, unless the view chose its own caching.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many

from app.extensions import limiter

NONCE_KEY = "hta.csp_nonce"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    app.after_request(set_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.register_error_handler(429, too_many_requests)


def too_many_requests(error):
    """A rate limit was reached (Flask-Limiter): the error page, in the user's language."""
    page = render_template(
        "errors/error.html",
        code=429,
        title=_("Too many attempts"),
        message=_("Too many attempts from here in a short time: wait a minute and try again."),
    )
    return page, 429, {"Retry-After": "60"}


# --- rate limits ---------------------------------------------------------------------------


def _configured(name: str):
    return lambda: current_app.config[name]


def client_address() -> str:
    return get_remote_address() or "unknown"


def _login_account_key() -> str:
    from app.accounts.operations import normalise_email

    return "account:" + normalise_email(request.form.get("email", ""))


def limit_login(view):
    """The login form's posts: per client address and per account (the email typed, whether
    or not such an account exists)."""
    view = limiter.limit(
        _configured("LOGIN_LIMIT_PER_ACCOUNT"), key_func=_login_account_key, methods=["POST"]
    )(view)
    return limiter.limit(_configured("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"])(view)


def limit_second_factor(view):
    return limiter.limit(_configured("SECOND_FACTOR_LIMIT_PER_ADDRESS"), methods=["POST"])(view)


def limit_password_reset(view):
    """Asking for a reset link: per client address and per email typed (an unknown email is
    counted like a known one); setting the new password: per address."""
    view = limiter.limit(
        _configured("PASSWORD_RESET_LIMIT_PER_ACCOUNT"),
        key_func=_login_account_key,
        methods=["POST"],
        exempt_when=lambda: "email" not in request.form,
    )(view)
    return limiter.limit(_configured("PASSWORD_RESET_LIMIT_PER_ADDRESS"), methods=["POST"])(view)


def limit_password_change(view):
    return limiter.limit(_configured("PASSWORD_CHANGE_LIMIT_PER_ADDRESS"), methods=["POST"])(view)


@dataclass(frozen=True)
class FailureCounter:
    """Failures of one kind (`name`) counted per key in the limiter's storage, within the
    moving window of `limit` (e.g. "5/15minutes")."""

    name: str
    limit: str

    def _items(self):
        return parse_many(self.limit)

    def _identifiers(self, key: str) -> tuple[str, str, str]:
        return (current_app.config.get("RATELIMIT_KEY_PREFIX", ""), self.name, key)

    def exhausted(self, key: str) -> bool:
        strategy = limiter.limiter
        return any(not strategy.test(item, *self._identifiers(key)) for item in self._items())

    def record(self, key: str) -> bool:
        """Count one failure; True when the limit is now reached (no failure left)."""
        strategy = limiter.limiter
        for item in self._items():
            strategy.hit(item, *self._identifiers(key))
        return self.exhausted(key)

    def clear(self, key: str) -> None:
        strategy = limiter.limiter
        for item in self._items():
            strategy.clear(item, *self._identifiers(key))


def failure_counter(name: str, limit: str) -> FailureCounter:
    return FailureCounter(name, limit)


# --- headers -------------------------------------------------------------------------------


def csp_nonce() -> str:
    """This response's CSP nonce, for an element that a script must add to the page."""
    # Kept on the request (not `g`, which may outlive one request when an app context spans
    # several, as in the test suite).
    nonce = request.environ.get(NONCE_KEY)
    if nonce is None:
        nonce = request.environ[NONCE_KEY] = secrets.token_urlsafe(16)
    return nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class HeaderWriter:
    """Sets and adds a response's headers as `Headers.set` and `Headers.setdefault` do, with
    the names already present read once: every response gets about ten headers here, and
    each `set` or `setdefault` scanned the whole list (`setdefault` up to three times)."""

    def __init__(self, headers):
        self.headers = headers
        self.present = {name.lower() for name, _value in headers.items()}

    def has(self, name: str) -> bool:
        return name.lower() in self.present

    def set(self, name: str, value: str) -> None:
        """Replace the header where it is, or append it (`Headers.set`)."""
        if self.has(name):
            self.headers.set(name, value)
        else:
            self.headers.add(name, value)
            self.present.add(name.lower())

    def setdefault(self, name: str, value: str) -> None:
        """Append the header unless the response has it (`Headers.setdefault`)."""
        if not self.has(name):
            self.headers.add(name, value)
            self.present.add(name.lower())


def set_security_headers(response: Response) -> Response:
    headers = HeaderWriter(response.headers)
    headers.set("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.set("X-Frame-Options", "DENY")
    headers.set("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")  # (a page may ask for less)
    headers.set("Permissions-Policy", PERMISSIONS_POLICY)
    headers.set("Cross-Origin-Opener-Policy", "same-origin")
    hsts = current_app.config.get("HSTS_SECONDS") or 0
    if hsts:
        headers.set("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
    if not headers.has("Cache-Control") and _private_response():
        headers.set("Cache-Control", "no-store")
    return response


def _private_response() -> bool:
    if request.endpoint == "static":
        return False
    if g.get("api_user") is not None:
        return True
    return bool(current_user and current_user.is_authenticated)
