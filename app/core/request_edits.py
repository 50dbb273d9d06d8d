"""The audit entry of an edit to a request's working data (priority scores, the assessment,
the dossier after intake): one entry per save, with the changed fields."""

from __future__ import annotations

from datetime import datetime

from app.core.audit import record_audit
from app.extensions import db
from app.models import DeviceRequest


def audit_request_edit(
    actor, request: DeviceRequest, action: str, changes: dict, *, now: datetime, ip: str | None
) -> dict:
    """Record `changes` ({field: [old, new]}) to `request` under `action` when there are any,
    then flush. Returns `changes`."""
    if changes:
        record_audit(
            actor,
            entity_type="request",
            entity_id=request.id,
            request_id=request.id,
            action=action,
            now=now,
            changes=changes,
            ip=ip,
        )
    db.session.flush()
    return changes
