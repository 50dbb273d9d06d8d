"""Work queue ("what needs my action") and the workflow page (diagrams drawn from the
definitions). Thin views: read the filters, ask the service, render."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.models.types import utcnow
from app.requests.action_panel import role_label
from app.workflow.action_labels import action_label, choice_label, field_label
from app.workflow.definitions import ADOPTION_WORKFLOW, REIMBURSEMENT_WORKFLOW, REQUEST_WORKFLOW
from app.workflow.labels import adoption_state_label, reimbursement_state_label, state_label
from app.workqueue import bp
from app.workqueue.diagram import mermaid_state_diagram, transition_rows
from app.workqueue.panels import queue_page
from app.workqueue.presenters import barrier_rows, queue_rows
from app.workqueue.queries import QueueFilters, queue_states


def _filters() -> QueueFilters:
    args = request.args
    return QueueFilters(
        state=args.get("state") or None,
        overdue_only=args.get("overdue") in ("1", "on", "true"),
        text=(args.get("q") or "").strip()[:100],
        page=args.get("page", 1, type=int) or 1,
    )


@bp.get("/")
@login_required
def queue():
    filters = _filters()
    role = current_user.role
    now = utcnow()
    # The rows with their count, then the side panels: two statements at most.
    page, panels = queue_page(current_user, now, filters, current_app.config["PAGE_SIZE"])
    label = adoption_state_label if role == "irccs" else (lambda s: state_label(s, role))
    return render_template(
        "workqueue/queue.html",
        page=page,
        rows=queue_rows(page.items, role, label),
        filters=filters,
        states=queue_states(role),
        label=label,
        pending_comments=panels.pending_comments,
        barriers=panels.barriers,
        barrier_rows=barrier_rows(panels.barriers),
        choice_label=choice_label,
        tariff_cases=panels.tariff_cases,
    )


def _diagram_context(workflow, label) -> dict:
    return {
        "name": workflow.name,
        "mermaid": mermaid_state_diagram(
            workflow,
            state_labels=label,
            previous_state_text=_("previous state"),
            fan_in_text=lambda count: _("from %(count)d states (see the table)", count=count),
            condition_texts={
                "positive_outcome": _("positive"),
                "negative_outcome": _("negative"),
            },
        ),
        "rows": transition_rows(workflow),
        "label": label,
    }


@bp.get("/workflow")
@login_required
def workflow_diagram():
    return render_template(
        "workqueue/workflow.html",
        workflows=[
            (_("Request"), _diagram_context(REQUEST_WORKFLOW, state_label)),
            (_("IRCCS adoption"), _diagram_context(ADOPTION_WORKFLOW, adoption_state_label)),
            (
                _("Regional tariff"),
                _diagram_context(REIMBURSEMENT_WORKFLOW, reimbursement_state_label),
            ),
        ],
        action_label=action_label,
        field_label=field_label,
        role_label=role_label,
    )
