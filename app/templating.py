"""Jinja filters and globals: dates in Europe/Rome, money and numbers per locale, labels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import labels
from app.core.kept import KeptValues
from app.domain import roles
from app.formatting import current_formats
from app.workflow.action_labels import choice_label
from app.workflow.facts import facts
from app.workflow.labels import adoption_state_label, reimbursement_state_label, state_label


def fmt_datetime(value: datetime | None) -> str:
    # In the display zone (Europe/Rome); cached formatters, Babel's text (app/formatting.py).
    return current_formats().datetime(value)


def fmt_date(value: date | datetime | None) -> str:
    return current_formats().date(value)


def fmt_money(value: Decimal | float | None) -> str:
    return current_formats().money(value)


def fmt_number(value: int | float | Decimal | None) -> str:
    return current_formats().number(value)


# (endpoint, label, roles that see it); None means every logged-in user.
NAV_ITEMS = (
    ("main.home", _l("Home"), None),
    ("workqueue.queue", _l("My work"), roles.PROCESS_ROLES),
    ("requests.index", _l("Requests"), roles.REQUEST_ROLES),
    ("assessment.ranking", _l("Prioritisation"), ("agency",)),
    ("adoptions.index", _l("Adoption"), roles.ADOPTION_RECORD_ROLES),
    ("needs.index", _l("Needs"), roles.PROCESS_ROLES),
    ("safety.index", _l("Safety"), ("agency",)),
    ("reports.index", _l("Reports"), roles.PROCESS_ROLES),
    ("workqueue.workflow_diagram", _l("Workflow"), None),
    ("admin.users", _l("Users"), ("admin",)),
    ("admin.organisations", _l("Organisations"), ("admin",)),
    ("admin.deadlines", _l("Deadlines"), ("admin",)),
    ("assessment.weights", _l("Priority weights"), ("admin",)),
)


def nav_items() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    return [
        (endpoint, label)
        for endpoint, label, roles in NAV_ITEMS
        if roles is None or current_user.role in roles
    ]


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(fmt_datetime, "datetime")
    app.add_template_filter(fmt_date, "date")
    app.add_template_filter(fmt_money, "money")
    app.add_template_filter(fmt_number, "number")
    app.add_template_global(labels, "labels")
    app.add_template_global(get_locale, "get_locale")
    app.add_template_global(nav_items, "nav_items")
    app.add_template_global(state_label, "state_label")
    app.add_template_global(facts, "state_facts")
    app.add_template_global(roles, "roles")
    app.add_template_global(adoption_state_label, "adoption_state_label")
    app.add_template_global(reimbursement_state_label, "reimbursement_state_label")
    app.add_template_global(choice_label, "choice_label")
    register_layout_helpers(app)


# --- the layout's fixed parts, rendered once per process -----------------------------------

LAYOUT_FRAGMENTS = "hta.layout_fragments"
LAYOUT_FRAGMENTS_LIMIT = 4096  # (user menus and rows are keyed by content: a bound, then afresh)


def layout_fragment(name: str, *key, caller) -> str:
    """The body of `{% call layout_fragment(name, *key) %}...{% endcall %}`, rendered once per
    app and key and then reused (base.html: about 60 url_for and gettext calls per page).

    Exact because each call passes, in `key`, every value its body reads that can change
    (base.html: the language, the role, the user's name, the endpoint...; a row of the work
    queue or the register: its formatted cells and the language); the rest of a body is
    template text, translations of that language and url_for() of fixed endpoints, which
    depend only on the request's script root, added here. Nothing per request or per session
    (CSRF token, the page's address, flashed messages) is ever inside a body. With templates
    reloaded on change (debug), nothing is kept; tests/functional/test_list_pages_render.py
    compares kept and fresh pages for every role in both languages."""
    app = current_app._get_current_object()
    if app.jinja_env.auto_reload:
        return caller()
    if key == (None,):  # (a key that could not be made: render afresh)
        return caller()
    cache = app.extensions.setdefault(LAYOUT_FRAGMENTS, {})
    full_key = (name, key, request.script_root)
    fragment = cache.get(full_key)
    if fragment is None:
        if len(cache) >= LAYOUT_FRAGMENTS_LIMIT:
            cache.clear()
        fragment = cache[full_key] = caller()  # (Markup: the body was autoescaped)
    return fragment


# Whole table bodies of the lists (the register's, the requests table's): a few to tens of
# kilobytes each, so kept in a store bounded by bytes as well as entries.
TABLE_BODIES: KeptValues = KeptValues("table bodies", entries=512, max_bytes=8 * 1024 * 1024)


def body_fragment(name: str, *key, caller) -> str:
    """`layout_fragment` for a list's whole table body, kept in `TABLE_BODIES` (bounded by
    bytes: a body is tens of rows). The same rules: `key` holds everything the body reads
    that can change; a key of None draws it afresh."""
    if current_app.jinja_env.auto_reload or key == (None,):
        return caller()
    full_key = (name, key, request.script_root)
    return TABLE_BODIES.get_or_make(full_key, caller)


def register_layout_helpers(app: Flask) -> None:
    app.add_template_global(layout_fragment, "layout_fragment")
    app.add_template_global(body_fragment, "body_fragment")
