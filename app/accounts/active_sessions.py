"""Each logged-in browser session on the server: started at login, checked on every request,
listed on the "Active sessions" page, ended one at a time, or all but this one.

The cookie session holds a random key (`SESSION_KEY`); the `user_sessions` row holds its
SHA-256. A session whose row is missing or ended is over, whatever its cookie says. Ending every
session at once (password change, deactivation, second factor reset) still rotates the user's
session token (`app.accounts.session`); these rows add the per-session view and control.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, has_request_context, request, session
from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from app.domain.errors import NotFound
from app.extensions import db
from app.models import UserSession
from app.models.sessions import USER_AGENT_LENGTH
from app.sqlite_reads import READ_METHODS

SESSION_KEY = "sid"
PREFETCHED_ROW = "hta_prefetched_session_row"
PREFETCHED_UNREAD = "hta_prefetched_unread"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _stale_before(now: datetime) -> datetime:
    """Rows last seen before this moment are over by the timeouts anyway."""
    hours = current_app.config["SESSION_ABSOLUTE_HOURS"] or 24
    return now - timedelta(hours=hours)


def start(user, now: datetime) -> None:
    """A new session row for this browser (its key goes into the cookie session); the
    user's ended and stale rows are pruned."""
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.ended_at.is_not(None), UserSession.last_seen_at < _stale_before(now)),
        )
    )
    key = secrets.token_urlsafe(32)
    agent = (request.user_agent.string or "")[:USER_AGENT_LENGTH]
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=_digest(key),
            user_agent=agent,
            ip=request.remote_addr,
            created_at=now,
            last_seen_at=now,
        )
    )
    db.session.flush()
    session[SESSION_KEY] = key


def _browser_key() -> str | None:
    key = session.get(SESSION_KEY) if has_request_context() else None
    return key if isinstance(key, str) and key else None


def load_user_with_row(user_id: int):
    """The user (its organisation joined) and, in the same statement, the id of this
    browser's open session row: every logged-in page needs both, and `current_id()` then
    answers once from it instead of asking the database again (kept in `g` for this key and
    user). Only the id: the rule on every request needs no more (an entity per request cost
    its columns and its identity-map bookkeeping).

    In a request that only reads (GET and HEAD, unless its view is marked `writes_on_read`:
    app/sqlite_reads.py, which the test suite enforces), the same statement also counts the
    user's unread notifications for the page header's bell (`prefetched_unread`): nothing in
    such a request can change them before the page renders."""
    key = _browser_key()
    with_unread = key is not None and _reads_only()
    found = db.session.execute(
        _user_statement(key is not None, with_unread),
        {"user_id": user_id, "key_hash": _digest(key) if key is not None else None},
    ).one_or_none()
    if found is None:
        return None
    user = found[0]
    if key is not None:
        g.setdefault(PREFETCHED_ROW, {})[(user_id, key)] = found[1]
    if with_unread:
        g.setdefault(PREFETCHED_UNREAD, {})[user_id] = found[2]
    return user


_USER_STATEMENTS: dict = {}


def _user_statement(with_row: bool, with_unread: bool):
    """The statement of `load_user_with_row`, built once per process (building the SELECT
    took about as long as PostgreSQL answering it); the user id and key hash are bound."""
    statement = _USER_STATEMENTS.get((with_row, with_unread))
    if statement is None:
        from app.models import Notification, User

        statement = (
            select(User)
            .options(joinedload(User.organisation))
            .where(User.id == bindparam("user_id"))
        )
        if with_row:
            statement = statement.add_columns(UserSession.id).outerjoin(
                UserSession,
                and_(
                    UserSession.user_id == User.id,
                    UserSession.key_hash == bindparam("key_hash"),
                    UserSession.ended_at.is_(None),
                ),
            )
        if with_unread:
            unread = (
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == User.id, Notification.read_at.is_(None))
                .scalar_subquery()
            )
            statement = statement.add_columns(unread)
        _USER_STATEMENTS[(with_row, with_unread)] = statement
    return statement


def _reads_only() -> bool:
    if not has_request_context() or request.method not in READ_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    blueprint = current_app.blueprints.get(request.blueprint or "")
    return not (
        getattr(view, "writes_on_read", False) or getattr(blueprint, "writes_on_read", False)
    )


def prefetched_unread(user) -> int | None:
    """The unread count `load_user_with_row` read with the user in this read-only request
    (None when it did not: a request that may write asks the database each time)."""
    prefetched = g.get(PREFETCHED_UNREAD) if has_request_context() else None
    if not prefetched:
        return None
    return prefetched.get(user.id)


def forget_prefetched_row() -> None:
    """Drop a row kept by `load_user_with_row` (each request starts without one: an app
    context, and so `g`, may span several requests in tests)."""
    g.pop(PREFETCHED_ROW, None)
    g.pop(PREFETCHED_UNREAD, None)


def _this_browsers_open_row(key: str, user_id: int):
    return and_(
        UserSession.key_hash == _digest(key),
        UserSession.user_id == user_id,
        UserSession.ended_at.is_(None),
    )


def current_id(user) -> int | None:
    """The id of this browser's session row, if it is still open (none outside a web
    request): from `load_user_with_row` when it read it in this request, else asked."""
    key = _browser_key()
    if key is None:
        return None
    prefetched = g.get(PREFETCHED_ROW)
    if prefetched and (user.id, key) in prefetched:
        # Used once: a later call in the same request (after ending it, say) reads afresh.
        return prefetched.pop((user.id, key))
    return db.session.scalars(
        select(UserSession.id).where(_this_browsers_open_row(key, user.id))
    ).one_or_none()


def current(user) -> UserSession | None:
    """This browser's session row, if it is still open (none outside a web request)."""
    key = _browser_key()
    if key is None:
        return None
    return db.session.scalars(
        select(UserSession).where(_this_browsers_open_row(key, user.id))
    ).one_or_none()


def touch(row_id: int, now: datetime) -> None:
    """Record this session's activity (its row by id: the caller has no entity)."""
    db.session.execute(update(UserSession).where(UserSession.id == row_id).values(last_seen_at=now))


def end_current(user, now: datetime) -> None:
    row_id = current_id(user)
    if row_id is not None:
        db.session.execute(update(UserSession).where(UserSession.id == row_id).values(ended_at=now))


def end_others(user, now: datetime) -> int:
    """End every open session of `user` but this browser's; how many ended."""
    keep = current(user)
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    return db.session.execute(query.values(ended_at=now)).rowcount or 0


def end_all(user, now: datetime) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_one(user, session_id: int, now: datetime) -> UserSession:
    """End one of `user`'s own sessions (another user's id is NotFound, as if absent)."""
    row = db.session.scalars(
        select(UserSession).where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        raise NotFound("session not found")
    row.ended_at = now
    db.session.flush()
    return row


def open_sessions(user, now: datetime, idle_minutes: int) -> list[UserSession]:
    """The user's sessions still open (not ended, not past the idle or absolute timeout),
    the most recently seen first (one query)."""
    query = select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    absolute = current_app.config["SESSION_ABSOLUTE_HOURS"]
    if absolute:
        query = query.where(UserSession.created_at >= now - timedelta(hours=absolute))
    if idle_minutes:
        # (last_seen_at is written at most once a minute: allow that minute.)
        query = query.where(UserSession.last_seen_at >= now - timedelta(minutes=idle_minutes + 1))
    return list(
        db.session.scalars(query.order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    )
