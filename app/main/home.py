"""What the home page shows each role."""

from __future__ import annotations

from collections import OrderedDict

from flask import get_template_attribute
from flask_babel import get_locale
from markupsafe import Markup

from app.core.paging import bounded_count
from app.extensions import db
from app.main.dashboard import dashboard_charts
from app.models import DeviceRequest
from app.models.types import utcnow
from app.notifications.inbox import urgent_unread
from app.requests.list_rows import request_rows, row_select
from app.requests.queries import visible_requests
from app.workqueue.queries import DUE_SOON_DAYS, queue_summary

RECENT_LIMIT = 10


def home_context(user) -> dict:
    query = row_select(
        visible_requests(user).order_by(DeviceRequest.updated_at.desc()).limit(RECENT_LIMIT)
    )
    # Rows formatted before rendering (app/requests/list_rows.py).
    recent = request_rows(db.session.execute(query).all(), user.role)
    # Bounded: "more than 1000" rather than counting 100k requests on every view.
    total, exact = bounded_count(visible_requests(user).with_only_columns(DeviceRequest.id))
    now = utcnow()
    return {
        "chart_cards": chart_cards(dashboard_charts(user, now)),
        "recent_requests": recent,
        "show_manufacturer": user.role != "manufacturer",
        "total": total,
        "total_exact": exact,
        "queue": queue_summary(user, now),
        "due_soon_days": DUE_SOON_DAYS,
        "urgent_notifications": urgent_unread(user),
    }


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
