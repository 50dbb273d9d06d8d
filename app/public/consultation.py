"""Public consultation on a draft recommendation: sending, moderating and answering comments.

While a request of the public register is in state `consultation`, anyone may send a comment
(`submit_comment`); it starts `pending`. The agency publishes or rejects it with a reason
(`moderate_comment`) and answers each published one (`answer_comment`); both are written to the
audit trail (entity_type "consultation_comment", request_id set). Published comments and their
answers appear on the public page (`app.public.register.published_comments`).

The author's email is private: it is stored for the agency to reply, shown only on the
agency's moderation page, and never written to the audit trail.

Services flush; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, case, func, select

from app.core.audit import record_audit
from app.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import ConsultationComment, DeviceRequest
from app.notifications.hooks import consultation_comment_received
from app.public.register import in_register_clause
from app.requests.queries import get_request_for

ENTITY_TYPE = "consultation_comment"
OPEN_STATE = "consultation"
MAX_TEXT = 5000
DECISIONS = {"publish": "published", "reject": "rejected"}


@dataclass
class CommentData:
    text: str
    author_name: str = ""
    author_email: str = ""


def can_moderate_consultation(actor) -> bool:
    """Only the central agency moderates and answers consultation comments."""
    return actor is not None and getattr(actor, "role", None) == "agency"


def _require_agency(actor) -> None:
    if not can_moderate_consultation(actor):
        raise PermissionDenied(_l("Only the central agency moderates consultation comments."))


# --- the public side -----------------------------------------------------------------------


def _register_request(request_id: int) -> DeviceRequest:
    request = db.session.scalars(
        select(DeviceRequest).where(DeviceRequest.id == request_id, in_register_clause())
    ).one_or_none()
    if request is None:
        raise NotFound("request not in the public register")
    return request


def submit_comment(request_id: int, data: CommentData, *, now: datetime) -> ConsultationComment:
    """Store a pending comment on a request whose consultation is open.

    NotFound when the request is not in the public register; Conflict when its consultation
    is not open; ValidationFailed (field "text") for an empty comment."""
    request = _register_request(request_id)
    if request.state != OPEN_STATE:
        raise Conflict(_l("The consultation on this request is closed."))
    text = (data.text or "").strip()
    if not text:
        raise ValidationFailed("empty comment", fields={"text": _l("Write your comment.")})
    comment = ConsultationComment(
        request_id=request.id,
        author_name=" ".join((data.author_name or "").split())[:200],
        author_email=(data.author_email or "").strip().lower()[:254],
        text=text[:MAX_TEXT],
        status="pending",
        created_at=now,
    )
    db.session.add(comment)
    db.session.flush()
    consultation_comment_received(request, now)
    return comment


# --- the agency side -----------------------------------------------------------------------


def moderation_overview(actor) -> list[dict]:
    """Requests with comments, with the number of comments per status and of published
    comments still without an answer; those with pending comments first."""
    _require_agency(actor)
    status = ConsultationComment.status
    pending = func.sum(case((status == "pending", 1), else_=0))
    unanswered = func.sum(
        case(((status == "published") & (ConsultationComment.answer == ""), 1), else_=0)
    )
    rows = db.session.execute(
        select(
            DeviceRequest.id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.receipt_number,
            DeviceRequest.state,
            pending.label("pending"),
            func.sum(case((status == "published", 1), else_=0)).label("published"),
            func.sum(case((status == "rejected", 1), else_=0)).label("rejected"),
            unanswered.label("unanswered"),
            func.max(ConsultationComment.created_at).label("latest"),
        )
        .join(ConsultationComment, ConsultationComment.request_id == DeviceRequest.id)
        .group_by(
            DeviceRequest.id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.receipt_number,
            DeviceRequest.state,
        )
        .order_by(pending.desc(), func.max(ConsultationComment.created_at).desc())
    ).all()
    return [row._asdict() for row in rows]


def pending_comments(actor, request_id: int | None = None) -> list[dict]:
    """For the agency: the requests with comments waiting for moderation (id, trade name,
    model, receipt number, how many), oldest waiting first; one request's when `request_id`
    is given. Empty for every other role (only the agency moderates). One query."""
    if not can_moderate_consultation(actor):
        return []
    query = _pending_statement()
    if request_id is not None:
        query = query.where(DeviceRequest.id == request_id)
    return [row._asdict() for row in db.session.execute(query)]


@lru_cache(maxsize=1)
def _pending_statement():
    """pending_comments' SELECT, built once per process: it depends on nothing (the agency
    moderates every request's comments) and a SELECT is immutable."""
    return (
        select(
            DeviceRequest.id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.receipt_number,
            func.count(ConsultationComment.id).label("pending"),
            func.min(ConsultationComment.created_at).label("oldest"),
        )
        .join(ConsultationComment, ConsultationComment.request_id == DeviceRequest.id)
        .where(ConsultationComment.status == "pending")
        .group_by(
            DeviceRequest.id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.receipt_number,
        )
        .order_by(func.min(ConsultationComment.created_at), DeviceRequest.id)
    )


@lru_cache(maxsize=1)
def request_pending_statement():
    """`pending_comments(actor, request_id)`'s SELECT (the request id bound at execution),
    built once: the request page runs it among its other reads."""
    return _pending_statement().where(DeviceRequest.id == bindparam("request_id", type_=Integer))


def request_with_comments(actor, request_id: int) -> tuple[DeviceRequest, list]:
    """The request and all its comments (pending first, then by date), for moderation."""
    _require_agency(actor)
    request = get_request_for(actor, request_id)
    order = case((ConsultationComment.status == "pending", 0), else_=1)
    comments = db.session.scalars(
        select(ConsultationComment)
        .where(ConsultationComment.request_id == request_id)
        .order_by(order, ConsultationComment.created_at, ConsultationComment.id)
    ).all()
    return request, list(comments)


def get_comment(actor, comment_id: int, *, for_update: bool = False) -> ConsultationComment:
    _require_agency(actor)
    query = select(ConsultationComment).where(ConsultationComment.id == comment_id)
    if for_update:
        # Locked, and read again even if this request already loaded it: the checks
        # that follow must see the row as it is now, not as it was (app.core.locking).
        query = query.with_for_update().execution_options(populate_existing=True)
    comment = db.session.scalars(query).one_or_none()
    if comment is None:
        raise NotFound("comment not found")
    return comment


def moderate_comment(
    actor,
    comment: ConsultationComment,
    decision: str,
    reason: str = "",
    *,
    now: datetime,
    ip: str | None = None,
) -> ConsultationComment:
    """Publish or reject a pending comment (a rejection needs a reason); audit-logged."""
    _require_agency(actor)
    if decision not in DECISIONS:
        raise ValidationFailed("bad decision", fields={"decision": _l("Choose publish or reject.")})
    if comment.status != "pending":
        raise Conflict(_l("This comment has already been moderated."))
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ValidationFailed(
            "reason required", fields={"reason": _l("Say why the comment is rejected.")}
        )
    comment.status = DECISIONS[decision]
    comment.moderation_reason = reason
    comment.moderated_at = now
    comment.moderated_by_id = actor.id
    db.session.flush()
    record_audit(
        actor,
        entity_type=ENTITY_TYPE,
        entity_id=comment.id,
        action=f"{decision}_comment",
        now=now,
        request_id=comment.request_id,
        from_state="pending",
        to_state=comment.status,
        reason=reason,
        ip=ip,
    )
    return comment


def answer_comment(
    actor, comment: ConsultationComment, answer: str, *, now: datetime, ip: str | None = None
) -> ConsultationComment:
    """Answer a published comment (or change the answer); audit-logged with the old and new
    answer. Returns the comment unchanged when the answer is the same."""
    _require_agency(actor)
    if comment.status != "published":
        raise Conflict(_l("Only published comments can be answered."))
    answer = (answer or "").strip()
    if not answer:
        raise ValidationFailed("empty answer", fields={"answer": _l("Write the answer.")})
    if answer == comment.answer:
        return comment
    old = comment.answer
    comment.answer = answer[:MAX_TEXT]
    comment.answered_at = now
    db.session.flush()
    record_audit(
        actor,
        entity_type=ENTITY_TYPE,
        entity_id=comment.id,
        action="answer_comment",
        now=now,
        request_id=comment.request_id,
        changes={"answer": [old or None, comment.answer]},
        ip=ip,
    )
    return comment
