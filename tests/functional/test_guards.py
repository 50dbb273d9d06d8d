"""Preconditions the kernel's guards now enforce everywhere, and report before the action is
tried: each of these cases went wrong before (the API took what the web form refused; the
action lists offered actions that then failed; a prioritisation decision went through with
no criterion scored)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.fire import action_availability, fire
from app.domain.errors import GuardFailed
from app.extensions import db
from app.models import AuditEntry, PriorityWeight
from tests.api_support import NOW, api_for, clear_coi
from tests.assessment_support import (
    reload,
    request_in,
)
from tests.workflow_support import score_every_criterion


def test_the_api_refuses_a_restricted_recommendation_without_conditions(client, cast, make):
    req = request_in(make, cast, "appraisal")
    answer = api_for(client, cast.agency).post(
        f"/requests/{req.id}/transitions/open_consultation",
        {"data": {"outcome": "recommended_restricted", "rationale": "Benefit in some patients."}},
    )
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["detail"] == (
        "Say which indications or centres the recommendation is restricted to."
    )
    assert problem["errors"] == {"conditions": [problem["detail"]]}
    assert reload(req).state == "appraisal"


def test_the_appraisal_form_shows_the_guards_message_on_the_field(cast, make, as_user):
    req = request_in(make, cast, "appraisal")
    page = as_user(cast.agency).post(
        f"/requests/{req.id}/appraisal",
        data={
            "outcome": "recommended_with_evidence_generation",
            "rationale": "Promising but early.",
            "evidence_requirements": "Two-year registry follow-up.",
            "expected_version": str(req.version),
        },
    )
    assert page.status_code == 422
    assert "Set the date when the recommendation is reviewed" in page.get_data(as_text=True)
    assert reload(req).state == "appraisal"


def test_submit_is_shown_blocked_while_mandatory_documents_are_missing(client, cast, make, as_user):
    req = make.request(manufacturer=cast.manufacturer_org, complete=True)
    db.session.commit()
    page = as_user(cast.manufacturer).get(f"/requests/{req.id}").get_data(as_text=True)
    item = page.split('data-trigger="submit"')[1].split('class="accordion-item')[0]
    assert 'data-blocked="true"' in item
    assert "Mandatory documents are missing. Please upload:" in item
    assert "Document to upload: Instructions for use" in item
    assert "disabled" in item and "<form" not in item

    listed = api_for(client, cast.manufacturer).get(f"/requests/{req.id}/transitions")
    [submit] = [item for item in listed.get_json()["items"] if item["trigger"] == "submit"]
    assert submit["trigger"] == "submit" and submit["blocked"] is True
    [reason] = submit["blocked_reasons"]
    assert reason["guard"] == "mandatory_documents"
    assert reason["code"] == "documents_missing"
    assert reason["message"] == "Mandatory documents are missing. Please upload:"


def test_an_assessor_not_cleared_of_conflicts_is_not_offered_the_assignment(cast, make):
    req = request_in(make, cast, "assignment")
    [accept, decline] = action_availability(cast.assessor, req)
    assert (accept.spec.trigger, decline.spec.trigger) == (
        "accept_assignment",
        "decline_assignment",
    )
    assert accept.blocked and decline.blocked
    assert {f.code for f in accept.blocked_by} == {"coi_not_cleared"}
    clear_coi(cast.assessor, req)
    assert not any(a.blocked for a in action_availability(cast.assessor, req))


def test_prioritising_with_no_criterion_scored_is_refused(cast, make, as_user):
    req = request_in(make, cast, "prioritisation")
    with pytest.raises(GuardFailed) as refused:
        fire(req, "prioritise", cast.agency, NOW, reason="High unmet need.")
    assert refused.value.details["code"] == "criteria_not_scored"
    assert len(refused.value.details["missing"]) == 12
    db.session.rollback()
    page = as_user(cast.agency).post(
        f"/requests/{req.id}/prioritisation/decision",
        data={
            f"r{req.id}-decision": "prioritise",
            f"r{req.id}-reason": "High unmet need.",
            f"r{req.id}-expected_version": str(req.version),
        },
    )
    assert page.status_code == 422
    assert "Score every prioritisation criterion first (0 of 12 scored):" in page.get_data(
        as_text=True
    )
    assert reload(req).state == "prioritisation"


def test_a_prioritisation_decision_records_the_index_and_the_weights(cast, make):
    req = request_in(make, cast, "prioritisation")
    db.session.add(PriorityWeight(criterion="unmet_need", weight=Decimal("3")))
    score_every_criterion(req, cast.agency, NOW, score=3)
    db.session.commit()
    fire(req, "prioritise", cast.agency, NOW, reason="High unmet need.")
    db.session.commit()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "prioritise")).one()
    # Every criterion scored 3 (unmet need weighted 3), the declared need 0 (no need linked):
    # 100 * 3 * 14 / (3 * 15) = 93.3
    assert entry.data["priority_index"] == "93.3"
    assert entry.data["derived_scores"] == {"declared_need": 0}
    assert entry.data["criteria_scored"] == 12
    assert entry.data["priority_weights"]["unmet_need"] == "3.00"
    assert entry.data["priority_weights"]["plan_fit"] == "1"


def test_the_decisions_basis_is_read_by_the_agency_not_by_the_manufacturer(
    client, cast, make, as_user
):
    """The index and weights come from the agency's internal scores: the manufacturer reads
    the decision in its audit trail (page and API) without them."""
    req = request_in(make, cast, "prioritisation")
    score_every_criterion(req, cast.agency, NOW, score=3)
    db.session.commit()
    fire(req, "prioritise", cast.agency, NOW, reason="High unmet need.")
    db.session.commit()

    def decision_in_api(user):
        entries = api_for(client, user).get(f"/requests/{req.id}/audit").get_json()["items"]
        return next(e for e in entries if e["action"] == "prioritise")

    assert "priority_index" not in decision_in_api(cast.manufacturer)["data"]
    assert "derived_scores" not in decision_in_api(cast.manufacturer)["data"]
    # 12 criteria scored 3, the declared need 0 (none linked): 36 / 39 -> 92.3
    assert decision_in_api(cast.agency)["data"]["priority_index"] == "92.3"
    manufacturer_page = as_user(cast.manufacturer).get(f"/requests/{req.id}").get_data(True)
    agency_page = as_user(cast.agency).get(f"/requests/{req.id}").get_data(True)
    assert "Priority index" not in manufacturer_page
    assert "Priority index" in agency_page
