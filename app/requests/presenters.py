"""What the request page shows: the dossier as the reader may see it, workflow actions,
timeline, audit trail.

`dossier_context(actor, request)` gives the template the field schema's sections and what the
redaction hides from this reader (`app.domain.redaction`); the template draws each field by its
kind.

The request detail view merges `workflow_panel_context(actor, request)` into its template
context; `requests/_workflow_panel.html` draws it. When an action just failed (form errors,
a guard), the actions blueprint re-renders the request page after
`remember_failed_action(...)`, and the panel shows that form open with what the user typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import request as http_request
from flask import url_for

from app.adoption.designation import DesignationSummary, designation_summary
from app.adoption.time_to_patient import PatientPath, request_paths
from app.core import fire as workflow_service
from app.core.audit import entries_for_request
from app.domain.dossier_fields import SECTIONS, fields_in_section
from app.domain.permissions import PUBLISHED_STATES
from app.domain.redaction import view_of
from app.models.types import utcnow
from app.reports.time_to_patient import HOLDERS, holder_label
from app.requests.action_panel import (
    ActionView,
    AuditRow,
    action_views,
    audit_rows,
    failed_action_for,
)
from app.requests.completeness import (
    CHECKLIST_FIELD,
    INTAKE_CHECKLIST_TRIGGER,
    intake_checklist,
)
from app.workflow.labels import state_label
from app.workflow.states import CLOCK_STOP_STATES


@dataclass
class WorkflowPanel:
    state: str
    state_label: str
    clock_stopped: bool
    actions: list[ActionView] = field(default_factory=list)
    timeline: list = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)
    show_audit: bool = False
    role: str = ""
    # A published recommendation's designated centres (None: not published, or none named);
    # the pending requests to be added are listed for the agency only.
    designation: DesignationSummary | None = None
    # Submission to first patient at each IRCCS this reader may see (app.adoption.time_to_patient).
    patient_paths: list[PatientPath] = field(default_factory=list)

    def label(self, state: str | None) -> str:
        return state_label(state, self.role) if state else ""

    holders = HOLDERS

    @staticmethod
    def holder_label(holder: str) -> str:
        return holder_label(holder)


@dataclass(frozen=True)
class DossierSection:
    name: str
    fields: tuple  # app.domain.dossier_fields.DossierField


def dossier_context(actor, request) -> dict:
    """The dossier's sections and fields, and what of them this reader may not see."""
    view = view_of(actor, request)
    return {
        "dossier_sections": [DossierSection(s, fields_in_section(s)) for s in SECTIONS],
        "hidden_fields": view.hidden_fields,
        "marked_fields": view.marked_confidential,
        "show_confidential": view.sees_confidential,
    }


def _add_intake_checklist(actions: list[ActionView], request) -> None:
    """The agency's "mark incomplete" form lists the completeness checklist: what is missing
    is ticked already; each ticked line becomes a question of the information request."""
    for action in actions:
        if action.trigger == INTAKE_CHECKLIST_TRIGGER and action.form is not None:
            action.checklist = intake_checklist(request)
            if action.is_open:  # the form failed: ticked as posted
                action.checklist_ticked = frozenset(http_request.form.getlist(CHECKLIST_FIELD))
            else:
                action.checklist_ticked = frozenset(
                    line.label for line in action.checklist if not line.present
                )


def workflow_panel_context(actor, request) -> dict:
    """{"workflow_panel": WorkflowPanel} for the request page of `actor`."""
    role = actor.role
    now = utcnow()
    actions = action_views(
        workflow_service.action_availability(actor, request, now),
        version=request.version,
        url_for_trigger=lambda trigger: url_for(
            "actions.request_action", request_id=request.id, trigger=trigger
        ),
        failure=failed_action_for("request", request.id),
        kind="request",
        obj=request,
    )
    _add_intake_checklist(actions, request)
    # The audit trail is for the parties to the request (it carries reasons and data), each
    # reading the entries the redaction rules give them.
    view = view_of(actor, request)
    show_audit = view.sees_audit_trail
    timeline = list(workflow_service.stage_timeline(request, now))
    open_visits = [row for row in timeline if row.is_open]
    panel = WorkflowPanel(
        state=request.state,
        state_label=state_label(request.state, role),
        # The open visit says whose time it is (a clock stop handed back runs again).
        clock_stopped=open_visits[-1].clock_stopped
        if open_visits
        else request.state in CLOCK_STOP_STATES,
        actions=actions,
        timeline=timeline,
        audit=(
            audit_rows(entries_for_request(request.id, view), role=role, view=view)
            if show_audit
            else []
        ),
        show_audit=show_audit,
        role=role,
        designation=_designation(actor, request),
        patient_paths=request_paths(view, request, timeline, now),
    )
    return {"workflow_panel": panel}


def _designation(actor, request) -> DesignationSummary | None:
    if request.state not in PUBLISHED_STATES:
        return None
    recommendation = getattr(request, "recommendation", None)
    criteria = recommendation.designation_criteria if recommendation is not None else ""
    summary = designation_summary(request.id, criteria)
    if not summary.centres:
        return None
    if actor.role != "agency":
        summary.pending, summary.refused = [], []
    return summary
