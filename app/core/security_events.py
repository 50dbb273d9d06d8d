"""Permission denials on objects, as security events in the audit chain.

When a logged-in user (or an API token) is refused an object that exists (a request, an
adoption record, a document of a request they are not party to), the operation raises
NotFound or PermissionDenied with `denied=(kind, id)` in its details; the one error handler
(`app.errors`) then calls `record_denial`. The entry is about the user who was refused
(entity "user", their id: it never lands in the refused object's own history, which other
parties read), with the object, the answer's status, the method and the path in its data.

Rate-limited: at most one entry per user and object per `DENIAL_AUDIT_LIMIT` (default one a
minute), counted in the rate limiter's storage (so across app servers too); a scripted
enumeration of ids still leaves one entry per id tried.
"""

from __future__ import annotations

from flask import current_app, request
from limits import parse

from app.core.audit import record_audit
from app.extensions import limiter
from app.models.types import utcnow
from app.sqlite_reads import short_write

ACTION = "access_denied"


def denied_object(error) -> tuple[str, int] | None:
    """The (kind, id) an error says was refused, if it says so."""
    denied = getattr(error, "details", {}).get("denied")
    if isinstance(denied, tuple) and len(denied) == 2 and isinstance(denied[1], int):
        return denied
    return None


def _first_in_window(actor, kind: str, object_id: int) -> bool:
    item = parse(current_app.config["DENIAL_AUDIT_LIMIT"])
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return limiter.limiter.hit(item, prefix, ACTION, f"{actor.id}:{kind}:{object_id}")


def record_denial(actor, error, status: int) -> None:
    """Audit the refusal of an object to `actor` (after the request's rollback), unless one
    was audited for the same user and object within the window."""
    target = denied_object(error)
    if actor is None or target is None or not getattr(actor, "id", None):
        return
    kind, object_id = target
    if not _first_in_window(actor, kind, object_id):
        return
    data = {
        "object": kind,
        "object_id": object_id,
        "status": status,
        "method": request.method,
        "path": request.path[:300],
    }
    with short_write():
        record_audit(
            actor,
            entity_type="user",
            entity_id=actor.id,
            action=ACTION,
            now=utcnow(),
            data=data,
            ip=request.remote_addr,
        )
