"""The two workflows of HTA Tracker, declared as data (DOMAIN.md "Request lifecycle" and
"IRCCS adoption"). Changing the process means changing these tables, not code.

Guards (checked by `app.core.fire` against the object):
- "dossier_complete": nothing is missing for submission (`app.domain.dossier_rules`);
- "body_assigned": a regional body is assigned to the request;
- "recommendation_in_force": the request of an adoption record is not suspended (an IRCCS may
  not move towards use while the agency has suspended the device; it may still stop).
"""

from __future__ import annotations

from app.workflow.facts import AGENCY, ASSESSOR, IRCCS, MANUFACTURER, REQUEST, states_where
from app.workflow.spec import DataField, TransitionSpec, WorkflowSpec
from app.workflow.states import ADOPTION_STATES, DECLINE_REASONS, OUTCOMES, REQUEST_STATES

SYSTEM = frozenset({"system"})  # `flask deadlines check`

# States a request can be withdrawn from by its manufacturer: anything before appraisal.
PRE_APPRAISAL_STATES = states_where(workflow=REQUEST, pre_appraisal=True)

# States the agency can suspend (on a safety signal or a suspended CE certificate).
SUSPENDABLE_STATES = states_where(workflow=REQUEST, suspendable=True)

ROUTES = ("eu_joint_clinical_assessment", "other_programme")

RECOMMENDATION_FIELDS = (
    DataField("outcome", "choice", choices=OUTCOMES),
    DataField("rationale", "textarea"),
    DataField("conditions", "textarea", required=False),
    DataField("evidence_requirements", "textarea", required=False),
    DataField("review_date", "date", required=False, future_only=True),
)


def _resume_transitions() -> tuple[TransitionSpec, ...]:
    """`resume` returns to the state the request left: one transition per possible origin,
    chosen by the "resumes_to_dest" condition."""
    return tuple(
        TransitionSpec(
            "resume",
            ("suspended",),
            origin,
            AGENCY,
            reason_required=True,
            condition="resumes_to_dest",
            continues_clock=True,
        )
        for origin in SUSPENDABLE_STATES
    )


REQUEST_WORKFLOW = WorkflowSpec(
    name="request",
    states=REQUEST_STATES,
    initial="draft",
    transitions=(
        TransitionSpec(
            "submit", ("draft",), "intake_review", MANUFACTURER, guard="dossier_complete"
        ),
        TransitionSpec(
            "mark_incomplete",
            ("intake_review",),
            "incomplete",
            AGENCY,
            reason_required=True,
            fields=(DataField("missing_items", "lines"),),
        ),
        TransitionSpec(
            "resubmit", ("incomplete",), "intake_review", MANUFACTURER, guard="dossier_complete"
        ),
        TransitionSpec("lapse_incomplete", ("incomplete",), "inadmissible", SYSTEM, lapse=True),
        TransitionSpec(
            "declare_inadmissible", ("intake_review",), "inadmissible", AGENCY, reason_required=True
        ),
        TransitionSpec("admit", ("intake_review",), "awaiting_prioritisation", AGENCY),
        TransitionSpec(
            "start_prioritisation", ("awaiting_prioritisation",), "prioritisation", AGENCY
        ),
        TransitionSpec(
            "prioritise", ("prioritisation",), "assignment", AGENCY, reason_required=True
        ),
        TransitionSpec(
            "defer", ("prioritisation",), "awaiting_prioritisation", AGENCY, reason_required=True
        ),
        TransitionSpec(
            "not_prioritise", ("prioritisation",), "not_prioritised", AGENCY, reason_required=True
        ),
        TransitionSpec(
            "route",
            ("prioritisation",),
            "routed",
            AGENCY,
            reason_required=True,
            fields=(DataField("route_to", "choice", choices=ROUTES),),
        ),
        TransitionSpec(
            "assign_body",
            ("assignment",),
            "assignment",
            AGENCY,
            internal=True,
            fields=(DataField("regional_body", "regional_body"),),
        ),
        TransitionSpec(
            "accept_assignment", ("assignment",), "assessment", ASSESSOR, guard="body_assigned"
        ),
        TransitionSpec(
            "decline_assignment",
            ("assignment",),
            "assignment",
            ASSESSOR,
            reason_required=True,
            internal=True,
            guard="body_assigned",
        ),
        TransitionSpec(
            "request_information",
            ("assessment",),
            "information_requested",
            ASSESSOR,
            fields=(DataField("questions", "lines"),),
        ),
        TransitionSpec(
            "answer_information",
            ("information_requested",),
            "assessment",
            MANUFACTURER,
            fields=(DataField("answers", "textarea"),),
            continues_clock=True,
        ),
        TransitionSpec(
            "lapse_information", ("information_requested",), "discontinued", SYSTEM, lapse=True
        ),
        TransitionSpec("send_draft_report", ("assessment",), "factual_accuracy_check", ASSESSOR),
        TransitionSpec(
            "return_factual_comments",
            ("factual_accuracy_check",),
            "factual_accuracy_check",
            MANUFACTURER,
            internal=True,
            fields=(DataField("comments", "textarea"),),
        ),
        TransitionSpec("finalise_report", ("factual_accuracy_check",), "appraisal", ASSESSOR),
        TransitionSpec(
            "open_consultation",
            ("appraisal",),
            "consultation",
            AGENCY,
            fields=RECOMMENDATION_FIELDS,
        ),
        TransitionSpec(
            "publish",
            ("consultation",),
            "adoption_monitoring",
            AGENCY,
            fields=RECOMMENDATION_FIELDS,
            condition="positive_outcome",
        ),
        TransitionSpec(
            "publish",
            ("consultation",),
            "not_recommended",
            AGENCY,
            fields=RECOMMENDATION_FIELDS,
            condition="negative_outcome",
        ),
        TransitionSpec(
            "review_due", ("adoption_monitoring",), "reassessment_due", AGENCY | SYSTEM, lapse=True
        ),
        TransitionSpec(
            "reassess",
            ("reassessment_due",),
            "assessment",
            AGENCY,
            reason_required=True,
            guard="body_assigned",
        ),
        TransitionSpec("archive", ("reassessment_due",), "archived", AGENCY, reason_required=True),
        TransitionSpec(
            "withdraw", PRE_APPRAISAL_STATES, "withdrawn", MANUFACTURER, reason_required=True
        ),
        TransitionSpec("suspend", SUSPENDABLE_STATES, "suspended", AGENCY, reason_required=True),
        *_resume_transitions(),
    ),
)

ADOPTION_WORKFLOW = WorkflowSpec(
    name="adoption",
    states=ADOPTION_STATES,
    initial="not_started",
    transitions=(
        TransitionSpec(
            "start_evaluation",
            ("not_started",),
            "local_evaluation",
            IRCCS,
            guard="recommendation_in_force",
        ),
        TransitionSpec(
            "approve_for_use",
            ("local_evaluation",),
            "approved_for_use",
            IRCCS,
            guard="recommendation_in_force",
        ),
        TransitionSpec(
            "decline",
            ("local_evaluation",),
            "declined",
            IRCCS,
            reason_required=True,
            fields=(DataField("decline_reason", "choice", choices=DECLINE_REASONS),),
        ),
        TransitionSpec(
            "start_procurement",
            ("approved_for_use",),
            "procurement",
            IRCCS,
            guard="recommendation_in_force",
        ),
        TransitionSpec(
            "start_use",
            ("approved_for_use", "procurement"),
            "in_use",
            IRCCS,
            guard="recommendation_in_force",
        ),
        TransitionSpec("discontinue_use", ("in_use",), "discontinued", IRCCS, reason_required=True),
    ),
)
