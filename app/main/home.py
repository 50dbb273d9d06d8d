"""What the home page shows each role."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from types import SimpleNamespace

from flask import get_template_attribute
from flask_babel import get_locale
from markupsafe import Markup

from app.extensions import db
from app.main.dashboard import dashboard_charts
from app.main.glance import read_glance
from app.models import DeviceRequest
from app.models.types import utcnow
from app.notifications.inbox import urgent_unread
from app.requests.list_rows import request_rows, row_select
from app.requests.queries import visible_requests
from app.workqueue.queries import DUE_SOON_DAYS

RECENT_LIMIT = 10


def home_context(user) -> dict:
    """What the home page shows: for an administrator, only its links (nothing to read)."""
    if user.role == "admin":
        return {}
    now = utcnow()
    # First: it also reads the data version that keys the charts (app/main/glance.py).
    glance = read_glance(user, now)
    # Rows formatted before rendering (app/requests/list_rows.py).
    recent = db.session.execute(_recent_statement(user.role, user.organisation_id, user.id))
    return {
        "chart_cards": chart_cards(dashboard_charts(user, now)),
        "recent_requests": request_rows(recent.all(), user.role),
        "show_manufacturer": user.role != "manufacturer",
        # Bounded: "more than 1000" rather than counting 100k requests on every view.
        "total": glance.total,
        "total_exact": glance.total_exact,
        "queue": glance.queue,
        "due_soon_days": DUE_SOON_DAYS,
        "urgent_notifications": urgent_unread(user),
    }


@lru_cache(maxsize=1024)
def _recent_statement(role: str, organisation_id: int | None, user_id: int):
    """The latest requests' SELECT, built once per reader: `visible_requests` depends only on
    the reader's role, organisation and id."""
    actor = SimpleNamespace(role=role, organisation_id=organisation_id, id=user_id)
    latest = visible_requests(actor).order_by(DeviceRequest.updated_at.desc())
    return row_select(latest.limit(RECENT_LIMIT))


# The home page's chart cards (_charts.html), rendered once per chart object and language.
_CARDS: OrderedDict = OrderedDict()
CARDS_KEPT = 64


def chart_cards(charts) -> list[Markup]:
    """Each chart's card, rendered once while its chart is kept (`dashboard_charts` hands
    the same Chart objects out until the data changes: an IRCCS's "usage due" card is a
    table of thousands of rows at scale). Exact: a Chart is immutable and the entry holds it,
    so the key (the object's identity, the language of the card's own words) cannot be
    reused by another chart."""
    macro = get_template_attribute("_charts.html", "chart_card")
    locale = str(get_locale())
    cards = []
    for chart in charts:
        key = (id(chart), locale)
        kept = _CARDS.get(key)
        if kept is None or kept[0] is not chart:
            kept = _CARDS[key] = (chart, macro(chart))
            while len(_CARDS) > CARDS_KEPT:
                _CARDS.popitem(last=False)
        cards.append(kept[1])
    return cards
