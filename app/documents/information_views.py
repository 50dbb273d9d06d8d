"""Information request pages: the rounds, the assessor's compose page, the manufacturer's
answers (drafts until sent) and sending them, which resumes the clock.

Thin: form -> service -> commit once. The app's error handler (`app.errors`) answers a
refusal: not a party: 404; a party who may not act: 403; the request moved on meanwhile: 409
with the message below; invalid input or a missing answer: the page again (`form_page`).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.documents import bp, labels
from app.documents import information as service
from app.documents.operations import DocumentMeta, max_bytes
from app.documents.presenters import can_compose, round_view
from app.documents.views import party_request
from app.domain import information_rules as rules
from app.domain.deadlines import rome_date
from app.domain.errors import GuardFailed, ValidationFailed
from app.errors import explain_conflicts_of, form_page
from app.extensions import db
from app.forms.dossier import FIELD_LABELS as DOSSIER_FIELD_LABELS
from app.forms.information import AnswerForm, ComposeRoundForm, SendAnswersForm
from app.i18n import display_date
from app.models.types import utcnow
from app.workflow.labels import state_label

UNPROCESSABLE = 422


def _act(action, *args, **kwargs):
    """Call the service `action` as the logged-in user, now, from this address; commit."""
    result = action(current_user, *args, utcnow(), ip=request.remote_addr, **kwargs)
    db.session.commit()
    return result


def _moved_on_message(_error=None) -> str:
    """What a conflict on a page of this blueprint says (after the rollback)."""
    return _(
        "This request has moved on meanwhile (it is now “%(state)s”): nothing was saved. "
        "Reload the page to see what you can do now.",
        state=_current_state(),
    )


explain_conflicts_of(bp, _moved_on_message)


def _current_state() -> str:
    request_id = (request.view_args or {}).get("request_id")
    try:
        req = party_request(request_id)
    except Exception:  # the message of a 409 must not fail: without the state, say less
        return ""
    return state_label(req.state, current_user.role)


# --- The rounds -------------------------------------------------------------------------------


@bp.get("/<int:request_id>/information")
def information_index(request_id: int):
    req = party_request(request_id)
    rounds = [round_view(current_user, req, r) for r in service.rounds_for(current_user, req)]
    return render_template(
        "information/index.html",
        req=req,
        rounds=rounds,
        can_compose=can_compose(current_user, req),
    )


# --- The assessor composes a round ------------------------------------------------------------


@bp.route("/<int:request_id>/information/new", methods=["GET", "POST"])
def compose(request_id: int):
    req = party_request(request_id)
    if not can_compose(current_user, req):
        abort(403)
    form = ComposeRoundForm()
    if request.method == "GET":
        form.expected_version.data = str(req.version)
        return _render_compose(form, req)
    if request.form.get("row_action") == "add":
        form.add_row()
        return _render_compose(form, req)
    if not form.validate():
        form.localise_date_errors()
        return _render_compose(form, req, UNPROCESSABLE)
    positions, rows = _filled_rows(form)
    form_page(
        lambda status: _render_compose(form, req, status),
        show=lambda error: _show_compose_errors(form, error, positions),
    )
    information_round = _act(
        service.compose_round, request_id, rows, expected_version=form.version()
    )
    flash(
        _(
            "Questions sent (request for information %(number)s). The agency's time stops "
            "until the manufacturer answers.",
            number=information_round.number,
        ),
        "success",
    )
    return redirect(
        url_for(
            "documents.information_round", request_id=request_id, number=information_round.number
        )
    )


def _filled_rows(form: ComposeRoundForm) -> tuple[list[int], list[service.QuestionRow]]:
    positions, rows = [], []
    for position, (text, due_on) in enumerate(form.rows()):
        if text.strip():
            positions.append(position)
            rows.append(service.QuestionRow(text=text, due_on=due_on))
    return positions, rows


def _show_compose_errors(form: ComposeRoundForm, error: ValidationFailed, positions) -> None:
    deadline = error.details.get("deadline")
    values = {"deadline": display_date(deadline) if deadline else ""}
    for name, code in (error.details.get("fields") or {}).items():
        message = str(labels.MESSAGES.get(code, code)) % values
        parts = name.split("-")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(positions):
            entry = form.questions.entries[positions[int(parts[1])]]
            entry.form.due_on.errors = [*entry.form.due_on.errors, message]
        else:
            form.form_errors.append(message)


def _render_compose(form: ComposeRoundForm, req, status: int = 200):
    return (
        render_template(
            "information/compose.html",
            form=form,
            req=req,
            deadline=service.information_deadline(utcnow()),
            max_questions=rules.MAX_QUESTIONS,
        ),
        status,
    )


# --- One round: the questions and the answers -------------------------------------------------


@bp.get("/<int:request_id>/information/<int:number>")
def information_round(request_id: int, number: int):
    req, information_round = _round(request_id, number)
    return _render_round(req, information_round)


def _round(request_id: int, number: int):
    req = party_request(request_id)
    return req, service.round_of(req, number)


def _render_round(req, information_round, *, typed=None, send_errors=(), status=200):
    """The round page; `typed` holds the bound forms of answers posted (kept as typed)."""
    answering = service.can_answer(current_user, req, information_round)
    typed = typed or {}
    forms = {}
    if answering:
        for question in information_round.questions:
            forms[question.number] = typed.get(question.number) or _answer_form(question)
    send_form = SendAnswersForm(formdata=None)
    send_form.expected_version.data = str(req.version)
    return (
        render_template(
            "information/round.html",
            req=req,
            round=round_view(current_user, req, information_round),
            answering=answering,
            forms=forms,
            send_form=send_form,
            send_errors=list(send_errors),
            send_label=_send_label(information_round.kind),
            limit=labels.human_size(max_bytes()),
            today=rome_date(utcnow()),
        ),
        status,
    )


def _send_label(kind: str) -> str:
    if kind == rules.INTAKE:
        return _("Send the answers and resubmit the file")
    return _("Send the answers")


def _missing_labels(error: GuardFailed) -> list[str]:
    """What blocks the sending: unanswered questions, documents to upload, or (resubmitting
    an incomplete file) dossier fields still empty, labelled as the dossier form does."""
    items = error.details.get("missing") or []
    names = [getattr(item, "field", item) for item in items]
    return [str(DOSSIER_FIELD_LABELS.get(name) or name) for name in names]


def _send_errors(error) -> list[str]:
    """Why the answers were not sent: what is missing, else a general sentence."""
    if isinstance(error, GuardFailed):
        return _missing_labels(error)
    return [_("The answers could not be sent: please check them.")]


def _answer_form(question) -> AnswerForm:
    form = AnswerForm(formdata=None, prefix=f"q{question.number}")
    form.text.data = question.answer.text if question.answer else ""
    return form


@bp.post("/<int:request_id>/information/<int:number>/questions/<int:question>/answer")
def save_answer(request_id: int, number: int, question: int):
    """Save the drafts: the clicked question's answer, and every other answer typed or
    changed in the round's one form (saving one must not lose what was typed in another)."""
    req, information_round = _round(request_id, number)
    refused = _save_typed_answers(req, information_round, always=question)
    if refused is not None:
        return refused
    flash(_("Draft answer to question %(number)s saved.", number=question), "success")
    return redirect(
        url_for(
            "documents.information_round",
            request_id=request_id,
            number=number,
            _anchor=f"question-{question}",
        )
    )


def _typed_forms(information_round) -> dict[int, AnswerForm]:
    """The answers posted with the round's form, by question number (only those posted)."""
    forms = {}
    for question in information_round.questions:
        prefix = f"q{question.number}"
        if f"{prefix}-text" in request.form or f"{prefix}-file" in request.files:
            forms[question.number] = AnswerForm(prefix=prefix)
    return forms


def _changed(question, form: AnswerForm) -> bool:
    """The typed text differs from the saved draft, or a file was chosen."""
    saved = (question.answer.text if question.answer else "") or ""
    return (form.text.data or "").strip() != saved.strip() or bool(form.file.data)


def _save_typed_answers(req, information_round, *, always: int | None = None):
    """Save, as drafts, every answer typed or changed (and question `always` in any case),
    then commit. None when saved; else the page again with every typed answer kept and the
    refusal on the answer it concerns."""
    typed = _typed_forms(information_round)
    if always is not None and always not in typed:
        typed[always] = AnswerForm(prefix=f"q{always}")
    changed = [
        (q.number, typed[q.number])
        for q in information_round.questions
        if q.number in typed and (q.number == always or _changed(q, typed[q.number]))
    ]
    invalid = [number for number, form in changed if not form.validate()]
    if invalid:
        return _render_round(req, information_round, typed=typed, status=UNPROCESSABLE)
    for number, form in changed:
        refused = _save_one(req.id, information_round.number, number, form, typed)
        if refused is not None:
            return refused
    db.session.commit()
    return None


def _save_one(request_id: int, round_number: int, question: int, form: AnswerForm, typed):
    """Save one draft (flushed, not committed); the page again when it is refused."""
    upload = form.file.data or None
    meta = None
    if upload is not None:
        meta = DocumentMeta(
            doc_type=form.doc_type.data or "other",
            title=form.title.data or upload.filename or "",
            confidential=form.confidential.data,
        )
    try:
        service.save_answer(
            current_user,
            request_id,
            round_number,
            question,
            form.text.data or "",
            utcnow(),
            upload=upload,
            meta=meta,
            ip=request.remote_addr,
        )
    except ValidationFailed as error:
        db.session.rollback()
        form.apply_service_errors(
            error.details.get("fields") or {}, limit=labels.human_size(max_bytes())
        )
        return _render_round(*_round(request_id, round_number), typed=typed, status=422)
    except OSError:  # not a refusal: the disk failed; the form says so and keeps the input
        db.session.rollback()
        form.form_errors.append(
            _("The file could not be stored. Nothing was saved: please try again.")
        )
        return _render_round(*_round(request_id, round_number), typed=typed, status=500)
    return None


@bp.post(
    "/<int:request_id>/information/<int:number>/questions/<int:question>"
    "/attachments/<int:attachment_id>/remove"
)
def remove_attachment(request_id: int, number: int, question: int, attachment_id: int):
    party_request(request_id)
    service.remove_attachment(current_user, request_id, number, question, attachment_id)
    db.session.commit()
    flash(_("The file is no longer attached to the answer."), "success")
    return redirect(
        url_for(
            "documents.information_round",
            request_id=request_id,
            number=number,
            _anchor=f"question-{question}",
        )
    )


@bp.post("/<int:request_id>/information/<int:number>/send")
def send_answers(request_id: int, number: int):
    """Send the round's answers. What was typed and not yet saved is saved first (and stays
    saved as drafts if the sending is refused): clicking "Send" never loses an answer."""
    req, information_round = _round(request_id, number)  # 404 before anything else
    form = SendAnswersForm()
    if service.can_answer(current_user, req, information_round):
        refused = _save_typed_answers(req, information_round)
        if refused is not None:
            return refused
        req, information_round = _round(request_id, number)
    send_errors: list[str] = []
    form_page(
        lambda status: _render_round(
            *_round(request_id, number), send_errors=send_errors, status=status
        ),
        show=lambda error: send_errors.extend(_send_errors(error)),
    )
    _act(service.send_answers, request_id, number, expected_version=form.version())
    flash(
        _(
            "Answers sent. The clock runs again: %(state)s.",
            state=state_label(req.state, current_user.role),
        ),
        "success",
    )
    return redirect(url_for("requests.detail", request_id=request_id))
