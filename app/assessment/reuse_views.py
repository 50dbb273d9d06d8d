"""Reuse page of one request: the other requests matching it (duplicates flagged), the
existing assessments recorded on it, and the choice for each Core Model domain.

GET  /requests/<id>/reuse            assessment.reuse (agency; cleared assessors of the body)
POST /requests/<id>/reuse/prior      record an existing assessment
POST /requests/<id>/reuse/domains    adopt, adapt or redo each domain
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.assessment import bp
from app.assessment import reuse as service
from app.assessment.common import UNPROCESSABLE, actor, client_ip, load_request
from app.domain import permissions
from app.domain.core_model import DOMAINS
from app.domain.errors import ValidationFailed
from app.errors import form_page
from app.extensions import db
from app.forms.assessment import DOMAIN_LABELS, _choices, field_name
from app.forms.reuse import (
    CHOICE_LABELS,
    MATCH_LABELS,
    SOURCE_LABELS,
    PriorForm,
    domains_form_class,
)
from app.models.types import utcnow
from app.requests.queries import coi_status_for


def _cleared(req) -> bool | None:
    status = coi_status_for(actor(), req)
    return None if status is None else status == permissions.COI_CLEARED


def _load(request_id: int):
    req = load_request(request_id)
    if not permissions.can_view_reuse(actor(), req, _cleared(req)):
        abort(403)
    return req


def _prior_choices(priors) -> list[tuple[str, str]]:
    return [(str(p.id), f"{SOURCE_LABELS[p.source]}: {p.reference}") for p in priors]


def _domains_form(req, priors, formdata=None):
    form = domains_form_class(_prior_choices(priors))(formdata=formdata)
    if formdata is None:
        for domain, row in service.choices_of(req.id).items():
            form[field_name("choice", domain)].data = row.choice
            form[field_name("prior", domain)].data = str(row.prior_assessment_id)
            form[field_name("note", domain)].data = row.note
    return form


def _render(req, prior_form=None, domains_form=None, status=200):
    priors = service.priors_of(req.id)
    matches = service.matches_for(req)
    prior_form = prior_form or PriorForm()
    prior_form.source_request_id.choices = _choices(
        [("", "—")]
        + [
            (
                str(m.request.id),
                f"{m.request.receipt_number or '#' + str(m.request.id)} {m.request.title}",
            )
            for m in matches
        ]
    )
    return (
        render_template(
            "assessment/reuse.html",
            req=req,
            matches=matches,
            priors=priors,
            prior_form=prior_form,
            domains_form=domains_form or _domains_form(req, priors),
            editable=permissions.can_record_reuse(actor(), req, _cleared(req)),
            domains=DOMAINS,
            domain_labels=DOMAIN_LABELS,
            source_labels=SOURCE_LABELS,
            choice_labels=CHOICE_LABELS,
            match_labels=MATCH_LABELS,
            field_name=field_name,
        ),
        status,
    )


@bp.get("/<int:request_id>/reuse")
def reuse(request_id: int):
    return _render(_load(request_id))


def _show(form):
    def show(error: ValidationFailed) -> None:
        for name in (error.details or {}).get("fields") or {}:
            target = name if name in form else None
            message = _("Check this value.")
            if target:
                form[target].errors = [*form[target].errors, message]
            else:
                form.form_errors.append(message)

    return show


@bp.post("/<int:request_id>/reuse/prior")
def record_prior(request_id: int):
    req = _load(request_id)
    form = PriorForm()
    if not form.validate():
        return _render(req, prior_form=form, status=UNPROCESSABLE)
    form_page(
        lambda status: _render(_load(request_id), prior_form=form, status=status),
        show=_show(form),
        refusals=(ValidationFailed,),
    )
    service.record_prior(
        actor(), req, form.values(), utcnow(), coi_cleared=_cleared(req), ip=client_ip()
    )
    db.session.commit()
    flash(_("Existing assessment recorded."), "success")
    return redirect(url_for("assessment.reuse", request_id=req.id))


@bp.post("/<int:request_id>/reuse/domains")
def decide_domains(request_id: int):
    req = _load(request_id)
    priors = service.priors_of(req.id)
    from flask import request as http_request

    form = _domains_form(req, priors, http_request.form)
    if not form.validate():
        return _render(req, domains_form=form, status=UNPROCESSABLE)
    form_page(
        lambda status: _render(_load(request_id), domains_form=form, status=status),
        show=lambda _error: form.form_errors.append(_("Check the choices and prior assessments.")),
        refusals=(ValidationFailed,),
    )
    changes = service.decide_domains(
        actor(), req, form.entries(), utcnow(), coi_cleared=_cleared(req), ip=client_ip()
    )
    db.session.commit()
    flash(_("Choices saved.") if changes else _("No changes to save."), "success")
    return redirect(url_for("assessment.reuse", request_id=req.id))
