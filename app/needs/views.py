"""IRCCS needs pages: the list, posting a need, one need with its endorsements and linked
requests, endorsing, linking and unlinking. Refusals (403, 404, 409) go through the app's
error handler; invalid input re-renders the form with what was typed."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask import request as http_request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.domain import permissions
from app.errors import form_page
from app.extensions import db
from app.forms.needs import EndorseForm, LinkForm, NeedForm
from app.models.types import utcnow
from app.needs import bp, queries
from app.needs import operations as service
from app.requests.queries import get_request_for

UNPROCESSABLE = 422


def _actor():
    return current_user._get_current_object()


def _ip() -> str | None:
    return http_request.remote_addr


@bp.before_request
@login_required
def _readers_only():
    if not permissions.can_read_needs(_actor()):
        abort(403)


@bp.get("/")
def index():
    text = (http_request.args.get("q") or "").strip()[:100]
    page = queries.need_rows(
        text, http_request.args.get("page", 1, type=int) or 1, current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "needs/index.html", page=page, text=text, can_post=permissions.can_post_need(_actor())
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    if not permissions.can_post_need(_actor()):
        abort(403)
    form = NeedForm()
    if http_request.method == "GET":
        return render_template("needs/new.html", form=form)
    if not form.validate():
        return render_template("needs/new.html", form=form), UNPROCESSABLE
    form_page(lambda status: (render_template("needs/new.html", form=form), status))
    need = service.post_need(_actor(), form.values(), utcnow(), ip=_ip())
    db.session.commit()
    flash(_("Need posted: manufacturers and the agency can read it now."), "success")
    return redirect(url_for("needs.detail", need_id=need.id))


@bp.get("/<int:need_id>")
def detail(need_id: int):
    return _render_detail(service.get_need(_actor(), need_id))


def _render_detail(need, endorse_form=None, link_form=None, status=200):
    actor = _actor()
    endorsements = queries.endorsements_of(need.id)
    linked, linked_total = queries.linked_requests(actor, need.id)
    endorsed_orgs = {e.organisation_id for e in endorsements}
    can_endorse = (
        permissions.can_endorse_need(actor, need) and actor.organisation_id not in endorsed_orgs
    )
    linked_ids = {r.id for r in linked}
    link_form = link_form or LinkForm()
    link_form.request_id.choices = [
        SelectChoice(r.id, r.title)
        for r in queries.linkable_requests(actor)
        if r.id not in linked_ids
    ]
    return (
        render_template(
            "needs/detail.html",
            need=need,
            endorsements=endorsements,
            linked=linked,
            linked_total=linked_total,
            can_endorse=can_endorse,
            endorse_form=endorse_form or EndorseForm(),
            link_form=link_form,
            can_unlink={r.id for r in linked if permissions.can_link_need(actor, r)},
        ),
        status,
    )


@bp.post("/<int:need_id>/endorse")
def endorse(need_id: int):
    need = service.get_need(_actor(), need_id)
    form = EndorseForm()
    if not form.validate():
        return _render_detail(need, endorse_form=form, status=UNPROCESSABLE)
    service.endorse_need(_actor(), need, utcnow(), comment=form.comment.data or "", ip=_ip())
    db.session.commit()
    flash(_("Your IRCCS endorses this need."), "success")
    return redirect(url_for("needs.detail", need_id=need.id))


@bp.post("/<int:need_id>/link")
def link(need_id: int):
    need = service.get_need(_actor(), need_id)
    if _actor().role != "manufacturer":
        abort(403)
    form = LinkForm()
    form.request_id.choices = [
        SelectChoice(r.id, r.title) for r in queries.linkable_requests(_actor())
    ]
    if not form.validate():
        return _render_detail(need, link_form=form, status=UNPROCESSABLE)
    req = get_request_for(_actor(), form.request_id.data)
    service.link_need(_actor(), req, need, utcnow(), ip=_ip())
    db.session.commit()
    flash(_("%(device)s is linked to this need.", device=req.title), "success")
    return redirect(url_for("needs.detail", need_id=need.id))


@bp.post("/<int:need_id>/unlink")
def unlink(need_id: int):
    need = service.get_need(_actor(), need_id)
    request_id = http_request.form.get("request_id", type=int)
    if request_id is None:
        abort(400)
    req = get_request_for(_actor(), request_id)
    service.unlink_need(_actor(), req, need, utcnow(), ip=_ip())
    db.session.commit()
    flash(_("%(device)s is no longer linked to this need.", device=req.title), "success")
    return redirect(url_for("needs.detail", need_id=need.id))
