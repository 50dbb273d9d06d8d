"""Every workflow trigger, data field and choice has a translatable label."""

from __future__ import annotations

from app.workflow.action_labels import ACTION_LABELS, CHOICE_LABELS, FIELD_LABELS
from app.workflow.definitions import ADOPTION_WORKFLOW, REIMBURSEMENT_WORKFLOW, REQUEST_WORKFLOW


def test_every_trigger_has_a_label():
    for workflow in (REQUEST_WORKFLOW, ADOPTION_WORKFLOW, REIMBURSEMENT_WORKFLOW):
        assert set(workflow.triggers) <= set(ACTION_LABELS), workflow.name


def test_every_data_field_and_choice_has_a_label():
    for workflow in (REQUEST_WORKFLOW, ADOPTION_WORKFLOW, REIMBURSEMENT_WORKFLOW):
        for transition in workflow.transitions:
            for data_field in transition.fields:
                assert data_field.name in FIELD_LABELS
                if data_field.kind == "choice":
                    assert set(data_field.choices) <= set(CHOICE_LABELS[data_field.name])
