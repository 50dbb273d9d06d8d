"""The bell, the inbox, email preferences and the admin's reminder settings, through the
test client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.core.fire import fire
from app.extensions import db
from app.models import NotificationPreference, ReminderSetting
from app.models.types import utcnow
from app.notifications.outbox import notify
from app.notifications.recipients import Recipient
from tests.notification_support import notification_hooks_only, notifications
from tests.workflow_support import STEP, make_cast, walk_to

__all__ = ["notification_hooks_only"]

pytestmark = pytest.mark.usefixtures("notification_hooks_only")


@pytest.fixture
def cast(make):
    return make_cast(make)


def bell(page: str) -> int:
    match = re.search(r'id="bell-count">(\d+)<', page)
    return int(match.group(1)) if match else 0


def test_the_bell_rises_when_a_question_is_asked_and_falls_when_read(make, cast, as_user):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "assessment", cast)
    db.session.commit()
    manufacturer = as_user(cast.manufacturer)
    before = bell(manufacturer.get("/").get_data(as_text=True))
    fire(request, "request_information", cast.assessor, moment + STEP, questions=["Data?"])
    db.session.commit()
    home = manufacturer.get("/").get_data(as_text=True)
    assert bell(home) == before + 1
    (question,) = notifications(user_id=cast.manufacturer.id, kind="question_asked")
    inbox = manufacturer.get("/inbox/?unread=1").get_data(as_text=True)
    assert f"{request.receipt_number}: questions are waiting for your answers" in inbox
    opened = manufacturer.get(f"/inbox/{question.id}")
    assert opened.status_code == 302 and opened.location.endswith(f"/requests/{request.id}")
    assert bell(manufacturer.get("/").get_data(as_text=True)) == before


def test_mark_all_read_empties_the_bell(make, cast, as_user):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "assignment", cast)
    db.session.commit()
    manufacturer = as_user(cast.manufacturer)
    assert bell(manufacturer.get("/").get_data(as_text=True)) > 0
    page = manufacturer.post("/inbox/read-all", follow_redirects=True).get_data(as_text=True)
    assert "notifications marked as read" in page
    assert bell(page) == 0
    assert "No unread notifications." in manufacturer.get("/inbox/?unread=1").get_data(as_text=True)


def test_the_inbox_is_paged_newest_first_and_marks_one_read(app, make, cast, as_user):
    app.config["PAGE_SIZE"] = 5
    start = utcnow()
    for n in range(7):
        notify(
            "status_changed",
            [Recipient(cast.agency, None)],
            start + timedelta(minutes=n),
            params={"ref": f"HTA-2026-{n:06d}", "state": "assessment"},
        )
    db.session.commit()
    agency = as_user(cast.agency)
    first = agency.get("/inbox/").get_data(as_text=True)
    assert "HTA-2026-000006" in first and "HTA-2026-000001" not in first
    assert "Page 1 of 2" in first
    second = agency.get("/inbox/?page=2").get_data(as_text=True)
    assert "HTA-2026-000000" in second
    newest = notifications(user_id=cast.agency.id)[-1]
    agency.post(f"/inbox/{newest.id}/read")
    assert bell(agency.get("/inbox/").get_data(as_text=True)) == 6


def test_nobody_opens_or_marks_another_users_notification(make, cast, as_user):
    notify("status_changed", [Recipient(cast.agency, None)], utcnow(), params={"ref": "#1"})
    db.session.commit()
    (mine,) = notifications(user_id=cast.agency.id)
    intruder = as_user(cast.manufacturer)
    assert intruder.get(f"/inbox/{mine.id}").status_code == 404
    assert intruder.post(f"/inbox/{mine.id}/read").status_code == 404
    assert notifications(user_id=cast.agency.id)[0].read_at is None


def test_urgent_notifications_show_on_the_home_page(make, cast, as_user):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "prioritisation", cast)
    fire(request, "suspend", cast.agency, moment + STEP, reason="Safety.")
    db.session.commit()
    home = as_user(cast.manufacturer).get("/").get_data(as_text=True)
    assert 'id="urgent-notifications"' in home
    assert f"URGENT: {request.receipt_number} has been suspended by the agency" in home


def test_email_preferences_are_saved_and_urgent_kinds_are_not_offered(cast, as_user):
    client = as_user(cast.assessor)
    page = client.get("/inbox/preferences").get_data(as_text=True)
    assert 'name="status_changed"' in page and 'name="suspended"' not in page
    response = client.post(
        "/inbox/preferences", data={"status_changed": "digest", "queue_arrival": "off"}
    )
    assert response.status_code == 302
    saved = {
        (p.kind, p.mode)
        for p in db.session.query(NotificationPreference).filter_by(user_id=cast.assessor.id)
    }
    assert saved == {("status_changed", "digest"), ("queue_arrival", "off")}


def test_the_admin_sets_reminder_days(cast, as_user):
    admin = as_user(cast.admin)
    page = admin.get("/admin/reminders").get_data(as_text=True)
    assert 'value="7, 2"' in page
    refused = admin.post("/admin/reminders", data={"remind_assessment": "0, x"})
    assert refused.status_code == 200
    assert "Enter whole numbers of working days" in refused.get_data(as_text=True)
    admin.post("/admin/reminders", data={"remind_assessment": "10, 3"})
    assert db.session.get(ReminderSetting, "assessment").days_before == [10, 3]
    assert as_user(cast.agency).get("/admin/reminders").status_code == 403
