"""The "Active sessions" page as a user meets it: every browser where they are logged in, with
its user agent, address, start and last activity; ending one of them, or all but this one, logs
that browser out on the server; logging out here leaves the other browsers alone; nobody ends
(or sees) another user's sessions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, UserSession
from app.models import types as model_types
from tests.browser_support import Clock

MINUTE = 1 / (24 * 60)
PHONE = "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"


@pytest.fixture(autouse=True)
def in_english(client):
    client.post("/language/en", data={"next": "/"})


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    monkeypatch.setattr(model_types, "datetime", frozen.datetime_class())
    return frozen


def browser(app, agent: str, address: str):
    test_client = app.test_client()
    test_client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
    test_client.post("/language/en", data={"next": "/"})
    return test_client


def logged_in(test_client) -> bool:
    return test_client.get("/auth/password").status_code == 200


def session_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="session-(\d+)"', page)]


@pytest.fixture
def two_browsers(app, make, login, clock):
    user = make.user("manufacturer")
    db.session.commit()
    desktop = browser(app, DESKTOP, "192.0.2.10")
    phone = browser(app, PHONE, "198.51.100.20")
    login(user, test_client=desktop)
    clock.advance(days=5 * MINUTE)
    login(user, test_client=phone)
    return user, desktop, phone


def test_the_page_lists_each_browser_with_its_agent_address_and_times(two_browsers, clock):
    _user, desktop, _phone = two_browsers
    clock.advance(days=2 * MINUTE)
    desktop.get("/")  # activity here: its last-seen time moves on
    page = desktop.get("/account/sessions")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert DESKTOP in text and PHONE in text
    assert "192.0.2.10" in text and "198.51.100.20" in text
    assert text.count("This browser") == 1
    # Most recently seen first: this browser (seen just now), then the phone.
    rows = db.session.scalars(select(UserSession).order_by(UserSession.id)).all()
    assert session_ids(text) == [rows[0].id, rows[1].id]
    assert rows[0].last_seen_at > rows[1].last_seen_at


def test_ending_one_session_logs_that_browser_out(two_browsers):
    user, desktop, phone = two_browsers
    phone_row = db.session.scalars(select(UserSession).where(UserSession.user_agent == PHONE)).one()
    response = desktop.post(f"/account/sessions/{phone_row.id}/end")
    assert response.status_code == 302
    assert logged_in(desktop) and not logged_in(phone)
    assert PHONE not in desktop.get("/account/sessions").get_data(as_text=True)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == user.id)
    ).all()
    assert "session_ended" in actions


def test_log_out_everywhere_else(two_browsers):
    _user, desktop, phone = two_browsers
    assert phone.post("/account/security/log-out-elsewhere").status_code == 302
    assert logged_in(phone) and not logged_in(desktop)
    page = phone.get("/account/sessions").get_data(as_text=True)
    assert PHONE in page and DESKTOP not in page
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "other_sessions_ended")
    ).one()
    assert entry.data == {"count": 1}


def test_logging_out_ends_only_this_browsers_session(two_browsers):
    _user, desktop, phone = two_browsers
    copied = desktop.get_cookie("session").value
    desktop.post("/auth/logout")
    assert logged_in(phone)
    desktop.set_cookie("session", copied)  # the cookie from before the logout is dead
    assert not logged_in(desktop)


def test_nobody_ends_or_sees_another_users_session(app, make, login, two_browsers):
    user, desktop, phone = two_browsers
    intruder = make.user("manufacturer")
    db.session.commit()
    other = browser(app, DESKTOP, "203.0.113.5")
    login(intruder, test_client=other)
    victims = db.session.scalars(select(UserSession.id).where(UserSession.user_id == user.id))
    for session_id in victims:
        assert other.post(f"/account/sessions/{session_id}/end").status_code == 404
    assert logged_in(desktop) and logged_in(phone)
    page = other.get("/account/sessions").get_data(as_text=True)
    assert "192.0.2.10" not in page and "198.51.100.20" not in page


def test_an_idle_session_is_no_longer_listed(app, make, login, clock):
    user = make.user("manufacturer")  # idle limit: 120 minutes
    db.session.commit()
    old = browser(app, PHONE, "198.51.100.20")
    login(user, test_client=old)
    clock.advance(days=200 * MINUTE)
    new = browser(app, DESKTOP, "192.0.2.10")
    login(user, test_client=new)
    page = new.get("/account/sessions").get_data(as_text=True)
    assert DESKTOP in page and PHONE not in page


def test_a_password_change_ends_the_other_sessions_in_the_list(two_browsers):
    from tests.factories import DEFAULT_PASSWORD

    _user, desktop, phone = two_browsers
    new = "Un'altra frase lunga 42"
    desktop.post(
        "/auth/password",
        data={"current_password": DEFAULT_PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert logged_in(desktop) and not logged_in(phone)
    page = desktop.get("/account/sessions").get_data(as_text=True)
    assert DESKTOP in page and PHONE not in page


def test_activity_moves_the_last_seen_time_once_a_minute_and_a_timeout_ends_the_row(
    app, make, login, clock
):
    user = make.user("manufacturer")  # idle limit: 120 minutes
    db.session.commit()
    desktop = browser(app, DESKTOP, "192.0.2.10")
    login(user, test_client=desktop)
    row = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    started = row.last_seen_at
    clock.advance(days=0.5 * MINUTE)
    assert logged_in(desktop)
    db.session.refresh(row)
    assert row.last_seen_at == started  # (within the minute: no write)
    clock.advance(days=1 * MINUTE)
    assert logged_in(desktop)
    db.session.refresh(row)
    assert row.last_seen_at > started and row.ended_at is None
    clock.advance(days=200 * MINUTE)
    assert not logged_in(desktop)
    db.session.refresh(row)
    assert row.ended_at is not None
