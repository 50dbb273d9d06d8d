"""/api/v1/notifications: the caller's own notifications, newest first, and marking read."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models.types import utcnow
from app.notifications.outbox import notify
from app.notifications.recipients import Recipient
from tests.api_support import api_for


def test_list_filter_and_mark_read(client, make):
    agency = make.user("agency")
    other = make.user("agency")
    start = utcnow()
    for n in range(3):
        notify(
            "status_changed",
            [Recipient(agency, None), Recipient(other, None)],
            start + timedelta(minutes=n),
            params={"ref": f"HTA-2026-00000{n}", "state": "assessment"},
        )
    db.session.commit()
    api = api_for(client, agency)
    listed = api.get("/notifications?limit=2")
    assert listed.status_code == 200
    body = listed.get_json()
    assert [item["title"] for item in body["items"]] == [
        "HTA-2026-000002 is now: Assessment",
        "HTA-2026-000001 is now: Assessment",
    ]
    assert body["next_cursor"] and not body["items"][0]["read"]
    newest = body["items"][0]["id"]
    marked = api.post(f"/notifications/{newest}/read")
    assert marked.status_code == 200 and marked.get_json()["read"] is True
    unread = api.get("/notifications?unread=true").get_json()["items"]
    assert newest not in [item["id"] for item in unread] and len(unread) == 2
    assert api.post("/notifications/read").get_json() == {"marked": 2}
    assert api.get("/notifications?unread=true").get_json()["items"] == []
    # Another user's notifications stay theirs.
    others = api_for(client, other)
    assert len(others.get("/notifications?unread=true").get_json()["items"]) == 3
    assert others.post(f"/notifications/{newest}/read").status_code == 404
    assert api.get("/notifications?unread=maybe").status_code == 422


def test_the_openapi_document_lists_the_notification_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get"} <= set(paths["/api/v1/notifications"])
    assert "post" in paths["/api/v1/notifications/{notification_id}/read"]
