"""Random walks through the workflow (Hypothesis stateful testing).

Random actors (right party, wrong party, wrong role, the system) fire random triggers, with
valid or empty data, on a few requests and on the adoption records they lead to; parties also
take the actions the screens offer them. After every step: every state is a known one, a
refused action changed nothing, each change wrote exactly one audit entry, every submitted
request has exactly one open stage (the state it is in), and the audit chain verifies.

Each example runs in one database transaction that is rolled back at the end.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from app.core.audit import verify_chain
from app.core.fire import available_transitions, fire
from app.domain import permissions
from app.domain.errors import DomainError, GuardFailed
from app.extensions import db
from app.models import Adoption, DeviceRequest, StageRecord
from app.workflow.definitions import ADOPTION_WORKFLOW, REQUEST_WORKFLOW
from app.workflow.states import ADOPTION_STATES, REQUEST_STATES, TERMINAL_REQUEST_STATES
from tests.workflow_support import (  # noqa: F401 (fixture)
    audit_count,
    make_cast,
    no_area_hooks,
    observe,
    valid_data,
    walk_to,
)

pytestmark = pytest.mark.usefixtures("no_area_hooks")

ACTOR_NAMES = (
    "manufacturer",
    "other_manufacturer",
    "agency",
    "assessor",
    "other_assessor",
    "irccs",
    "other_irccs",
    "admin",
    "system",
)
STARTING_STATES = (
    "draft",
    "intake_review",
    "assignment",
    "assessment",
    "information_requested",
    "consultation",
    "adoption_monitoring",
    "suspended:assessment",
)
STEP = timedelta(hours=7)

SETTINGS = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def build_machine(make):
    class WorkflowMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.cast = make_cast(make)
            org = self.cast.manufacturer_org
            self.requests = [
                make.request(manufacturer=org, complete=True),
                make.request(manufacturer=org, complete=True),
                make.request(manufacturer=org, complete=False),
            ]
            self.now = None
            self.expected_entries = 0

        # --- helpers

        def adoptions(self) -> list[Adoption]:
            ids = [r.id for r in self.requests]
            return list(
                db.session.scalars(
                    select(Adoption).where(Adoption.request_id.in_(ids)).order_by(Adoption.id)
                )
            )

        def attempt(self, obj, trigger, actor, reason, data):
            """Fire; a refusal must leave everything as it was, a success must be recorded."""
            self.now += STEP
            before = observe(obj)
            state, version = obj.state, obj.version
            workflow = ADOPTION_WORKFLOW if isinstance(obj, Adoption) else REQUEST_WORKFLOW
            # Asked before firing: a transition may end the actor's part (a declined body).
            was_party = any(
                permissions.can_fire(actor, obj, spec) for spec in workflow.by_trigger(trigger)
            )
            try:
                entry = fire(
                    obj,
                    trigger,
                    actor,
                    self.now,
                    reason=reason,
                    expected_version=version,
                    **data,
                )
            except DomainError as refusal:
                assert observe(obj) == before, (trigger, refusal)
                return refusal
            self.expected_entries += 1
            assert (entry.action, entry.from_state, entry.to_state) == (trigger, state, obj.state)
            assert obj.version == version + 1
            assert was_party, (trigger, actor)
            return None

        # --- setup

        @initialize(start=st.sampled_from(STARTING_STATES))
        def walk_the_first_request(self, start):
            self.now = walk_to(self.requests[0], start, self.cast)
            self.expected_entries = audit_count()

        # --- rules

        @rule(
            which=st.integers(0, 2),
            trigger=st.sampled_from(REQUEST_WORKFLOW.triggers),
            who=st.sampled_from(ACTOR_NAMES),
            valid=st.booleans(),
            variant=st.integers(0, 1),
        )
        def anyone_fires_anything_on_a_request(self, which, trigger, who, valid, variant):
            specs = REQUEST_WORKFLOW.by_trigger(trigger)
            spec = specs[variant % len(specs)]
            reason, data = valid_data(spec, self.cast) if valid else ("", {})
            actor = self.cast.everyone()[who]
            self.attempt(self.requests[which], trigger, actor, reason, data)

        @precondition(lambda self: self.adoptions())
        @rule(
            pick=st.integers(0, 1000),
            trigger=st.sampled_from(ADOPTION_WORKFLOW.triggers),
            who=st.sampled_from(ACTOR_NAMES),
            valid=st.booleans(),
        )
        def anyone_fires_anything_on_an_adoption_record(self, pick, trigger, who, valid):
            adoptions = self.adoptions()
            record = adoptions[pick % len(adoptions)]
            spec = ADOPTION_WORKFLOW.by_trigger(trigger)[0]
            reason, data = valid_data(spec, self.cast) if valid else ("", {})
            self.attempt(record, trigger, self.cast.everyone()[who], reason, data)

        @rule(pick=st.integers(0, 10_000), negative=st.booleans(), exit_roll=st.integers(0, 9))
        def a_party_takes_an_offered_action(self, pick, negative, exit_roll):
            # Ending a request (withdrawn, inadmissible ...) is allowed one time in ten, so
            # that the walks get deep into the workflow.
            options = [
                (obj, actor, spec)
                for obj in [*self.requests, *self.adoptions()]
                for actor in self.cast.everyone().values()
                for spec in available_transitions(actor, obj)
                if exit_roll == 0 or spec.dest not in TERMINAL_REQUEST_STATES
            ]
            if not options:
                return
            obj, actor, spec = options[pick % len(options)]
            if spec.trigger == "publish" and negative:
                spec = REQUEST_WORKFLOW.by_trigger("publish")[1]
            reason, data = valid_data(spec, self.cast)
            refusal = self.attempt(obj, spec.trigger, actor, reason, data)
            # What the screens offer, with valid data, only fails on a guard.
            assert refusal is None or isinstance(refusal, GuardFailed), refusal

        # --- invariants

        @invariant()
        def states_are_known(self):
            for request in self.requests:
                assert request.state in REQUEST_STATES
            for record in self.adoptions():
                assert record.state in ADOPTION_STATES

        @invariant()
        def each_change_has_exactly_one_audit_entry(self):
            if self.now is not None:
                assert audit_count() == self.expected_entries

        @invariant()
        def a_submitted_request_is_in_exactly_one_open_stage(self):
            for request in self.requests:
                open_states = db.session.scalars(
                    select(StageRecord.state).where(
                        StageRecord.request_id == request.id, StageRecord.left_at.is_(None)
                    )
                ).all()
                visited = db.session.scalar(
                    select(func.count())
                    .select_from(StageRecord)
                    .where(StageRecord.request_id == request.id)
                )
                if visited:
                    assert open_states == [request.state]
                else:
                    assert request.state == "draft"

        @invariant()
        def the_audit_chain_verifies(self):
            assert verify_chain().ok

        def teardown(self):
            db.session.rollback()

    return WorkflowMachine


def test_random_walks_keep_the_workflow_consistent(make):
    run_state_machine_as_test(build_machine(make), settings=SETTINGS)


def test_requests_in_the_machine_are_real_rows(make):
    """Guard against a vacuous machine: the setup really creates and walks requests."""
    machine = build_machine(make)()
    machine.walk_the_first_request("assessment")
    assert db.session.get(DeviceRequest, machine.requests[0].id).state == "assessment"
    machine.teardown()
