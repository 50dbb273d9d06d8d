"""`Idempotency-Key` on POSTs that act (create a request, fire a transition, report usage).

The flow (see `app.api.registry`):
1. `claim(...)` takes the key for the request's transaction: on PostgreSQL a transaction-level
   advisory lock on (user, key) first (a concurrent duplicate does not get it and answers 409
   "in progress, retry after 1 second"; on SQLite write transactions run one at a time, so a
   duplicate waits and then finds the first one's answer), then the IdempotencyRecord
   ("in_progress") is added with the request's fingerprint (SHA-256 of method, path and body).
   A retry of a finished request gets the stored response back (same status and body,
   `Idempotent-Replayed: true`); the same key with another body gets 422.
2. The work runs; `complete(...)` stores the response on the record and both are committed
   together. Nothing about the key is committed before the work: a worker killed mid-request,
   or a connection lost, rolls the claim back with the work, so a retry runs again at once.
3. A refusal (4xx) rolls the work back, and `remember(...)` stores the refusal in a short
   transaction of its own, to replay it. On an unexpected error (5xx) nothing is kept.
Records expire after 24 hours (expired ones are deleted as the user makes new claims). A
record left "in_progress" by an earlier version of this module (which committed the claim
first) is taken over by the next claim.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import Response, request
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.api.problems import ApiError
from app.extensions import db
from app.models import IdempotencyRecord

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
KEPT_HEADERS = ("Content-Type", "Location", "ETag")


def request_key() -> str | None:
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        message = _("Use 1 to 255 printable ASCII characters, e.g. a UUID.")
        raise ApiError(
            400,
            "bad-request",
            message,
            errors={KEY_HEADER: [message]},
            error_codes={KEY_HEADER: ["invalid"]},
        )
    return key


def fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b" ")
    digest.update(request.path.encode())
    digest.update(b"\n")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _find(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    ).one_or_none()


def claim(user_id: int, key: str, now: datetime) -> int | Response:
    """The record's id (added, not committed), or the response for a key already used
    (replay, 409 while a duplicate runs, 422 for another body)."""
    print_ = fingerprint()
    if not _lock_key(user_id, key):
        db.session.rollback()
        raise ApiError(409, "idempotency-in-progress", headers={"Retry-After": "1"})
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.expires_at <= now
        )
    )
    existing = _find(user_id, key)
    if existing is not None and existing.status == "done":
        db.session.rollback()
        return _answer(existing, print_)
    if existing is not None:  # left "in_progress" by the version that committed claims first
        if existing.fingerprint != print_:
            db.session.rollback()
            return _answer(existing, print_)
        db.session.delete(existing)
        db.session.flush()
    record = IdempotencyRecord(
        user_id=user_id,
        key=key,
        fingerprint=print_,
        status="in_progress",
        created_at=now,
        expires_at=now + LIFETIME,
    )
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:  # SQLite cannot get here (one writer at a time); be safe anyway
        db.session.rollback()
        raise ApiError(409, "idempotency-in-progress", headers={"Retry-After": "1"}) from None
    return record.id


def _lock_key(user_id: int, key: str) -> bool:
    """Hold (user, key) until this transaction ends; False if another transaction holds it.

    PostgreSQL only: on SQLite the transaction already holds the database's write lock."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    digest = hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    return bool(db.session.scalar(select(func.pg_try_advisory_xact_lock(lock_id))))


def _answer(record: IdempotencyRecord, print_: str) -> Response:
    if record.fingerprint != print_:
        raise ApiError(
            422,
            "idempotency-key-reused",
            _("This Idempotency-Key was used for a different request: use a new key."),
        )
    if record.status != "done":
        raise ApiError(409, "idempotency-in-progress", headers={"Retry-After": "1"})
    response = Response(record.response_body or "", status=record.response_status)
    for name, value in (record.response_headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def complete(record_id: int, response: Response) -> None:
    """Store the response on the claimed record (in the caller's transaction)."""
    record = db.session.get(IdempotencyRecord, record_id)
    if record is None:
        return
    _store(record, response)


def remember(user_id: int, key: str, response: Response, now: datetime) -> None:
    """After a refusal rolled the claim back: keep the refusal for replays (its own short
    transaction). Skipped when a duplicate has taken the key meanwhile."""
    try:
        if not _lock_key(user_id, key) or _find(user_id, key) is not None:
            db.session.rollback()
            return
        record = IdempotencyRecord(
            user_id=user_id,
            key=key,
            fingerprint=fingerprint(),
            created_at=now,
            expires_at=now + LIFETIME,
        )
        _store(record, response)
        db.session.add(record)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def _store(record: IdempotencyRecord, response: Response) -> None:
    record.status = "done"
    record.response_status = response.status_code
    record.response_body = response.get_data(as_text=True)
    record.response_headers = {
        name: response.headers[name] for name in KEPT_HEADERS if name in response.headers
    }
