"""Evidence milestones: the agency sets them on a request whose published recommendation is
"with evidence generation" or "only in research", records each as delivered (with its
document) or missed, and `flask deadlines check` marks the open ones past their due date as
missed.

A missed milestone, or the delivery of the last open one, moves the request to reassessment
due through `fire` (the workflow's `review_due`, fired by the system in the same transaction),
with the milestone in the audit entry's reason. A request no longer in adoption monitoring
(suspended, or "only in research", which ends as not recommended) keeps its state; the
milestone's own audit entry records what happened. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.audit import record_audit
from app.core.fire import fire
from app.domain.errors import Conflict, PermissionDenied, ValidationFailed
from app.domain.evidence import ID_KINDS, normalise_study_id, takes_milestones
from app.extensions import db
from app.models import DeviceRequest, EvidenceMilestone, Organisation, Recommendation

MILESTONE_ENTITY = "evidence_milestone"
MILESTONE_SET = "milestone_set"
MILESTONE_DELIVERED = "milestone_delivered"
MILESTONE_MISSED = "milestone_missed"
REVIEW_TRIGGER = "review_due"
REVIEWABLE_STATE = "adoption_monitoring"
EVIDENCE_MAX = 4000


def outcome_of(request: DeviceRequest) -> str | None:
    return db.session.scalar(
        select(Recommendation.outcome).where(Recommendation.request_id == request.id)
    )


def can_manage(actor, request: DeviceRequest) -> bool:
    return actor is not None and actor.role == "agency" and takes_milestones(outcome_of(request))


def milestones_of(request_id: int) -> list[EvidenceMilestone]:
    return list(
        db.session.scalars(
            select(EvidenceMilestone)
            .where(EvidenceMilestone.request_id == request_id)
            .options(joinedload(EvidenceMilestone.irccs), joinedload(EvidenceMilestone.document))
            .order_by(EvidenceMilestone.due_on, EvidenceMilestone.id)
        )
    )


def _check(values: dict) -> tuple[dict, dict]:
    errors, clean = {}, {}
    evidence = (values.get("evidence") or "").strip()
    if not evidence:
        errors["evidence"] = "required"
    elif len(evidence) > EVIDENCE_MAX:
        errors["evidence"] = "too_long"
    clean["evidence"] = evidence
    kind = values.get("id_kind")
    if kind not in ID_KINDS:
        errors["id_kind"] = "invalid_choice"
    else:
        try:
            clean["study_id"] = normalise_study_id(kind, values.get("study_id"))
        except ValueError as error:
            errors["study_id"] = str(error)
    clean["id_kind"] = kind
    irccs = db.session.get(Organisation, values["irccs_id"]) if values.get("irccs_id") else None
    if irccs is None or irccs.kind != "irccs":
        errors["irccs_id"] = "required"
    clean["irccs_id"] = irccs.id if irccs else None
    if not isinstance(values.get("due_on"), date):
        errors["due_on"] = "required"
    clean["due_on"] = values.get("due_on")
    return clean, errors


def set_milestone(actor, request: DeviceRequest, values: dict, now: datetime, ip=None):
    """A new open milestone (agency; the published outcome must carry milestones)."""
    if not can_manage(actor, request):
        raise PermissionDenied("milestones are set by the agency on evidence-generation outcomes")
    clean, errors = _check(values)
    if errors:
        raise ValidationFailed("invalid milestone", fields=errors)
    milestone = EvidenceMilestone(
        request_id=request.id, status="open", created_by_id=actor.id, created_at=now, **clean
    )
    db.session.add(milestone)
    db.session.flush()
    _audit(actor, milestone, MILESTONE_SET, now, ip, data=_describe(milestone))
    return milestone


def _describe(milestone: EvidenceMilestone) -> dict:
    return {
        "milestone_id": milestone.id,
        "id_kind": milestone.id_kind,
        "study_id": milestone.study_id,
        "irccs_id": milestone.irccs_id,
        "due_on": milestone.due_on.isoformat(),
    }


def _audit(actor, milestone, action, now, ip, *, data=None, reason=""):
    record_audit(
        actor,
        entity_type=MILESTONE_ENTITY,
        entity_id=milestone.id,
        request_id=milestone.request_id,
        action=action,
        now=now,
        data=data or {},
        reason=reason,
        ip=ip,
    )


def _open(milestone: EvidenceMilestone) -> None:
    if milestone.status != "open":
        raise Conflict("this milestone is closed already")


def deliver(actor, request, milestone, upload, now: datetime, ip=None) -> EvidenceMilestone:
    """Delivered with its document (stored as a "study" document of the request)."""
    from app.documents.operations import DocumentMeta, upload_document

    if not can_manage(actor, request):
        raise PermissionDenied("the agency records deliveries")
    _open(milestone)
    title = f"Evidence milestone {milestone.id}: {milestone.study_id}"[:200]
    version = upload_document(actor, request.id, upload, DocumentMeta("study", title), now, ip=ip)
    milestone.status, milestone.document_id, milestone.closed_at = (
        "delivered",
        version.document_id,
        now,
    )
    db.session.flush()
    _audit(actor, milestone, MILESTONE_DELIVERED, now, ip, data=_describe(milestone))
    if not any(m.status == "open" for m in milestones_of(request.id)):
        _review(request, now, f"Last evidence milestone delivered: {milestone.study_id}.")
    return milestone


def miss(actor, request, milestone, now: datetime, reason: str = "", ip=None):
    """Missed: by the agency, or by the system (actor None) once past due."""
    if actor is not None and not can_manage(actor, request):
        raise PermissionDenied("the agency records missed milestones")
    _open(milestone)
    milestone.status, milestone.closed_at = "missed", now
    db.session.flush()
    why = (reason or "").strip() or f"Due on {milestone.due_on.isoformat()}, not delivered."
    _audit(actor, milestone, MILESTONE_MISSED, now, ip, data=_describe(milestone), reason=why)
    _review(request, now, f"Evidence milestone missed: {milestone.study_id} ({why})")
    return milestone


def _review(request: DeviceRequest, now: datetime, reason: str) -> None:
    """Reassessment due, through `fire`, when the request is still in adoption monitoring."""
    if request.state == REVIEWABLE_STATE:
        fire(request, REVIEW_TRIGGER, None, now, reason=reason)


# --- flask deadlines check --------------------------------------------------------------------


@dataclass(frozen=True)
class MissedMilestone:
    request_id: int
    receipt_number: str | None
    study_id: str
    due_on: date
    moved_to: str


def check_due(now: datetime, today: date) -> list[MissedMilestone]:
    """Mark every open milestone due before `today` as missed (idempotent: a missed one is
    closed)."""
    due = db.session.scalars(
        select(EvidenceMilestone)
        .where(EvidenceMilestone.status == "open", EvidenceMilestone.due_on < today)
        .order_by(EvidenceMilestone.request_id, EvidenceMilestone.id)
    ).all()
    missed = []
    for milestone in due:
        request = db.session.get(DeviceRequest, milestone.request_id)
        if milestone.status != "open":  # closed meanwhile by another milestone of this request
            continue
        miss(None, request, milestone, now)
        missed.append(
            MissedMilestone(
                request.id,
                request.receipt_number,
                milestone.study_id,
                milestone.due_on,
                request.state,
            )
        )
    return missed
