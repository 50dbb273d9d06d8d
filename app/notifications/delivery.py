"""Email delivery of the outbox (`flask notify run`): take due rows, send, mark them sent.

One pass (`deliver_pending`):

1. claim a batch of due rows (`email_status` pending or digest, `email_next_at` passed):
   SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL (several workers take disjoint rows; on
   SQLite the write transaction is exclusive), then move their `email_next_at` a lease ahead
   and commit. A worker that dies leaves its rows to be taken again when the lease ends:
   nothing is lost;
2. decide each row by the recipient's preference (`preferences.effective_mode`): `skipped`
   (email off), held for the digest (`digest`, due at the next digest hour), or sent now;
3. send each mail, then mark the row `sent` and commit at once: once the SMTP server has
   accepted a mail, its row is marked before the next is sent. (Only a crash in the instant
   between the server's acceptance and that commit sends it again after the lease, with the
   same Message-ID.) A failure (server down, recipient refused) keeps the error and retries
   with exponential backoff, up to MAX_ATTEMPTS, then `failed`.

Digests: rows held for the digest become due at the next `NOTIFY_DIGEST_HOUR` (Europe/Rome);
the pass groups a user's due digest rows into one mail.

Texts are rendered in the recipient's language (`force_locale`), as plain text and HTML,
from the notification's codes only (`messages.title`), with a link to the object.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.domain.deadlines import ROME
from app.extensions import db
from app.models import Notification, NotificationPreference
from app.models.types import utcnow
from app.notifications.inbox import link_path
from app.notifications.mailer import build_message, mailer_for
from app.notifications.messages import title
from app.notifications.preferences import DIGEST, OFF, effective_mode

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH_SIZE = 50
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
DUE_STATUSES = ("pending", "digest")


@dataclass
class DeliveryResult:
    sent: int = 0
    digests: int = 0
    held: int = 0
    skipped: int = 0
    failed: int = 0  # attempts that failed this pass (retried later unless given up)

    def __iadd__(self, other: DeliveryResult) -> DeliveryResult:
        for name in ("sent", "digests", "held", "skipped", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def worked(self) -> bool:
        return bool(self.sent or self.digests or self.held or self.skipped or self.failed)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after the 1st, 2nd, 3rd ... failure, at most 6 hours."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_RETRY)


def next_digest_at(moment: datetime, hour: int) -> datetime:
    """The first digest hour (Europe/Rome) after `moment`."""
    local = moment.astimezone(ROME)
    candidate = datetime.combine(local.date(), time(hour), tzinfo=ROME)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=ROME)
    return candidate


def claim(now: datetime, limit: int = BATCH_SIZE) -> list[int]:
    """Take up to `limit` due rows for this worker (a lease) and commit."""
    query = (
        select(Notification.id)
        .where(Notification.email_status.in_(DUE_STATUSES), Notification.email_next_at <= now)
        .order_by(Notification.email_next_at, Notification.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(Notification).where(Notification.id.in_(ids)).values(email_next_at=now + LEASE)
        )
    db.session.commit()
    return ids


def deliver_pending(now_fn, mailer=None, limit: int = BATCH_SIZE) -> DeliveryResult:
    """Deliver everything due now, batch by batch; `now_fn()` gives the clock."""
    mailer = mailer or mailer_for(current_app.config, current_app.instance_path)
    total = DeliveryResult()
    base_url = current_app.config["BASE_URL"]
    with current_app.test_request_context("/", base_url=base_url):
        while True:
            ids = claim(now_fn(), limit)
            if not ids:
                return total
            total += _deliver(ids, now_fn, mailer)


def _deliver(ids: list[int], now_fn, mailer) -> DeliveryResult:
    result = DeliveryResult()
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.id.in_(ids))
        .options(joinedload(Notification.user))
        .order_by(Notification.id)
    ).all()
    chosen = _modes_for(rows)
    digest_hour = current_app.config["NOTIFY_DIGEST_HOUR"]
    digests: dict[int, list[Notification]] = defaultdict(list)
    for row in rows:
        mode = effective_mode(row.kind, chosen.get((row.user_id, row.kind)))
        if not row.user.is_active or mode == OFF:
            row.email_status = "skipped"
            result.skipped += 1
        elif mode == DIGEST and row.email_status == "pending":
            row.email_status = "digest"
            row.email_next_at = next_digest_at(row.created_at, digest_hour)
            result.held += 1
        elif mode == DIGEST:
            digests[row.user_id].append(row)
            continue
        else:
            db.session.commit()
            if _send(mailer, [row], now_fn):
                result.sent += 1
            else:
                result.failed += 1
            continue
        db.session.commit()
    for group in digests.values():
        if _send(mailer, group, now_fn):
            result.digests += 1
        else:
            result.failed += 1
    db.session.commit()
    return result


def _modes_for(rows) -> dict[tuple[int, str], str]:
    users = {row.user_id for row in rows}
    found = db.session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.kind,
            NotificationPreference.mode,
        ).where(NotificationPreference.user_id.in_(users))
    )
    return {(user_id, kind): mode for user_id, kind, mode in found}


def _send(mailer, rows: list[Notification], now_fn) -> bool:
    """Send one mail for `rows` (one notification, or a user's digest); mark and commit."""
    user = rows[0].user
    try:
        message = compose(user, rows)
        mailer.send(message)
    except Exception as error:  # SMTP down, recipient refused ...: keep it and retry later
        now = now_fn()
        for row in rows:
            row.email_attempts += 1
            row.email_error = f"{type(error).__name__}: {error}"[:2000]
            if row.email_attempts >= MAX_ATTEMPTS:
                row.email_status = "failed"
            else:
                row.email_next_at = now + retry_delay(row.email_attempts)
        db.session.commit()
        log.warning("notification mail to user %s failed: %r", user.id, error)
        return False
    now = now_fn()
    for row in rows:
        row.email_status = "sent"
        row.email_sent_at = now
        row.email_error = ""
    db.session.commit()
    return True


def _link(row: Notification, user) -> str:
    """The mail's link: the object's page, or for a password reset a fresh single-use link
    (made now, so the database never holds it)."""
    from app.accounts import password_reset  # (accounts import the outbox)

    if row.kind == password_reset.KIND:
        return password_reset.reset_link(user, utcnow())
    return current_app.config["BASE_URL"].rstrip("/") + link_path(row)


def compose(user, rows: list[Notification]):
    """The mail for one notification or a digest, in the user's language."""
    config = current_app.config
    domain = config["MAIL_DEFAULT_SENDER"].rpartition("@")[2].strip("> ") or "hta.local"
    with force_locale(user.language or config["BABEL_DEFAULT_LOCALE"]):
        items = [
            {
                "title": title(row.kind, row.params or {}, user.role),
                "link": _link(row, user),
                "urgent": row.urgent,
            }
            for row in rows
        ]
        digest = len(rows) > 1 or rows[0].email_status == "digest"
        if digest:
            subject = _("HTA Tracker: %(count)d notifications", count=len(rows))
            message_id = f"<digest-{user.id}-{rows[0].id}-{rows[-1].id}@{domain}>"
        else:
            subject = items[0]["title"]
            message_id = f"<notification-{rows[0].id}@{domain}>"
        context = {
            "user": user,
            "items": items,
            "digest": digest,
            "inbox_url": url_for("notifications.inbox_list", _external=True),
            "preferences_url": url_for("notifications.preferences", _external=True),
        }
        text = render_template("notifications/email.txt", **context)
        html = render_template("notifications/email.html", **context)
        language = user.language or config["BABEL_DEFAULT_LOCALE"]
    return build_message(
        sender=config["MAIL_DEFAULT_SENDER"],
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        message_id=message_id,
        language=language,
    )
