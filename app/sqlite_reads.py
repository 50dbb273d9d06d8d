"""On SQLite, web requests that only read begin their transactions DEFERRED.

Why: every SQLite transaction of this app begins IMMEDIATE (app/extensions.py), which takes
the database's single write lock up front, so that a read-then-write transaction can never
fail half-way with "database is locked". Taken by page views too, that lock would queue every
reader behind every other one: one slow report would hold up everybody. In WAL mode a
deferred transaction that only reads never takes the lock and runs alongside the writer.

The rule: GET, HEAD and OPTIONS requests only read, unless their view or blueprint is marked
as writing (`writes_on_read`): a confidential download writes its audit entry, the API
records each token's use and rate. A request that was trusted to read and writes anyway is a
bug (under concurrent writers it may fail): in testing the write raises at once, so the suite
finds any view that is not marked; elsewhere it is logged and goes ahead.

PostgreSQL is untouched: its transactions never take a lock before they need it.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from flask import Blueprint, Flask, current_app, g, request

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_KEYWORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE")

# The BEGIN a new SQLite transaction uses now (read by app.extensions on every BEGIN).
_begin_statement: ContextVar[str] = ContextVar("sqlite_begin", default="BEGIN IMMEDIATE")


class WriteInReadOnlyRequest(RuntimeError):
    """A request trusted to only read wrote to SQLite: mark its view with writes_on_read."""


def begin_statement() -> str:
    return _begin_statement.get()


def reading_only() -> bool:
    return _begin_statement.get() == "BEGIN"


def writes_on_read(view_or_blueprint):
    """Mark a view function (decorator) or a whole blueprint as writing on GET requests."""
    view_or_blueprint.writes_on_read = True
    return view_or_blueprint


@contextmanager
def short_write():
    """A small write inside any request, read-only or not (the session's last-seen time):
    what was read so far is committed, the block runs in a transaction of its own that begins
    IMMEDIATE on SQLite (so it never fails half-way on the write lock) and commits; reads
    after it go on as before."""
    from app.extensions import db

    db.session.commit()
    token = _begin_statement.set("BEGIN IMMEDIATE")
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _begin_statement.reset(token)


def _request_writes() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    blueprint: Blueprint | None = current_app.blueprints.get(request.blueprint or "")
    return getattr(view, "writes_on_read", False) or getattr(blueprint, "writes_on_read", False)


def _begin_deferred_for_reads() -> None:
    if request.method in READ_METHODS and not _request_writes():
        g.sqlite_begin_token = _begin_statement.set("BEGIN")


def _back_to_immediate(_error=None) -> None:
    token = g.pop("sqlite_begin_token", None)
    if token is not None:
        _begin_statement.reset(token)


def check_statement(statement: str, connection_info: dict) -> None:
    """Called before each SQLite statement: a write inside a read-only request is a bug."""
    if not (connection_info.get("sqlite_deferred") and reading_only()):
        return
    if not statement.lstrip()[:7].upper().startswith(WRITE_KEYWORDS):
        return
    message = f"{request.method} {request.path} wrote to SQLite: mark its view writes_on_read"
    if current_app.testing:
        raise WriteInReadOnlyRequest(message)
    current_app.logger.warning(message)


def init_app(app: Flask) -> None:
    # First of the request hooks: no transaction may begin before the choice is made.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin_deferred_for_reads)
    app.teardown_request(_back_to_immediate)
