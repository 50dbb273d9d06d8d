"""The per-request record: the request, its timeline, recommendation and verified audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    select,
)

from app.extensions import db
from app.models import (
    DeviceRequest,
    Recommendation,
)

# --- The per-request record ---------------------------------------------------------------


@dataclass
class RequestRecordData:
    """Everything the filed record of one request shows (a handful of rows: ORM is fine)."""

    request: DeviceRequest
    show_confidential: bool
    stages: list
    recommendation: Recommendation | None
    entries: list
    entry_checks: dict[int, bool]
    chain: object  # app.domain.audit_chain.ChainReport


def request_record(actor, request_id: int, now: datetime) -> RequestRecordData:
    """The request (NotFound unless the actor may see it), its timeline, recommendation, audit
    trail with each entry's own check, and the verification of the whole chain."""
    from app.core.audit import entries_for_request, verify_chain
    from app.core.fire import stage_timeline
    from app.domain.errors import NotFound
    from app.domain.permissions import can_see_confidential
    from app.requests.queries import get_request_for

    if actor is None:
        request = db.session.get(DeviceRequest, request_id)
        if request is None:
            raise NotFound("request not found")
    else:
        request = get_request_for(actor, request_id)
    entries = entries_for_request(request.id)
    return RequestRecordData(
        request=request,
        show_confidential=actor is None or can_see_confidential(actor, request),
        stages=stage_timeline(request, now),
        recommendation=db.session.scalars(
            select(Recommendation).where(Recommendation.request_id == request.id)
        ).one_or_none(),
        entries=entries,
        entry_checks=_entry_checks(entries),
        chain=verify_chain(),
    )


def _entry_checks(entries) -> dict[int, bool]:
    """Each entry's hash recomputed from its content, and its link to the entry before it."""
    from app.domain.audit_chain import GENESIS_HASH, HASHED_FIELDS, entry_hash
    from app.models import AuditEntry

    previous_seqs = [e.seq - 1 for e in entries if e.seq > 1]
    previous = (
        dict(
            db.session.execute(
                select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(previous_seqs))
            ).all()
        )
        if previous_seqs
        else {}
    )
    checks = {}
    for entry in entries:
        fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
        expected_prev = GENESIS_HASH if entry.seq == 1 else previous.get(entry.seq - 1)
        checks[entry.seq] = entry_hash(fields) == entry.hash and entry.prev_hash == expected_prev
    return checks
