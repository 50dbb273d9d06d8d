"""Flask-Login wiring. The session holds "<user id>:<session token>"; logging out or changing
the password rotates the token server-side, so a copied cookie stops working."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import lazy_gettext as _l

from app.extensions import db, login_manager


def configure_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(_forget_the_previous_requests_user)


def _forget_the_previous_requests_user() -> None:
    """Make every request load its user from its own session cookie.

    Flask-Login caches the user in `g`, which lives as long as the app context. Normally that
    is one request; but when one app context spans several requests (the test suite keeps one
    pushed while several test clients, i.e. several browsers, make requests) the cached user
    of one request would be reused by the next, skipping the session-token check.
    """
    g.pop("_login_user", None)


@login_manager.user_loader
def load_user(session_id: str):
    from app.models import User

    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_token != token or not user.is_active:
        return None
    return user
