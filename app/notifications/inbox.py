"""The in-app inbox: queries, the rows it shows and marking read (operations flush, never
commit).

- `unread_count(user)`: the bell's number, one COUNT over the partial index of unread rows;
- `inbox_page(user, page, per_page, unread_only)`: newest first, one page of `InboxItem`;
- `urgent_unread(user)`: the home page card;
- `mark_read(user, id, now)` / `mark_all_read(user, now)`: only the user's own rows (another
  user's id is NotFound, as if it did not exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import func, select, update

from app.accounts.active_sessions import prefetched_unread
from app.core.paging import Page, paginate
from app.domain.errors import NotFound
from app.extensions import db
from app.models import Notification
from app.notifications.messages import title

URGENT_CARD_LIMIT = 5


@dataclass(frozen=True)
class InboxItem:
    id: int
    title: str
    link: str
    created_at: datetime
    read: bool
    urgent: bool
    kind: str


def link_path(notification: Notification) -> str:
    """Where the notification leads: an adoption barrier's page (its owner may be the region,
    which does not read the record), the IRCCS's adoption record, or the request."""
    barrier = (notification.params or {}).get("barrier")
    if isinstance(barrier, int):
        return url_for("adoptions.barrier", barrier_id=barrier)
    if notification.adoption_id is not None:
        return url_for("adoptions.detail", adoption_id=notification.adoption_id)
    if notification.request_id is not None:
        return url_for("requests.detail", request_id=notification.request_id)
    return url_for("notifications.inbox_list")


def present(notification: Notification, role: str | None) -> InboxItem:
    return InboxItem(
        id=notification.id,
        title=title(notification.kind, notification.params or {}, role),
        link=url_for("notifications.open_item", notification_id=notification.id),
        created_at=notification.created_at,
        read=notification.read_at is not None,
        urgent=notification.urgent,
        kind=notification.kind,
    )


def unread_count(user) -> int:
    # Read with the user in a request that only reads (app/accounts/active_sessions.py).
    prefetched = prefetched_unread(user)
    if prefetched is not None:
        return prefetched
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def own_notifications(user):
    """SELECT of the user's notifications (nobody reads another's)."""
    return select(Notification).where(Notification.user_id == user.id)


def inbox_page(user, page: int, per_page: int, *, unread_only: bool = False) -> Page:
    query = own_notifications(user)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    result = paginate(query, page, per_page, scalars=True)
    result.items = [present(n, user.role) for n in result.items]
    return result


def urgent_unread(user, limit: int = URGENT_CARD_LIMIT) -> list[InboxItem]:
    if prefetched_unread(user) == 0:  # nothing unread at all (read with the user): no query
        return []
    rows = db.session.scalars(
        own_notifications(user)
        .where(Notification.read_at.is_(None), Notification.urgent.is_(True))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [present(n, user.role) for n in rows]


def own_notification(user, notification_id: int) -> Notification:
    notification = db.session.scalars(
        own_notifications(user).where(Notification.id == notification_id)
    ).one_or_none()
    if notification is None:
        raise NotFound("notification not found")
    return notification


def mark_read(user, notification_id: int, now: datetime) -> Notification:
    notification = own_notification(user, notification_id)
    if notification.read_at is None:
        notification.read_at = now
        db.session.flush()
    return notification


def mark_all_read(user, now: datetime) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    return result.rowcount or 0
