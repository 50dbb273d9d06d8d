"""Writing notifications: the outbox, in the caller's transaction.

`notify` adds one row per recipient with a single INSERT in the session's transaction (a
transition's savepoint, a question's, a reminder run's): if the cause is rolled back, so are
its notifications, and a committed cause always has them. It never commits.

Reminders pass a `dedup_key`: the INSERT then skips the users who already have a row with
that key (ON CONFLICT DO NOTHING on the unique (user_id, dedup_key)), so running
`flask deadlines check` twice, even at the same time, writes each reminder once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Notification
from app.notifications.messages import KINDS, clean_params
from app.notifications.recipients import Recipient


def notify(
    kind: str,
    recipients: Iterable[Recipient],
    now: datetime,
    *,
    params: dict | None = None,
    dedup_key: str | None = None,
) -> int:
    """Write a `kind` notification for each recipient (once per user); returns how many
    rows were written (with a `dedup_key`, users who already have it are skipped)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    cleaned = clean_params(params or {})
    urgent = KINDS[kind].urgent
    seen: set[int] = set()
    rows = []
    for recipient in recipients:
        if recipient.user.id in seen:
            continue
        seen.add(recipient.user.id)
        rows.append(
            {
                "user_id": recipient.user.id,
                "kind": kind,
                "request_id": recipient.request_id,
                "adoption_id": recipient.adoption_id,
                "params": cleaned,
                "urgent": urgent,
                "dedup_key": dedup_key,
                "created_at": now,
                "email_status": "pending",
                "email_next_at": now,
                "email_attempts": 0,
                "email_error": "",
            }
        )
    if not rows:
        return 0
    connection = db.session.connection()  # the session's transaction
    if dedup_key is None:
        connection.execute(insert(Notification.__table__), rows)
        return len(rows)
    # The ids RETURNING gives are those of the rows written (the driver's rowcount of a
    # multi-row INSERT ... ON CONFLICT is not reliable on PostgreSQL).
    return len(connection.execute(_insert_skipping_duplicates(), rows).all())


def _insert_skipping_duplicates():
    table = Notification.__table__
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).on_conflict_do_nothing(index_elements=["user_id", "dedup_key"])
    return statement.returning(table.c.id)
