"""The assessment: the HTA Core Model checklist, the report's text, and the factual-accuracy
check of the draft by the manufacturer.

- `save_assessment` writes the domains and the summary (the cleared assessors of the assigned
  body, while the assessment is open), audit-logging each changed value (old and new);
- `return_factual_comments` stores the manufacturer's comments section by section and fires
  `return_factual_comments`, so the assessor finds them on the assessment page;
- `answer_factual_comment` records the assessor's response to one comment (accepted or not
  accepted, with a reply the manufacturer reads), audit-logged with old and new values;
- the "core_model_domains_started" guard refuses `send_draft_report` while any domain is not
  started, naming them.
Never commits: the view owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.fire import fire
from app.core.guards import GuardFailure, state_guard
from app.core.request_edits import audit_request_edit
from app.domain import permissions
from app.domain.core_model import (
    DOMAINS,
    EU_JCA_DOMAINS,
    FACTUAL_REPLY_STATES,
    FACTUAL_RESPONSES,
    MAX_REPLY,
    NOT_STARTED,
    STATUSES,
    domains_not_started,
)
from app.domain.errors import NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import AssessmentReport, AuditEntry, DeviceRequest, DomainAssessment, FactualComment

ASSESSMENT_EDITED = "assessment_edited"
FACTUAL_COMMENT_ANSWERED = "factual_comment_answered"
FACTUAL_COMMENTS_TRIGGER = "return_factual_comments"
EDITED_FIELDS = ("status", "findings", "conclusion")


@dataclass
class DomainRow:
    domain: str
    status: str
    findings: str
    conclusion: str
    jca: bool
    record: DomainAssessment | None


def domain_rows(request_id: int) -> list[DomainRow]:
    """The 9 domains in Core Model order, with what was written so far (one query)."""
    records = {
        r.domain: r
        for r in db.session.scalars(
            select(DomainAssessment)
            .where(DomainAssessment.request_id == request_id)
            .options(joinedload(DomainAssessment.updated_by))
        )
    }
    rows = []
    for domain in DOMAINS:
        record = records.get(domain)
        rows.append(
            DomainRow(
                domain=domain,
                status=record.status if record else NOT_STARTED,
                findings=record.findings if record else "",
                conclusion=record.conclusion if record else "",
                jca=domain in EU_JCA_DOMAINS,
                record=record,
            )
        )
    return rows


def statuses_of(request_id: int) -> dict[str, str]:
    rows = db.session.execute(
        select(DomainAssessment.domain, DomainAssessment.status).where(
            DomainAssessment.request_id == request_id
        )
    )
    return dict(rows.all())


def report_of(request_id: int) -> AssessmentReport | None:
    return db.session.get(AssessmentReport, request_id)


def _check_entries(entries: Mapping[str, Mapping[str, str]]) -> None:
    errors = {}
    for domain, values in entries.items():
        if domain not in DOMAINS:
            errors[domain] = "unknown_domain"
        elif values.get("status") not in STATUSES:
            errors[f"{domain}.status"] = "invalid_choice"
        elif values.get("status") == "done" and not (values.get("conclusion") or "").strip():
            errors[f"{domain}.conclusion"] = "required"
    if errors:
        raise ValidationFailed("invalid assessment", fields=errors)


def save_assessment(
    actor,
    request: DeviceRequest,
    entries: Mapping[str, Mapping[str, str]],
    summary: str | None,
    now: datetime,
    *,
    coi_cleared: bool | None,
    ip: str | None = None,
) -> dict:
    """Write the domains ({domain: {status, findings, conclusion}}) and the summary (None:
    leave it). Returns the audit changes ({"<domain>.<field>": [old, new], "summary": ...})."""
    if not permissions.can_edit_assessment(actor, request, coi_cleared):
        raise PermissionDenied("the assessment cannot be edited now")
    _check_entries(entries)
    existing = {row.domain: row for row in domain_rows(request.id)}
    changes: dict[str, list] = {}
    for domain, values in entries.items():
        changes |= _write_domain(existing[domain], request.id, values, actor, now)
    if summary is not None:
        changes |= _write_summary(request.id, summary.strip(), actor, now)
    return audit_request_edit(actor, request, ASSESSMENT_EDITED, changes, now=now, ip=ip)


def _write_domain(row: DomainRow, request_id: int, values, actor, now) -> dict:
    new = {name: (values.get(name) or "").strip() for name in EDITED_FIELDS}
    changes = {
        f"{row.domain}.{name}": [getattr(row, name), new[name]]
        for name in EDITED_FIELDS
        if getattr(row, name) != new[name]
    }
    if not changes:
        return {}
    record = row.record or DomainAssessment(request_id=request_id, domain=row.domain)
    record.status, record.findings, record.conclusion = (
        new["status"],
        new["findings"],
        new["conclusion"],
    )
    record.updated_by_id, record.updated_at = actor.id, now
    db.session.add(record)
    return changes


def _write_summary(request_id: int, summary: str, actor, now) -> dict:
    report = report_of(request_id)
    old = report.summary if report else ""
    if old == summary:
        return {}
    report = report or AssessmentReport(request_id=request_id)
    report.summary, report.updated_by_id, report.updated_at = summary, actor.id, now
    db.session.add(report)
    return {"summary": [old, summary]}


# --- The factual-accuracy check ----------------------------------------------------------------


def factual_comments(request_id: int) -> list[FactualComment]:
    """The manufacturer's comments by section, oldest first (with their authors)."""
    return list(
        db.session.scalars(
            select(FactualComment)
            .where(FactualComment.request_id == request_id)
            .options(joinedload(FactualComment.by), joinedload(FactualComment.replied_by))
            .order_by(FactualComment.at, FactualComment.id)
        )
    )


def comment_returns(request_id: int) -> list[AuditEntry]:
    """Each time the manufacturer returned its comments (with the general comment it sent)."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.request_id == request_id,
                AuditEntry.entity_type == "request",
                AuditEntry.action == FACTUAL_COMMENTS_TRIGGER,
            )
            .order_by(AuditEntry.seq)
        )
    )


def return_factual_comments(
    actor,
    request: DeviceRequest,
    section_comments: Mapping[str, str],
    general: str,
    now: datetime,
    *,
    section_labels: Mapping[str, str] | None = None,
    expected_version: int | str | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Store the comments by section and fire `return_factual_comments` with the general one
    (or, without it, the list of sections commented on)."""
    if not permissions.can_return_factual_comments(actor, request):
        raise PermissionDenied("the draft report is not open for your comments")
    comments = {d: t.strip() for d, t in section_comments.items() if (t or "").strip()}
    unknown = [d for d in comments if d not in DOMAINS]
    if unknown:
        raise ValidationFailed("unknown sections", fields=dict.fromkeys(unknown, "unknown"))
    general = (general or "").strip()
    if not comments and not general:
        raise ValidationFailed("no comment", fields={"comments": "required"})
    labels = section_labels or {}
    summary = general or "; ".join(str(labels.get(d, d)) for d in comments)
    entry = fire(
        request,
        FACTUAL_COMMENTS_TRIGGER,
        actor,
        now,
        expected_version=expected_version,
        ip=ip,
        comments=summary,
    )
    for domain, text in comments.items():
        comment = FactualComment(
            request_id=request.id, domain=domain, text=text, by_id=actor.id, at=now
        )
        db.session.add(comment)
    db.session.flush()
    return entry


def can_answer_factual_comments(actor, request, coi_cleared: bool | None) -> bool:
    """The cleared assessors of the assigned body, while the draft is being checked."""
    return (
        permissions.can_edit_assessment(actor, request, coi_cleared)
        and request.state in FACTUAL_REPLY_STATES
    )


def answer_factual_comment(
    actor,
    request: DeviceRequest,
    comment_id: int,
    response: str,
    reply: str,
    now: datetime,
    *,
    coi_cleared: bool | None,
    ip: str | None = None,
) -> dict:
    """Record the response to one comment of this request: "accepted" or "not_accepted",
    with a reply (required). Returns the changes ({field: [old, new]}) audit-logged."""
    if not can_answer_factual_comments(actor, request, coi_cleared):
        raise PermissionDenied("the factual-accuracy comments are not open for replies")
    comment = db.session.get(FactualComment, comment_id)
    if comment is None or comment.request_id != request.id:
        raise NotFound("comment not found")
    reply = (reply or "").strip()
    errors = {}
    if response not in FACTUAL_RESPONSES:
        errors["response"] = "required"
    if not reply:
        errors["reply"] = "required"
    elif len(reply) > MAX_REPLY:
        errors["reply"] = "too_long"
    if errors:
        raise ValidationFailed("the response is not valid", fields=errors)
    prefix = f"factual_comment.{comment.id}"
    changes = {
        f"{prefix}.{name}": [old, new]
        for name, old, new in (
            ("response", comment.response, response),
            ("reply", comment.reply, reply),
        )
        if old != new
    }
    if not changes:
        return {}
    comment.response, comment.reply = response, reply
    comment.replied_by_id, comment.replied_at = actor.id, now
    return audit_request_edit(actor, request, FACTUAL_COMMENT_ANSWERED, changes, now=now, ip=ip)


# --- Guards ----------------------------------------------------------------------------------


@state_guard("core_model_domains_started")
def every_domain_started(request, actor) -> GuardFailure | None:
    """The draft goes to the manufacturer only when no domain is still not started."""
    missing = domains_not_started(statuses_of(request.id))
    if not missing:
        return None
    from app.forms.assessment import DOMAIN_LABELS

    return GuardFailure(
        "core_model_domains_started",
        "domains_not_started",
        _l("The draft report cannot be sent yet: these domains are not started."),
        missing=tuple(str(DOMAIN_LABELS.get(d, d)) for d in missing),
        details={"domains": missing},
    )
