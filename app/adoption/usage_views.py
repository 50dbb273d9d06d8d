"""Usage reports of one adoption record: the IRCCS reports or corrects a quarter and reads its
history; the agency reads them. Another IRCCS's record is a 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask import request as http_request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.adoption import usage as service
from app.adoption import usage_bp as bp
from app.adoption.queries import get_adoption_for
from app.assessment.common import UNPROCESSABLE, actor, client_ip, request_changed_message
from app.domain import permissions
from app.domain.deadlines import rome_date
from app.domain.errors import ValidationFailed
from app.domain.redaction import view_of
from app.errors import explain_conflicts_of, form_page
from app.extensions import db
from app.forms.assessment import UsageReportForm
from app.models.types import utcnow

FIELD_MESSAGES = {
    "in_future": _l("This quarter has not started yet."),
    "required": _l("Say what was wrong with the figures reported before."),
}

explain_conflicts_of(bp, request_changed_message)


def _load(request_id: int, adoption_id: int):
    adoption = get_adoption_for(actor(), adoption_id)
    if adoption.request_id != request_id:
        abort(404)
    return adoption


@bp.route("/<int:request_id>/adoptions/<int:adoption_id>/usage", methods=["GET", "POST"])
@login_required
def usage(request_id: int, adoption_id: int):
    adoption = _load(request_id, adoption_id)
    can_report = permissions.can_report_usage(actor(), adoption)
    if http_request.method == "GET":
        form = _prefilled(adoption) if can_report else None
        return _render(adoption, form, can_report)
    if not can_report:
        abort(403)
    form = UsageReportForm()
    if not form.validate():
        return _render(adoption, form, can_report, UNPROCESSABLE)
    form_page(
        lambda status: _render(adoption, form, can_report, status),
        show=lambda error: _show_errors(form, error),
        refusals=(ValidationFailed,),
    )
    report = service.report_usage(
        actor(),
        adoption,
        form.figures(),
        utcnow(),
        reason=form.reason.data or "",
        ip=client_ip(),
    )
    db.session.commit()
    flash(
        _(
            "Q%(quarter)s %(year)s reported (version %(version)s).",
            quarter=report.quarter,
            year=report.year,
            version=report.version,
        ),
        "success",
    )
    return redirect(url_for("usage.usage", request_id=request_id, adoption_id=adoption_id))


def _prefilled(adoption) -> UsageReportForm:
    """Empty for a new quarter; ?year=&quarter= starts a correction from the latest figures."""
    form = UsageReportForm(formdata=None)
    year = http_request.args.get("year", type=int)
    quarter = http_request.args.get("quarter", type=int)
    latest = next(
        (
            q.latest
            for q in service.by_quarter(service.history(adoption.id))
            if (q.latest.year, q.latest.quarter) == (year, quarter)
        ),
        None,
    )
    if latest is None:
        form.year.data = rome_date(utcnow()).year
        return form
    form.year.data, form.quarter.data = latest.year, str(latest.quarter)
    for name in service.FIGURES:
        form[name].data = getattr(latest, name)
    return form


def _show_errors(form, error: ValidationFailed) -> None:
    for name, code in (error.details.get("fields") or {}).items():
        message = FIELD_MESSAGES.get(str(code), _("This value is not valid."))
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(message)


def _render(adoption, form, can_report, status=200):
    quarters = service.by_quarter(service.history(adoption.id))
    return (
        render_template(
            "adoptions/usage.html",
            adoption=adoption,
            device_request=adoption.request,
            quarters=quarters,
            form=form,
            can_report=can_report,
            expected=service.expected_per_quarter(
                adoption.request, view_of(actor(), adoption.request)
            ),
        ),
        status,
    )
