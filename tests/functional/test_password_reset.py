"""Password reset by email, as a user (and an attacker) meets it: the same answer whether or
not the account exists, a mail through the notification worker to a real SMTP server with a
link that works once and expires, bound to the current password, throttled; and the owner of
a locked account told by email."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Notification
from app.models import types as model_types
from app.models.types import utcnow
from app.notifications.delivery import deliver_pending
from tests.browser_support import Clock
from tests.factories import DEFAULT_PASSWORD
from tests.notification_support import smtp_server, text_of

__all__ = ["smtp_server"]

NEW_PASSWORD = "Lanterna verde sul molo 7"
SENT_TEXT = "If an account has this email address"
LINK = re.compile(r"https://hta\.example\.org(/auth/password/reset/\S+)")


@pytest.fixture(autouse=True)
def in_english(client):
    client.post("/language/en", data={"next": "/"})


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    monkeypatch.setattr(model_types, "datetime", frozen.datetime_class())
    return frozen


@pytest.fixture
def smtp(app, smtp_server):
    host, port, inbox = smtp_server
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, BASE_URL="https://hta.example.org")
    return inbox


def ask(client, email: str, address: str = "192.0.2.10"):
    return client.post(
        "/auth/password/forgot",
        data={"email": email},
        environ_base={"REMOTE_ADDR": address},
        follow_redirects=True,
    )


def reset_path_mailed_to(smtp, user) -> str:
    deliver_pending(utcnow)
    (mail,) = [m for m in smtp.to(user.email) if "new password" in m["Subject"]]
    return LINK.search(text_of(mail)).group(1)


def set_password(client, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"new_password": password, "confirm_password": password})


def log_in(client, email: str, password: str):
    return client.post("/auth/login", data={"email": email, "password": password})


def test_a_mailed_link_sets_a_new_password_once(app, client, make, smtp, clock):
    user = make.user("manufacturer")
    db.session.commit()
    page = ask(client, user.email)
    assert page.status_code == 200 and SENT_TEXT in page.get_data(as_text=True)
    path = reset_path_mailed_to(smtp, user)

    form = client.get(path)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert set_password(client, path).status_code == 302

    assert log_in(app.test_client(), user.email, DEFAULT_PASSWORD).status_code == 200  # old
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 302
    # Used once: the same link is refused now.
    again = client.get(path)
    assert again.status_code == 400 and "cannot be used" in again.get_data(as_text=True)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == user.id).order_by(AuditEntry.seq)
    ).all()
    assert "password_reset_requested" in actions and "password_reset" in actions


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client, make, smtp, clock):
    user = make.user("manufacturer")
    db.session.commit()
    known = ask(client, user.email)
    unknown = ask(client, "nobody-here@example.org")
    assert unknown.status_code == known.status_code == 200
    strip = re.compile(r'name="csrf_token"[^>]*>|nonce-[^"\']+|nonce="[^"]+"')
    assert strip.sub("", unknown.get_data(as_text=True)) == strip.sub(
        "", known.get_data(as_text=True)
    )
    deliver_pending(utcnow)
    assert [rcpts for rcpts, _ in smtp.mails] == [[user.email]]


def test_a_link_expires(client, make, smtp, clock):
    user = make.user("manufacturer")
    db.session.commit()
    ask(client, user.email)
    path = reset_path_mailed_to(smtp, user)
    clock.advance(days=31 / (24 * 60))  # 31 minutes later
    assert client.get(path).status_code == 400
    assert set_password(client, path).status_code == 400
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 200


def test_a_link_dies_when_the_password_changes_otherwise(client, make, smtp, clock, login):
    user = make.user("manufacturer")
    db.session.commit()
    ask(client, user.email)
    path = reset_path_mailed_to(smtp, user)
    login(user)
    client.post(
        "/auth/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": "Another long passphrase 9",
            "confirm_password": "Another long passphrase 9",
        },
    )
    client.post("/auth/logout")
    assert client.get(path).status_code == 400


def test_a_tampered_link_is_refused(client, make, smtp, clock):
    user = make.user("manufacturer")
    db.session.commit()
    ask(client, user.email)
    path = reset_path_mailed_to(smtp, user)
    assert client.get(path[:-3] + "xyz").status_code == 400


def test_a_weak_new_password_is_refused_with_the_form_kept(client, make, smtp, clock):
    user = make.user("manufacturer", full_name="Giulia Bianchi")
    db.session.commit()
    ask(client, user.email)
    path = reset_path_mailed_to(smtp, user)
    page = set_password(client, path, "aaaaaaaaaaaaaaaa")
    assert page.status_code == 200
    assert "mix more of them" in page.get_data(as_text=True)
    assert set_password(client, path).status_code == 302  # the link still works


def test_asking_is_throttled_per_email_and_per_address(app, client, make, clock):
    user = make.user("manufacturer")
    db.session.commit()
    statuses = [ask(client, user.email, f"192.0.2.{n}").status_code for n in range(5)]
    assert statuses[:3] == [200] * 3 and statuses[3:] == [429, 429]
    # One address asking for many emails.
    statuses = [ask(client, f"x{n}@example.org", "198.51.100.7").status_code for n in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == user.id))


def test_a_reset_ends_a_lockout_and_every_session(client, make, smtp, clock, app):
    user = make.user("manufacturer")
    db.session.commit()
    other = app.test_client()
    log_in(other, user.email, DEFAULT_PASSWORD)
    assert other.get("/").status_code == 200
    for _ in range(5):
        log_in(client, user.email, "wrong password typed")
    assert log_in(client, user.email, DEFAULT_PASSWORD).status_code == 429
    ask(client, user.email)
    path = reset_path_mailed_to(smtp, user)
    set_password(client, path)
    assert other.get("/requests/").status_code == 302  # the other browser is logged out
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 302


def test_the_owner_of_a_locked_account_is_told_by_email(client, make, smtp, clock):
    user = make.user("manufacturer")
    db.session.commit()
    for _ in range(5):
        log_in(client, user.email, "wrong password typed")
    deliver_pending(utcnow)
    (mail,) = smtp.to(user.email)
    assert "locked" in mail["Subject"]
    assert "failed login attempts" in text_of(mail)
