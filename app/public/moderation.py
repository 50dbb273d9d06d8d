"""The agency's consultation pages: comments per request, publish/reject, answer.

Login required (anonymous visitors go to the login page); any role but the agency gets 403.
Thin: form -> `app.public.consultation` -> one commit.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.errors import Conflict, ValidationFailed
from app.errors import form_page
from app.extensions import db
from app.forms.consultation import AnswerForm, ModerationForm
from app.models.types import utcnow
from app.public import bp, consultation
from app.public.register import outcome_label
from app.workflow.labels import state_label


def agency_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not consultation.can_moderate_consultation(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _actor():
    return current_user._get_current_object()


def _moderation_form(comment_id: int, **kwargs) -> ModerationForm:
    return ModerationForm(prefix=f"moderate-{comment_id}", **kwargs)


def _answer_form(comment_id: int, **kwargs) -> AnswerForm:
    return AnswerForm(prefix=f"answer-{comment_id}", **kwargs)


def _blank_form(comment):
    """The form a comment needs, not bound to the posted data (one per comment on the page)."""
    if comment.status == "pending":
        return _moderation_form(comment.id, formdata=None)
    if comment.status == "published":
        return _answer_form(comment.id, formdata=None, data={"answer": comment.answer})
    return None


def _render_request(request_id: int, failed_form=None, failed_comment_id: int | None = None):
    device_request, comments = consultation.request_with_comments(_actor(), request_id)
    forms = {comment.id: _blank_form(comment) for comment in comments}
    if failed_form is not None:
        forms[failed_comment_id] = failed_form
    recommendation = getattr(device_request, "recommendation", None)
    return render_template(
        "consultation/moderation_request.html",
        device_request=device_request,
        stage=state_label(device_request.state),
        draft_outcome=outcome_label(recommendation.outcome) if recommendation else "",
        comments=comments,
        forms=forms,
    )


@bp.get("/moderation")
@agency_required
def moderation_index():
    rows = consultation.moderation_overview(_actor())
    return render_template("consultation/moderation_index.html", rows=rows, state_label=state_label)


@bp.get("/moderation/<int:request_id>")
@agency_required
def moderation_request(request_id: int):
    return _render_request(request_id)


def _load_comment(comment_id: int):
    return consultation.get_comment(_actor(), comment_id, for_update=True)


def _after(comment, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(
        url_for(
            "public.moderation_request", request_id=comment.request_id, _anchor=f"c{comment.id}"
        )
    )


def _refused_on(form, comment_id: int, request_id: int) -> None:
    """Invalid input refused by the service: the request's page again, this form bound (200,
    as for the form's own validation errors on these pages)."""
    form_page(
        lambda _status: _render_request(request_id, form, comment_id),
        show=lambda error: _field_errors(form, error),
        refusals=(ValidationFailed,),
    )


def _field_errors(form, error: ValidationFailed) -> None:
    for name, message in error.details.get("fields", {}).items():
        if name in form:
            form[name].errors = [*form[name].errors, message]


def _conflict(comment_id: int, request_id: int, error: Conflict):
    """Someone moderated or answered first: show the comment as it is now, with why."""
    db.session.rollback()
    flash(str(error.message), "warning")
    return redirect(
        url_for("public.moderation_request", request_id=request_id, _anchor=f"c{comment_id}")
    )


@bp.post("/moderation/comments/<int:comment_id>/moderate")
@agency_required
def moderate(comment_id: int):
    comment = _load_comment(comment_id)
    request_id = comment.request_id
    form = _moderation_form(comment_id)
    if form.validate_on_submit():
        _refused_on(form, comment_id, request_id)
        try:
            consultation.moderate_comment(
                _actor(),
                comment,
                form.decision.data,
                form.reason.data,
                now=utcnow(),
                ip=request.remote_addr,
            )
        except Conflict as error:  # not an error page: the comment as it is now, and why
            return _conflict(comment_id, request_id, error)
        published = comment.status == "published"
        return _after(comment, _("Comment published.") if published else _("Comment rejected."))
    return _render_request(request_id, form, comment_id)


@bp.post("/moderation/comments/<int:comment_id>/answer")
@agency_required
def answer(comment_id: int):
    comment = _load_comment(comment_id)
    request_id = comment.request_id
    form = _answer_form(comment_id)
    if form.validate_on_submit():
        _refused_on(form, comment_id, request_id)
        try:
            consultation.answer_comment(
                _actor(), comment, form.answer.data, now=utcnow(), ip=request.remote_addr
            )
        except Conflict as error:  # not an error page: the comment as it is now, and why
            return _conflict(comment_id, request_id, error)
        return _after(comment, _("Answer saved."))
    return _render_request(request_id, form, comment_id)
