"""IRCCS adoption pages: the list, one record with its actions, and the action POST.

GET  /adoptions/                                   adoptions.index (irccs, agency)
GET  /adoptions/<adoption_id>                      adoptions.detail
POST /adoptions/<adoption_id>/actions/<trigger>    adoptions.adoption_action
GET  /adoptions/barriers/<barrier_id>              adoptions.barrier (one barrier, for whoever
                                                   may see it: the region's users too)
POST /adoptions/barriers/<barrier_id>/actions/<trigger>   adoptions.barrier_action
Another IRCCS's record is a 404 everywhere (scoped loader); so is a barrier the reader may
not see (another region's, or not owned by the region).
"""

from __future__ import annotations

from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from app.adoption import bp
from app.adoption.barriers import load_barrier_for
from app.adoption.presenters import (
    NO_RECORD,
    AdoptionFilters,
    adoption_page,
    agency_adoptions,
    barrier_page,
    irccs_choices,
    irccs_recommendations,
    load_adoption,
)
from app.adoption.queries import get_adoption_for
from app.domain import roles
from app.reimbursement.queries import tariff_waits
from app.requests.perform import ActionTarget, perform_action
from app.workflow.action_labels import choice_label
from app.workflow.definitions import ADOPTION_WORKFLOW
from app.workflow.labels import adoption_state_label
from app.workflow.states import ADOPTION_STATES

LIST_ROLES = roles.ADOPTION_RECORD_ROLES
UNPROCESSABLE = 422


@bp.context_processor
def _label_helpers() -> dict:
    return {
        "outcome_label": lambda code: choice_label("outcome", code),
        "choice_label": choice_label,
    }


def _filters() -> AdoptionFilters:
    args = request.args
    irccs = args.get("irccs", "")
    return AdoptionFilters(
        state=args.get("state") or None,
        irccs_id=int(irccs) if irccs.isdigit() else None,
        text=(args.get("q") or "").strip()[:100],
        page=args.get("page", 1, type=int) or 1,
    )


@bp.get("/")
@login_required
def index():
    if current_user.role not in LIST_ROLES:
        abort(403)
    filters = _filters()
    per_page = current_app.config["PAGE_SIZE"]
    if current_user.role == "irccs":
        page = irccs_recommendations(current_user, filters, per_page)
        irccs_options = []
        # What the IRCCS's records wait for from its region (one statement for the page).
        waits = tariff_waits(adoption for _request, adoption in page.items if adoption)
    else:
        page = agency_adoptions(current_user, filters, per_page)
        irccs_options = irccs_choices()
        waits = {}
    return render_template(
        "adoptions/index.html",
        page=page,
        filters=filters,
        states=ADOPTION_STATES,
        no_record=NO_RECORD,
        irccs_options=irccs_options,
        tariff_waits=waits,
    )


def _load(adoption_id: int):
    return load_adoption(current_user, adoption_id)


@bp.get("/<int:adoption_id>")
@login_required
def detail(adoption_id: int):
    return render_detail(_load(adoption_id))


def render_detail(adoption, status: int = 200):
    context = adoption_page(current_user, adoption)
    return render_template("adoptions/detail.html", page=context), status


@bp.post("/<int:adoption_id>/actions/<trigger>")
@login_required
def adoption_action(adoption_id: int, trigger: str):
    adoption = _load(adoption_id)
    target = ActionTarget(
        kind="adoption",
        obj=adoption,
        workflow=ADOPTION_WORKFLOW,
        state_label=adoption_state_label,
        success_url=url_for("adoptions.detail", adoption_id=adoption_id),
        rerender=lambda: render_detail(_load(adoption_id), UNPROCESSABLE),
    )
    return perform_action(target, trigger)


def _load_barrier(barrier_id: int):
    barrier = load_barrier_for(current_user, barrier_id)
    if barrier is None:
        abort(404)
    return barrier


@bp.get("/barriers/<int:barrier_id>")
@login_required
def barrier(barrier_id: int):
    return render_barrier(_load_barrier(barrier_id))


def render_barrier(barrier, status: int = 200):
    context = barrier_page(current_user, barrier)
    return render_template("adoptions/barrier.html", page=context), status


@bp.post("/barriers/<int:barrier_id>/actions/<trigger>")
@login_required
def barrier_action(barrier_id: int, trigger: str):
    """Resolve or escalate one barrier from its own page (the region's users have no other:
    they do not read the adoption record)."""
    barrier = _load_barrier(barrier_id)
    if trigger not in BARRIER_PAGE_TRIGGERS:
        abort(404)
    # The record by the rule `fire` and the API apply to this action: the region's users reach
    # it to resolve, and for nothing else (not found, as on the record's own path).
    adoption = get_adoption_for(current_user, barrier.adoption_id, trigger=trigger)
    target = ActionTarget(
        kind="adoption",
        obj=adoption,
        workflow=ADOPTION_WORKFLOW,
        state_label=adoption_state_label,
        success_url=url_for("adoptions.barrier", barrier_id=barrier_id),
        rerender=lambda: render_barrier(_load_barrier(barrier_id), UNPROCESSABLE),
    )
    return perform_action(target, trigger)


BARRIER_PAGE_TRIGGERS = ("resolve_barrier", "escalate_barrier")
