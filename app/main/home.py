"""What the home page shows each role."""

from __future__ import annotations

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
        "charts": dashboard_charts(user, now),
        "recent_requests": recent,
        "show_manufacturer": user.role != "manufacturer",
        "total": total,
        "total_exact": exact,
        "queue": queue_summary(user, now),
        "due_soon_days": DUE_SOON_DAYS,
        "urgent_notifications": urgent_unread(user),
    }
