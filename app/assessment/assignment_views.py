"""Assignment to a regional HTA body (agency) and conflicts of interest: the assessor's
declaration, and the agency's override of a declared conflict."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask import request as http_request
from flask_babel import gettext as _
from sqlalchemy import select

from app.assessment import assignment as assignment_service
from app.assessment import bp
from app.assessment import coi as coi_service
from app.assessment.common import UNPROCESSABLE, actor, client_ip, load_request, version_of
from app.domain import permissions
from app.domain.errors import Conflict, ValidationFailed
from app.errors import form_page, said_by_the_page
from app.extensions import db
from app.forms.assessment import AssignBodyForm, CoiDeclarationForm, CoiOverrideForm
from app.models import User
from app.models.types import utcnow

# --- The body-choice page ---------------------------------------------------------------------


def _agency_request(request_id: int):
    req = load_request(request_id)
    if not permissions.can_override_coi(actor()):  # the agency's page
        abort(403)
    return req


@bp.get("/<int:request_id>/assignment")
def assignment(request_id: int):
    return _render_assignment(_agency_request(request_id))


def _render_assignment(req, status=200, override_forms=None, failed_body=None, message=""):
    now = utcnow()
    declarations = coi_service.declarations_for(req.id)
    body_assessors = _body_assessors(req)
    declared_ids = {d.user_id for d in declarations}
    forms = override_forms or {}
    for declaration in declarations:
        forms.setdefault(declaration.id, CoiOverrideForm(prefix=f"o{declaration.id}"))
    return (
        render_template(
            "assessment/assignment.html",
            req=req,
            bodies=assignment_service.body_workload(now),
            declined=assignment_service.declined_bodies(req.id),
            can_assign=req.state == "assignment",
            declarations=declarations,
            undeclared=[u for u in body_assessors if u.id not in declared_ids],
            override_forms=forms,
            failed_body=failed_body,
            message=message,
            status_of=permissions.coi_status,
        ),
        status,
    )


def _body_assessors(req) -> list[User]:
    if req.assigned_body_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.organisation_id == req.assigned_body_id,
                User.role == "assessor",
                User.active.is_(True),
            )
            .order_by(User.full_name, User.email)
        )
    )


@bp.post("/<int:request_id>/assignment")
def assign(request_id: int):
    req = _agency_request(request_id)
    form = AssignBodyForm()
    body = form.regional_body.data or ""
    if not form.validate() or not body.isdigit():
        return _render_assignment(
            req, UNPROCESSABLE, message=_("Choose one of the regional bodies.")
        )
    form_page(
        lambda status: _render_assignment(
            req,
            status,
            failed_body=int(body),
            message=_("This body cannot be assigned: it is not an active regional HTA body."),
        ),
        show=said_by_the_page,
        refusals=(ValidationFailed,),
    )
    assignment_service.assign(
        actor(), req, int(body), utcnow(), expected_version=version_of(form), ip=client_ip()
    )
    db.session.commit()
    flash(_("Regional HTA body assigned: it is asked to accept the assessment."), "success")
    return redirect(url_for("assessment.assignment", request_id=req.id))


@bp.post("/<int:request_id>/coi/<int:declaration_id>/override")
def coi_override(request_id: int, declaration_id: int):
    req = _agency_request(request_id)
    declaration = coi_service.declaration_for_override(actor(), req, declaration_id)
    form = CoiOverrideForm(prefix=f"o{declaration.id}")
    if not form.validate():
        return _render_assignment(req, UNPROCESSABLE, override_forms={declaration.id: form})
    try:
        coi_service.override(
            actor(), declaration, reason=form.reason.data, now=utcnow(), ip=client_ip()
        )
        db.session.commit()
    except Conflict:  # nothing left to override (someone did it first): not an error page
        db.session.rollback()
        flash(_("There is no conflict left to override for this assessor."), "warning")
        return redirect(url_for("assessment.assignment", request_id=req.id))
    flash(_("Conflict overridden: the assessor may now work on this request."), "success")
    return redirect(url_for("assessment.assignment", request_id=req.id))


# --- The assessor's declaration -----------------------------------------------------------------


@bp.route("/<int:request_id>/coi", methods=["GET", "POST"])
def coi_declaration(request_id: int):
    req = coi_service.request_for_declaration(actor(), request_id)
    declaration = coi_service.declaration_of(req.id, actor().id)
    form = CoiDeclarationForm()
    if http_request.method == "GET":
        return _render_declaration(req, declaration, form)
    if not form.validate():
        return _render_declaration(req, declaration, form, UNPROCESSABLE)
    has_conflict = form.conflict.data == "conflict"
    form_page(
        lambda status: _render_declaration(req, declaration, form, status),
        show=lambda error: _show_declaration_refusal(form, error),
        refusals=(ValidationFailed, Conflict),
    )
    coi_service.declare(
        actor(),
        req,
        has_conflict=has_conflict,
        description=form.description.data or "",
        now=utcnow(),
        ip=client_ip(),
    )
    db.session.commit()
    if has_conflict:
        flash(
            _(
                "Conflict declared. You will not see this request unless the agency decides "
                "you may take part."
            ),
            "info",
        )
        return redirect(url_for("assessment.coi_declaration", request_id=req.id))
    flash(_("Thank you: you declared no conflict of interest."), "success")
    return redirect(url_for("requests.detail", request_id=req.id))


def _show_declaration_refusal(form, error) -> None:
    if isinstance(error, Conflict):
        form.form_errors.append(
            _("You declared a conflict for this request: only the agency can lift it.")
        )
    else:
        form.description.errors = [*form.description.errors, _("Describe the conflict.")]


def _render_declaration(req, declaration, form, status=200):
    return (
        render_template(
            "assessment/coi_declaration.html",
            device_name=req.trade_name or req.title,
            manufacturer_name=req.manufacturer.name,
            request_id=req.id,
            declaration=declaration,
            status=permissions.coi_status(declaration),
            form=form,
        ),
        status,
    )
