"""Appending to and verifying the audit trail.

`record_audit` takes the chain position under a lock (SELECT ... FOR UPDATE on the chain head
row; on SQLite the write transaction is already exclusive thanks to BEGIN IMMEDIATE), so two
concurrent writers can never fork the chain. It flushes; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import insert, select, update

from app.domain.audit_chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    ChainReport,
    check_chain,
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
    db.session.execute(
        update(_HEAD)
        .where(_HEAD.c.id == HEAD_ID)
        .values(last_seq=fields["seq"], last_hash=fields["hash"])
    )
    return entry


ENTRY_COLUMNS = [getattr(AuditEntry, name) for name in ("hash", *HASHED_FIELDS)]


def _stream_entries(batch_size: int = 2000) -> Iterator[dict]:
    result = db.session.execute(
        select(*ENTRY_COLUMNS).order_by(AuditEntry.seq).execution_options(yield_per=batch_size)
    )
    try:
        for row in result:
            yield row._asdict()
    finally:
        # On PostgreSQL this is a server-side cursor: close it even when the check stops early.
        result.close()


def verify_chain() -> ChainReport:
    """Check the whole chain in the database (streamed; flat memory)."""
    head = db.session.get(AuditChainHead, HEAD_ID)
    entries = _stream_entries()
    try:
        return check_chain(
            entries,
            head_seq=head.last_seq if head else 0,
            head_hash=head.last_hash if head else None,
        )
    finally:
        entries.close()


def entries_for_request(request_id: int, view: RequestView | None = None) -> list[AuditEntry]:
    """The request's trail in chain order; with `view` (`app.domain.redaction.view_of`), only
    the entries that viewer may read (see `visible_audit_entries`)."""
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.request_id == request_id).order_by(AuditEntry.seq)
    )
    if view is None:
        return list(entries)
    return visible_audit_entries(view, entries)
