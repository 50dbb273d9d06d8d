"""The assessment (Core Model checklist and report), the manufacturer's factual-accuracy check
of the draft, and the agency's appraisal and recommendation."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask import request as http_request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.adoption.presenters import designated_centre_ids, designated_centre_names
from app.assessment import bp
from app.assessment import core_model as service
from app.assessment.common import UNPROCESSABLE, actor, client_ip, load_request, version_of
from app.core.fire import fire
from app.domain import permissions
from app.domain.core_model import progress
from app.domain.errors import GuardFailed, ValidationFailed
from app.errors import form_page
from app.extensions import db
from app.forms.assessment import (
    DOMAIN_LABELS,
    DOMAIN_STATUS_LABELS,
    FACTUAL_RESPONSE_LABELS,
    GENERAL_SECTION_LABEL,
    FactualReplyForm,
    RecommendationForm,
    VersionForm,
    checklist_form_class,
    factual_comments_form_class,
    field_name,
)
from app.models.types import utcnow
from app.requests.action_panel import active_irccs_choices
from app.requests.queries import coi_status_for
from app.workflow.action_labels import OUTCOME_LABELS, action_label
from app.workflow.facts import REQUEST, states_where

REPORT_TRIGGERS = ("send_draft_report", "finalise_report")
REPORT_DOC_TYPE = "assessment_report"
# Once the draft went to the manufacturer, it may read the report and its own comments.
FACTUAL_CHECK_VISIBLE_STATES = frozenset(states_where(workflow=REQUEST, draft_report_sent=True))


def _cleared(req) -> bool | None:
    status = coi_status_for(actor(), req)
    return None if status is None else status == permissions.COI_CLEARED


def _page_context(req) -> dict:
    rows = service.domain_rows(req.id)
    comments = service.factual_comments(req.id)
    by_domain: dict[str | None, list] = {}
    for comment in comments:
        by_domain.setdefault(comment.domain, []).append(comment)
    return {
        "req": req,
        "rows": rows,
        "report": service.report_of(req.id),
        "comments_by_domain": by_domain,
        "comment_returns": service.comment_returns(req.id),
        "progress": progress({r.domain: r.status for r in rows}),
        "domain_labels": DOMAIN_LABELS,
        "response_labels": FACTUAL_RESPONSE_LABELS,
        "status_labels": DOMAIN_STATUS_LABELS,
        "report_documents": _report_documents(req.id),
        "documents_enabled": "documents.upload" in current_app.view_functions,
        "field_name": field_name,
    }


def _report_documents(request_id: int) -> list:
    """Uploaded assessment reports (the documents area's uploads of that type)."""
    try:
        from app.models.documents import Document
    except ImportError:  # pragma: no cover - the documents area is not installed
        return []
    return list(
        db.session.scalars(
            select(Document)
            .where(Document.request_id == request_id, Document.doc_type == REPORT_DOC_TYPE)
            .options(selectinload(Document.versions))
            .order_by(Document.created_at, Document.id)
        )
    )


# --- The checklist ------------------------------------------------------------------------------


@bp.route("/<int:request_id>/assessment", methods=["GET", "POST"])
def checklist(request_id: int):
    req = load_request(request_id)
    cleared = _cleared(req)
    if not permissions.can_view_assessment(actor(), req, cleared):
        abort(403)
    editable = permissions.can_edit_assessment(actor(), req, cleared)
    form_class = checklist_form_class()
    if http_request.method == "GET":
        context = _page_context(req)
        form = _filled(form_class(), context) if editable else None
        return _render_checklist(context, form, editable)
    if not editable:
        abort(403)
    form = form_class()
    if not form.validate():
        return _render_checklist(_page_context(req), form, editable, status=UNPROCESSABLE)
    form_page(
        lambda status: _render_checklist(_page_context(req), form, editable, status=status),
        show=lambda _error: form.form_errors.append(
            _("Check the domains: a domain marked done needs a conclusion.")
        ),
        refusals=(ValidationFailed,),
    )
    changes = service.save_assessment(
        actor(),
        req,
        form.entries(),
        form.summary.data or "",
        utcnow(),
        coi_cleared=cleared,
        ip=client_ip(),
    )
    db.session.commit()
    flash(_("Assessment saved.") if changes else _("No changes to save."), "success")
    return redirect(url_for("assessment.checklist", request_id=req.id))


def _filled(form, context):
    for row in context["rows"]:
        form[field_name("status", row.domain)].data = row.status
        form[field_name("findings", row.domain)].data = row.findings
        form[field_name("conclusion", row.domain)].data = row.conclusion
    report = context["report"]
    form.summary.data = report.summary if report else ""
    return form


def _render_checklist(context, form, editable, *, status=200, refusal=None, failed_reply=None):
    req = context["req"]
    triggers = [t for t in REPORT_TRIGGERS if _may_fire(req, t, editable)]
    return (
        render_template(
            "assessment/checklist.html",
            form=form,
            editable=editable,
            reply_forms=_reply_forms(req, context, failed_reply),
            report_actions=[(t, action_label(t)) for t in triggers],
            version_form=VersionForm(expected_version=str(req.version)),
            refusal=refusal,
            ctx=context,
            **context,
        ),
        status,
    )


def _reply_forms(req, context, failed=None) -> dict:
    """{comment id: its response form} when the assessor may answer the comments now;
    `failed` is (comment id, bound form) of a response refused, shown as typed."""
    if not service.can_answer_factual_comments(actor(), req, _cleared(req)):
        return {}
    forms = {}
    for comments in context["comments_by_domain"].values():
        for comment in comments:
            if failed and failed[0] == comment.id:
                forms[comment.id] = failed[1]
                continue
            form = FactualReplyForm(formdata=None, prefix=f"c{comment.id}")
            form.response.data, form.reply.data = comment.response, comment.reply or ""
            forms[comment.id] = form
    return forms


@bp.post("/<int:request_id>/assessment/comments/<int:comment_id>/answer")
def answer_factual_comment(request_id: int, comment_id: int):
    """The assessor accepts or does not accept one factual-accuracy comment, with a reply."""
    req = load_request(request_id)
    cleared = _cleared(req)
    if not service.can_answer_factual_comments(actor(), req, cleared):
        abort(403)
    form = FactualReplyForm(prefix=f"c{comment_id}")

    def again(status):
        context = _page_context(req)
        checklist = _filled(checklist_form_class()(formdata=None), context)
        return _render_checklist(
            context, checklist, True, status=status, failed_reply=(comment_id, form)
        )

    if not form.validate():
        return again(UNPROCESSABLE)
    form_page(again, show=lambda error: _reply_errors(form, error), refusals=(ValidationFailed,))
    changes = service.answer_factual_comment(
        actor(),
        req,
        comment_id,
        form.response.data,
        form.reply.data or "",
        utcnow(),
        coi_cleared=cleared,
        ip=client_ip(),
    )
    db.session.commit()
    flash(
        _("Your response to the comment was saved: the manufacturer can read it.")
        if changes
        else _("No changes to save."),
        "success",
    )
    return redirect(
        url_for("assessment.checklist", request_id=req.id, _anchor=f"comment-{comment_id}")
    )


def _reply_errors(form, error: ValidationFailed) -> None:
    for name in (error.details or {}).get("fields") or {}:
        if name in ("response", "reply"):
            form[name].errors = [*form[name].errors, _("Check this value.")]


def _may_fire(req, trigger: str, editable: bool) -> bool:
    source = {"send_draft_report": "assessment", "finalise_report": "factual_accuracy_check"}
    return editable and req.state == source[trigger]


@bp.post("/<int:request_id>/assessment/<trigger>")
def assessment_action(request_id: int, trigger: str):
    """Send the draft report to the manufacturer, or finalise it (the assessor)."""
    if trigger not in REPORT_TRIGGERS:
        abort(404)
    req = load_request(request_id)
    cleared = _cleared(req)
    if not permissions.can_edit_assessment(actor(), req, cleared):
        abort(403)
    form = VersionForm()
    refusal = {}
    form_page(
        lambda status: _render_refused_report(req, refusal, status),
        show=lambda error: refusal.update(
            message=error.message,
            items=[str(item) for item in (error.details or {}).get("missing") or []],
        ),
        refusals=(GuardFailed,),
    )
    fire(req, trigger, actor(), utcnow(), expected_version=version_of(form), ip=client_ip())
    db.session.commit()
    flash(_("Done: %(action)s.", action=action_label(trigger)), "success")
    return redirect(url_for("requests.detail", request_id=req.id))


def _render_refused_report(req, refusal: dict, status: int):
    """The checklist as saved, with why the report action was refused."""
    context = _page_context(req)
    form = _filled(checklist_form_class()(formdata=None), context)
    return _render_checklist(context, form, True, status=status, refusal=refusal)


# --- The factual-accuracy check (manufacturer) ------------------------------------------------


@bp.route("/<int:request_id>/factual-check", methods=["GET", "POST"])
def factual_check(request_id: int):
    req = load_request(request_id)
    if (
        not permissions.is_manufacturer_of(actor(), req)
        or req.state not in FACTUAL_CHECK_VISIBLE_STATES
    ):
        abort(403)
    open_for_comments = permissions.can_return_factual_comments(actor(), req)
    form_class = factual_comments_form_class()
    if http_request.method == "GET":
        form = form_class(expected_version=str(req.version)) if open_for_comments else None
        return _render_factual(req, form)
    if not open_for_comments:
        abort(403)
    form = form_class()
    if not form.validate():
        return _render_factual(req, form, UNPROCESSABLE)
    form_page(
        lambda status: _render_factual(req, form, status),
        show=lambda _error: form.form_errors.append(_("Write at least one comment.")),
        refusals=(ValidationFailed,),
    )
    service.return_factual_comments(
        actor(),
        req,
        form.section_comments(),
        form.general.data or "",
        utcnow(),
        section_labels={d: str(label) for d, label in DOMAIN_LABELS.items()},
        expected_version=version_of(form),
        ip=client_ip(),
    )
    db.session.commit()
    flash(_("Your comments were sent to the assessor."), "success")
    return redirect(url_for("requests.detail", request_id=req.id))


def _render_factual(req, form, status=200):
    context = _page_context(req)
    return (
        render_template(
            "assessment/factual_check.html",
            form=form,
            general_label=GENERAL_SECTION_LABEL,
            ctx=context,
            **context,
        ),
        status,
    )


# --- Appraisal and recommendation (agency) ----------------------------------------------------


@bp.route("/<int:request_id>/appraisal", methods=["GET", "POST"])
def appraisal(request_id: int):
    req = load_request(request_id)
    if actor().role != "agency" or req.state not in permissions.ASSESSMENT_VISIBLE_STATES:
        abort(403)
    can_decide = permissions.can_appraise(actor(), req)
    trigger = "open_consultation" if req.state == "appraisal" else "publish"
    if http_request.method == "GET":
        form = _recommendation_form(req) if can_decide else None
        return _render_appraisal(req, form, trigger)
    if not can_decide:
        abort(403)
    form = RecommendationForm()
    form.designated_centres.choices = active_irccs_choices()
    if not form.validate():
        return _render_appraisal(req, form, trigger, UNPROCESSABLE)
    form_page(
        lambda status: _render_appraisal(req, form, trigger, status),
        show=lambda error: (
            _guard_error(form, error)
            if isinstance(error, GuardFailed)
            else _field_errors(form, error)
        ),
        refusals=(ValidationFailed, GuardFailed),
    )
    fire(
        req,
        trigger,
        actor(),
        utcnow(),
        expected_version=version_of(form),
        ip=client_ip(),
        **form.recommendation_data(),
    )
    db.session.commit()
    flash(_("Done: %(action)s.", action=action_label(trigger)), "success")
    return redirect(url_for("requests.detail", request_id=req.id))


def _recommendation_form(req) -> RecommendationForm:
    """Prefilled from the recommendation put to consultation, when there is one."""
    form = RecommendationForm(formdata=None, expected_version=str(req.version))
    recommendation = getattr(req, "recommendation", None)
    if recommendation is not None:
        form.outcome.data = recommendation.outcome
        form.rationale.data = recommendation.rationale
        form.conditions.data = recommendation.conditions
        form.evidence_requirements.data = recommendation.evidence_requirements
        form.review_date.data = recommendation.review_date
        form.designation_criteria.data = recommendation.designation_criteria
        form.designated_centres.data = designated_centre_ids(req.id)
    form.designated_centres.choices = active_irccs_choices()
    return form


def _field_errors(form, error: ValidationFailed) -> None:
    messages = {
        "not_in_future": _("Choose a date after today."),
        "invalid_choice": _("Choose one of the options."),
        "required": _("This field is required."),
    }
    for name, code in (error.details.get("fields") or {}).items():
        message = messages.get(str(code), _("This value is not valid."))
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(message)


def _guard_error(form, error: GuardFailed) -> None:
    """A refused recommendation: the guard's message on the field it is about."""
    name = (error.details or {}).get("field")
    if name and name in form:
        form[name].errors = [*form[name].errors, error.message]
    else:
        form.form_errors.append(error.message)


def _render_appraisal(req, form, trigger, status=200):
    context = _page_context(req)
    return (
        render_template(
            "assessment/appraisal.html",
            form=form,
            trigger=trigger,
            trigger_label=action_label(trigger),
            recommendation=getattr(req, "recommendation", None),
            designated=designated_centre_names(req.id),
            outcome_labels=OUTCOME_LABELS,
            ctx=context,
            **context,
        ),
        status,
    )
