"""Safety pages (agency only; anybody else gets 403): the alerts with their one-click
suspension, and a device's adverse-event threshold."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask import request as http_request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.domain.errors import ValidationFailed
from app.errors import form_page
from app.extensions import db
from app.models.types import utcnow
from app.requests.queries import get_request_for
from app.safety import bp
from app.safety import operations as service

UNPROCESSABLE = 422


def _actor():
    return current_user._get_current_object()


@bp.before_request
@login_required
def _agency_only():
    if current_user.role != "agency":
        abort(403)


def _render_alerts(status=200, failed=None, message=None):
    open_alerts = service.alerts("open")
    thresholds = {a.request_id: service.threshold_for(a.request) for a in open_alerts}
    return (
        render_template(
            "safety/alerts.html",
            open_alerts=open_alerts,
            closed_alerts=[a for a in service.alerts(limit=50) if a.status != "open"],
            thresholds=thresholds,
            failed=failed,
            message=message,
        ),
        status,
    )


@bp.get("/")
def index():
    return _render_alerts()


@bp.post("/alerts/<int:alert_id>/suspend")
def suspend(alert_id: int):
    alert = service.get_alert(_actor(), alert_id)
    form = http_request.form
    form_page(lambda status: _render_alerts(status, failed=alert_id))
    service.suspend_from(
        _actor(),
        alert,
        utcnow(),
        reason=form.get("reason", ""),
        fsn_number=form.get("fsn_number", ""),
        authority_reference=form.get("authority_reference", ""),
        ip=http_request.remote_addr,
    )
    db.session.commit()
    flash(
        _("%(device)s is suspended; every IRCCS concerned is told.", device=alert.request.title),
        "success",
    )
    return redirect(url_for("safety.index"))


@bp.post("/alerts/<int:alert_id>/dismiss")
def dismiss(alert_id: int):
    alert = service.get_alert(_actor(), alert_id)
    form_page(
        lambda status: _render_alerts(
            status, failed=alert_id, message=_("Write why the alert is dismissed.")
        ),
        show=lambda _error: None,
        refusals=(ValidationFailed,),
    )
    service.dismiss(
        _actor(), alert, utcnow(), http_request.form.get("reason", ""), ip=http_request.remote_addr
    )
    db.session.commit()
    flash(_("Alert dismissed."), "success")
    return redirect(url_for("safety.index"))


@bp.route("/requests/<int:request_id>/threshold", methods=["GET", "POST"])
def threshold(request_id: int):
    req = get_request_for(_actor(), request_id)
    value, source = service.threshold_for(req)
    if http_request.method == "POST":
        typed = (http_request.form.get("per_100") or "").strip().replace(",", ".")
        form_page(
            lambda status: (
                render_template(
                    "safety/threshold.html",
                    req=req,
                    value=value,
                    source=source,
                    typed=typed,
                    error=_(
                        "Enter a number of adverse events per 100 procedures, above 0 and at "
                        "most 100."
                    ),
                ),
                status,
            ),
            show=lambda _error: None,
            refusals=(ValidationFailed,),
        )
        service.set_threshold(_actor(), req, typed, utcnow(), ip=http_request.remote_addr)
        db.session.commit()
        flash(_("Threshold saved."), "success")
        return redirect(url_for("safety.threshold", request_id=req.id))
    return render_template(
        "safety/threshold.html", req=req, value=value, source=source, typed="", error=None
    )
