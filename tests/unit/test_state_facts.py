"""The table of state facts (`app.workflow.facts`) is complete and agrees with the product.

Every state of each workflow has exactly one record, in the workflow's order; the queue
owners, clock stops, terminal states, withdrawable and suspendable states and deadlines agree
with the request lifecycle table of DOMAIN.md (copied below, since the design documents live
outside the repository).
"""

from __future__ import annotations

import pytest

from app.domain.deadlines import DEFAULT_DEADLINES
from app.workflow.definitions import ADOPTION_WORKFLOW, REQUEST_WORKFLOW
from app.workflow.facts import (
    ADOPTION,
    ADOPTION_TABLE,
    BEFORE_RECOMMENDATION,
    REIMBURSEMENT_TABLE,
    REQUEST,
    REQUEST_TABLE,
    TARIFF_DEADLINE_KEY,
    facts,
    states_where,
)
from app.workflow.labels import public_state_label, state_label

# DOMAIN.md, "Request lifecycle": state -> who acts (whose work queue holds the request).
# adoption_monitoring: the IRCCS act on their adoption records, not on the request.
# assignment: the agency picks a regional body; the body accepts or declines.
# factual_accuracy_check: the manufacturer checks the draft report; the assessor then
# finalises it.
DOMAIN_QUEUES = {
    "draft": {"manufacturer"},
    "intake_review": {"agency"},
    "incomplete": {"manufacturer"},
    "awaiting_prioritisation": {"agency"},
    "prioritisation": {"agency"},
    "assignment": {"agency", "assessor"},
    "assessment": {"assessor"},
    "information_requested": {"manufacturer"},
    "factual_accuracy_check": {"manufacturer", "assessor"},
    "appraisal": {"agency"},
    "consultation": {"agency"},
    "adoption_monitoring": set(),
    "reassessment_due": {"agency"},
    "suspended": {"agency"},
}
DOMAIN_CLOCK_STOPS = {"incomplete", "information_requested", "factual_accuracy_check"}
DOMAIN_TERMINAL = {
    "inadmissible",
    "not_prioritised",
    "routed",
    "not_recommended",
    "discontinued",
    "withdrawn",
    "archived",
}
# The states with a default deadline in DOMAIN.md.
DOMAIN_DEADLINES = {
    "intake_review",
    "incomplete",
    "prioritisation",
    "assignment",
    "assessment",
    "information_requested",
    "factual_accuracy_check",
    "appraisal",
    "consultation",
    "adoption_monitoring",
    "reassessment_due",
}
# DOMAIN.md, "IRCCS adoption": discontinued and declined end an adoption record.
DOMAIN_ADOPTION_FINAL = {"discontinued", "declined"}


@pytest.mark.parametrize(
    ("workflow", "table"), [(REQUEST_WORKFLOW, REQUEST_TABLE), (ADOPTION_WORKFLOW, ADOPTION_TABLE)]
)
def test_every_state_has_one_record_in_workflow_order(workflow, table):
    assert tuple(record.name for record in table) == workflow.states
    assert {record.workflow for record in table} == {workflow.name}
    assert states_where(workflow=workflow.name) == workflow.states
    for state in workflow.states:
        assert facts(state, workflow.name).name == state


def test_queue_owners_agree_with_the_lifecycle_table():
    in_table = {state: set(facts(state).queue) for state in REQUEST_WORKFLOW.states}
    expected = {state: DOMAIN_QUEUES.get(state, set()) for state in REQUEST_WORKFLOW.states}
    assert in_table == expected
    assert set(states_where(workflow=ADOPTION, queue="irccs")) == (
        set(ADOPTION_WORKFLOW.states) - DOMAIN_ADOPTION_FINAL
    )


def test_clock_stops_and_terminal_states_agree_with_the_lifecycle_table():
    assert set(states_where(workflow=REQUEST, clock_stop=True)) == DOMAIN_CLOCK_STOPS
    assert set(states_where(workflow=REQUEST, terminal=True)) == DOMAIN_TERMINAL
    assert set(states_where(workflow=ADOPTION, terminal=True)) == DOMAIN_ADOPTION_FINAL
    assert set(states_where(workflow=REQUEST, open=True)) == (
        set(REQUEST_WORKFLOW.states) - DOMAIN_TERMINAL
    )
    # A terminal state is never timed, never in a queue, never left (an internal transition
    # records data and stays: a declined adoption record still gets its barriers).
    for record in REQUEST_TABLE + ADOPTION_TABLE:
        if record.terminal:
            assert not record.queue and record.clock is None and record.report_stage is None
    for workflow in (REQUEST_WORKFLOW, ADOPTION_WORKFLOW):
        for transition in workflow.transitions:
            if transition.internal:
                assert transition.dest in transition.sources
                continue
            assert not any(facts(s, workflow.name).terminal for s in transition.sources)


def test_withdrawal_and_suspension_follow_the_lifecycle():
    order = REQUEST_WORKFLOW.states
    # "any pre-appraisal state -> withdrawn"
    assert states_where(workflow=REQUEST, pre_appraisal=True) == order[: order.index("appraisal")]
    (withdraw,) = REQUEST_WORKFLOW.by_trigger("withdraw")
    assert withdraw.sources == states_where(workflow=REQUEST, pre_appraisal=True)
    # "any open state <-> suspended": every state in progress after submission
    suspendable = set(order) - DOMAIN_TERMINAL - {"draft", "suspended"}
    assert set(states_where(workflow=REQUEST, suspendable=True)) == suspendable
    (suspend,) = REQUEST_WORKFLOW.by_trigger("suspend")
    assert set(suspend.sources) == suspendable
    assert {t.dest for t in REQUEST_WORKFLOW.by_trigger("resume")} == suspendable


def test_deadline_keys_cover_every_default_deadline():
    keyed = {r.name for r in REQUEST_TABLE if r.deadline_key}
    assert all(r.deadline_key in (None, r.name) for r in REQUEST_TABLE)
    assert keyed >= DOMAIN_DEADLINES
    # The regional tariff's cases share one deadline key across their open states.
    tariff_keys = {r.deadline_key for r in REIMBURSEMENT_TABLE if r.deadline_key}
    assert tariff_keys == {TARIFF_DEADLINE_KEY}
    assert set(DEFAULT_DEADLINES) <= keyed | tariff_keys
    assert not keyed & (DOMAIN_TERMINAL | {"draft", "suspended"})


def test_report_stages_run_from_submission_to_the_recommendation():
    order = REQUEST_WORKFLOW.states
    before = states_where(workflow=REQUEST, report_stage=BEFORE_RECOMMENDATION)
    assert before == order[order.index("intake_review") : order.index("adoption_monitoring")]
    assert set(states_where(workflow=REQUEST, timed=True)) == (
        set(order) - DOMAIN_TERMINAL - {"draft"}
    )


def test_a_hand_over_passes_between_two_queue_owners_by_an_internal_transition():
    handed = [r for r in REQUEST_TABLE if r.hand_over]
    assert handed, "the factual accuracy check passes from the manufacturer to the assessor"
    for record in handed:
        hand_over = record.hand_over
        assert {hand_over.from_role, hand_over.to_role} == set(record.queue)
        (transition,) = REQUEST_WORKFLOW.by_trigger(hand_over.trigger)
        assert transition.internal and transition.sources == (record.name,)
        assert transition.may_be_fired_by(hand_over.from_role)


def test_states_where_answers_in_declaration_order_and_refuses_unknown_facts():
    assert states_where(workflow=REQUEST, queue="assessor") == (
        "assignment",
        "assessment",
        "factual_accuracy_check",
    )
    assert states_where(queue="irccs") == states_where(workflow=ADOPTION, open=True)
    assert states_where(terminal=True).count("discontinued") == 2  # both workflows have it
    with pytest.raises(TypeError, match="colour"):
        states_where(colour="red")
    with pytest.raises(KeyError):
        facts("no_such_state")


def test_every_state_has_a_label_and_the_manufacturer_reads_its_own_words():
    for record in REQUEST_TABLE + ADOPTION_TABLE:
        assert str(record.label) and str(record.label) != record.name
    assert state_label("incomplete", "manufacturer") == "Action needed: complete your file"
    assert state_label("incomplete", "agency") == "Incomplete: waiting for the manufacturer"
    assert public_state_label("withdrawn") == "Withdrawn by the manufacturer"
    assert public_state_label("draft") == "Draft"  # no public wording: the internal one
