"""Appending to and verifying the audit trail.

`record_audit` takes the chain position under a lock (SELECT ... FOR UPDATE on the chain head
row; on SQLite the write transaction is already exclusive thanks to BEGIN IMMEDIATE), so two
concurrent writers can never fork the chain. It flushes; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import DateTime, Text, cast, func, insert, select, type_coerce, update

from app.domain.audit_chain import (
    GENESIS_HASH,
    ROW_FIELDS,
    ChainReport,
    check_rows,
    entry_hash,
    jsonable,
)
from app.domain.redaction import RequestView, visible_audit_entries
from app.extensions import db
from app.models import AuditChainHead, AuditEntry

HEAD_ID = 1
SYSTEM_ACTOR_NAME = "system"


_HEAD = AuditChainHead.__table__


def _take_chain_position() -> tuple[int, str]:
    """Lock the chain head row and return its (last_seq, last_hash); creates it on first use.

    Core statements rather than an ORM object: this runs on every transition, and the head is
    only ever read and written here."""
    row = db.session.execute(
        select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
    ).first()
    if row is None:
        db.session.execute(insert(_HEAD).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH))
        return 0, GENESIS_HASH
    return row.last_seq, row.last_hash


def actor_fields(actor) -> dict:
    """Who did it, frozen at the time (the user row may change later). None is the system."""
    if actor is None:
        return {
            "actor_id": None,
            "actor_name": SYSTEM_ACTOR_NAME,
            "actor_role": "system",
            "actor_org_id": None,
        }
    return {
        "actor_id": actor.id,
        "actor_name": actor.email,
        "actor_role": actor.role,
        "actor_org_id": actor.organisation_id,
    }


# Entries about accounts (sign-ins, failed logins, passwords, second factors, API tokens,
# account administration) change nothing a report, a dashboard chart or the public map reads:
# they move the chain head's `last_seq` but not its `data_seq`, the data version those pages
# keep their figures under. (A reader's own role and organisation are in those keys already.)
DATA_BLIND_ENTITIES = frozenset({"user", "api_token"})


def record_audit(
    actor,
    *,
    entity_type: str,
    entity_id: int,
    action: str,
    now: datetime,
    request_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str = "",
    data: dict | None = None,
    changes: dict | None = None,
    ip: str | None = None,
) -> AuditEntry:
    last_seq, last_hash = _take_chain_position()
    fields = {
        "seq": last_seq + 1,
        "occurred_at": now,
        **actor_fields(actor),
        "entity_type": entity_type,
        "entity_id": entity_id,
        "request_id": request_id,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason or "",
        "data": jsonable(data or {}),
        "changes": jsonable(changes or {}),
        "ip": ip,
        "prev_hash": last_hash,
    }
    fields["hash"] = entry_hash(fields)
    entry = AuditEntry(**fields)
    db.session.add(entry)
    db.session.flush()
    positions = {"last_seq": fields["seq"], "last_hash": fields["hash"]}
    if entity_type not in DATA_BLIND_ENTITIES:
        positions["data_seq"] = fields["seq"]
    db.session.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(**positions))
    return entry


ENTRY_COLUMNS = [getattr(AuditEntry, name) for name in ROW_FIELDS]

# What the check reads: the same columns, the JSON ones as their stored text (decoding them in
# the driver costs more than the hash) and, on PostgreSQL, the time already as the canonical
# text, formatted by the server (`row_canonical` formats a datetime itself otherwise).
_UTC_TEXT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def _check_columns(dialect: str) -> list:
    columns = dict(zip(ROW_FIELDS, ENTRY_COLUMNS, strict=True))
    columns["data"] = cast(AuditEntry.data, Text)
    columns["changes"] = cast(AuditEntry.changes, Text)
    if dialect == "postgresql":
        columns["occurred_at"] = func.to_char(
            func.timezone("UTC", AuditEntry.occurred_at), _UTC_TEXT
        )
    else:
        columns["occurred_at"] = type_coerce(AuditEntry.occurred_at, DateTime())
    return [column.label(name) for name, column in columns.items()]


def _stream_rows(connection, batch_size: int = 10_000) -> Iterator[tuple]:
    """Every entry as a plain tuple (`ROW_FIELDS` order), in chain order, in flat memory."""
    statement = select(*_check_columns(connection.dialect.name)).order_by(AuditEntry.seq)
    if connection.dialect.name == "postgresql":
        yield from _server_cursor_rows(connection, statement, batch_size)
        return
    result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(
        statement
    )
    try:
        for batch in result.partitions():
            yield from map(tuple, batch)
    finally:
        # Close the cursor even when the check stops early.
        result.close()


def _server_cursor_rows(connection, statement, batch_size: int) -> Iterator[tuple]:
    """PostgreSQL: a named (server-side) cursor of the driver itself, in the connection's
    transaction; its rows are tuples already, half the cost of going through result rows.
    Every column is a plain type (text, integer), so nothing is left for SQLAlchemy to do."""
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.dbapi_connection.cursor(name="audit_chain_check")
    try:
        cursor.itersize = batch_size
        cursor.execute(sql)
        yield from cursor
    finally:
        cursor.close()


def chain_report(connection, progress: Callable[[int], None] | None = None) -> ChainReport:
    """The whole chain checked on `connection` against its stored head (streamed)."""
    head = connection.execute(
        select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID)
    ).first()
    rows = _stream_rows(connection)
    try:
        return check_rows(
            rows,
            head_seq=head.last_seq if head else 0,
            head_hash=head.last_hash if head else None,
            progress=progress,
        )
    finally:
        rows.close()


def verify_chain(progress: Callable[[int], None] | None = None) -> ChainReport:
    """Check the whole chain in the database (streamed; flat memory). `progress(checked)` is
    called now and then (the CLI draws a counter with it on a terminal)."""
    return chain_report(db.session.connection(), progress)


def chain_length() -> int:
    """The number of entries the head says the chain has (for a progress display)."""
    return db.session.scalar(select(_HEAD.c.last_seq).where(_HEAD.c.id == HEAD_ID)) or 0


def entries_for_request(request_id: int, view: RequestView | None = None) -> list[AuditEntry]:
    """The request's trail in chain order; with `view` (`app.domain.redaction.view_of`), only
    the entries that viewer may read (see `visible_audit_entries`)."""
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.request_id == request_id).order_by(AuditEntry.seq)
    )
    if view is None:
        return list(entries)
    return visible_audit_entries(view, entries)


def recent_entries_for_request(
    request_id: int, view: RequestView, limit: int
) -> tuple[list[AuditEntry], bool]:
    """The last `limit` entries of the request's trail `view` may read, in chain order, and
    whether there are earlier ones. Read newest first, a batch at a time, stopping as soon as
    the window is full: the request page's cost does not grow with the history."""
    newest_first = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.request_id == request_id)
        .order_by(AuditEntry.seq.desc())
        .limit(limit * 4 + 1)  # what the redaction hides is rarely more than that
    ).all()
    shown = visible_audit_entries(view, newest_first)
    more = len(shown) > limit or len(newest_first) == limit * 4 + 1
    return list(reversed(shown[:limit])), more
