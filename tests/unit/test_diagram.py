"""The workflow diagrams are generated from the definitions: every state and trigger is
drawn, state ids are Mermaid-safe, and the `resume` edges collapse into one note."""

from __future__ import annotations

import re

import pytest

from app.workflow.definitions import ADOPTION_WORKFLOW, REQUEST_WORKFLOW
from app.workqueue.diagram import final_states, mermaid_state_diagram, transition_rows

WORKFLOWS = [REQUEST_WORKFLOW, ADOPTION_WORKFLOW]
EDGE = re.compile(r"^\s*(\S+) --> (\S+)(?: : (.*))?$")


def edges(text: str) -> list[tuple[str, str, str]]:
    found = []
    for line in text.splitlines():
        match = EDGE.match(line)
        if match:
            found.append((match.group(1), match.group(2), match.group(3) or ""))
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_state_and_trigger_appears(workflow):
    text = mermaid_state_diagram(workflow)
    assert text.startswith("stateDiagram-v2\n")
    drawn_states = {s for source, dest, _ in edges(text) for s in (source, dest)}
    drawn_states |= set(re.findall(r"note (?:left|right) of (\S+) :", text))
    assert set(workflow.states) <= drawn_states
    for trigger in workflow.triggers:
        assert re.search(rf"\b{trigger} \(", text), trigger


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_state_ids_have_no_spaces_or_dashes(workflow):
    text = mermaid_state_diagram(workflow, state_labels=lambda s: s.replace("_", " ").title())
    for source, dest, _ in edges(text):
        for state_id in (source, dest):
            assert state_id == "[*]" or re.fullmatch(r"[a-z][a-z0-9_]*", state_id), state_id
    # Human labels are attached with `state "..." as id`, so ids stay plain.
    assert 'state "Intake Review" as intake_review' in text or workflow is ADOPTION_WORKFLOW


def test_edges_are_labelled_with_trigger_and_role():
    text = mermaid_state_diagram(REQUEST_WORKFLOW)
    assert ("draft", "intake_review", "submit (manufacturer)") in edges(text)
    assert ("intake_review", "incomplete", "mark_incomplete (agency)") in edges(text)
    assert ("assignment", "assessment", "accept_assignment (assessor)") in edges(text)
    assert ("adoption_monitoring", "reassessment_due", "review_due (agency, system)") in edges(text)
    # Internal transitions stay in their state.
    assert ("assignment", "assignment", "assign_body (agency)") in edges(text)


def test_resume_edges_collapse_into_one_note():
    text = mermaid_state_diagram(REQUEST_WORKFLOW, previous_state_text="previous state")
    assert not [e for e in edges(text) if e[2].startswith("resume")]
    notes = [line for line in text.splitlines() if "resume" in line]
    assert notes == ["    note right of suspended : resume (agency) → previous state"]


def test_wide_fans_of_arrows_become_a_note_on_their_destination():
    text = mermaid_state_diagram(REQUEST_WORKFLOW, fan_in_text=lambda n: f"from {n} states")
    assert not [e for e in edges(text) if e[2].startswith(("withdraw", "suspend"))]
    assert "    note left of withdrawn : withdraw (manufacturer) from 9 states" in text
    assert "    note left of suspended : suspend (agency) from 12 states" in text


def test_start_and_final_states_are_marked():
    text = mermaid_state_diagram(REQUEST_WORKFLOW)
    assert ("[*]", "draft", "") in edges(text)
    for state in ("inadmissible", "withdrawn", "archived", "not_recommended"):
        assert (state, "[*]", "") in edges(text)
    assert set(final_states(ADOPTION_WORKFLOW)) == {"discontinued", "declined"}


def test_labels_cannot_break_the_mermaid_syntax():
    text = mermaid_state_diagram(
        ADOPTION_WORKFLOW, state_labels={"in_use": 'In "use": now; #1 {x}'}
    )
    assert 'state "In use now 1 x" as in_use' in text


def test_a_state_id_mermaid_would_break_on_is_refused():
    from app.workflow.spec import TransitionSpec, WorkflowSpec

    broken = WorkflowSpec(
        name="broken",
        states=("a state", "b"),
        initial="a state",
        transitions=(TransitionSpec("go", ("a state",), "b", frozenset({"agency"})),),
    )
    with pytest.raises(ValueError, match="snake_case"):
        mermaid_state_diagram(broken)


def test_transition_table_merges_resume_and_keeps_the_rest():
    rows = transition_rows(REQUEST_WORKFLOW)
    resume = [r for r in rows if r.trigger == "resume"]
    assert len(resume) == 1
    assert resume[0].dest is None and resume[0].sources == ("suspended",)
    assert resume[0].roles == ("agency",) and resume[0].reason_required
    publish = [r for r in rows if r.trigger == "publish"]
    assert {r.dest for r in publish} == {"adoption_monitoring", "not_recommended"}
    assert publish[0].fields[0] == "outcome"
    mark = next(r for r in rows if r.trigger == "mark_incomplete")
    assert mark.fields == ("missing_items",) and mark.reason_required
    triggers = {r.trigger for r in rows}
    assert triggers == set(REQUEST_WORKFLOW.triggers)


def test_an_internal_action_of_many_states_is_one_note_not_a_loop_on_each():
    text = mermaid_state_diagram(ADOPTION_WORKFLOW, fan_in_text=lambda n: f"in {n} states")
    assert not [e for e in edges(text) if "barrier" in e[2]]
    assert "    note right of not_started : record_barrier (irccs) in 5 states" in text
    assert [line for line in text.splitlines() if "resolve_barrier" in line] == [
        "    note right of not_started : resolve_barrier (agency, assessor, irccs) in 7 states"
    ]
    # An internal action of one state keeps its loop.
    assert ("procurement", "procurement", "record_award (irccs)") in edges(text)
