"""Locale and time-zone selection, and the display formatting helpers.

Italian is the default; a logged-in user's preference wins, then the header switch (kept in
the session); otherwise Italian, whatever the browser asks, so that every screen reads the
same for everyone until they choose. Times are stored in UTC and shown in
Europe/Rome.
"""

from __future__ import annotations

from flask import current_app, has_request_context, session
from flask_login import current_user


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return current_user.language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["DISPLAY_TIMEZONE"]


def forget_cached_locale() -> None:
    """Flask-Babel caches the locale on `g`; when an app context outlives one request (tests
    keep one open), the next request must choose again."""
    from flask_babel import refresh

    refresh()
