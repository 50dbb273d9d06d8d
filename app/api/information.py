"""Information requests (clock stops): rounds of questions and the manufacturer's answers.

The assessor asks (a round of questions, each with an optional due date); the manufacturer
saves an answer per question (text, and a file as multipart if needed) and then sends them
all, which resumes the clock. Through `app.documents.information`, like the pages: drafts are
the manufacturer's own until sent; only the parties to the request see the rounds.
"""

from __future__ import annotations

from datetime import date

from flask import request, url_for
from flask_babel import gettext as _

from app.api import schema_types as t
from app.api.bodies import json_body
from app.api.documents import document_message
from app.api.problems import ApiError
from app.api.registry import actor, operation
from app.api.workflow import actor_names, audit_json
from app.documents import information as service
from app.documents import labels
from app.documents.operations import DocumentMeta, request_for_party
from app.domain.information_rules import MAX_ANSWER_LENGTH, MAX_QUESTIONS, ROUND_KINDS
from app.models.types import utcnow
from app.workflow.labels import state_label

# --- Schemas --------------------------------------------------------------------------------

ATTACHMENT = t.obj(
    {"document_id": t.ID, "title": t.STRING, "version": t.INTEGER, "download_url": t.STRING}
)
ANSWER = t.component(
    "Answer",
    t.obj(
        {
            "text": t.STRING,
            "answered_at": t.DATETIME,
            "sent_at": t.nullable(t.DATETIME),
            "draft": t.BOOLEAN,
            "attachments": t.array(ATTACHMENT),
        }
    ),
)
QUESTION = t.obj(
    {
        "number": t.INTEGER,
        "text": t.STRING,
        "due_on": t.nullable(t.DATE),
        "answer": t.nullable(ANSWER),
    }
)
ROUND = t.component(
    "InformationRound",
    t.obj(
        {
            "number": t.INTEGER,
            "kind": t.enum(ROUND_KINDS),
            "kind_label": t.STRING,
            "opened_at": t.DATETIME,
            "closed_at": t.nullable(t.DATETIME),
            "closed_by_action": t.nullable(t.STRING),
            "is_open": t.BOOLEAN,
            "can_answer": t.BOOLEAN,
            "questions": t.array(QUESTION),
        }
    ),
)
t.component("InformationRoundList", t.obj({"items": t.array(ROUND, description="Newest first.")}))
t.component(
    "ComposeInput",
    t.obj(
        {
            "questions": t.array(
                t.obj(
                    {"text": t.STRING, "due_on": t.nullable(t.STRING | {"format": "date"})},
                    required=("text",),
                    additionalProperties=False,
                ),
                maxItems=MAX_QUESTIONS,
            )
        },
        additionalProperties=False,
        examples=[{"questions": [{"text": "Send the 2-year follow-up.", "due_on": None}]}],
    ),
)
t.component(
    "AnswerInput",
    t.obj(
        {"text": {"type": "string", "maxLength": MAX_ANSWER_LENGTH}},
        additionalProperties=False,
        description="As JSON; or as multipart/form-data with `text`, a `file` to attach and "
        "optionally its `title`.",
    ),
)

# --- Serialisation --------------------------------------------------------------------------


def answer_json(answer) -> dict:
    return {
        "text": answer.text,
        "answered_at": answer.answered_at,
        "sent_at": answer.sent_at,
        "draft": answer.sent_at is None,
        "attachments": [_attachment(a.document_version) for a in answer.attachments],
    }


def _attachment(version) -> dict:
    document = version.document
    return {
        "document_id": document.id,
        "title": document.title,
        "version": version.version,
        "download_url": url_for(
            "api.download_document_version",
            request_id=document.request_id,
            document_id=document.id,
            version=version.version,
        ),
    }


def round_json(user, req, information_round) -> dict:
    questions = []
    for question in information_round.questions:
        answer = service.visible_answer(user, req, question)
        questions.append(
            {
                "number": question.number,
                "text": question.text,
                "due_on": question.due_on,
                "answer": answer_json(answer) if answer is not None else None,
            }
        )
    return {
        "number": information_round.number,
        "kind": information_round.kind,
        "kind_label": labels.round_kind_label(information_round.kind),
        "opened_at": information_round.opened_at,
        "closed_at": information_round.closed_at,
        "closed_by_action": information_round.closed_by_action,
        "is_open": information_round.is_open,
        "can_answer": service.can_answer(user, req, information_round),
        "questions": questions,
    }


def information_message(field: str, code: str, details=None) -> str:
    return document_message(field, code, details)


def _question_rows(body: dict) -> list[service.QuestionRow]:
    rows, errors = [], {}
    questions = body.get("questions")
    if set(body) - {"questions"} or not isinstance(questions, list):
        raise ApiError(
            422,
            "validation",
            errors={"questions": [_("Send a list of questions.")]},
            error_codes={"questions": ["invalid"]},
        )
    for index, row in enumerate(questions):
        text = row.get("text") if isinstance(row, dict) else None
        due = row.get("due_on") if isinstance(row, dict) else None
        if not isinstance(text, str):
            errors[f"questions-{index}-text"] = [_("Expected a text (string).")]
            continue
        try:
            due_on = date.fromisoformat(due) if due else None
        except (TypeError, ValueError):
            errors[f"questions-{index}-due_on"] = [_("Enter a date as YYYY-MM-DD.")]
            continue
        rows.append(service.QuestionRow(text, due_on))
    if errors:
        raise ApiError(
            422, "validation", errors=errors, error_codes={k: ["invalid"] for k in errors}
        )
    return rows


# --- Views ----------------------------------------------------------------------------------


@operation(
    "GET",
    "/requests/<int:request_id>/information-rounds",
    tag="Information requests",
    summary="The rounds of questions of a request, with the answers you may see",
    response="InformationRoundList",
    errors=(403, 404),
)
def list_information_rounds(request_id: int):
    user = actor()
    req = request_for_party(user, request_id)
    return {"items": [round_json(user, req, r) for r in service.rounds_for(user, req)]}


@operation(
    "POST",
    "/requests/<int:request_id>/information-rounds",
    tag="Information requests",
    summary="Ask the manufacturer questions (the clock stops)",
    response="InformationRound",
    status=201,
    body="json",
    body_schema="ComposeInput",
    errors=(403, 404, 409, 413, 415, 422),
    idempotent=True,
    messages=information_message,
)
def compose_information_round(request_id: int):
    """The assessor of the assigned body, during the assessment: fires `request_information`.
    A due date must be after today and within the stage's deadline. Send an
    `Idempotency-Key` to retry safely."""
    user = actor()
    rows = _question_rows(json_body())
    information_round = service.compose_round(
        user, request_id, rows, utcnow(), ip=request.remote_addr
    )
    req = request_for_party(user, request_id)
    return round_json(user, req, information_round), 201


@operation(
    "PUT",
    "/requests/<int:request_id>/information-rounds/<int:number>/questions/<int:question>/answer",
    tag="Information requests",
    summary="Save the draft answer to a question",
    response="Answer",
    body="json_or_multipart",
    body_schema="AnswerInput",
    errors=(403, 404, 409, 413, 415, 422),
    messages=information_message,
)
def save_answer(request_id: int, number: int, question: int):
    """The manufacturer, while the round is open. Nobody else sees it until it is sent."""
    user = actor()
    upload, meta = None, None
    if request.mimetype == "multipart/form-data":
        text = request.form.get("text", "")
        upload = request.files.get("file")
        if upload is not None:
            title = request.form.get("title") or upload.filename or ""
            meta = DocumentMeta(doc_type="other", title=title)
    else:
        body = json_body()
        text = body.get("text")
        unknown = set(body) - {"text"}
        if not isinstance(text, str) or unknown:
            errors = {"text": [_("Expected a text (string).")]} if not isinstance(text, str) else {}
            errors |= {name: [_("Unknown field.")] for name in unknown}
            raise ApiError(
                422, "validation", errors=errors, error_codes={k: ["invalid"] for k in errors}
            )
    answer = service.save_answer(
        user,
        request_id,
        number,
        question,
        text,
        utcnow(),
        upload=upload,
        meta=meta,
        ip=request.remote_addr,
    )
    return answer_json(answer)


@operation(
    "POST",
    "/requests/<int:request_id>/information-rounds/<int:number>/send",
    tag="Information requests",
    summary="Send every answer of the round (the clock resumes)",
    response="FireResult",
    body="json_optional",
    body_schema={"type": "object", "maxProperties": 0},
    errors=(403, 404, 409, 413, 415, 422),
    idempotent=True,
    messages=information_message,
)
def send_answers(request_id: int, number: int):
    """Fires `answer_information` (or `resubmit` for the missing items at intake). 422 with
    `missing` while a question has no answer. Send an `Idempotency-Key` to retry safely."""
    user = actor()
    entry = service.send_answers(user, request_id, number, utcnow(), ip=request.remote_addr)
    req = request_for_party(user, request_id)
    return {
        "state": req.state,
        "state_label": state_label(req.state, user.role),
        "version": req.version,
        "audit_entry": audit_json(entry, actor_names([entry])),
    }
