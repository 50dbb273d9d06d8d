"""Information requests (clock stops): rounds of questions and the manufacturer's answers.

    open_round_for(request, kind, items, actor, now, entry) -> InformationRound
        (called by the `after` hooks of mark_incomplete / request_information)
    compose_round(actor, request_id, rows, now, expected_version=None, ip=None)
        -> InformationRound   (the assessor's page: questions with optional due dates)
    save_answer(actor, request_id, round_number, question_number, text, now,
                upload=None, meta=None, ip=None) -> Answer          (a draft)
    remove_attachment(actor, request_id, round_number, question_number, attachment_id)
    send_answers(actor, request_id, round_number, now, expected_version=None, ip=None)
        -> AuditEntry          (fires answer_information, or resubmit for an intake round)
    rounds_for(actor, request) -> [InformationRound]   (answers as the actor may see them)

Draft answers are the manufacturer's own: the other parties see an answer once it is sent.
Services flush; the view commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core.audit import record_audit
from app.core.deadline_settings import effective_deadlines
from app.core.fire import fire, open_stage
from app.core.guards import GuardFailure
from app.documents import labels
from app.documents.operations import DocumentMeta, UploadLike, request_for_party, upload_document
from app.domain import document_rules, permissions
from app.domain import information_rules as rules
from app.domain.deadlines import due_at, rome_date
from app.domain.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.extensions import db
from app.models import (
    Answer,
    AnswerAttachment,
    AuditEntry,
    DeviceRequest,
    DocumentVersion,
    InformationRound,
    Question,
)

ENTITY_TYPE = "information_round"


@dataclass(frozen=True)
class QuestionRow:
    text: str
    due_on: date | None = None


# --- Opening and closing rounds (from the transition hooks) ---------------------------------


def open_round_for(
    request: DeviceRequest,
    kind: str,
    items: Sequence[str],
    actor,
    now: datetime,
    entry: AuditEntry | None,
) -> InformationRound:
    """A new round numbered after the request's last one, one question per item."""
    last = db.session.scalar(
        select(func.max(InformationRound.number)).where(InformationRound.request_id == request.id)
    )
    information_round = InformationRound(
        request_id=request.id,
        kind=kind,
        number=(last or 0) + 1,
        opened_at=now,
        opened_by_id=actor.id if actor is not None else None,
        audit_entry_id=entry.id if entry is not None else None,
        questions=[Question(number=index, text=text) for index, text in enumerate(items, start=1)],
    )
    db.session.add(information_round)
    db.session.flush()
    return information_round


def open_round(request_id: int, kind: str | None = None) -> InformationRound | None:
    query = select(InformationRound).where(
        InformationRound.request_id == request_id, InformationRound.closed_at.is_(None)
    )
    if kind is not None:
        query = query.where(InformationRound.kind == kind)
    return db.session.scalars(
        query.order_by(InformationRound.number.desc())
        .options(selectinload(InformationRound.questions).selectinload(Question.answer))
        .limit(1)
    ).first()


def unanswered_failure(information_round: InformationRound) -> GuardFailure | None:
    """The "questions_answered" guard's failure listing the questions still without an answer
    (None when every question has one)."""
    missing = rules.unanswered(
        (q.number, q.answer.text if q.answer else None) for q in information_round.questions
    )
    if not missing:
        return None
    return GuardFailure(
        "questions_answered",
        "questions_unanswered",
        _l("Some questions have no answer yet:"),
        missing=tuple(_("Answer to question %(number)s", number=number) for number in missing),
        details={"unanswered": missing},
    )


def refuse_unanswered(information_round: InformationRound) -> None:
    """GuardFailed listing the questions still without an answer."""
    failure = unanswered_failure(information_round)
    if failure is not None:
        raise failure.error()


def close_round(information_round: InformationRound, trigger: str, now: datetime) -> None:
    """End the round; answers count as sent only when the trigger sends them."""
    information_round.closed_at = now
    information_round.closed_by_action = trigger
    if trigger in rules.SENDING_TRIGGER.values():
        for question in information_round.questions:
            if question.answer is not None:
                question.answer.sent_at = now
    db.session.flush()


# --- The assessor composes a round ------------------------------------------------------------


def information_deadline(now: datetime) -> date | None:
    """The day the answers would be due if the information were requested at `now`."""
    moment = due_at(effective_deadlines(db.session).get("information_requested"), now)
    return rome_date(moment) if moment is not None else None


def compose_round(
    actor,
    request_id: int,
    rows: Sequence[QuestionRow],
    now: datetime,
    *,
    expected_version: int | str | None = None,
    ip: str | None = None,
) -> InformationRound:
    """Fire request_information with the questions, then give them their due dates.

    ValidationFailed(fields={"questions-<i>-due_on": code, ...}) for bad rows; the errors of
    `fire` (PermissionDenied, InvalidTransition, Conflict) pass through."""
    request = request_for_party(actor, request_id)
    rows = [QuestionRow(row.text.strip(), row.due_on) for row in rows if row.text.strip()]
    _check_rows(rows, rome_date(now), information_deadline(now))
    entry = fire(
        request,
        "request_information",
        actor,
        now,
        expected_version=expected_version,
        ip=ip,
        questions=[row.text for row in rows],
    )
    information_round = _round_of_entry(entry)
    stage = open_stage(request)
    deadline = rome_date(stage.due_at) if stage is not None and stage.due_at else None
    _check_rows(rows, rome_date(now), deadline)
    _set_due_dates(actor, request, information_round, rows, now, ip)
    return information_round


def _check_rows(rows: Sequence[QuestionRow], today: date, deadline: date | None) -> None:
    errors: dict[str, str] = {}
    if not rows:
        errors["questions"] = labels.E_QUESTION_MISSING
    elif len(rows) > rules.MAX_QUESTIONS:
        errors["questions"] = labels.E_TOO_MANY_QUESTIONS
    for index, row in enumerate(rows):
        problem = rules.due_date_problem(row.due_on, today, deadline)
        if problem:
            errors[f"questions-{index}-due_on"] = problem
    if errors:
        raise ValidationFailed("the questions are not valid", fields=errors, deadline=deadline)


def _round_of_entry(entry: AuditEntry) -> InformationRound:
    information_round = db.session.scalars(
        select(InformationRound)
        .where(InformationRound.audit_entry_id == entry.id)
        .options(selectinload(InformationRound.questions))
    ).one_or_none()
    if information_round is None:
        # The `after` hook of request_information did not run: `fire` must call
        # app.core.transition_hooks.run_after.
        raise RuntimeError("the information round was not opened: transition hooks not run")
    return information_round


def _set_due_dates(actor, request, information_round, rows, now, ip) -> None:
    """Give the questions their due dates, and record them: "<question>: <date>" each."""
    due = []
    for question, row in zip(information_round.questions, rows, strict=True):
        question.due_on = row.due_on
        if row.due_on is not None:
            due.append(f"{question.number}: {row.due_on.isoformat()}")
    if not due:
        return
    db.session.flush()
    record_audit(
        actor,
        entity_type=ENTITY_TYPE,
        entity_id=information_round.id,
        request_id=request.id,
        action="question_due_dates_set",
        now=now,
        data={"round": information_round.number, "due_dates": due},
        ip=ip,
    )


# --- The manufacturer answers -----------------------------------------------------------------


def round_of(request: DeviceRequest, number: int) -> InformationRound:
    information_round = db.session.scalars(
        select(InformationRound)
        .where(InformationRound.request_id == request.id, InformationRound.number == number)
        .options(_round_loading())
    ).one_or_none()
    if information_round is None:
        raise NotFound("round not found")
    return information_round


def _round_loading():
    return (
        selectinload(InformationRound.questions)
        .selectinload(Question.answer)
        .selectinload(Answer.attachments)
        .selectinload(AnswerAttachment.document_version)
        .selectinload(DocumentVersion.document)
    )


def can_answer(actor, request: DeviceRequest, information_round: InformationRound) -> bool:
    """The manufacturer, while the round is open and the request waits for its answers."""
    return (
        permissions.is_manufacturer_of(actor, request)
        and information_round.is_open
        and request.state == rules.WAITING_STATE[information_round.kind]
    )


def _answerable(actor, request_id: int, round_number: int, *, lock: bool = False):
    request = request_for_party(actor, request_id, for_update=lock)
    information_round = round_of(request, round_number)
    if not permissions.is_manufacturer_of(actor, request):
        raise PermissionDenied("only the manufacturer answers")
    if not can_answer(actor, request, information_round):
        raise Conflict("this round is closed")
    return request, information_round


def _question(information_round: InformationRound, number: int) -> Question:
    for question in information_round.questions:
        if question.number == number:
            return question
    raise NotFound("question not found")


def save_answer(
    actor,
    request_id: int,
    round_number: int,
    question_number: int,
    text: str,
    now: datetime,
    *,
    upload: UploadLike | None = None,
    meta: DocumentMeta | None = None,
    ip: str | None = None,
) -> Answer:
    """Save the draft answer (text, and a file to attach when given)."""
    request, information_round = _answerable(actor, request_id, round_number, lock=True)
    question = _question(information_round, question_number)
    text = (text or "").strip()
    if len(text) > rules.MAX_ANSWER_LENGTH:
        raise ValidationFailed("answer too long", fields={"text": labels.E_ANSWER_TOO_LONG})
    if not text and upload is None and not (question.answer and question.answer.attachments):
        raise ValidationFailed("empty answer", fields={"text": labels.E_ANSWER_MISSING})
    version = None
    if upload is not None:
        meta = meta or DocumentMeta(doc_type="other", title=upload.filename or "")
        version = upload_document(actor, request.id, upload, meta, now, ip=ip)
    answer = question.answer or Answer(question=question)
    answer.text = text
    answer.answered_at = now
    answer.answered_by_id = actor.id
    db.session.add(answer)
    db.session.flush()
    if version is not None and all(a.document_version_id != version.id for a in answer.attachments):
        answer.attachments.append(AnswerAttachment(document_version=version, created_at=now))
    db.session.flush()
    return answer


def remove_attachment(
    actor, request_id: int, round_number: int, question_number: int, attachment_id: int
) -> None:
    """Unlink a file from a draft answer (the document version stays with the request)."""
    _, information_round = _answerable(actor, request_id, round_number, lock=True)
    question = _question(information_round, question_number)
    answer = question.answer
    attachment = next(
        (a for a in (answer.attachments if answer else []) if a.id == attachment_id), None
    )
    if attachment is None:
        raise NotFound("attachment not found")
    answer.attachments.remove(attachment)
    db.session.flush()


def send_answers(
    actor,
    request_id: int,
    round_number: int,
    now: datetime,
    *,
    expected_version: int | str | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Send every answer of the round: fires answer_information (or resubmit at intake),
    which resumes the clock. GuardFailed while a question has no answer."""
    request, information_round = _answerable(actor, request_id, round_number)
    refuse_unanswered(information_round)
    trigger = rules.SENDING_TRIGGER[information_round.kind]
    data = {}
    if trigger == "answer_information":
        data["answers"] = answers_summary(information_round)
    entry = fire(request, trigger, actor, now, expected_version=expected_version, ip=ip, **data)
    db.session.refresh(information_round)
    if information_round.is_open:
        raise RuntimeError("the round was not closed: transition hooks not run")
    return entry


def answers_summary(information_round: InformationRound) -> str:
    """The answers as one text for the audit entry of the transition."""
    parts = []
    for question in information_round.questions:
        answer = question.answer
        files = ", ".join(
            f"{a.document_version.document.title} (v{a.document_version.version})"
            for a in (answer.attachments if answer else [])
        )
        line = f"{question.number}. {answer.text if answer else ''}"
        parts.append(f"{line} [{files}]" if files else line)
    return "\n".join(parts)


# --- What the pages show ----------------------------------------------------------------------


def rounds_for(actor, request: DeviceRequest) -> list[InformationRound]:
    """The request's rounds, newest first, everything eager-loaded (a few queries)."""
    if not document_rules.is_party(actor, request):
        return []
    return list(
        db.session.scalars(
            select(InformationRound)
            .where(InformationRound.request_id == request.id)
            .order_by(InformationRound.number.desc())
            .options(_round_loading(), selectinload(InformationRound.opened_by))
        )
    )


def visible_answer(actor, request: DeviceRequest, question: Question) -> Answer | None:
    """The answer as `actor` may see it: drafts only for the manufacturer."""
    answer = question.answer
    if answer is None:
        return None
    if answer.sent_at is None and not permissions.is_manufacturer_of(actor, request):
        return None
    return answer
