"""Shared by the workflow tests: a cast of actors around one request, `walk_to(state)`, which
brings a request to any state through `fire` along the usual path, and the `no_area_hooks`
fixture.

The workflow tests check `fire` itself: the other areas' transition hooks and guards
(mandatory documents before submitting, answered questions, conflict-of-interest clearance,
started assessment domains, scored criteria ...) are switched off with `no_area_hooks` (their
guards pass), and each area tests its own; the kernel's guards stay on. How
`fire` runs hooks is tested with hooks registered by the test (test_fire.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core import guards, transition_hooks
from app.core.fire import fire
from app.domain.prioritisation import CRITERIA
from app.extensions import db
from app.models import (
    Adoption,
    AuditEntry,
    DesignatedCentre,
    DesignationRequest,
    DeviceRequest,
    Organisation,
    PriorityScore,
    StageRecord,
    User,
)
from app.workflow.definitions import ADOPTION_WORKFLOW
from app.workflow.spec import TransitionSpec
from tests.cast_support import Cast, make_cast  # noqa: F401 (make_cast: re-exported)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def no_area_hooks(monkeypatch):
    """Run `fire` without the transition hooks registered by the other areas."""
    # Register them all first: a hook module imported while the registry is swapped out would
    # lose its hooks for the rest of the test session.
    transition_hooks.load_hook_modules()
    monkeypatch.setattr(transition_hooks, "_before", defaultdict(list))
    monkeypatch.setattr(transition_hooks, "_after", defaultdict(list))
    monkeypatch.setattr(transition_hooks, "_audit_data", defaultdict(list))
    keep_only_guards_of(monkeypatch, ("app.core.guards",))


def keep_only_guards_of(monkeypatch, modules) -> None:
    """Let the guards registered by other modules than `modules` pass (they stay declared and
    registered: the other areas test them)."""

    def passes(*_args):
        return None

    monkeypatch.setattr(
        guards,
        "_registry",
        {
            name: guard if guard.module in modules else guards.Guard(name, guard.kind, passes)
            for name, guard in guards._registry.items()
        },
    )


STEP = timedelta(days=1)
# The public consultation's default minimum period: a recommendation is published no sooner.
CONSULTED = timedelta(days=30)


RECOMMENDATION = {"outcome": "recommended", "rationale": "Clear benefit in high-risk patients."}


def steps_to(state: str, cast: Cast) -> list[tuple[str, str, dict]]:
    """(trigger, who, data) from a complete draft to `state`; who is a Cast attribute or
    "system"."""
    m, a, r = "manufacturer", "agency", "assessor"
    submitted = [("submit", m, {})]
    admitted = [*submitted, ("admit", a, {})]
    prioritising = [*admitted, ("start_prioritisation", a, {"reason": ""})]
    assigning = [*prioritising, ("prioritise", a, {"reason": "High unmet need."})]
    assessing = [
        *assigning,
        ("assign_body", a, {"regional_body": cast.body.id}),
        ("accept_assignment", r, {}),
    ]
    checking = [*assessing, ("send_draft_report", r, {})]
    appraising = [*checking, ("finalise_report", r, {})]
    consulting = [*appraising, ("open_consultation", a, dict(RECOMMENDATION))]
    monitoring = [*consulting, ("publish", a, dict(RECOMMENDATION))]
    paths = {
        "draft": [],
        "intake_review": submitted,
        "incomplete": [
            *submitted,
            ("mark_incomplete", a, {"reason": "Missing studies.", "missing_items": ["IFU"]}),
        ],
        "awaiting_prioritisation": admitted,
        "prioritisation": prioritising,
        "assignment": assigning,
        "assessment": assessing,
        "information_requested": [
            *assessing,
            ("request_information", r, {"questions": ["Follow-up data?"]}),
        ],
        "factual_accuracy_check": checking,
        "appraisal": appraising,
        "consultation": consulting,
        "adoption_monitoring": monitoring,
        "reassessment_due": [*monitoring, ("review_due", a, {})],
    }
    return paths[state]


def walk_to(request: DeviceRequest, state: str, cast: Cast, start: datetime = T0) -> datetime:
    """Fire the usual path to `state` (a "suspended:<origin>" state suspends at <origin>).

    Returns the moment of the last step."""
    moment = start
    origin, _, suspended_at = state.partition(":")
    target = suspended_at if origin == "suspended" else origin
    steps = steps_to(target, cast)
    if origin == "suspended":
        steps = [*steps, ("suspend", "agency", {"reason": "CE certificate suspended."})]
    for trigger, who, data in steps:
        moment += STEP
        values = dict(data)
        reason = values.pop("reason", "")
        actor = None if who == "system" else getattr(cast, who)
        if trigger == "prioritise":
            score_every_criterion(request, actor, moment)
        if trigger == "publish":
            moment += CONSULTED - STEP  # comments stay open for the minimum period
        fire(request, trigger, actor, moment, reason=reason, **values)
    return moment


def score_every_criterion(request: DeviceRequest, agency: User, now: datetime, score=2) -> None:
    """The agency's 12 prioritisation scores (a decision on the merits needs them all)."""
    for criterion in CRITERIA:
        db.session.add(
            PriorityScore(
                request_id=request.id,
                criterion=criterion,
                score=score,
                justification=f"Scored {score} on the dossier.",
                scored_by_id=agency.id,
                scored_at=now,
            )
        )
    db.session.flush()


def adoption_of(request: DeviceRequest, irccs_org: Organisation) -> Adoption:
    return db.session.scalars(
        select(Adoption).where(Adoption.request_id == request.id, Adoption.irccs_id == irccs_org.id)
    ).one()


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


# --- Valid data for any transition, and the parties who may fire it ---------------------------

FUTURE_DATE = date(2031, 1, 15)
ROLE_ACTOR = {
    "manufacturer": "manufacturer",
    "agency": "agency",
    "assessor": "assessor",
    "irccs": "irccs",
    "system": "system",
}
# Cast members who are of a right role but the wrong party: they must not even see the object.
WRONG_PARTIES = ("other_manufacturer", "other_assessor", "other_irccs")


def valid_data(spec: TransitionSpec, cast: Cast) -> tuple[str, dict]:
    """A reason and data that satisfy `spec` (positive or negative outcome per its condition)."""
    reason = "Because the file says so." if spec.reason_required else ""
    data: dict = {}
    for field in spec.fields:
        if field.name == "outcome":
            positive = spec.condition != "negative_outcome"
            data["outcome"] = "recommended" if positive else "not_recommended"
        elif field.kind == "choice":
            data[field.name] = field.choices[0]
        elif field.kind == "lines":
            data[field.name] = ["One item", "Another item"]
        elif field.kind == "date" and field.past_only:
            continue  # optional (empty: today); a backdated day is tested on its own
        elif field.kind == "date":
            data[field.name] = FUTURE_DATE
        elif field.kind == "regional_body":
            data[field.name] = cast.body.id
        elif field.kind == "irccs":
            data[field.name] = cast.irccs_org.id
        elif field.kind == "irccs_list":
            data[field.name] = [cast.irccs_org.id]
        elif field.kind == "cig":
            data[field.name] = "9A1B2C3D4E"
        elif field.kind == "amount":
            data[field.name] = "48250.00"
        elif field.kind == "barrier":
            data[field.name] = 1  # the barrier guards are the area's (tests/integration)
        else:
            data[field.name] = f"Some {field.name}."
    return reason, data


def actor_named(cast: Cast, name: str) -> User | None:
    return cast.everyone()[name]


# The data an adoption step needs (the others need none).
ADOPTION_STEP_DATA = {
    "start_procurement": {"procurement_route": "regional_aggregator"},
    "decline": {"decline_reason": "no_budget", "reason": "No budget this year."},
    "discontinue_use": {"reason": "Replaced by a newer device."},
}

ADOPTION_STEPS = {
    "not_started": [],
    "local_evaluation": ["start_evaluation"],
    "approved_for_use": ["start_evaluation", "approve_for_use"],
    "procurement": ["start_evaluation", "approve_for_use", "start_procurement"],
    "in_use": ["start_evaluation", "approve_for_use", "start_use"],
    # Terminal states: only internal transitions (the adoption barriers) start there.
    "declined": ["start_evaluation", "decline"],
    "discontinued": ["start_evaluation", "approve_for_use", "start_use", "discontinue_use"],
}


def arrange(spec: TransitionSpec, source: str, cast: Cast, make) -> tuple[object, datetime]:
    """A request (or adoption record) in `source`, ready for `spec` to fire on; and the moment
    of its last change."""
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    if spec in ADOPTION_WORKFLOW.transitions:
        moment = walk_to(request, "adoption_monitoring", cast)
        adoption = adoption_of(request, cast.irccs_org)
        for trigger in ADOPTION_STEPS[source]:
            moment += STEP
            fire(adoption, trigger, cast.irccs, moment, **ADOPTION_STEP_DATA.get(trigger, {}))
        return adoption, moment
    target = f"suspended:{spec.dest}" if source == "suspended" else source
    moment = walk_to(request, target, cast)
    if spec.trigger in ("accept_assignment", "decline_assignment"):
        moment += STEP
        fire(request, "assign_body", cast.agency, moment, regional_body=cast.body.id)
    if spec.trigger == "publish":
        moment += CONSULTED - STEP  # the caller fires one step later
    if spec.trigger in DESIGNATION_TRIGGERS:
        _restrict_to_other_irccs(request, cast, asked=spec.trigger == "refuse_designation")
    return request, moment


# Request transitions about the designated centres: the recommendation designates the other
# IRCCS only; the IRCCS of the cast may ask to be added (or has asked, to be refused).
DESIGNATION_TRIGGERS = ("ask_designation", "designate_centre", "refuse_designation")


def _restrict_to_other_irccs(request: DeviceRequest, cast: Cast, asked: bool) -> None:
    db.session.add(DesignatedCentre(request_id=request.id, irccs_id=cast.other_irccs_org.id))
    if asked:
        db.session.add(
            DesignationRequest(
                request_id=request.id, irccs_id=cast.irccs_org.id, status="pending", asked_at=T0
            )
        )
    db.session.flush()


def observe(obj) -> tuple:
    """What a refused action must leave alone: state and version (in memory and in the
    database), audit entries, stage records."""
    model = type(obj)
    row = db.session.execute(select(model.state, model.version).where(model.id == obj.id)).one()
    stages = db.session.scalar(select(func.count()).select_from(StageRecord))
    return (obj.state, obj.version, tuple(row), audit_count(), stages)
