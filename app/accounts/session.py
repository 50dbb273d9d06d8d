"""Flask-Login wiring and the rules every logged-in session obeys.

The session holds "<user id>:<session token>" and the key of its server-side row: logging out
ends the row, and changing or resetting the password (or a deactivation, or a second-factor
reset) rotates the user's token, so a copied cookie stops working.

A login takes two steps when the user has a second factor: the password step leaves a *pending
login* in a fresh session (`begin_pending_login`), the code step completes it. Each step starts a
new session (the old cookie's contents, its CSRF token included, are dropped), so the session
changes at login and again when the second factor raises the session's privilege.

Each session also has a row on the server (`app.accounts.active_sessions`): started at login,
refreshed at most once a minute, listed on the "Active sessions" page; a session whose row was
ended (logout, "end this session", "log out everywhere else") is over.

On every request of a logged-in session (`enforce_session_rules`):
- idle timeout (`SESSION_IDLE_MINUTES`, `SESSION_IDLE_MINUTES_PRIVILEGED` for agency and
  administrators) and absolute timeout (`SESSION_ABSOLUTE_HOURS`), read with the app's clock;
- a user whose role requires a second factor and whose session has not passed one (logged in
  before enrolment was required, or whose factor an administrator reset) is logged out;
- a session whose server-side row is missing or ended is logged out.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from app.accounts import active_sessions
from app.extensions import db, login_manager
from app.models.types import utcnow
from app.sqlite_reads import short_write

PENDING_LOGIN = "pending_login"
PENDING_LOGIN_SECONDS = 10 * 60
# The last activity is written into the session at most this often.
SEEN_RESOLUTION_SECONDS = 60
# Endpoints a session reaches whatever the rules say (leaving, static files).
ALWAYS_ALLOWED = frozenset({"static", "auth.logout"})


def configure_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(_forget_the_previous_requests_user)
    app.before_request(enforce_session_rules)


def _forget_the_previous_requests_user() -> None:
    """Make every request load its user from its own session cookie.

    Flask-Login caches the user in `g`, which lives as long as the app context. Normally that
    is one request; but when one app context spans several requests (the test suite keeps one
    pushed while several test clients, i.e. several browsers, make requests) the cached user
    of one request would be reused by the next, skipping the session-token check.
    """
    g.pop("_login_user", None)
    active_sessions.forget_prefetched_row()


@login_manager.user_loader
def load_user(session_id: str):
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    # With its organisation (`is_active` and the page header read it) and this browser's
    # session row (`enforce_session_rules` reads it): one statement, not three.
    user = active_sessions.load_user_with_row(int(user_id))
    if user is None or user.session_token != token or not user.is_active:
        return None
    return user


# --- the two login steps -------------------------------------------------------------------


def _epoch(now: datetime) -> int:
    return int(now.timestamp())


def begin_pending_login(user, now: datetime, next_url: str | None) -> None:
    """The password was right; the second factor (or its enrolment) comes next."""
    session.clear()
    session[PENDING_LOGIN] = {
        "user": user.id,
        "token": user.session_token,
        "at": _epoch(now),
        "next": next_url or "",
    }


def pending_login_user(now: datetime):
    """The user whose password step this session passed, if still pending and fresh."""
    from app.models import User

    pending = session.get(PENDING_LOGIN)
    if not isinstance(pending, dict):
        return None
    if _epoch(now) - int(pending.get("at", 0)) > PENDING_LOGIN_SECONDS:
        session.pop(PENDING_LOGIN, None)
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or user.session_token != pending.get("token") or not user.is_active:
        return None
    return user


def pending_next_url() -> str:
    pending = session.get(PENDING_LOGIN)
    return pending.get("next", "") if isinstance(pending, dict) else ""


def complete_login(user, now: datetime, *, second_factor: bool) -> None:
    """Start the user's session: a new one, so nothing from before the login carries over."""
    lockout_notice = user.lockout_notice_at
    session.clear()
    login_user(user)
    session["login_at"] = session["seen_at"] = _epoch(now)
    active_sessions.start(user, now)
    if second_factor:
        session["second_factor_at"] = _epoch(now)
    if lockout_notice is not None:
        user.lockout_notice_at = None
        flash(
            _(
                "Your account was locked for a while on %(when)s UTC after several failed "
                "login attempts. If they were not yours, change your password.",
                when=lockout_notice.strftime("%Y-%m-%d %H:%M"),
            ),
            "warning",
        )


def second_factor_passed() -> bool:
    return bool(session.get("second_factor_at"))


# --- rules on every request ----------------------------------------------------------------


def idle_limit_minutes(user) -> int:
    config = current_app.config
    if user.role in config["SESSION_PRIVILEGED_ROLES"]:
        return config["SESSION_IDLE_MINUTES_PRIVILEGED"]
    return config["SESSION_IDLE_MINUTES"]


def session_expired(user, now: datetime) -> bool:
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return True
    elapsed_idle = _epoch(now) - seen_at
    idle_minutes = idle_limit_minutes(user)
    if idle_minutes and elapsed_idle > idle_minutes * 60:
        return True
    absolute_hours = current_app.config["SESSION_ABSOLUTE_HOURS"]
    return bool(absolute_hours and _epoch(now) - login_at > absolute_hours * 3600)


def enforce_session_rules():
    if request.endpoint in ALWAYS_ALLOWED or request.blueprint == "api":
        return None
    if not current_user.is_authenticated:
        return None
    from app.accounts.second_factor import is_required_for

    user = current_user._get_current_object()
    now = utcnow()
    if session_expired(user, now):
        message = _("Your session has ended after a time without activity. Please log in again.")
        with short_write():
            active_sessions.end_current(user, now)
    elif is_required_for(user) and not second_factor_passed():
        message = _("Log in again with your second factor.")
    elif (row_id := active_sessions.current_id(user)) is None:
        message = _("This session has been ended. Please log in again.")
    else:
        if _epoch(now) - session["seen_at"] >= SEEN_RESOLUTION_SECONDS:
            session["seen_at"] = _epoch(now)  # (not every request: the cookie would change)
            with short_write():
                active_sessions.touch(row_id, now)
        return None
    logout_user()
    session.clear()
    flash(message, "info")
    next_url = request.full_path if request.method == "GET" else None
    return redirect(
        url_for("auth.login", next=next_url.rstrip("?")) if next_url else url_for("auth.login")
    )


def forget_second_factor() -> None:
    session.pop("second_factor_at", None)
