"""Prioritisation pages: the agency scores each criterion with its reasons, the ranking orders
requests by priority index, the administrator's weights re-rank them, and every decision
needs its reasons."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.domain.prioritisation import CRITERIA, WEIGHTED_CRITERIA
from app.extensions import db
from app.models import AuditEntry, DeviceRequest, PriorityScore, PriorityWeight
from tests.assessment_support import (  # noqa: F401 (fixtures)
    NOW,
    assessment_hooks_only,
    reload,
    request_in,
    statements_for,
)
from tests.workflow_support import score_every_criterion

pytestmark = pytest.mark.usefixtures("assessment_hooks_only")


def score(request, **scores):
    """Store scores directly: {criterion: value}."""
    for criterion, value in scores.items():
        db.session.add(
            PriorityScore(
                request_id=request.id,
                criterion=criterion,
                score=value,
                justification=f"Why {criterion} is {value}.",
            )
        )
    db.session.commit()


def scores_form(**entries) -> dict:
    """Form data: {criterion: (score, justification)}; other criteria left empty."""
    data = {}
    for criterion in CRITERIA:
        value, reason = entries.get(criterion, ("", ""))
        data[f"score_{criterion}"] = str(value)
        data[f"justification_{criterion}"] = reason
    return data


def ranked_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-request-id="(\d+)"', page)]


# --- Scoring ---------------------------------------------------------------------------------


def test_the_agency_scores_criteria_with_reasons_and_sees_the_index(cast, make, as_user):
    req = request_in(make, cast, "prioritisation")
    agency = as_user(cast.agency)
    response = agency.post(
        f"/requests/{req.id}/prioritisation",
        data=scores_form(
            disease_severity=(3, "Life-threatening aortic stenosis."),
            unmet_need=(1, "Surgery exists for most patients."),
        ),
    )
    assert response.status_code == 302
    page = agency.get(f"/requests/{req.id}/prioritisation").get_data(as_text=True)
    # (3 + 1 + 0 for the declared need: none linked) / 3 of 3 -> 44.4
    assert re.search(r'class="priority-index">\s*44[.,]4', page)
    assert "Life-threatening aortic stenosis." in page
    stored = db.session.scalars(select(PriorityScore).where(PriorityScore.request_id == req.id))
    assert {(s.criterion, s.score) for s in stored} == {("disease_severity", 3), ("unmet_need", 1)}


def test_a_score_without_its_justification_is_refused_and_nothing_is_saved(cast, make, as_user):
    req = request_in(make, cast, "prioritisation")
    response = as_user(cast.agency).post(
        f"/requests/{req.id}/prioritisation",
        data=scores_form(disease_severity=(3, "Severe."), unmet_need=(2, "  ")),
    )
    assert response.status_code == 422
    assert "Write why this score was given." in response.get_data(as_text=True)
    # What the user typed is kept.
    assert "Severe." in response.get_data(as_text=True)
    assert db.session.scalars(select(PriorityScore)).all() == []


def test_score_edits_are_audit_logged_with_old_and_new_values(cast, make, as_user):
    req = request_in(make, cast, "prioritisation")
    score(req, disease_severity=1)
    as_user(cast.agency).post(
        f"/requests/{req.id}/prioritisation",
        data=scores_form(disease_severity=(3, "New registry data show higher mortality.")),
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "priority_scores_edited")
    ).one()
    assert entry.request_id == req.id
    assert entry.changes["disease_severity.score"] == [1, 3]
    assert entry.changes["disease_severity.justification"] == [
        "Why disease_severity is 1.",
        "New registry data show higher mortality.",
    ]


def test_scores_are_read_only_once_the_request_left_prioritisation(cast, make, as_user):
    req = request_in(make, cast, "assignment")
    score(req, unmet_need=2)
    agency = as_user(cast.agency)
    page = agency.get(f"/requests/{req.id}/prioritisation")
    assert page.status_code == 200
    assert 'name="score_unmet_need"' not in page.get_data(as_text=True)
    response = agency.post(
        f"/requests/{req.id}/prioritisation", data=scores_form(unmet_need=(0, "Changed."))
    )
    assert response.status_code == 403


# --- The ranking -----------------------------------------------------------------------------


def test_the_ranking_orders_by_index_and_puts_unscored_requests_last(cast, make, as_user):
    low = request_in(make, cast, "prioritisation", trade_name="LowDevice")
    unscored = request_in(make, cast, "awaiting_prioritisation", trade_name="NewDevice")
    high = request_in(make, cast, "awaiting_prioritisation", trade_name="HighDevice")
    request_in(make, cast, "assessment", trade_name="AlreadyAssessed")
    score(low, disease_severity=1, unmet_need=0)
    score(high, disease_severity=3, unmet_need=2)
    page = as_user(cast.agency).get("/requests/prioritisation").get_data(as_text=True)
    assert ranked_ids(page) == [high.id, low.id, unscored.id]
    assert "AlreadyAssessed" not in page
    assert "not scored" in page


def test_changing_the_weights_re_ranks_the_requests(cast, make, as_user):
    severe = request_in(make, cast, "prioritisation", trade_name="Severe")
    cheap = request_in(make, cast, "prioritisation", trade_name="Cheap")
    score(severe, disease_severity=3, budget_impact=0, unmet_need=3)
    score(cheap, disease_severity=1, budget_impact=3, unmet_need=1)
    agency = as_user(cast.agency)
    # Equal weights: severe 6/9 = 66.7 before cheap 5/9 = 55.6. Budget impact weighted 5:
    # severe 6/21 = 28.6 after cheap 17/21 = 81.
    before = ranked_ids(agency.get("/requests/prioritisation").get_data(as_text=True))
    assert before == [severe.id, cheap.id]

    weights = {f"weight_{c}": "1" for c in WEIGHTED_CRITERIA} | {"weight_budget_impact": "5"}
    response = as_user(cast.admin).post("/requests/prioritisation/weights", data=weights)
    assert response.status_code == 302
    assert db.session.get(PriorityWeight, "budget_impact").weight == 5

    after = ranked_ids(agency.get("/requests/prioritisation").get_data(as_text=True))
    assert after == [cheap.id, severe.id]


def test_weight_changes_are_audited_and_all_zero_weights_are_refused(cast, as_user):
    admin = as_user(cast.admin)
    all_zero = {f"weight_{c}": "0" for c in WEIGHTED_CRITERIA}
    response = admin.post("/requests/prioritisation/weights", data=all_zero)
    assert response.status_code == 422
    assert "At least one criterion needs a weight above 0." in response.get_data(as_text=True)
    negative = {f"weight_{c}": "1" for c in WEIGHTED_CRITERIA} | {"weight_plan_fit": "-2"}
    assert admin.post("/requests/prioritisation/weights", data=negative).status_code == 422
    assert db.session.scalars(select(PriorityWeight)).all() == []

    admin.post(
        "/requests/prioritisation/weights",
        data={f"weight_{c}": "1" for c in WEIGHTED_CRITERIA} | {"weight_plan_fit": "2.5"},
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "priority_weights_edited")
    ).one()
    assert entry.changes == {"plan_fit": ["1", "2.5"]}


@pytest.mark.parametrize("role", ["agency", "manufacturer", "assessor", "irccs"])
def test_only_the_administrator_sets_the_weights(cast, as_user, role):
    client = as_user(getattr(cast, role))
    assert client.get("/requests/prioritisation/weights").status_code == 403
    response = client.post("/requests/prioritisation/weights", data={"weight_plan_fit": "9"})
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["admin", "manufacturer", "assessor", "irccs"])
def test_only_the_agency_sees_the_ranking(cast, as_user, role):
    assert as_user(getattr(cast, role)).get("/requests/prioritisation").status_code == 403


def test_the_ranking_costs_the_same_statements_for_3_or_12_requests(cast, make, as_user):
    agency = as_user(cast.agency)

    def add(n):
        for i in range(n):
            req = request_in(make, cast, "prioritisation" if i % 2 else "awaiting_prioritisation")
            if i % 3:
                score(req, disease_severity=i % 4, unmet_need=1)

    add(3)
    with_3 = statements_for(agency, "/requests/prioritisation")
    add(9)
    assert statements_for(agency, "/requests/prioritisation") == with_3


# --- Decisions -------------------------------------------------------------------------------


def decide(client, req, decision, reason="", **extra):
    req = reload(req)
    data = {
        f"r{req.id}-decision": decision,
        f"r{req.id}-reason": reason,
        f"r{req.id}-expected_version": str(req.version),
    } | {f"r{req.id}-{k}": v for k, v in extra.items()}
    return client.post(f"/requests/{req.id}/prioritisation/decision", data=data)


@pytest.mark.parametrize("decision", ["prioritise", "defer", "not_prioritise", "route"])
def test_a_decision_without_reasons_is_refused(cast, make, as_user, decision):
    req = request_in(make, cast, "prioritisation")
    response = decide(as_user(cast.agency), req, decision, "  ", route_to="other_programme")
    assert response.status_code == 422
    assert "Write the reasons for this decision." in response.get_data(as_text=True)
    assert reload(req).state == "prioritisation"
    # Nothing recorded but the login (a security event about the user account).
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type != "user")).all() == []
    )


@pytest.mark.parametrize(
    ("decision", "state", "extra"),
    [
        ("prioritise", "assignment", {}),
        ("defer", "awaiting_prioritisation", {}),
        ("not_prioritise", "not_prioritised", {}),
        ("route", "routed", {"route_to": "eu_joint_clinical_assessment"}),
    ],
)
def test_a_decision_with_reasons_is_recorded_on_the_request(
    cast, make, as_user, decision, state, extra
):
    req = request_in(make, cast, "prioritisation")
    score_every_criterion(req, cast.agency, NOW)
    db.session.commit()
    response = decide(as_user(cast.agency), req, decision, "Scored 82/100 in round 3.", **extra)
    assert response.status_code == 302
    assert reload(req).state == state
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == decision)).one()
    assert entry.reason == "Scored 82/100 in round 3."
    assert entry.request_id == req.id


def test_routing_elsewhere_needs_a_destination(cast, make, as_user):
    req = request_in(make, cast, "prioritisation")
    response = decide(as_user(cast.agency), req, "route", "Better suited to the EU JCA.")
    assert response.status_code == 422
    assert "Choose where to route it." in response.get_data(as_text=True)
    assert reload(req).state == "prioritisation"


def test_the_agency_starts_prioritisation_from_the_ranking(cast, make, as_user):
    req = request_in(make, cast, "awaiting_prioritisation")
    assert decide(as_user(cast.agency), req, "start_prioritisation").status_code == 302
    assert reload(req).state == "prioritisation"


def test_a_stale_decision_is_a_conflict(cast, make, as_user):
    req = request_in(make, cast, "prioritisation")
    data = {
        f"r{req.id}-decision": "prioritise",
        f"r{req.id}-reason": "High need.",
        f"r{req.id}-expected_version": str(req.version - 1 if req.version > 1 else 99),
    }
    response = as_user(cast.agency).post(f"/requests/{req.id}/prioritisation/decision", data=data)
    assert response.status_code == 409
    assert reload(req).state == "prioritisation"


# --- Object-level access ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("manufacturer", 403),  # its own request: visible, but scoring is the agency's
        ("other_manufacturer", 404),
        ("assessor", 404),  # no body assigned yet
        ("other_assessor", 404),
        ("irccs", 404),
        ("admin", 404),
    ],
)
def test_scores_and_decisions_are_the_agencys(cast, make, as_user, who, status):
    req = request_in(make, cast, "prioritisation")
    client = as_user(getattr(cast, who))
    assert client.get(f"/requests/{req.id}/prioritisation").status_code == status
    posted = client.post(
        f"/requests/{req.id}/prioritisation", data=scores_form(unmet_need=(3, "x"))
    )
    assert posted.status_code == status
    assert decide(client, req, "prioritise", "Because.").status_code == status
    assert reload(req).state == "prioritisation"
    assert db.session.scalars(select(PriorityScore)).all() == []


def test_unknown_requests_are_404(cast, as_user):
    agency = as_user(cast.agency)
    assert agency.get("/requests/999999/prioritisation").status_code == 404
    assert db.session.get(DeviceRequest, 999999) is None


def test_the_scoring_page_is_a_clear_button_and_says_what_each_level_means(cast, make, as_user):
    req = request_in(make, cast, "prioritisation")
    agency = as_user(cast.agency)
    scores_url = f"/requests/{req.id}/prioritisation"

    # From the ranking and from the request page: a button named for what it does.
    ranking = agency.get("/requests/prioritisation").get_data(as_text=True)
    assert re.search(
        rf'<a class="btn[^"]*score-button" href="{scores_url}">Score the criteria', ranking
    )
    detail = agency.get(f"/requests/{req.id}").get_data(as_text=True)
    assert re.search(
        rf'<a class="btn[^"]*" href="{scores_url}"[^>]*>\s*Score the prioritisation', detail
    )

    page = agency.get(scores_url).get_data(as_text=True)
    rows = {
        criterion: page.split(f'data-criterion="{criterion}"')[1].split("</tr>")[0]
        for criterion in CRITERIA
    }
    # Every level of every criterion described, in its own words (no two criteria alike).
    options = {
        criterion: re.findall(r"<option[^>]*>\s*([0-3]: [^<]+)</option>", row)
        for criterion, row in rows.items()
    }
    assert all(len(found) == 4 for found in options.values()), options
    assert len({tuple(found) for found in options.values()}) == len(CRITERIA)
    assert "3: life-threatening or rapidly progressive" in options["disease_severity"]
    # The two criteria read in reverse say so.
    assert "3 means savings or a negligible cost" in rows["budget_impact"]
    assert "3 means a very low risk" in rows["inappropriate_use_risk"]
    assert "criterion-direction" not in rows["disease_severity"]
