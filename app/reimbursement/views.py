"""The reimbursement case page and its actions (thin: load through the scoped loader, ask
the presenter, render; actions go through the shared action form machinery and `fire`).

GET  /reimbursements/<case_id>                      reimbursements.detail
POST /reimbursements/<case_id>/actions/<trigger>    reimbursements.case_action
A case the reader may not see (another region's) is a 404.
"""

from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user, login_required

from app.reimbursement import bp
from app.reimbursement.presenters import case_page
from app.reimbursement.queries import get_case_for
from app.requests.perform import ActionTarget, perform_action
from app.workflow.definitions import REIMBURSEMENT_WORKFLOW
from app.workflow.labels import reimbursement_state_label

UNPROCESSABLE = 422


def _load(case_id: int):
    return get_case_for(current_user, case_id)


@bp.get("/<int:case_id>")
@login_required
def detail(case_id: int):
    return render_detail(_load(case_id))


def render_detail(case, status: int = 200):
    return render_template("reimbursements/detail.html", page=case_page(current_user, case)), status


@bp.post("/<int:case_id>/actions/<trigger>")
@login_required
def case_action(case_id: int, trigger: str):
    case = _load(case_id)
    target = ActionTarget(
        kind="reimbursement",
        obj=case,
        workflow=REIMBURSEMENT_WORKFLOW,
        state_label=reimbursement_state_label,
        success_url=url_for("reimbursements.detail", case_id=case_id),
        rerender=lambda: render_detail(_load(case_id), UNPROCESSABLE),
    )
    return perform_action(target, trigger)
