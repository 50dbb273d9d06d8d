"""The pure workflow layer: the declared tables are consistent, the engine moves snapshots as
declared, transition data is cleaned and validated, and the party predicates hold."""

from __future__ import annotations

from collections import deque
from datetime import date
from types import SimpleNamespace

import pytest

from app.domain.errors import InvalidTransition, ValidationFailed
from app.domain.permissions import can_fire, can_view_adoption, is_party_to
from app.workflow.definitions import (
    ADOPTION_WORKFLOW,
    REQUEST_WORKFLOW,
    SUSPENDABLE_STATES,
)
from app.workflow.engine import (
    ADOPTION_ENGINE,
    REQUEST_ENGINE,
    Snapshot,
    check_data,
    normalise_transition_data,
    validate_transition_data,
)
from app.workflow.states import (
    ADOPTION_STATES,
    CLOCK_STOP_STATES,
    OUTCOMES,
    POSITIVE_OUTCOMES,
    REQUEST_STATES,
    TERMINAL_REQUEST_STATES,
)

WORKFLOWS = [REQUEST_WORKFLOW, ADOPTION_WORKFLOW]
KNOWN_ROLES = {"manufacturer", "agency", "assessor", "irccs", "system"}


def spec_of(trigger: str, workflow=REQUEST_WORKFLOW, dest: str | None = None):
    return next(t for t in workflow.transitions if t.trigger == trigger and dest in (None, t.dest))


# --- The tables -------------------------------------------------------------------------------


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_transition_uses_known_states_and_roles(workflow):
    for spec in workflow.transitions:
        assert set(spec.sources) <= set(workflow.states), spec
        assert spec.dest in workflow.states, spec
        assert spec.roles and spec.roles <= KNOWN_ROLES, spec
        if spec.internal:
            assert spec.sources == (spec.dest,), spec


def test_terminal_states_have_no_way_out():
    for spec in REQUEST_WORKFLOW.transitions:
        assert not set(spec.sources) & TERMINAL_REQUEST_STATES, spec


def test_every_request_state_is_reachable_from_the_draft():
    reached = {"draft"}
    queue = deque(["draft"])
    while queue:
        state = queue.popleft()
        for spec in REQUEST_WORKFLOW.transitions:
            if state in spec.sources and spec.dest not in reached:
                reached.add(spec.dest)
                queue.append(spec.dest)
    assert reached == set(REQUEST_STATES)


def test_lapses_are_fired_by_the_system_from_stages_with_a_deadline():
    lapses = [t for t in REQUEST_WORKFLOW.transitions if t.lapse]
    assert {t.trigger for t in lapses} == {"lapse_incomplete", "lapse_information", "review_due"}
    for spec in lapses:
        assert "system" in spec.roles


def test_only_lapses_are_fired_by_the_system():
    for workflow in WORKFLOWS:
        for spec in workflow.transitions:
            if "system" in spec.roles:
                assert spec.lapse, spec


def test_clock_stop_states_are_request_states():
    assert set(CLOCK_STOP_STATES) <= set(REQUEST_STATES)


# --- The engine --------------------------------------------------------------------------------


def test_apply_moves_the_snapshot_and_returns_the_transition_taken():
    snapshot = Snapshot("intake_review")
    spec = REQUEST_ENGINE.apply(snapshot, "admit", {})
    assert snapshot.state == "awaiting_prioritisation"
    assert spec.trigger == "admit"


def test_a_trigger_from_a_wrong_state_is_refused_and_the_snapshot_stays():
    snapshot = Snapshot("draft")
    with pytest.raises(InvalidTransition):
        REQUEST_ENGINE.apply(snapshot, "admit", {})
    assert snapshot.state == "draft"


def test_an_unknown_trigger_is_refused():
    with pytest.raises(InvalidTransition):
        REQUEST_ENGINE.apply(Snapshot("draft"), "teleport", {})


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_publish_goes_to_adoption_monitoring_only_for_positive_outcomes(outcome):
    snapshot = Snapshot("consultation")
    REQUEST_ENGINE.apply(snapshot, "publish", {"outcome": outcome})
    expected = "adoption_monitoring" if outcome in POSITIVE_OUTCOMES else "not_recommended"
    assert snapshot.state == expected


@pytest.mark.parametrize("origin", SUSPENDABLE_STATES)
def test_resume_returns_to_the_state_the_request_left(origin):
    snapshot = Snapshot("suspended", suspended_from=origin)
    spec = REQUEST_ENGINE.apply(snapshot, "resume", {})
    assert snapshot.state == origin
    assert spec.dest == origin


def test_an_internal_transition_stays_in_its_state():
    snapshot = Snapshot("assignment")
    spec = REQUEST_ENGINE.apply(snapshot, "assign_body", {"regional_body": 3})
    assert spec.internal
    assert snapshot.state == "assignment"


def test_adoption_workflow_moves_too():
    snapshot = Snapshot("procurement")
    ADOPTION_ENGINE.apply(snapshot, "start_use", {})
    assert snapshot.state == "in_use"


def test_available_lists_what_a_role_may_fire_from_a_state():
    triggers = {t.trigger for t in REQUEST_ENGINE.available("intake_review", "agency")}
    assert triggers == {"mark_incomplete", "declare_inadmissible", "admit", "suspend"}
    assert {t.trigger for t in REQUEST_ENGINE.available("intake_review", "manufacturer")} == {
        "withdraw"
    }
    assert REQUEST_ENGINE.available("archived", "agency") == []


def test_the_machine_keeps_no_objects_between_fires():
    machine = REQUEST_ENGINE.machine
    models_before = len(machine.models)
    for _ in range(1000):
        REQUEST_ENGINE.apply(Snapshot("intake_review"), "admit", {})
    assert len(machine.models) == models_before


# --- Transition data -------------------------------------------------------------------------


def test_reason_is_required_where_declared():
    spec = spec_of("declare_inadmissible")
    assert validate_transition_data(spec, "  ", {}) == {"reason": "required"}
    assert validate_transition_data(spec, "Not a medical device.", {}) == {}


def test_choice_fields_refuse_unknown_codes():
    spec = spec_of("route")
    assert validate_transition_data(spec, "why", {"route_to": "mars"}) == {
        "route_to": "invalid_choice"
    }


def test_lines_are_split_and_blank_lines_dropped():
    spec = spec_of("mark_incomplete")
    cleaned = normalise_transition_data(spec, {"missing_items": "IFU\n\n  CE certificate  \n"})
    assert cleaned == {"missing_items": ["IFU", "CE certificate"]}
    assert validate_transition_data(spec, "x", normalise_transition_data(spec, {})) == {
        "missing_items": "required"
    }


def test_undeclared_data_is_dropped():
    spec = spec_of("admit")
    assert normalise_transition_data(spec, {"state": "archived", "version": 1}) == {}


def test_dates_are_parsed_and_must_be_in_the_future_when_declared():
    spec = spec_of("open_consultation")
    base = {"outcome": "recommended", "rationale": "Works."}
    cleaned = normalise_transition_data(spec, base | {"review_date": "2029-03-01"})
    assert cleaned["review_date"] == date(2029, 3, 1)
    today = date(2026, 3, 1)
    assert validate_transition_data(spec, "", cleaned, today) == {}
    past = normalise_transition_data(spec, base | {"review_date": "2026-03-01"})
    assert validate_transition_data(spec, "", past, today) == {"review_date": "not_in_future"}
    garbage = normalise_transition_data(spec, base | {"review_date": "next spring"})
    assert validate_transition_data(spec, "", garbage, today) == {"review_date": "invalid_date"}


def test_regional_body_ids_come_as_numbers_or_digit_strings():
    spec = spec_of("assign_body")
    assert normalise_transition_data(spec, {"regional_body": " 12 "}) == {"regional_body": 12}
    wrong = normalise_transition_data(spec, {"regional_body": "Lombardia"})
    assert validate_transition_data(spec, "", wrong) == {"regional_body": "invalid_choice"}


def test_check_data_raises_with_the_field_codes():
    with pytest.raises(ValidationFailed) as raised:
        check_data(spec_of("publish", dest="adoption_monitoring"), "", {})
    assert raised.value.details["fields"] == {"outcome": "required", "rationale": "required"}


# --- Parties -----------------------------------------------------------------------------------


def actor(role, org=None):
    return SimpleNamespace(id=1, role=role, organisation_id=org)


REQUEST = SimpleNamespace(manufacturer_id=10, assigned_body_id=20, state="assessment")
ADOPTION = SimpleNamespace(request_id=5, irccs_id=30)


def test_only_the_right_party_may_fire():
    submit = spec_of("submit")
    assert can_fire(actor("manufacturer", 10), REQUEST, submit)
    assert not can_fire(actor("manufacturer", 11), REQUEST, submit)
    assert not can_fire(actor("agency", 1), REQUEST, submit)
    report = spec_of("send_draft_report")
    assert can_fire(actor("assessor", 20), REQUEST, report)
    assert not can_fire(actor("assessor", 21), REQUEST, report)
    approve = spec_of("approve_for_use", ADOPTION_WORKFLOW)
    assert can_fire(actor("irccs", 30), ADOPTION, approve)
    assert not can_fire(actor("irccs", 31), ADOPTION, approve)
    assert not can_fire(actor("agency", 1), ADOPTION, approve)


def test_the_system_fires_only_system_transitions():
    assert can_fire(None, REQUEST, spec_of("lapse_information"))
    assert not can_fire(None, REQUEST, spec_of("admit"))


def test_an_admin_is_party_to_nothing():
    assert not is_party_to(actor("admin"), REQUEST)
    assert not can_view_adoption(actor("admin"), ADOPTION)


def test_adoption_records_are_seen_by_the_agency_and_their_own_irccs():
    assert can_view_adoption(actor("agency", 1), ADOPTION)
    assert can_view_adoption(actor("irccs", 30), ADOPTION)
    assert not can_view_adoption(actor("irccs", 31), ADOPTION)
    assert not can_view_adoption(actor("manufacturer", 10), ADOPTION)


def test_adoption_states_are_known():
    for spec in ADOPTION_WORKFLOW.transitions:
        assert spec.dest in ADOPTION_STATES
