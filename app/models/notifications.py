"""Notifications (the outbox), each user's email preferences and the reminder settings.

A `Notification` row is written in the transaction of its cause (a transition, a question,
a consultation comment, a reminder): it is at once the in-app inbox item and the outbox entry
the delivery worker (`flask notify run`) sends by email. It holds codes only (`kind`, the
object it links to, `params` of non-confidential values such as the receipt number, a state
code or a date); the words are rendered in the recipient's language when shown or sent.

Email delivery state: `email_status` is `pending` until the worker sends it (`sent`, with
`email_sent_at`), holds it for the daily digest (`digest`), skips it (`skipped`: the user
turned that kind off) or gives up after the last retry (`failed`, with `email_error`).
`email_next_at` is when the worker may next take it: a worker claiming a row moves it into
the future (a lease), a failure by the backoff, so a worker that dies leaves the row to be
taken again once the lease ends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.organisations import User
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import DEADLINE_KEYS, sql_in_list

EMAIL_STATUSES: tuple[str, ...] = ("pending", "digest", "sent", "skipped", "failed")
EMAIL_MODES: tuple[str, ...] = ("immediate", "digest", "off")
UNREAD = text("read_at IS NULL")
EMAIL_DUE = text("email_status IN ('pending', 'digest')")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(f"email_status IN ({sql_in_list(EMAIL_STATUSES)})", name="email_status"),
        # A reminder is written once per user and key, however often `deadlines check` runs.
        UniqueConstraint("user_id", "dedup_key", name="uq_notifications_user_dedup_key"),
        # The inbox (newest first) and the bell's unread count.
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index(
            "ix_notifications_user_unread",
            "user_id",
            sqlite_where=UNREAD,
            postgresql_where=UNREAD,
        ),
        # The delivery worker's queue.
        Index(
            "ix_notifications_email_due",
            "email_status",
            "email_next_at",
            sqlite_where=EMAIL_DUE,
            postgresql_where=EMAIL_DUE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    adoption_id: Mapped[int | None] = mapped_column(
        ForeignKey("adoptions.id", ondelete="CASCADE"), index=True
    )
    # Non-confidential values only (receipt number, state codes, dates): see the module doc.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    dedup_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    email_status: Mapped[str] = mapped_column(String(10), default="pending")
    email_next_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_error: Mapped[str] = mapped_column(Text, default="")
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class NotificationPreference(db.Model):
    """How a user wants one kind of notification by email (no row: immediately)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (CheckConstraint(f"mode IN ({sql_in_list(EMAIL_MODES)})", name="mode"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10), default="immediate")


class ReminderSetting(db.Model):
    """How many working days before a stage's due date its holder is reminded (admin-set;
    without a row: the defaults, 7 and 2)."""

    __tablename__ = "reminder_settings"
    __table_args__ = (CheckConstraint(f"state IN ({sql_in_list(DEADLINE_KEYS)})", name="state"),)

    state: Mapped[str] = mapped_column(String(30), primary_key=True)
    # Working days before the due date, largest first, e.g. [7, 2]; empty: no early reminder.
    days_before: Mapped[list[int]] = mapped_column(JSON, default=list)
