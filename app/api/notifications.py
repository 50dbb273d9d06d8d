"""The caller's notifications: list (newest first, cursor-paged, `unread=true` to filter)
and mark read, one or all. The same rows and words as the in-app inbox (`/inbox`)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from app.api import schema_types as t
from app.api.paging import CURSOR, LIMIT, page
from app.api.problems import ApiError
from app.api.registry import Param, actor, operation
from app.models import Notification
from app.models.types import utcnow
from app.notifications import inbox
from app.notifications.messages import KINDS, title

NOTIFICATION = t.component(
    "Notification",
    t.obj(
        {
            "id": t.ID,
            "kind": t.enum(KINDS),
            "title": t.STRING | {"description": "In the caller's language."},
            "urgent": t.BOOLEAN,
            "read": t.BOOLEAN,
            "created_at": t.DATETIME,
            "request_id": t.nullable(t.ID),
            "adoption_id": t.nullable(t.ID),
            "link": t.STRING | {"description": "The page of the object, on this server."},
        }
    ),
)
t.component("NotificationPage", t.page_of(NOTIFICATION))
t.component("NotificationsMarked", t.obj({"marked": t.INTEGER}))

UNREAD = Param("unread", t.enum(["true", "false"]), "Only the unread ones (`true`).")


def notification_json(notification: Notification, user) -> dict:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "title": title(notification.kind, notification.params or {}, user.role),
        "urgent": notification.urgent,
        "read": notification.read_at is not None,
        "created_at": notification.created_at.isoformat(),
        "request_id": notification.request_id,
        "adoption_id": notification.adoption_id,
        "link": inbox.link_path(notification),
    }


@operation(
    "GET",
    "/notifications",
    tag="Notifications",
    summary="List your notifications",
    response="NotificationPage",
    params=(UNREAD, LIMIT, CURSOR),
    errors=(422,),
)
def list_notifications():
    user = actor()
    unread = request.args.get("unread", "false")
    if unread not in ("true", "false"):
        raise ApiError(
            422,
            "validation",
            errors={"unread": [_("Choose a value from the list.")]},
            error_codes={"unread": ["invalid"]},
        )
    query = inbox.own_notifications(user)
    if unread == "true":
        query = query.where(Notification.read_at.is_(None))
    items, cursor, headers = page(query, Notification.id, "api.list_notifications")
    payload = {"items": [notification_json(n, user) for n in items], "next_cursor": cursor}
    return payload, 200, headers


@operation(
    "POST",
    "/notifications/<int:notification_id>/read",
    tag="Notifications",
    summary="Mark one of your notifications read",
    response="Notification",
    errors=(404,),
)
def mark_notification_read(notification_id: int):
    user = actor()
    return notification_json(inbox.mark_read(user, notification_id, utcnow()), user)


@operation(
    "POST",
    "/notifications/read",
    tag="Notifications",
    summary="Mark all your notifications read",
    response="NotificationsMarked",
)
def mark_all_notifications_read():
    return {"marked": inbox.mark_all_read(actor(), utcnow())}
