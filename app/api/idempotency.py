"""`Idempotency-Key` on POSTs that act (create a request, fire a transition, report usage).

The flow (see `app.api.registry`):
1. `claim(...)` inserts an IdempotencyRecord ("in_progress") for (user, key) with the request's
   fingerprint (SHA-256 of method, path and body) and COMMITS it on its own, before any work.
   A concurrent duplicate hits the unique constraint and gets 409; a retry of a finished
   request gets the stored response back (same status and body, `Idempotent-Replayed: true`);
   the same key with another body gets 422.
2. The work runs; `complete(...)` stores the response in the same transaction as the work, so
   either both are committed or neither.
3. On an unexpected error (5xx) `release(...)` deletes the record: a retry may run again.
Records expire after 24 hours (expired ones are deleted as the user makes new claims).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import Response, request
from flask_babel import gettext as _
from sqlalchemy import delete, select
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
    """The new record's id, or the response for a key already used (replay, 409, 422)."""
    print_ = fingerprint()
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.expires_at <= now
        )
    )
    existing = _find(user_id, key)
    if existing is not None:
        db.session.commit()
        return _answer(existing, print_)
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
        record_id = record.id  # read before the commit expires it (a reload would begin a
        db.session.commit()  # new transaction: on SQLite, the write lock)
    except IntegrityError:
        db.session.rollback()
        existing = _find(user_id, key)
        if existing is None:  # finished and released meanwhile: let the client retry
            raise ApiError(409, "idempotency-in-progress", headers={"Retry-After": "1"}) from None
        return _answer(existing, print_)
    return record_id


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
    """Store the response on the record (in the caller's transaction)."""
    record = db.session.get(IdempotencyRecord, record_id)
    if record is None:
        return
    record.status = "done"
    record.response_status = response.status_code
    record.response_body = response.get_data(as_text=True)
    record.response_headers = {
        name: response.headers[name] for name in KEPT_HEADERS if name in response.headers
    }


def release(record_id: int) -> None:
    """Forget the claim after an unexpected error, so the request may be retried."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    db.session.commit()
