"""The three workflows of HTA Tracker, declared as data (DOMAIN.md "Request lifecycle",
"IRCCS adoption" and "After the recommendation: the road to the patient", the regional
tariff). Changing the process means changing these tables, not code.

Guards: every precondition of a transition is a guard named in its `guards`, in the order
they are checked. Each name is registered in `app.core.guards` (by the kernel, or by the
feature package that owns the content it looks at); `fire` checks them all and refuses the
first that fails (GuardFailed, HTTP 422), and the available-actions list reports the state
guards that fail as the reasons an action is blocked.

State guards (they depend on the object and the actor):
- "dossier_complete": nothing is missing for submission (`app.domain.dossier_rules`; kernel);
- "mandatory_documents": every mandatory document type is uploaded (`app.documents.hooks`);
- "questions_answered": every question of the open information round has an answer
  (`app.documents.hooks`);
- "body_assigned": a regional body is assigned to the request (kernel), before the agency
  sends it back to assessment (an assessor's own actions need no guard for it: only an
  assessor of the assigned body may take them);
- "assessor_cleared": an assessor acting is cleared of conflicts of interest for the request
  (declared none, or the agency overrode the declared conflict; `app.assessment.coi`); other
  actors pass;
- "core_model_domains_started": no HTA Core Model domain is still not started
  (`app.assessment.core_model`);
- "priority_scores_complete": all 12 prioritisation criteria are scored
  (`app.assessment.prioritisation`), for a decision on the merits (prioritise or not);
  deferring and routing elsewhere need no scores;
- "adoption_dates_plausible": a backdated adoption step is dated no earlier than the
  recommendation's publication, and a first patient no earlier than the decision (kernel);
- "consultation_minimum": the public consultation has lasted its minimum period (30 days by
  default, configurable with the deadlines) before the recommendation is published (kernel;
  it reads the moment of the transition);
- "designation_askable": an IRCCS asking to be added to the designated centres is not one,
  has no request pending, and the recommendation names designated centres
  (`app.adoption.designation`);
- "recommendation_in_force": the request of an adoption record is not suspended (an IRCCS may
  not move towards use while the agency has suspended the device; it may still stop; kernel);
- "barrier_recordable": an adoption record has declined, or stalled (stayed in its state at
  least the state's `barrier_after_days`) (`app.adoption.barriers`);
- "tariff_requestable": the region of the adoption record's IRCCS has no reimbursement case
  for the request yet (one case per recommendation and region; `app.reimbursement.service`).

Data guards (they depend on the data the action carries; kernel):
- "restriction_conditions": a "recommended_restricted" outcome names its conditions;
- "evidence_generation_plan": a "recommended_with_evidence_generation" outcome lists the
  evidence to be generated and sets the review date;
- "designated_centres_named": a "recommended_restricted" or
  "recommended_with_evidence_generation" outcome names the IRCCS where the device may be used
  (only they get adoption records);
- "centre_not_designated": the IRCCS the agency designates is not one already;
- "designation_pending": the IRCCS whose request the agency refuses has one pending
  (both `app.adoption.designation`);
- "barrier_resolvable": the barrier is this record's, not resolved, and the actor may resolve
  it (its IRCCS, the agency, or the region's users for a barrier the region owns);
- "barrier_escalatable": the barrier is this record's and open (not escalated nor resolved)
  (both `app.adoption.barriers`).
"""

from __future__ import annotations

from app.workflow.facts import (
    ADOPTION,
    AGENCY,
    ASSESSOR,
    IRCCS,
    MANUFACTURER,
    REIMBURSEMENT,
    REQUEST,
    facts,
    states_where,
)
from app.workflow.spec import DataField, TransitionSpec, WorkflowSpec
from app.workflow.states import (
    ADOPTION_STATES,
    BARRIER_KINDS,
    BARRIER_OWNERS,
    DECLINE_REASONS,
    OUTCOMES,
    PROCUREMENT_ROUTES,
    REIMBURSEMENT_STATES,
    REQUEST_STATES,
    TARIFF_KINDS,
)

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
    # The IRCCS where the device may be used (restrictions, evidence generation), and how
    # they were chosen (e.g. a specialty).
    DataField("designated_centres", "irccs_list", required=False),
    DataField("designation_criteria", "textarea", required=False),
)

# Vigilance references a suspension may carry: the manufacturer's field safety notice number
# and the competent authority's reference (the safety loop, issue 14).
VIGILANCE_FIELDS = (
    DataField("fsn_number", "text", required=False),
    DataField("authority_reference", "text", required=False),
)

# The rules a recommendation's data must follow, whether put to consultation or published.
RECOMMENDATION_GUARDS = (
    "restriction_conditions",
    "evidence_generation_plan",
    "designated_centres_named",
)
# Publishing also waits for the consultation's minimum period.
PUBLICATION_GUARDS = (*RECOMMENDATION_GUARDS, "consultation_minimum")


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
            "submit",
            ("draft",),
            "intake_review",
            MANUFACTURER,
            guards=("dossier_complete", "mandatory_documents"),
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
            "resubmit",
            ("incomplete",),
            "intake_review",
            MANUFACTURER,
            guards=("dossier_complete", "mandatory_documents", "questions_answered"),
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
            "prioritise",
            ("prioritisation",),
            "assignment",
            AGENCY,
            reason_required=True,
            guards=("priority_scores_complete",),
        ),
        TransitionSpec(
            "defer", ("prioritisation",), "awaiting_prioritisation", AGENCY, reason_required=True
        ),
        TransitionSpec(
            "not_prioritise",
            ("prioritisation",),
            "not_prioritised",
            AGENCY,
            reason_required=True,
            guards=("priority_scores_complete",),
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
            "accept_assignment",
            ("assignment",),
            "assessment",
            ASSESSOR,
            guards=("assessor_cleared",),
        ),
        TransitionSpec(
            "decline_assignment",
            ("assignment",),
            "assignment",
            ASSESSOR,
            reason_required=True,
            internal=True,
            guards=("assessor_cleared",),
        ),
        TransitionSpec(
            "request_information",
            ("assessment",),
            "information_requested",
            ASSESSOR,
            fields=(DataField("questions", "lines"),),
            guards=("assessor_cleared",),
        ),
        TransitionSpec(
            "answer_information",
            ("information_requested",),
            "assessment",
            MANUFACTURER,
            fields=(DataField("answers", "textarea"),),
            continues_clock=True,
            guards=("questions_answered",),
        ),
        TransitionSpec(
            "lapse_information", ("information_requested",), "discontinued", SYSTEM, lapse=True
        ),
        TransitionSpec(
            "send_draft_report",
            ("assessment",),
            "factual_accuracy_check",
            ASSESSOR,
            guards=("assessor_cleared", "core_model_domains_started"),
        ),
        TransitionSpec(
            "return_factual_comments",
            ("factual_accuracy_check",),
            "factual_accuracy_check",
            MANUFACTURER,
            internal=True,
            # The manufacturer's time ends with its comments: the assessor's finalisation
            # runs on the agency side's clock (issue 13, item 7).
            hands_back_clock=True,
            fields=(DataField("comments", "textarea"),),
        ),
        TransitionSpec(
            "finalise_report",
            ("factual_accuracy_check",),
            "appraisal",
            ASSESSOR,
            guards=("assessor_cleared",),
        ),
        TransitionSpec(
            "open_consultation",
            ("appraisal",),
            "consultation",
            AGENCY,
            fields=RECOMMENDATION_FIELDS,
            guards=RECOMMENDATION_GUARDS,
        ),
        TransitionSpec(
            "publish",
            ("consultation",),
            "adoption_monitoring",
            AGENCY,
            fields=RECOMMENDATION_FIELDS,
            guards=PUBLICATION_GUARDS,
            condition="positive_outcome",
        ),
        TransitionSpec(
            "publish",
            ("consultation",),
            "not_recommended",
            AGENCY,
            fields=RECOMMENDATION_FIELDS,
            guards=PUBLICATION_GUARDS,
            condition="negative_outcome",
        ),
        # Designated centres (issue 13): another IRCCS asks to be added; the agency decides.
        # Internal: the request stays in adoption monitoring, the clock runs on.
        TransitionSpec(
            "ask_designation",
            ("adoption_monitoring",),
            "adoption_monitoring",
            IRCCS,
            reason_required=True,
            internal=True,
            guards=("designation_askable",),
        ),
        TransitionSpec(
            "designate_centre",
            ("adoption_monitoring",),
            "adoption_monitoring",
            AGENCY,
            internal=True,
            fields=(DataField("irccs", "irccs"),),
            guards=("centre_not_designated",),
        ),
        TransitionSpec(
            "refuse_designation",
            ("adoption_monitoring",),
            "adoption_monitoring",
            AGENCY,
            reason_required=True,
            internal=True,
            fields=(DataField("irccs", "irccs"),),
            guards=("designation_pending",),
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
            guards=("body_assigned",),
        ),
        TransitionSpec("archive", ("reassessment_due",), "archived", AGENCY, reason_required=True),
        TransitionSpec(
            "withdraw", PRE_APPRAISAL_STATES, "withdrawn", MANUFACTURER, reason_required=True
        ),
        TransitionSpec(
            "suspend",
            SUSPENDABLE_STATES,
            "suspended",
            AGENCY,
            reason_required=True,
            fields=VIGILANCE_FIELDS,
        ),
        *_resume_transitions(),
    ),
)

# The day an adoption step really happened, when it is recorded later (empty: today). Never
# in the future (`past_only`); not before the recommendation ("adoption_dates_plausible").
DECISION_DATE = DataField("decision_date", "date", required=False, past_only=True)
FIRST_USE_DATE = DataField("first_use_date", "date", required=False, past_only=True)

# The procurement of an approved device: its route and call when it starts, the award (CIG,
# date, price, supplier) recorded later without leaving the state (`record_award`). The
# awarded price is the IRCCS's confidential figure (`app.domain.procurement`).
PROCUREMENT_START_FIELDS = (
    DataField("procurement_route", "choice", choices=PROCUREMENT_ROUTES),
    DataField("tender_cig", "cig", required=False),
    DataField("call_date", "date", required=False, past_only=True),
)
PROCUREMENT_AWARD_FIELDS = (
    DataField("tender_cig", "cig"),
    DataField("award_date", "date", required=False, past_only=True),  # empty: today
    DataField("awarded_price", "amount"),
    DataField("supplier", "text"),
)

# Adoption barriers (issue 13, item 4): internal transitions of the adoption record, so that
# each is audited and the record's version moves; the barrier rows are written after them
# (`app.adoption.barriers`). Recorded where the state allows it (declined, or stalled: the
# "barrier_recordable" guard times the stay); resolved or escalated from any state, since a
# barrier outlives the state it was recorded in. The region's users (assessors of the
# regional body of the IRCCS's region) only resolve the barriers the region owns.
BARRIER_STATES = tuple(
    state for state in ADOPTION_STATES if facts(state, ADOPTION).barrier_after_days is not None
)
BARRIER_RECORD_FIELDS = (
    DataField("barrier_kind", "choice", choices=BARRIER_KINDS),
    DataField("barrier_description", "textarea"),
    DataField("barrier_owner", "choice", choices=BARRIER_OWNERS),
    DataField("barrier_due_date", "date", future_only=True),
)


def _barrier_transitions() -> tuple[TransitionSpec, ...]:
    """One internal transition per state it may be fired from (an internal transition stays
    in its one source state)."""
    record = (
        TransitionSpec(
            "record_barrier",
            (state,),
            state,
            IRCCS,
            internal=True,
            fields=BARRIER_RECORD_FIELDS,
            guards=("barrier_recordable",),
        )
        for state in BARRIER_STATES
    )
    resolve = (
        TransitionSpec(
            "resolve_barrier",
            (state,),
            state,
            IRCCS | AGENCY | ASSESSOR,
            internal=True,
            fields=(DataField("barrier", "barrier"), DataField("resolution_note", "textarea")),
            guards=("barrier_resolvable",),
        )
        for state in ADOPTION_STATES
    )
    escalate = (
        TransitionSpec(
            "escalate_barrier",
            (state,),
            state,
            IRCCS | AGENCY,
            reason_required=True,
            internal=True,
            fields=(DataField("barrier", "barrier"),),
            guards=("barrier_escalatable",),
        )
        for state in ADOPTION_STATES
    )
    return (*record, *resolve, *escalate)


# Where an IRCCS may ask its region for the tariff: from its evaluation until it buys.
TARIFF_REQUESTABLE_STATES = (
    "local_evaluation",
    *states_where(workflow=ADOPTION, ready_for_tariff=True),
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
            guards=("recommendation_in_force",),
        ),
        TransitionSpec(
            "approve_for_use",
            ("local_evaluation",),
            "approved_for_use",
            IRCCS,
            guards=("recommendation_in_force", "adoption_dates_plausible"),
            fields=(DECISION_DATE,),
        ),
        TransitionSpec(
            "decline",
            ("local_evaluation",),
            "declined",
            IRCCS,
            reason_required=True,
            guards=("adoption_dates_plausible",),
            fields=(
                DataField("decline_reason", "choice", choices=DECLINE_REASONS),
                DECISION_DATE,
            ),
        ),
        TransitionSpec(
            "start_procurement",
            ("approved_for_use",),
            "procurement",
            IRCCS,
            guards=("recommendation_in_force", "adoption_dates_plausible"),
            fields=PROCUREMENT_START_FIELDS,
        ),
        TransitionSpec(
            "record_award",
            ("procurement",),
            "procurement",
            IRCCS,
            internal=True,
            guards=("adoption_dates_plausible",),
            fields=PROCUREMENT_AWARD_FIELDS,
        ),
        TransitionSpec(
            "start_use",
            ("approved_for_use", "procurement"),
            "in_use",
            IRCCS,
            guards=("recommendation_in_force", "adoption_dates_plausible"),
            fields=(FIRST_USE_DATE,),
        ),
        TransitionSpec("discontinue_use", ("in_use",), "discontinued", IRCCS, reason_required=True),
        *_barrier_transitions(),
        # The IRCCS (or the agency on its behalf) asks its region for the tariff of the
        # procedure: opens the region's reimbursement case (`app.reimbursement.service`).
        # Internal: the adoption record stays where it is.
        *(
            TransitionSpec(
                "request_tariff",
                (state,),
                state,
                IRCCS | AGENCY,
                internal=True,
                guards=("tariff_requestable",),
            )
            for state in TARIFF_REQUESTABLE_STATES
        ),
    ),
)

# The region's decision on the tariff of the procedure (a DRG of a hospital stay or an
# outpatient tariff code, its amount in euro and the day it takes effect). Tariffs are public
# in Italy (regional tariff decrees): every party of the case may read the amount.
TARIFF_FIELDS = (
    DataField("tariff_kind", "choice", choices=TARIFF_KINDS),
    DataField("tariff_code", "text"),
    DataField("tariff_amount", "amount"),
    DataField("effective_date", "date"),
)

# The regional reimbursement of a published recommendation: one case per region, opened by
# `request_tariff` on an adoption record; the region's users (its regional HTA body's
# assessors) start the evaluation and decide. "requested" is the case's first state.
REIMBURSEMENT_WORKFLOW = WorkflowSpec(
    name=REIMBURSEMENT,
    states=REIMBURSEMENT_STATES,
    initial="requested",
    transitions=(
        TransitionSpec("start_tariff_evaluation", ("requested",), "under_evaluation", ASSESSOR),
        TransitionSpec(
            "assign_tariff", ("under_evaluation",), "assigned", ASSESSOR, fields=TARIFF_FIELDS
        ),
        TransitionSpec(
            "declare_tariff_not_needed",
            ("under_evaluation",),
            "not_needed",
            ASSESSOR,
            reason_required=True,
        ),
        TransitionSpec(
            "refuse_tariff", ("under_evaluation",), "refused", ASSESSOR, reason_required=True
        ),
    ),
)
