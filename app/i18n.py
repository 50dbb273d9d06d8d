"""Locale and time-zone selection, and the display formatting helpers.

Italian is the default; a logged-in user's preference wins, then the header switch (kept in
the session); otherwise Italian, whatever the browser asks, so that every screen reads the
same for everyone until they choose. Times are stored in UTC and shown in
Europe/Rome.
"""

from __future__ import annotations

from types import SimpleNamespace

import flask_babel
from babel import support
from flask import current_app, has_request_context, session
from flask.globals import _cv_app
from flask_babel import Domain, format_date, format_datetime, get_locale
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False):
        language = _user_language(current_user)
        if language in languages:
            return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _user_language(user) -> str | None:
    """The user's language, or None when it cannot be read. An error answer for a database
    failure is rendered after the rollback, which expired the user: reading the language
    queries again, and with the database still failing that would turn the 503 into a 500
    (seen in tests/slow/test_faults.py with backends terminated under load)."""
    try:
        return user.language
    except SQLAlchemyError:
        return None


# Dates read day, month, year in every language, times on the 24-hour clock. Babel's English
# is American ("Mar 14, 2024, 4:08 PM"): English gets explicit European patterns; Italian's
# own formats are European already.
DATE_PATTERNS = {"en": "d MMM y"}
DATETIME_PATTERNS = {"en": "d MMM y, HH:mm"}


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "it"


def display_date(value) -> str:
    """A date (or the Rome date of a datetime) as people here read it: "14 Mar 2024"."""
    if value is None:
        return ""
    return format_date(value, DATE_PATTERNS.get(_language(), "medium"))


def display_datetime(value) -> str:
    """A moment in Europe/Rome: "14 Mar 2024, 16:08" (Italian: "14/03/24, 16:08")."""
    if value is None:
        return ""
    return format_datetime(value, DATETIME_PATTERNS.get(_language(), "short"))


def select_timezone() -> str:
    return current_app.config["DISPLAY_TIMEZONE"]


def forget_cached_locale() -> None:
    """Flask-Babel caches the locale on `g`; when an app context outlives one request (tests
    keep one open), the next request must choose again."""
    from flask_babel import refresh

    refresh()


def babel_context() -> SimpleNamespace | None:
    """Flask-Babel's per-app-context namespace (`g._flask_babel`: the locale, time zone,
    domain and translations it chose), found without going through the `g` proxy.

    Flask-Babel's own `_get_current_context` does the same through `flask.g` three times
    (`not g`, `hasattr`, the attribute), and every `gettext` calls it twice: a list page
    translates a few hundred words, so those proxy look-ups were a fixed part of each page.
    Here: the app context from Flask's context variable (what `g` resolves to), then one
    attribute. Same namespace, same answer (None outside an app context)."""
    app_context = _cv_app.get(None)
    if app_context is None:
        return None
    namespace = app_context.g.__dict__.get("_flask_babel")
    if namespace is None:
        namespace = app_context.g._flask_babel = SimpleNamespace()
    return namespace


class RequestTranslationsDomain(Domain):
    """Flask-Babel's message domain, with the request's translations looked up once.

    Flask-Babel finds the translations on every `gettext` (the locale, its name as a string,
    the catalogue cache): a list page translates a few hundred labels, and that lookup was
    most of their cost. This domain keeps the catalogue in the request's Babel context, under
    the attribute Flask-Babel's own `refresh()` and `force_locale()` reset, so a language
    change within a request (and an email rendered in its recipient's language) still picks
    the right one.
    """

    def get_translations(self):
        context = babel_context()
        if context is None:
            return support.NullTranslations()
        translations = getattr(context, "babel_translations", None)
        if translations is None:
            translations = context.babel_translations = super().get_translations()
        return translations


def install_request_translations(babel, app) -> None:
    """Make `babel` (the extension, after init_app) use `RequestTranslationsDomain` (its
    `domain_instance` is a cached property: set once, it stays), and Flask-Babel's functions
    (`gettext`, `get_locale`, `refresh`, `force_locale`...) find their namespace through
    `babel_context` (they call the module's `_get_current_context` by name; this replaces it
    with an equivalent, once per process; tests/unit/test_i18n_context.py compares the two)."""
    if flask_babel._get_current_context is not babel_context:
        flask_babel._get_current_context = babel_context
    if not isinstance(babel.__dict__.get("domain_instance"), RequestTranslationsDomain):
        domain = app.config.get("BABEL_DOMAIN", "messages")
        babel.domain_instance = RequestTranslationsDomain(domain=domain)
