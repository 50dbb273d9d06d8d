"""What the documents and information pages show, shaped for the templates.

`documents_panel(actor, req)` is a request page panel (registered by the blueprint with
`app.requests.presenters.register_page_panel`): the request view builds it before rendering,
without knowing about documents, and `documents/_panel.html` only draws it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from flask import current_app, url_for
from flask import request as http_request
from flask_babel import get_locale, get_timezone
from markupsafe import Markup
from sqlalchemy import Select, bindparam, select

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
    User,
)
from app.requests.page_reads import Read


@dataclass
class QuestionView:
    number: int
    text: str
    due_on: date | None
    answer: Answer | AnswerRow | None


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
    documents: list[DocumentRow] = field(default_factory=list)
    missing_types: list[str] = field(default_factory=list)
    show_missing: bool = False
    can_upload: bool = False
    can_compose: bool = False
    rounds: list[RoundView] = field(default_factory=list)
    # The panel drawn (documents/_panel.html), kept per content: `documents_panel`.
    html: Markup | None = None


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


@dataclass(frozen=True)
class AttachmentRow:
    """An answer's attached file as the thread shows it (`a.document_version`)."""

    document_version: AttachedVersion


@dataclass(frozen=True)
class AttachedVersion:
    document_id: int
    version: int
    original_filename: str
    size: int
    document: AttachedDocument


@dataclass(frozen=True)
class AttachedDocument:
    title: str


@dataclass
class AnswerRow:
    """What the thread shows of an answer (as `Answer` reads: `is_draft`, `attachments`)."""

    text: str
    answered_at: datetime
    sent_at: datetime | None
    attachments: list[AttachmentRow] = field(default_factory=list)

    @property
    def is_draft(self) -> bool:
        return self.sent_at is None


@cache
def _rounds_statement() -> Select:
    """`_page_rounds`'s SELECT, built once (the request id bound at each execution)."""
    return (
        select(
            InformationRound.id.label("round_id"),
            InformationRound.number.label("round_number"),
            InformationRound.kind,
            InformationRound.opened_at,
            InformationRound.opened_by_id,
            User.full_name,
            User.email,
            InformationRound.closed_at,
            InformationRound.closed_by_action,
            Question.id.label("question_id"),
            Question.number.label("question_number"),
            Question.text.label("question_text"),
            Question.due_on,
            Answer.id.label("answer_id"),
            Answer.text.label("answer_text"),
            Answer.answered_at,
            Answer.sent_at,
            AnswerAttachment.id.label("attachment_id"),
            DocumentVersion.document_id,
            DocumentVersion.version,
            DocumentVersion.original_filename,
            DocumentVersion.size,
            Document.title,
        )
        .outerjoin(User, User.id == InformationRound.opened_by_id)
        .outerjoin(Question, Question.round_id == InformationRound.id)
        .outerjoin(Answer, Answer.question_id == Question.id)
        .outerjoin(AnswerAttachment, AnswerAttachment.answer_id == Answer.id)
        .outerjoin(DocumentVersion, DocumentVersion.id == AnswerAttachment.document_version_id)
        .outerjoin(Document, Document.id == DocumentVersion.document_id)
        .where(InformationRound.request_id == bindparam("request_id"))
        .order_by(
            InformationRound.number.desc(),
            InformationRound.id,
            Question.number,
            Question.id,
            AnswerAttachment.id,
        )
    )


def _page_rounds(actor, req: DeviceRequest, rows=None) -> list[RoundView]:
    """`round_view` of each of the request's rounds, newest first, from one statement of
    columns: the rounds with who opened each, their questions (by number), answers and the
    answers' attached files (a round has a few questions, a question one answer, an answer
    a few files), what `information.rounds_for` loads as objects in six. A draft answer
    shows to the manufacturer only (`information.visible_answer`). `rows`: the statement's,
    when the request page read them already."""
    if rows is None:
        rows = db.session.execute(_rounds_statement(), {"request_id": req.id})
    drafts_shown = permissions.is_manufacturer_of(actor, req)
    rounds: dict[int, RoundView] = {}
    questions: dict[int, QuestionView] = {}
    for row in rows:
        view = rounds.get(row.round_id)
        if view is None:
            view = rounds[row.round_id] = RoundView(
                number=row.round_number,
                kind=row.kind,
                kind_label=labels.round_kind_label(row.kind),
                opened_at=row.opened_at,
                opened_by=(row.full_name or row.email) if row.opened_by_id is not None else "",
                closed_at=row.closed_at,
                closed_by_action=row.closed_by_action,
                is_open=row.closed_at is None,
                answers_sent=row.closed_by_action in ("answer_information", "resubmit"),
                questions=[],
                url=url_for(
                    "documents.information_round", request_id=req.id, number=row.round_number
                ),
            )
        if row.question_id is None:
            continue
        question = questions.get(row.question_id)
        if question is None:
            answer = None
            if row.answer_id is not None and (row.sent_at is not None or drafts_shown):
                answer = AnswerRow(row.answer_text, row.answered_at, row.sent_at)
            question = questions[row.question_id] = QuestionView(
                number=row.question_number,
                text=row.question_text,
                due_on=row.due_on,
                answer=answer,
            )
            view.questions.append(question)
        if row.attachment_id is not None and question.answer is not None:
            question.answer.attachments.append(
                AttachmentRow(
                    AttachedVersion(
                        row.document_id,
                        row.version,
                        row.original_filename,
                        row.size,
                        AttachedDocument(row.title),
                    )
                )
            )
    return list(rounds.values())


@dataclass(frozen=True)
class Uploader:
    display_name: str


@dataclass(frozen=True)
class VersionRow:
    """What the panel shows of one version of a document."""

    version: int
    uploaded_at: datetime
    size: int
    uploaded_by: Uploader | None


@dataclass
class DocumentRow:
    """What the panel shows of one document: as `Document` reads (`latest`, `versions`)."""

    id: int
    doc_type: str
    title: str
    confidential: bool
    public: bool
    versions: list[VersionRow] = field(default_factory=list)

    @property
    def latest(self) -> VersionRow | None:
        return self.versions[-1] if self.versions else None


@cache
def _documents_statement() -> Select:
    """`_page_documents`'s SELECT, built once (the request id bound at each execution)."""
    return (
        select(
            Document.id,
            Document.doc_type,
            Document.title,
            Document.confidential,
            Document.public,
            DocumentVersion.version,
            DocumentVersion.uploaded_at,
            DocumentVersion.size,
            DocumentVersion.uploaded_by_id,
            User.full_name,
            User.email,
        )
        .outerjoin(DocumentVersion, DocumentVersion.document_id == Document.id)
        .outerjoin(User, User.id == DocumentVersion.uploaded_by_id)
        .where(Document.request_id == bindparam("request_id"))
        .order_by(Document.id, DocumentVersion.version)
    )


def _page_documents(req: DeviceRequest, rows=None) -> list[DocumentRow]:
    """The request's documents with their versions (in version order) and uploaders, as
    columns in one statement (not ORM objects: a document may have many versions), ordered
    as `documents_service.documents_of` orders them (type order, then title; ties by id).
    `rows`: the statement's, when the request page read them already."""
    if rows is None:
        rows = db.session.execute(_documents_statement(), {"request_id": req.id})
    documents: dict[int, DocumentRow] = {}
    for row in rows:
        document = documents.get(row.id)
        if document is None:
            document = documents[row.id] = DocumentRow(
                row.id, row.doc_type, row.title, row.confidential, row.public
            )
        if row.version is not None:
            uploader = (
                Uploader(row.full_name or row.email) if row.uploaded_by_id is not None else None
            )
            document.versions.append(VersionRow(row.version, row.uploaded_at, row.size, uploader))
    order = {code: index for index, code in enumerate(document_rules.DOCUMENT_TYPES)}
    return sorted(documents.values(), key=lambda d: (order.get(d.doc_type, 99), d.title.lower()))


def documents_reads(actor, req: DeviceRequest) -> tuple[list[Read], dict] | None:
    """The panel's two reads (the rounds, the documents), for the request page to run with
    its own (`register_page_panel`); None for a reader who is no party (none shows)."""
    if not _shows_documents(actor, req):
        return None
    return list(_reads()), {"request_id": req.id}


@cache
def _reads() -> tuple[Read, Read]:
    """`_rounds_statement` and `_documents_statement` as the page's reads, in their order."""
    rounds_order = ("-round_number", "round_id", "question_number", "question_id")
    return (
        Read("document_rounds", _rounds_statement(), (*rounds_order, "attachment_id")),
        Read("documents", _documents_statement(), ("id", "version")),
    )


def _shows_documents(actor, req: DeviceRequest) -> bool:
    return actor.is_authenticated and document_rules.is_party(actor, req)


def documents_panel(actor, req: DeviceRequest, rows: dict | None = None) -> DocumentsPanel:
    """What the request page's documents panel shows `actor` (`rows`: its reads' rows, by
    `documents_reads`, when the page read them; otherwise it reads them)."""
    if not _shows_documents(actor, req):
        panel = DocumentsPanel(is_party=False)
        panel.html = _panel_html(req, panel)
        return panel
    rows = rows or {}
    rounds = _page_rounds(actor, req, rows.get("document_rounds"))
    documents = _page_documents(req, rows.get("documents"))
    # The types with a version, read off the documents just loaded (`present_types` asks
    # the database the same: documents joined to their versions).
    present = {document.doc_type for document in documents if document.versions}
    panel = DocumentsPanel(
        is_party=True,
        documents=documents,
        missing_types=document_rules.missing_document_types(
            present, documents_service.mandatory_types()
        ),
        show_missing=req.state in permissions.EDITABLE_STATES,
        can_upload=document_rules.can_upload_document(actor, req),
        can_compose=can_compose(actor, req),
        rounds=rounds,
    )
    panel.html = _panel_html(req, panel)
    return panel


# The panel's HTML: {key: HTML}, the oldest dropped beyond _PANEL_HTML_SIZE. Exact: the key
# holds everything documents/_panel.html and information/_thread.html read: the locale and
# display zone, the application's root (its links), the request's id, what the reader may
# do, and every value of the documents (with their versions and uploaders) and the rounds
# (questions, answers, attached files) as read; their labels come from the catalogue.
_PANEL_HTML: OrderedDict[tuple, Markup] = OrderedDict()
_PANEL_HTML_SIZE = 512


def _panel_key(req: DeviceRequest, panel: DocumentsPanel) -> tuple:
    documents = tuple(
        (d.id, d.doc_type, d.title, d.confidential, d.public, tuple(d.versions))
        for d in panel.documents
    )
    rounds = tuple(
        (
            (r.number, r.kind, r.kind_label, r.opened_at, r.opened_by, r.closed_at),
            (r.closed_by_action, r.is_open, r.answers_sent, r.url),
            tuple((q.number, q.text, q.due_on, _answer_key(q.answer)) for q in r.questions),
        )
        for r in panel.rounds
    )
    return (
        str(get_locale()),
        str(get_timezone()),
        http_request.script_root,
        req.id,
        (panel.is_party, panel.can_upload, panel.can_compose),
        documents,
        rounds,
    )


def _answer_key(answer: AnswerRow | None):
    if answer is None:
        return None
    return (answer.text, answer.answered_at, answer.sent_at, tuple(answer.attachments))


def _panel_html(req: DeviceRequest, panel: DocumentsPanel) -> Markup:
    """documents/_panel.html for this panel, drawn once per key, then kept."""
    key = _panel_key(req, panel)
    html = _PANEL_HTML.get(key)
    if html is None:
        template = current_app.jinja_env.get_template("documents/_panel.html")
        # Our own template's output, escaped as it rendered.
        html = Markup(template.render(documents_panel=panel, req=req))  # noqa: S704
        _PANEL_HTML[key] = html
        if len(_PANEL_HTML) > _PANEL_HTML_SIZE:
            _PANEL_HTML.popitem(last=False)
    return html
