"""Every fact about a state, in one table: the one place state names are grouped.

Each state of the request workflow, of the IRCCS adoption workflow and of the regional
reimbursement workflow has one `StateFacts`
record: its labels, whose work queue holds it, whose clock runs, whether it is terminal,
withdrawable (pre-appraisal), suspendable, which stage it counts as in the reports, its
deadline key, and the facts the permissions, documents, register and reports ask about.
Other modules ask this table (`states_where(...)`, `facts(state)`) and never list state names
themselves; `tests/unit/test_state_names_in_one_place.py` enforces it.

The records are declared in workflow order: `states_where` answers in that order.
Labels are Flask-Babel lazy strings (no app context is needed until they are shown).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

REQUEST = "request"
ADOPTION = "adoption"
REIMBURSEMENT = "reimbursement"

# Whose time a state's days are: the agency side's (net time), or the manufacturer's (a
# "clock stop": counted in gross time only).
AGENCY_CLOCK = "agency"
MANUFACTURER_CLOCK = "manufacturer"

# What a state counts as in the timing reports.
BEFORE_RECOMMENDATION = "before_recommendation"  # judged and charted, submission to publication
AFTER_RECOMMENDATION = "after_recommendation"  # monitoring a published recommendation
SUSPENSION = "suspension"  # either side of the recommendation

# Whether the public register shows a request in this state.
NEVER = "never"  # not yet admitted (or refused admission): the register never names it
IF_ADMITTED = "if_admitted"  # reached from either side of admission: shown once it was admitted
ALWAYS = "always"


@dataclass(frozen=True)
class HandOver:
    """Within one state the work passes from one role's queue to another's when `trigger`
    (an internal transition) has been fired during the current visit."""

    trigger: str
    from_role: str
    to_role: str


@dataclass(frozen=True)
class StateFacts:
    name: str
    workflow: str
    label: Any  # a lazy string
    # What the manufacturer reads where the internal name would mislead or reveal internals.
    manufacturer_label: Any = None
    # What the public register reads (plain words, revealing no internal detail).
    public_label: Any = None
    # The roles whose work queue holds a request (or adoption record) in this state.
    queue: frozenset[str] = frozenset()
    hand_over: HandOver | None = None
    # Whose clock runs: AGENCY_CLOCK, MANUFACTURER_CLOCK (a clock stop) or None (not timed).
    clock: str | None = None
    terminal: bool = False
    # Before appraisal: the manufacturer may still withdraw the request.
    pre_appraisal: bool = False
    # The agency may suspend a request here (on a safety signal or a suspended CE certificate).
    suspendable: bool = False
    # BEFORE_RECOMMENDATION, AFTER_RECOMMENDATION, SUSPENSION, or None (not a timed stage).
    report_stage: str | None = None
    # The key of the stage's deadline (configurable by the administrator); None: no deadline.
    deadline_key: str | None = None
    # NEVER, IF_ADMITTED or ALWAYS (request workflow only).
    on_register: str = NEVER
    # The manufacturer edits its dossier (the draft, or completing it after intake).
    dossier_editable: bool = False
    # The request is in the prioritisation ranking and may be scored.
    ranked: bool = False
    # The assigned regional body holds the file (its workload).
    body_engaged: bool = False
    # The assessor works on the Core Model checklist and uploads the assessment report.
    assessment_editable: bool = False
    # The assessment (checklist, report) may be shown to the parties.
    assessment_visible: bool = False
    # The draft assessment report has gone to the manufacturer.
    draft_report_sent: bool = False
    # The agency drafts the recommendation (appraisal, consultation).
    under_appraisal: bool = False
    # A positive recommendation is published and followed by the IRCCS (when its outcome is
    # positive: the recommendation says).
    published_for_adoption: bool = False
    # Adoption records: the IRCCS uses (or used) the device and reports its use.
    usage_reported: bool = False
    # Adoption records: the device is being bought or used, so a suspension or resumption
    # concerns the IRCCS at once (urgent notification).
    device_at_hand: bool = False
    # Adoption records: the IRCCS may record an adoption barrier once the record has stayed
    # this many days in the state (0: at once, e.g. after declining; a longer stay means the
    # record has stalled); None: no barrier is recorded here (the device is in use, or was).
    barrier_after_days: int | None = None
    # Adoption records: the IRCCS is ready to treat patients as far as it is concerned
    # (approved, bought), so a regional tariff still pending is what it waits for.
    ready_for_tariff: bool = False
    # Reimbursement cases: the region has decided (a tariff or code, not needed, refused).
    tariff_decided: bool = False

    @property
    def open(self) -> bool:
        """Still in progress: not in a terminal state."""
        return not self.terminal

    @property
    def clock_stop(self) -> bool:
        """Time here is the manufacturer's, not the agency's."""
        return self.clock == MANUFACTURER_CLOCK

    @property
    def timed(self) -> bool:
        """The timing reports measure the visits of this state."""
        return self.report_stage is not None


def _request(name: str, label, **facts) -> StateFacts:
    return StateFacts(name, REQUEST, label, **facts)


def _adoption(name: str, label, **facts) -> StateFacts:
    return StateFacts(name, ADOPTION, label, **facts)


def _reimbursement(name: str, label, **facts) -> StateFacts:
    return StateFacts(name, REIMBURSEMENT, label, **facts)


# Who acts (the workflow definitions use the same sets for who may fire a transition).
AGENCY = frozenset({"agency"})
ASSESSOR = frozenset({"assessor"})
MANUFACTURER = frozenset({"manufacturer"})
IRCCS = frozenset({"irccs"})


def _stage(name: str, label, **facts) -> StateFacts:
    """A request's stage between submission and recommendation: the agency's clock runs
    (unless said otherwise), withdrawable, suspendable, judged by the timing report."""
    in_process = {
        "clock": AGENCY_CLOCK,
        "pre_appraisal": True,
        "suspendable": True,
        "report_stage": BEFORE_RECOMMENDATION,
    }
    return _request(name, label, **{**in_process, **facts})


REQUEST_TABLE: tuple[StateFacts, ...] = (
    _request(
        "draft",
        _l("Draft"),
        queue=MANUFACTURER,
        pre_appraisal=True,
        dossier_editable=True,
    ),
    _stage(
        "intake_review",
        _l("Intake review"),
        manufacturer_label=_l("Submitted: admissibility check"),
        public_label=_l("Admissibility check"),
        queue=AGENCY,
        deadline_key="intake_review",
    ),
    _stage(
        "incomplete",
        _l("Incomplete: waiting for the manufacturer"),
        manufacturer_label=_l("Action needed: complete your file"),
        public_label=_l("File being completed by the manufacturer"),
        queue=MANUFACTURER,
        deadline_key="incomplete",
        dossier_editable=True,
        clock=MANUFACTURER_CLOCK,
    ),
    _stage(
        "awaiting_prioritisation",
        _l("Awaiting prioritisation"),
        manufacturer_label=_l("Admitted: waiting for prioritisation"),
        public_label=_l("Admitted: waiting for prioritisation"),
        queue=AGENCY,
        deadline_key="awaiting_prioritisation",
        on_register=ALWAYS,
        ranked=True,
    ),
    _stage(
        "prioritisation",
        _l("Prioritisation"),
        manufacturer_label=_l("Under prioritisation"),
        public_label=_l("Prioritisation"),
        queue=AGENCY,
        deadline_key="prioritisation",
        on_register=ALWAYS,
        ranked=True,
    ),
    _stage(
        "assignment",
        _l("Assignment to a regional body"),
        manufacturer_label=_l("Being assigned for assessment"),
        public_label=_l("Assignment to a regional HTA body"),
        queue=AGENCY | ASSESSOR,  # the agency picks a body; the body accepts or declines
        deadline_key="assignment",
        on_register=ALWAYS,
        body_engaged=True,
    ),
    _stage(
        "assessment",
        _l("Assessment"),
        public_label=_l("Assessment"),
        queue=ASSESSOR,
        deadline_key="assessment",
        on_register=ALWAYS,
        body_engaged=True,
        assessment_editable=True,
        assessment_visible=True,
    ),
    _stage(
        "information_requested",
        _l("Information requested"),
        manufacturer_label=_l("Action needed: answer the assessor's questions"),
        public_label=_l("Questions to the manufacturer"),
        queue=MANUFACTURER,
        deadline_key="information_requested",
        on_register=ALWAYS,
        body_engaged=True,
        assessment_editable=True,
        assessment_visible=True,
        clock=MANUFACTURER_CLOCK,
    ),
    _stage(
        "factual_accuracy_check",
        _l("Factual accuracy check"),
        manufacturer_label=_l("Action needed: check the draft report"),
        public_label=_l("Factual accuracy check of the draft report"),
        # The manufacturer checks the draft report, then hands it back to the assessor.
        queue=MANUFACTURER | ASSESSOR,
        hand_over=HandOver("return_factual_comments", "manufacturer", "assessor"),
        deadline_key="factual_accuracy_check",
        on_register=ALWAYS,
        body_engaged=True,
        assessment_editable=True,
        assessment_visible=True,
        draft_report_sent=True,
        clock=MANUFACTURER_CLOCK,
    ),
    _stage(
        "appraisal",
        _l("Appraisal"),
        manufacturer_label=_l("Under appraisal"),
        public_label=_l("Appraisal by the committee"),
        queue=AGENCY,
        deadline_key="appraisal",
        on_register=ALWAYS,
        assessment_visible=True,
        draft_report_sent=True,
        under_appraisal=True,
        pre_appraisal=False,
    ),
    _stage(
        "consultation",
        _l("Public consultation"),
        public_label=_l("Public consultation"),
        queue=AGENCY,
        deadline_key="consultation",
        on_register=ALWAYS,
        assessment_visible=True,
        draft_report_sent=True,
        under_appraisal=True,
        pre_appraisal=False,
    ),
    _request(
        "adoption_monitoring",
        _l("Adoption monitoring"),
        public_label=_l("Recommendation published: adoption monitoring"),
        clock=AGENCY_CLOCK,
        suspendable=True,
        report_stage=AFTER_RECOMMENDATION,
        deadline_key="adoption_monitoring",
        on_register=ALWAYS,
        assessment_visible=True,
        draft_report_sent=True,
        published_for_adoption=True,
    ),
    _request(
        "reassessment_due",
        _l("Reassessment due"),
        public_label=_l("Reassessment due"),
        queue=AGENCY,
        clock=AGENCY_CLOCK,
        suspendable=True,
        report_stage=AFTER_RECOMMENDATION,
        deadline_key="reassessment_due",
        on_register=ALWAYS,
        assessment_visible=True,
        draft_report_sent=True,
        published_for_adoption=True,
    ),
    _request(
        "suspended",
        _l("Suspended"),
        public_label=_l("Suspended"),
        queue=AGENCY,
        clock=AGENCY_CLOCK,
        report_stage=SUSPENSION,
        on_register=IF_ADMITTED,
        assessment_visible=True,
    ),
    # terminal
    _request("inadmissible", _l("Inadmissible"), terminal=True),
    _request(
        "not_prioritised",
        _l("Not prioritised"),
        public_label=_l("Not prioritised"),
        terminal=True,
        on_register=ALWAYS,
    ),
    _request(
        "routed",
        _l("Routed to another programme"),
        public_label=_l("Routed to another programme"),
        terminal=True,
        on_register=ALWAYS,
    ),
    _request(
        "not_recommended",
        lazy_pgettext("request state", "Not recommended"),
        public_label=lazy_pgettext("request state", "Not recommended"),
        terminal=True,
        on_register=ALWAYS,
        assessment_visible=True,
        draft_report_sent=True,
    ),
    _request(
        "discontinued",
        _l("Discontinued"),
        public_label=_l("Discontinued"),
        terminal=True,
        on_register=ALWAYS,
        assessment_visible=True,
    ),
    _request(
        "withdrawn",
        _l("Withdrawn"),
        public_label=_l("Withdrawn by the manufacturer"),
        terminal=True,
        on_register=IF_ADMITTED,
        assessment_visible=True,
    ),
    _request(
        "archived",
        _l("Archived"),
        public_label=_l("Archived"),
        terminal=True,
        on_register=ALWAYS,
        assessment_visible=True,
        draft_report_sent=True,
        published_for_adoption=True,
    ),
)

ADOPTION_TABLE: tuple[StateFacts, ...] = (
    _adoption("not_started", _l("Not started"), queue=IRCCS, barrier_after_days=90),
    _adoption("local_evaluation", _l("Local evaluation"), queue=IRCCS, barrier_after_days=90),
    _adoption(
        "approved_for_use",
        _l("Approved for use"),
        queue=IRCCS,
        barrier_after_days=60,
        ready_for_tariff=True,
    ),
    _adoption(
        "procurement",
        _l("Procurement"),
        queue=IRCCS,
        device_at_hand=True,
        barrier_after_days=180,
        ready_for_tariff=True,
    ),
    _adoption("in_use", _l("In use"), queue=IRCCS, usage_reported=True, device_at_hand=True),
    _adoption("discontinued", _l("Discontinued"), terminal=True, usage_reported=True),
    _adoption("declined", _l("Declined"), terminal=True, barrier_after_days=0),
)

# The regional reimbursement (tariff) of a published recommendation, one case per region
# (DOMAIN.md "After the recommendation"). The region acts through the users of its regional
# HTA body (role assessor): their queue holds the open cases. One deadline runs from the
# request to the decision (`deadline_key` "regional_tariff", configurable with the others).
TARIFF_DEADLINE_KEY = "regional_tariff"

REIMBURSEMENT_TABLE: tuple[StateFacts, ...] = (
    _reimbursement(
        "requested",
        _l("Tariff requested"),
        public_label=_l("Regional tariff requested"),
        queue=ASSESSOR,
        clock=AGENCY_CLOCK,
        deadline_key=TARIFF_DEADLINE_KEY,
    ),
    _reimbursement(
        "under_evaluation",
        _l("Tariff under evaluation"),
        public_label=_l("Regional tariff under evaluation"),
        queue=ASSESSOR,
        clock=AGENCY_CLOCK,
        deadline_key=TARIFF_DEADLINE_KEY,
    ),
    _reimbursement(
        "assigned",
        _l("Tariff or code assigned"),
        public_label=_l("Regional tariff assigned"),
        terminal=True,
        tariff_decided=True,
    ),
    _reimbursement(
        "not_needed",
        _l("No specific tariff needed"),
        public_label=_l("No specific regional tariff needed"),
        terminal=True,
        tariff_decided=True,
    ),
    _reimbursement(
        "refused",
        _l("Tariff refused"),
        public_label=_l("Regional tariff refused"),
        terminal=True,
        tariff_decided=True,
    ),
)

TABLE: tuple[StateFacts, ...] = REQUEST_TABLE + ADOPTION_TABLE + REIMBURSEMENT_TABLE

_BY_NAME: dict[tuple[str, str], StateFacts] = {(f.workflow, f.name): f for f in TABLE}
_FIELDS = frozenset(f.name for f in dataclasses.fields(StateFacts)) | {
    "open",
    "clock_stop",
    "timed",
}


def facts(state: str, workflow: str = REQUEST) -> StateFacts:
    """The record of one state (KeyError for a name the workflow does not have)."""
    return _BY_NAME[(workflow, state)]


def states_where(**conditions) -> tuple[str, ...]:
    """The names of the states whose facts match every condition, in declaration order.

    `states_where(workflow="request", terminal=False, clock_stop=True)`; `queue="assessor"`
    matches the states whose queue holds that role. Without `workflow`, every workflow
    answers (a name may then appear twice: "discontinued").
    """
    unknown = set(conditions) - _FIELDS
    if unknown:
        raise TypeError(f"StateFacts has no field {', '.join(sorted(unknown))}")
    return _states_where(tuple(sorted(conditions.items())))


@cache
def _states_where(conditions: tuple[tuple[str, Any], ...]) -> tuple[str, ...]:
    return tuple(record.name for record in TABLE if _matches(record, conditions))


def _matches(record: StateFacts, conditions) -> bool:
    for key, wanted in conditions:
        value = getattr(record, key)
        if key == "queue":
            if wanted not in value:
                return False
        elif value != wanted:
            return False
    return True
