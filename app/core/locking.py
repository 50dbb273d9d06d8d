"""Lock, then read, then check: how every mutating operation starts.

    lock(obj)                          the row locked, `obj` holding what the database holds now
    check_version(obj, expected, noun) Conflict unless `expected` is the version locked
    parse_version(value)               a version from a form or header, or Conflict

An operation that changes a request (or an adoption record, a comment ...) first locks its row
(SELECT ... FOR UPDATE; on SQLite the write transaction is already exclusive, BEGIN IMMEDIATE),
then checks permission, state and version on what it just read: never on an object loaded
earlier in the same web request, which may show the state before a concurrent change.
`fire` starts this way, and so do the content operations around it (documents, dossier edits,
answers, scores, the assessment, usage).
"""

from __future__ import annotations

from sqlalchemy import inspect, select

from app.domain.errors import Conflict, NotFound
from app.extensions import db


def lock(obj, noun: str = "item") -> None:
    """Lock the row and make sure `obj` holds what the database holds right now.

    Pending changes to the object are flushed first (a refresh would silently drop them). The
    lock reads only the version: every write to the row bumps it (the mapper's
    version_id_col), so when it matches the object already loaded, the wide row is not read
    again; relationships are expired so that checks reload what they use.
    """
    if obj in db.session.dirty:
        db.session.flush()
    state = inspect(obj)
    if "version" in state.unloaded:
        db.session.refresh(obj, with_for_update=True)
        return
    table = state.mapper.local_table
    locked_version = db.session.execute(
        select(table.c.version).where(table.c.id == obj.id).with_for_update()
    ).scalar_one_or_none()
    if locked_version is None:
        raise NotFound(f"{noun} not found")
    if locked_version != obj.version:
        db.session.refresh(obj)
        return
    db.session.expire(obj, [rel.key for rel in state.mapper.relationships])


def parse_version(value: int | str | None) -> int | None:
    """None when no version was given; the version as a number; Conflict when it is blank or
    not a number (a damaged or tampered page: it cannot tell what its user saw)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        raise Conflict("the page's version is missing or not valid; reload", version=str(value))
    return int(text)


def check_version(obj, expected_version: int | str | None, noun: str = "item") -> None:
    """After `lock(obj)`: Conflict when the caller saw another version than the one locked."""
    expected = parse_version(expected_version)
    if expected is not None and expected != obj.version:
        raise Conflict(f"someone else changed this {noun}; reload")
