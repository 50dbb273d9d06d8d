"""Email delivery against a real SMTP server (aiosmtpd on a loopback port): recipients,
language, subject and link; digests; preferences; SMTP down then up; several workers on
PostgreSQL; and no confidential value in any mail."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.fire import fire
from app.extensions import db
from app.models import Notification, NotificationPreference
from app.notifications.delivery import deliver_pending
from app.notifications.preferences import save_modes
from tests.notification_support import (
    MARKER,
    free_port,
    html_of,
    notification_hooks_only,
    notifications,
    plant_marker,
    smtp_server,
    text_of,
)
from tests.workflow_support import STEP, T0, adoption_of, make_cast, walk_to

__all__ = ["notification_hooks_only", "smtp_server"]

pytestmark = pytest.mark.usefixtures("notification_hooks_only")

LATER = T0 + timedelta(days=60)


@pytest.fixture
def cast(make):
    cast = make_cast(make)
    cast.manufacturer.language = "it"
    db.session.flush()
    return cast


@pytest.fixture
def smtp(app, smtp_server):
    host, port, inbox = smtp_server
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, BASE_URL="https://hta.example.org")
    return inbox


def deliver(at: datetime):
    return deliver_pending(lambda: at)


def test_mails_arrive_in_the_recipients_language_with_a_link(app, make, cast, smtp):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "information_requested", cast)
    db.session.commit()
    result = deliver(LATER)
    assert result.sent == len(notifications()) and result.failed == 0

    (to_agency,) = smtp.to(cast.agency.email)
    assert to_agency["Subject"] == f"{request.receipt_number} is waiting for you: Intake review"
    assert to_agency["Content-Language"] == "en"
    link = f"https://hta.example.org/requests/{request.id}"
    assert link in text_of(to_agency) and f'href="{link}"' in html_of(to_agency)

    question = smtp.to(cast.manufacturer.email)[-1]
    assert question["Content-Language"] == "it"
    assert question["Subject"] == (
        f"{request.receipt_number}: ci sono domande in attesa delle vostre risposte"
    )
    assert "Buongiorno" in text_of(question)
    # Sent once: a second pass has nothing to do.
    assert deliver(LATER).sent == 0 and len(smtp.mails) == result.sent


def test_an_irccs_mail_links_to_its_adoption_record(app, make, cast, smtp):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "adoption_monitoring", cast)
    db.session.commit()
    deliver(LATER)
    (mail,) = smtp.to(cast.irccs.email)
    adoption = adoption_of(request, cast.irccs_org)
    assert f"https://hta.example.org/adoptions/{adoption.id}" in text_of(mail)


def test_digest_groups_a_users_notifications_in_one_mail(app, make, cast, smtp):
    save_modes(cast.manufacturer.id, {"status_changed": "digest", "question_asked": "digest"})
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "information_requested", cast)
    db.session.commit()
    held = notifications(user_id=cast.manufacturer.id)
    assert len(held) >= 3
    # All of it happened on one evening (20:00 in Rome); the worker runs an hour later.
    evening = datetime(2026, 5, 4, 18, 0, tzinfo=UTC)
    for row in held:
        row.created_at = evening
    db.session.commit()
    assert deliver(evening + timedelta(hours=1)).held == len(held)
    assert smtp.to(cast.manufacturer.email) == []
    assert deliver(datetime(2026, 5, 5, 4, 59, tzinfo=UTC)).digests == 0
    result = deliver(datetime(2026, 5, 5, 5, 0, tzinfo=UTC))  # 07:00 in Rome
    assert result.digests == 1
    (digest,) = smtp.to(cast.manufacturer.email)
    body = text_of(digest)
    assert all(f"/requests/{request.id}" in body for _ in held)
    assert body.count(request.receipt_number) == len(held)


def test_preferences_are_honoured_and_urgent_ones_always_sent(app, make, cast, smtp):
    save_modes(cast.manufacturer.id, dict.fromkeys(("status_changed", "suspended"), "off"))
    # Even written directly, an "off" for an urgent kind is not applied.
    db.session.add(
        NotificationPreference(user_id=cast.manufacturer.id, kind="suspended", mode="off")
    )
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "prioritisation", cast)
    fire(request, "suspend", cast.agency, moment + STEP, reason="Safety.")
    db.session.commit()
    result = deliver(LATER)
    mails = smtp.to(cast.manufacturer.email)
    assert [m["Subject"].startswith("URGENTE") for m in mails] == [True]
    assert result.skipped == len(notifications(user_id=cast.manufacturer.id)) - 1
    statuses = {n.kind: n.email_status for n in notifications(user_id=cast.manufacturer.id)}
    assert statuses == {"status_changed": "skipped", "suspended": "sent"}


def test_smtp_down_then_up_delivers_everything_once(app, make, cast):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "assessment", cast)
    db.session.commit()
    total = len(notifications())
    down = deliver(LATER)
    assert down.sent == 0 and down.failed == total
    for row in notifications():
        assert row.email_status == "pending" and row.email_attempts == 1
        assert "ConnectionRefusedError" in row.email_error
    # Not retried before the backoff ends.
    assert deliver(LATER + timedelta(seconds=30)).failed == 0

    from aiosmtpd.controller import Controller

    from tests.notification_support import Inbox

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert deliver(LATER + timedelta(minutes=2)).sent == total
        assert deliver(LATER + timedelta(hours=1)).sent == 0
    finally:
        controller.stop()
    ids = [m["Message-ID"] for _, m in inbox.mails]
    assert len(ids) == len(set(ids)) == total
    assert {row.email_status for row in notifications()} == {"sent"}


def test_no_confidential_value_in_any_notification_or_mail(app, make, cast, smtp, runner):
    request = make.request(
        manufacturer=cast.manufacturer_org,
        complete=True,
        consent_to_publication=True,
        ce_certificate_expires_on=(LATER + timedelta(days=20)).date(),
    )
    plant_marker(request)
    moment = walk_to(request, "assessment", cast)
    fire(request, "request_information", cast.assessor, moment + STEP, questions=[MARKER])
    fire(request, "answer_information", cast.manufacturer, moment + 2 * STEP, answers=MARKER)
    fire(request, "send_draft_report", cast.assessor, moment + 3 * STEP)
    fire(request, "return_factual_comments", cast.manufacturer, moment + 4 * STEP, comments=MARKER)
    fire(request, "finalise_report", cast.assessor, moment + 5 * STEP)
    fire(
        request,
        "open_consultation",
        cast.agency,
        moment + 6 * STEP,
        outcome="recommended",
        rationale=MARKER,
        conditions=MARKER,
    )
    from app.public.consultation import CommentData, submit_comment

    submit_comment(request.id, CommentData(text=MARKER, author_name=MARKER), now=moment)
    fire(request, "suspend", cast.agency, moment + 7 * STEP, reason=MARKER)
    db.session.commit()
    assert runner.invoke(args=["deadlines", "check", "--now", "2026-05-02"]).exit_code == 0
    assert deliver(LATER + timedelta(days=5)).failed == 0

    rows = notifications()
    assert {"question_asked", "consultation_comment", "ce_expiry", "suspended"} <= {
        n.kind for n in rows
    }
    texts = [str(n.params) for n in rows]
    texts += [m.as_string() for _, m in smtp.mails]
    assert len(smtp.mails) == len(rows)
    for text in texts:
        assert MARKER not in text and "424242" not in text


@pytest.mark.postgres
@pytest.mark.own_app  # workers in threads, a connection each
def test_two_workers_on_postgresql_never_send_twice(app, make, cast, smtp):
    for _ in range(4):
        walk_to(make.request(manufacturer=cast.manufacturer_org, complete=True), "assessment", cast)
    db.session.commit()
    total = len(notifications())
    results = []

    def worker():
        with app.app_context():
            results.append(deliver_pending(lambda: LATER, limit=3))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [m["Message-ID"] for _, m in smtp.mails]
    assert len(ids) == len(set(ids)) == total
    assert sum(r.sent for r in results) == total
    db.session.expire_all()
    assert db.session.scalars(select(Notification.email_status).distinct()).all() == ["sent"]


def test_notify_run_once_writes_eml_files_without_a_mail_server(app, make, cast, runner):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "intake_review", cast)
    db.session.commit()
    result = runner.invoke(args=["notify", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    from pathlib import Path

    files = list((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(files) == 1 and cast.agency.email in files[0].read_text()
