"""POST /requests/<request_id>/actions/<trigger>: fire a request workflow action.

Thin: load through the scoped loader (404 for a request the user may not see), then
`perform_action` validates the form, calls the workflow service and commits once. A form or
guard failure re-renders the request page (the dossier view) with the failed action open.
"""

from __future__ import annotations

from flask import current_app, make_response, url_for
from flask import request as http_request
from flask_login import current_user, login_required

from app.requests import actions_bp as bp
from app.requests.completeness import INTAKE_CHECKLIST_TRIGGER, with_checklist
from app.requests.perform import ActionTarget, perform_action
from app.requests.queries import get_request_for
from app.workflow.definitions import REQUEST_WORKFLOW
from app.workflow.labels import state_label

UNPROCESSABLE = 422


@bp.post("/<int:request_id>/actions/<trigger>")
@login_required
def request_action(request_id: int, trigger: str):
    device_request = get_request_for(current_user, request_id)
    target = ActionTarget(
        kind="request",
        obj=device_request,
        workflow=REQUEST_WORKFLOW,
        state_label=lambda state: state_label(state, current_user.role),
        success_url=url_for("requests.detail", request_id=request_id),
        rerender=lambda: rerender_request_page(request_id),
    )
    formdata = None
    if trigger == INTAKE_CHECKLIST_TRIGGER:
        formdata = with_checklist(http_request.form)
    return perform_action(target, trigger, formdata=formdata)


def rerender_request_page(request_id: int):
    """The request page again, with the failed action open (its view merges the panel)."""
    detail_view = current_app.view_functions["requests.detail"]
    response = make_response(detail_view(request_id=request_id))
    response.status_code = UNPROCESSABLE
    return response
