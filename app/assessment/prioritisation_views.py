"""Prioritisation pages: the ranking with the decisions (agency), one request's scores
(agency) and the criteria weights (admin)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask import request as http_request
from flask_babel import gettext as _

from app.assessment import bp
from app.assessment import prioritisation as service
from app.assessment.common import UNPROCESSABLE, actor, client_ip, load_request
from app.domain import permissions
from app.domain.errors import GuardFailed, ValidationFailed
from app.domain.needs import declared_need_score
from app.domain.prioritisation import CRITERIA, DECISION_TRIGGERS, WEIGHTED_CRITERIA
from app.errors import form_page
from app.extensions import db
from app.forms.assessment import (
    CRITERION_DIRECTIONS,
    CRITERION_LABELS,
    CRITERION_LEVELS,
    DECISION_LABELS,
    DecisionForm,
    field_name,
    scores_form_class,
    weights_form_class,
)
from app.models.types import utcnow
from app.needs.operations import need_figures
from app.needs.queries import needs_of_request
from app.workflow.action_labels import action_label

START = service.START_TRIGGER


def _decision_form(req, formdata=None) -> DecisionForm:
    form = DecisionForm(formdata=formdata, prefix=f"r{req.id}")
    if formdata is None:
        form.expected_version.data = str(req.version)
    return form


# --- The ranking ------------------------------------------------------------------------------


@bp.get("/prioritisation")
def ranking():
    return _render_ranking()


def _render_ranking(failed: tuple[int, DecisionForm] | None = None, status: int = 200):
    if actor().role != "agency":
        abort(403)
    rows, weights = service.ranking(actor())
    forms = {row.request.id: _decision_form(row.request) for row in rows}
    if failed is not None:
        forms[failed[0]] = failed[1]
    return (
        render_template(
            "assessment/ranking.html",
            rows=rows,
            weights=weights,
            forms=forms,
            failed_id=failed[0] if failed else None,
            criteria=CRITERIA,
            criterion_labels=CRITERION_LABELS,
            decisions=[(d, DECISION_LABELS[d]) for d in DECISION_TRIGGERS],
            default_weights=all(w == 1 for w in weights.values()),
        ),
        status,
    )


@bp.post("/<int:request_id>/prioritisation/decision")
def decide(request_id: int):
    req = load_request(request_id)
    if actor().role != "agency":
        abort(403)
    form = _decision_form(req, http_request.form)
    decision = form.decision.data
    if decision not in (*DECISION_TRIGGERS, START):
        abort(400)
    if decision != START and not form.validate():
        return _render_ranking((req.id, form), UNPROCESSABLE)
    form_page(
        lambda status: _render_ranking((req.id, form), status),
        show=lambda error: form.form_errors.append(_decision_refusal(error)),
    )
    service.decide(
        actor(),
        req,
        decision,
        utcnow(),
        reason=form.reason.data or "",
        route_to=form.route_to.data or None,
        expected_version=_version(form),
        ip=client_ip(),
    )
    db.session.commit()
    flash(_("%(device)s: %(action)s.", device=req.title, action=action_label(decision)), "success")
    return redirect(url_for("assessment.ranking"))


def _decision_refusal(error) -> str:
    """Why a decision was refused: a failed guard says what is missing; invalid input asks
    to check the reasons and choices."""
    if isinstance(error, GuardFailed):
        missing = [str(item) for item in (error.details or {}).get("missing") or []]
        return " ".join([error.message, ", ".join(missing)]).strip()
    return _("The decision was not recorded: check the reasons and the choices.")


def _version(form) -> str:
    """As sent: a blank or malformed version is refused by the kernel, never ignored."""
    return (form.expected_version.data or "").strip()


# --- One request's scores ---------------------------------------------------------------------


@bp.route("/<int:request_id>/prioritisation", methods=["GET", "POST"])
def scores(request_id: int):
    req = load_request(request_id)
    if not permissions.can_view_priority(actor(), req):
        abort(403)
    editable = permissions.can_score_priority(actor(), req)
    existing = service.scores_of(req.id)
    form_class = scores_form_class()
    if http_request.method == "GET":
        return _render_scores(req, _filled(form_class(), existing), existing, editable)
    if not editable:
        abort(403)
    form = form_class()
    if not form.validate():
        return _render_scores(req, form, existing, editable, UNPROCESSABLE)
    form_page(
        lambda status: _render_scores(req, form, existing, editable, status),
        show=lambda error: _show_errors(form, error),
        refusals=(ValidationFailed,),
    )
    changes = service.save_scores(actor(), req, form.entries(), utcnow(), ip=client_ip())
    db.session.commit()
    flash(_("Scores saved.") if changes else _("No changes to save."), "success")
    return redirect(url_for("assessment.scores", request_id=req.id))


def _filled(form, existing):
    for criterion, row in existing.items():
        form[field_name("score", criterion)].data = str(row.score)
        form[field_name("justification", criterion)].data = row.justification
    return form


def _show_errors(form, error: ValidationFailed) -> None:
    """Only reached when the form let through what the service refuses: show it anyway."""
    for name in error.details.get("fields") or {}:
        target = field_name("justification", name)
        if target in form:
            form[target].errors = [*form[target].errors, _("Check this score and its reasons.")]
        else:
            form.form_errors.append(_("Check the scores."))


def _render_scores(req, form, existing, editable, status=200):
    weights = service.current_weights()
    return (
        render_template(
            "assessment/scores.html",
            req=req,
            form=form,
            existing=existing,
            editable=editable,
            criteria=CRITERIA,
            criterion_labels=CRITERION_LABELS,
            criterion_levels=CRITERION_LEVELS,
            criterion_directions=CRITERION_DIRECTIONS,
            weights=weights,
            index=service.index_of(req.id, existing, weights),
            need_figures=need_figures([req.id])[req.id],
            needs=needs_of_request(req.id),
            declared_need_score=declared_need_score,
            field_name=field_name,
        ),
        status,
    )


# --- Weights (admin) ------------------------------------------------------------------------


@bp.route("/prioritisation/weights", methods=["GET", "POST"])
def weights():
    if not permissions.can_set_priority_weights(actor()):
        abort(403)
    form_class = weights_form_class()
    current = service.current_weights()
    if http_request.method == "GET":
        form = form_class()
        for criterion, weight in current.items():
            form[field_name("weight", criterion)].data = weight
        return _render_weights(form)
    form = form_class()
    if not form.validate():
        return _render_weights(form, UNPROCESSABLE)
    form_page(
        lambda status: _render_weights(form, status),
        show=lambda _error: form.form_errors.append(
            _("Check the weights: at least one must be above 0.")
        ),
        refusals=(ValidationFailed,),
    )
    changes = service.save_weights(actor(), form.weights(), utcnow(), ip=client_ip())
    db.session.commit()
    flash(
        _("Weights saved: the ranking now uses them.") if changes else _("No changes to save."),
        "success",
    )
    return redirect(url_for("assessment.weights"))


def _render_weights(form, status=200):
    return (
        render_template(
            "assessment/weights.html",
            form=form,
            criteria=WEIGHTED_CRITERIA,
            criterion_labels=CRITERION_LABELS,
            field_name=field_name,
        ),
        status,
    )
