"""What the documents and information pages show, shaped for the templates.

`documents_panel(actor, req)` is a request page panel (registered by the blueprint with
`app.requests.presenters.register_page_panel`): the request view builds it before rendering,
without knowing about documents, and `documents/_panel.html` only draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.fire import available_transitions
from app.documents import information as information_service
from app.documents import labels
from app.documents import operations as documents_service
from app.domain import document_rules, permissions
from app.extensions import db
from app.models import (
    Answer,
    AnswerAttachment,
    DeviceRequest,
    Document,
    DocumentVersion,
    InformationRound,
    Question,
)


@dataclass
class QuestionView:
    number: int
    text: str
    due_on: date | None
    answer: Answer | None


@dataclass
class RoundView:
    number: int
    kind: str
    kind_label: str
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closed_by_action: str | None
    is_open: bool
    answers_sent: bool
    questions: list[QuestionView]
    url: str

    @property
    def answered_count(self) -> int:
        return sum(1 for q in self.questions if q.answer is not None and q.answer.text.strip())


@dataclass
class DocumentsPanel:
    is_party: bool
    documents: list[Document] = field(default_factory=list)
    missing_types: list[str] = field(default_factory=list)
    show_missing: bool = False
    can_upload: bool = False
    can_compose: bool = False
    rounds: list[RoundView] = field(default_factory=list)


def round_view(actor, request: DeviceRequest, information_round: InformationRound) -> RoundView:
    return RoundView(
        number=information_round.number,
        kind=information_round.kind,
        kind_label=labels.round_kind_label(information_round.kind),
        opened_at=information_round.opened_at,
        opened_by=(information_round.opened_by.display_name if information_round.opened_by else ""),
        closed_at=information_round.closed_at,
        closed_by_action=information_round.closed_by_action,
        is_open=information_round.is_open,
        answers_sent=information_round.closed_by_action in ("answer_information", "resubmit"),
        questions=[
            QuestionView(
                number=question.number,
                text=question.text,
                due_on=question.due_on,
                answer=information_service.visible_answer(actor, request, question),
            )
            for question in information_round.questions
        ],
        url=url_for(
            "documents.information_round",
            request_id=request.id,
            number=information_round.number,
        ),
    )


def can_compose(actor, request: DeviceRequest) -> bool:
    return any(s.trigger == "request_information" for s in available_transitions(actor, request))


def _page_rounds(req: DeviceRequest) -> list[InformationRound]:
    """The request's rounds, newest first, with who opened each, their questions (by number),
    answers and the answers' attached files in one statement (joined: a round has a few
    questions, a question one answer, an answer a few files), what `information.rounds_for`
    loads in six."""
    return list(
        db.session.scalars(
            select(InformationRound)
            .where(InformationRound.request_id == req.id)
            .order_by(InformationRound.number.desc())
            .options(
                joinedload(InformationRound.opened_by),
                joinedload(InformationRound.questions)
                .joinedload(Question.answer)
                .joinedload(Answer.attachments)
                .joinedload(AnswerAttachment.document_version)
                .joinedload(DocumentVersion.document),
            )
        ).unique()
    )


def _page_documents(req: DeviceRequest) -> list[Document]:
    """`documents_service.documents_of` in one statement (versions and their uploaders
    joined), in the same order."""
    documents = (
        db.session.scalars(
            select(Document)
            .where(Document.request_id == req.id)
            .options(joinedload(Document.versions).joinedload(DocumentVersion.uploaded_by))
        )
        .unique()
        .all()
    )
    order = {code: index for index, code in enumerate(document_rules.DOCUMENT_TYPES)}
    return sorted(documents, key=lambda d: (order.get(d.doc_type, 99), d.title.lower()))


def documents_panel(actor, req: DeviceRequest) -> DocumentsPanel:
    if not actor.is_authenticated or not document_rules.is_party(actor, req):
        return DocumentsPanel(is_party=False)
    rounds = _page_rounds(req)
    documents = _page_documents(req)
    # The types with a version, read off the documents just loaded (`present_types` asks
    # the database the same: documents joined to their versions).
    present = {document.doc_type for document in documents if document.versions}
    return DocumentsPanel(
        is_party=True,
        documents=documents,
        missing_types=document_rules.missing_document_types(
            present, documents_service.mandatory_types()
        ),
        show_missing=req.state in permissions.EDITABLE_STATES,
        can_upload=document_rules.can_upload_document(actor, req),
        can_compose=can_compose(actor, req),
        rounds=[round_view(actor, req, r) for r in rounds],
    )
