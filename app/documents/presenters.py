"""What the documents and information pages show, shaped for the templates.

`documents_panel(actor, req)` is a request page panel (registered by the blueprint with
`app.requests.presenters.register_page_panel`): the request view builds it before rendering,
without knowing about documents, and `documents/_panel.html` only draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import url_for

from app.core.fire import available_transitions
from app.documents import information as information_service
from app.documents import labels
from app.documents import operations as documents_service
from app.domain import document_rules, permissions
from app.models import Answer, DeviceRequest, Document, InformationRound


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


def documents_panel(actor, req: DeviceRequest) -> DocumentsPanel:
    if not actor.is_authenticated or not document_rules.is_party(actor, req):
        return DocumentsPanel(is_party=False)
    rounds = information_service.rounds_for(actor, req)
    return DocumentsPanel(
        is_party=True,
        documents=documents_service.documents_of(req),
        missing_types=documents_service.missing_mandatory_types(req),
        show_missing=req.state in permissions.EDITABLE_STATES,
        can_upload=document_rules.can_upload_document(actor, req),
        can_compose=can_compose(actor, req),
        rounds=[round_view(actor, req, r) for r in rounds],
    )
