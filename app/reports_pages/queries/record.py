"""The per-request record: the request, its timeline, the questions and answers, the Core
Model assessment, the consultation, the recommendation and the verified audit trail, each as
the reader may see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    select,
)

from app.domain.redaction import RequestView, view_of
from app.extensions import db
from app.models import (
    DeviceRequest,
    InformationRound,
    Recommendation,
    User,
)

# --- The per-request record ---------------------------------------------------------------

TECHNICAL_AUDIT_KEYS = ("sha256", "size", "content_type", "original_filename", "storage_key")


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
    # The audit entries in words (app.requests.action_panel.AuditRow), in `entries` order.
    audit_rows: list = field(default_factory=list)
    # Rounds of questions: (number, kind, opened_at, [(number, question, answer, answered_at)])
    rounds: list = field(default_factory=list)
    # The Core Model assessment, when the reader may see it: the domain rows, the report's
    # summary and the factual-accuracy comments; None when it is not the reader's to see.
    assessment: RecordAssessment | None = None
    comments: list = field(default_factory=list)  # published consultation comments (dicts)
    # Labels of audit data too technical for a filed document (file digests, sizes, types).
    technical_labels: frozenset[str] = frozenset()
    needs: list = None  # [(ClinicalNeed, endorsements)] the request is linked to
    priors: list = None  # PriorAssessment rows (parties only)
    reuse_choices: dict = None  # domain -> DomainReuse (parties only)
    milestones: list = None  # EvidenceMilestone rows
    safety_alerts: list = None  # SafetyAlert rows (parties only)


@dataclass
class RecordAssessment:
    domains: list  # app.assessment.core_model.DomainRow
    summary: str
    factual_comments: list  # app.models.FactualComment


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
    from app.requests.action_panel import audit_key_label, audit_rows

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
        audit_rows=audit_rows(entries, role=getattr(actor, "role", None), view=view),
        rounds=_rounds(actor, request),
        assessment=_assessment(actor, request),
        comments=_published_comments(request),
        technical_labels=frozenset(audit_key_label(key) for key in TECHNICAL_AUDIT_KEYS),
        needs=needs_of_request(request.id) if view.sees_linked_needs else [],
        priors=priors_of(request.id) if view.sees_reuse else [],
        reuse_choices=choices_of(request.id) if view.sees_reuse else {},
        milestones=milestones_of(request.id) if view.sees_milestones else [],
        safety_alerts=alerts_of(request.id) if view.sees_safety_alerts else [],
    )


def _rounds(actor, request) -> list:
    """The question rounds with the answers the reader may see (sent ones; the manufacturer
    also reads its drafts)."""
    from app.documents import information

    if actor is None:
        rounds = db.session.scalars(
            select(InformationRound)
            .where(InformationRound.request_id == request.id)
            .order_by(InformationRound.number)
        )
        shown = [
            (r, [(q, q.answer if q.answer and q.answer.sent_at else None) for q in r.questions])
            for r in rounds
        ]
    else:
        rounds = sorted(information.rounds_for(actor, request), key=lambda r: r.number)
        shown = [
            (r, [(q, information.visible_answer(actor, request, q)) for q in r.questions])
            for r in rounds
        ]
    return [
        (
            r.number,
            r.kind,
            r.opened_at,
            [
                (q.number, q.text, a.text if a else "", a.answered_at if a else None)
                for q, a in pairs
            ],
        )
        for r, pairs in shown
    ]


def _assessment(actor, request) -> RecordAssessment | None:
    """The Core Model assessment for those who may read it: the agency and the cleared
    assessors (`can_view_assessment`), the manufacturer once the draft report reached it."""
    from app.assessment import core_model
    from app.domain import permissions
    from app.requests.queries import coi_status_for
    from app.workflow.facts import REQUEST, states_where

    if actor is not None:
        cleared = coi_status_for(actor, request) == permissions.COI_CLEARED
        reads = permissions.can_view_assessment(actor, request, cleared) or (
            permissions.is_manufacturer_of(actor, request)
            and request.state in states_where(workflow=REQUEST, draft_report_sent=True)
        )
        if not reads:
            return None
    report = core_model.report_of(request.id)
    return RecordAssessment(
        domains=core_model.domain_rows(request.id),
        summary=report.summary if report else "",
        factual_comments=core_model.factual_comments(request.id),
    )


def _published_comments(request) -> list:
    from app.public.register import published_comments

    return published_comments(request.id)


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
