"""The per-request record: the request, its timeline, recommendation and verified audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    select,
)

from app.domain.redaction import RequestView, view_of
from app.extensions import db
from app.models import (
    DeviceRequest,
    Recommendation,
    User,
)

# --- The per-request record ---------------------------------------------------------------


@dataclass
class RequestRecordData:
    """Everything the filed record of one request shows (a handful of rows: ORM is fine)."""

    request: DeviceRequest
    view: RequestView  # what the reader may see of it (`app.domain.redaction`)
    stages: list
    recommendation: Recommendation | None
    entries: list  # the audit entries the reader may read
    actor_names: dict[int, str]  # user id -> display name (never the email)
    entry_checks: dict[int, bool]
    chain: object  # app.domain.audit_chain.ChainReport
    needs: list = None  # [(ClinicalNeed, endorsements)] the request is linked to
    priors: list = None  # PriorAssessment rows (parties only)
    reuse_choices: dict = None  # domain -> DomainReuse (parties only)
    milestones: list = None  # EvidenceMilestone rows
    safety_alerts: list = None  # SafetyAlert rows (parties only)


def request_record(actor, request_id: int, now: datetime) -> RequestRecordData:
    """The request (NotFound unless the actor may see it), its timeline, recommendation, the
    audit entries the actor may read with each entry's own check, and the verification of the
    whole chain. `actor` None is the system (a CLI report): the whole record."""
    from app.assessment.milestones import milestones_of
    from app.assessment.reuse import choices_of, priors_of
    from app.core.audit import entries_for_request, verify_chain
    from app.core.fire import stage_timeline
    from app.domain.errors import NotFound
    from app.needs.queries import needs_of_request
    from app.requests.queries import get_request_for
    from app.safety.operations import alerts_of

    if actor is None:
        request = db.session.get(DeviceRequest, request_id)
        if request is None:
            raise NotFound("request not found")
    else:
        request = get_request_for(actor, request_id)
    view = view_of(actor, request)
    entries = entries_for_request(request.id, view)
    return RequestRecordData(
        request=request,
        view=view,
        stages=stage_timeline(request, now),
        recommendation=db.session.scalars(
            select(Recommendation).where(Recommendation.request_id == request.id)
        ).one_or_none(),
        entries=entries,
        actor_names=_actor_names(entries),
        entry_checks=_entry_checks(entries),
        chain=verify_chain(),
        needs=needs_of_request(request.id) if view.sees_linked_needs else [],
        priors=priors_of(request.id) if view.sees_reuse else [],
        reuse_choices=choices_of(request.id) if view.sees_reuse else {},
        milestones=milestones_of(request.id) if view.sees_milestones else [],
        safety_alerts=alerts_of(request.id) if view.sees_safety_alerts else [],
    )


def _actor_names(entries) -> dict[int, str]:
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids)))
    return {user.id: user.display_name for user in users}


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
