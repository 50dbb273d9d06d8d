"""Evidence milestones of one request: the list (whoever may see the request), setting one,
delivering it with its document, marking it missed (agency).

GET  /requests/<id>/milestones                          assessment.milestones
POST /requests/<id>/milestones                          set one
POST /requests/<id>/milestones/<m>/deliver              delivered (multipart: file)
POST /requests/<id>/milestones/<m>/miss                 missed
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.adoption.presenters import irccs_choices
from app.assessment import bp
from app.assessment import milestones as service
from app.assessment.common import UNPROCESSABLE, actor, client_ip, load_request
from app.domain.errors import NotFound, ValidationFailed
from app.domain.evidence import takes_milestones
from app.errors import form_page
from app.extensions import db
from app.forms.assessment import _choices
from app.forms.milestones import (
    ID_KIND_LABELS,
    STATUS_LABELS,
    STUDY_ID_MESSAGES,
    DeliverForm,
    MilestoneForm,
    MissForm,
)
from app.models.types import utcnow


def _load(request_id: int):
    req = load_request(request_id)
    if not takes_milestones(service.outcome_of(req)):
        abort(404)
    return req


def _milestone(req, milestone_id: int):
    for milestone in service.milestones_of(req.id):
        if milestone.id == milestone_id:
            return milestone
    raise NotFound("no such milestone")


def _render(req, form=None, status=200, failed=None):
    form = form or MilestoneForm()
    form.irccs_id.choices = _choices([("", "—")] + [(str(i), n) for i, n in irccs_choices()])
    return (
        render_template(
            "assessment/milestones.html",
            req=req,
            milestones=service.milestones_of(req.id),
            form=form,
            deliver_form=DeliverForm(),
            miss_form=MissForm(),
            can_manage=service.can_manage(actor(), req),
            kind_labels=ID_KIND_LABELS,
            status_labels=STATUS_LABELS,
            failed=failed,
        ),
        status,
    )


@bp.get("/<int:request_id>/milestones")
def milestones(request_id: int):
    return _render(_load(request_id))


def _show(form):
    def show(error: ValidationFailed) -> None:
        for name, code in ((error.details or {}).get("fields") or {}).items():
            message = STUDY_ID_MESSAGES.get(code, _("Check this value."))
            if name in form:
                form[name].errors = [*form[name].errors, message]
            else:
                form.form_errors.append(message)

    return show


@bp.post("/<int:request_id>/milestones")
def set_milestone(request_id: int):
    req = _load(request_id)
    form = MilestoneForm()
    if not service.can_manage(actor(), req):
        abort(403)
    if not form.validate():
        return _render(req, form, UNPROCESSABLE)
    form_page(lambda status: _render(_load(request_id), form, status), show=_show(form))
    service.set_milestone(actor(), req, form.values(), utcnow(), ip=client_ip())
    db.session.commit()
    flash(_("Milestone set."), "success")
    return redirect(url_for("assessment.milestones", request_id=req.id))


@bp.post("/<int:request_id>/milestones/<int:milestone_id>/deliver")
def deliver_milestone(request_id: int, milestone_id: int):
    req = _load(request_id)
    milestone = _milestone(req, milestone_id)
    if not service.can_manage(actor(), req):
        abort(403)
    form = DeliverForm()
    if not form.validate():
        flash(_("Choose the document that delivers the milestone."), "danger")
        return _render(req, status=UNPROCESSABLE, failed=milestone.id)
    form_page(lambda status: _render(_load(request_id), status=status, failed=milestone_id))
    service.deliver(actor(), req, milestone, form.file.data, utcnow(), ip=client_ip())
    db.session.commit()
    flash(_("Milestone delivered."), "success")
    return redirect(url_for("assessment.milestones", request_id=req.id))


@bp.post("/<int:request_id>/milestones/<int:milestone_id>/miss")
def miss_milestone(request_id: int, milestone_id: int):
    req = _load(request_id)
    milestone = _milestone(req, milestone_id)
    if not service.can_manage(actor(), req):
        abort(403)
    form = MissForm()
    if not form.validate():
        return _render(req, status=UNPROCESSABLE, failed=milestone.id)
    service.miss(actor(), req, milestone, utcnow(), reason=form.reason.data or "", ip=client_ip())
    db.session.commit()
    flash(_("Milestone marked as missed."), "success")
    return redirect(url_for("assessment.milestones", request_id=req.id))
