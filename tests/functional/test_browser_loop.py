"""Closing the loop (issue 14), in a real browser:

- an IRCCS posts an unmet clinical need, two other IRCCS endorse it, the manufacturer links
  its newly submitted request to it; at intake the agency sees that the request duplicates an
  earlier one and reuses that earlier assessment for two Core Model domains; in prioritisation
  the "declared need" criterion is filled from the data;
- a recommendation with evidence generation gets a milestone that is missed: the request is
  due for reassessment;
- an IRCCS reports a quarter whose adverse events exceed the device's threshold: the agency
  gets the alert and suspends the device from it.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.models import Adoption, DomainAssessment, Recommendation
from tests.browser_support import (
    BROWSER,
    Person,
    act,
    draft_and_submit,
    seed,
    state_shown,
    submit,
    text_of,
)

pytestmark = BROWSER


@pytest.fixture(scope="module")
def world(live_app):
    def build(make):
        maker = make.org("manufacturer", name="Valvetech S.p.A.")
        hospitals = [
            make.org("irccs", name=name, region=region)
            for name, region in (
                ("IRCCS San Matteo", "lombardia"),
                ("IRCCS Gaslini", "liguria"),
                ("IRCCS Besta", "lombardia"),
            )
        ]
        users = {
            "manufacturer": make.user("manufacturer", maker, full_name="Marta Rossi"),
            "agency": make.user("agency", full_name="Anna Bianchi"),
        }
        for n, hospital in enumerate(hospitals):
            users[f"irccs{n}"] = make.user("irccs", hospital, full_name=f"Referente {n}")
        # An earlier request for the same device, assessed and published.
        earlier = make.request(
            manufacturer=maker, complete=True, state="adoption_monitoring", trade_name="OldValve"
        )
        # A recommendation with evidence generation, and one in use at the first IRCCS.
        evidence = make.request(
            manufacturer=maker, complete=True, state="adoption_monitoring", trade_name="EviValve"
        )
        in_use = make.request(
            manufacturer=maker, complete=True, state="adoption_monitoring", trade_name="UsedValve"
        )
        make.session.flush()
        make.session.add_all(
            [
                DomainAssessment(
                    request_id=earlier.id,
                    domain="safety",
                    status="done",
                    findings="No excess events at 2 years.",
                    conclusion="Safe.",
                ),
                Recommendation(request_id=earlier.id, outcome="recommended", rationale="r"),
                Recommendation(
                    request_id=evidence.id,
                    outcome="recommended_with_evidence_generation",
                    rationale="r",
                    evidence_requirements="Registry data",
                    review_date=date(2029, 1, 1),
                ),
                Recommendation(request_id=in_use.id, outcome="recommended", rationale="r"),
            ]
        )
        adoption = Adoption(request_id=in_use.id, irccs_id=hospitals[0].id, state="in_use")
        make.session.add(adoption)
        make.session.flush()
        return {
            "people": {role: Person.of(user) for role, user in users.items()},
            "earlier": earlier.id,
            "evidence": evidence.id,
            "in_use": in_use.id,
            "adoption": adoption.id,
            "irccs0": hospitals[0].id,
        }

    return seed(live_app, build)


def test_a_declared_need_and_a_reused_assessment(people, world):
    cast = world["people"]
    irccs = people.page_for(cast["irccs0"])
    irccs.goto("/needs/new")
    irccs.fill("#title", "TAVI for frail patients")
    irccs.fill("#condition", "Severe aortic stenosis")
    irccs.fill("#population", "Adults over 75 unfit for surgery")
    irccs.fill("#patients_per_year", "1500")
    irccs.fill("#standard_of_care", "Surgical valve replacement")
    irccs.fill("#gap", "No option for frail patients")
    submit(irccs, irccs.get_by_role("button", name="Post the need"))
    need_url = irccs.url
    for endorser in ("irccs1", "irccs2"):
        page = people.page_for(cast[endorser])
        page.goto(need_url)
        submit(page, page.get_by_role("button", name="Endorse this need"))
    irccs.goto(need_url)
    assert text_of(irccs.locator("h2 .endorsement-count")) == "2"

    manufacturer = people.page_for(cast["manufacturer"])
    request_url = draft_and_submit(manufacturer, "NeedValve")
    manufacturer.goto(need_url)
    manufacturer.locator("#request_id").select_option(label="NeedValve CVX-23")
    submit(manufacturer, manufacturer.get_by_role("button", name="Link my request to this need"))
    assert "NeedValve" in text_of(manufacturer.locator("ul.linked-requests"))

    # Intake: the agency sees the duplicate and reuses the earlier assessment.
    agency = people.page_for(cast["agency"])
    agency.goto(request_url)
    alert = agency.locator(".duplicate-alert")
    assert "Possible duplicate" in text_of(alert)
    submit(agency, alert.get_by_role("link", name="Reuse an existing assessment"))
    matches = text_of(agency.locator("table.reuse-matches"))
    assert "OldValve" in matches and "same Basic UDI-DI" in matches
    agency.locator("#source").select_option("ours")
    agency.fill("#reference", "Our assessment of OldValve")
    agency.fill("#issued_on", "2025-06-30")
    agency.locator("#source_request_id").select_option(str(world["earlier"]))
    submit(agency, agency.get_by_role("button", name="Record the assessment"))
    assert "Our assessment of OldValve" in text_of(agency.locator("ul.prior-assessments"))
    for domain in ("safety", "clinical_effectiveness"):
        agency.locator(f"#choice_{domain}").select_option("adopted")
        agency.locator(f"#prior_{domain}").select_option(index=1)
    submit(agency, agency.get_by_role("button", name="Save the choices"))
    assert "Choices saved." in text_of(agency.locator("main"))
    assert agency.locator("#choice_safety").input_value() == "adopted"

    # Prioritisation: the declared need is filled from the data (3 IRCCS, 1,500 patients).
    agency.goto(request_url)
    act(agency, "admit")
    act(agency, "start_prioritisation")
    agency.goto(f"{request_url}/prioritisation")
    row = agency.locator("tr[data-derived-criterion='declared_need']")
    assert text_of(row.locator(".declared-need-score")) == "3"
    assert "3 IRCCS" in text_of(row)


def test_a_missed_milestone_makes_the_request_due_for_reassessment(people, world):
    agency = people.page_for(world["people"]["agency"])
    agency.goto(f"/requests/{world['evidence']}/milestones")
    agency.fill("#evidence", "Two-year mortality")
    agency.locator("#id_kind").select_option("nct")
    agency.fill("#study_id", "NCT04567890")
    agency.locator("#irccs_id").select_option(str(world["irccs0"]))
    agency.fill("#due_on", "2027-06-30")
    submit(agency, agency.get_by_role("button", name="Set the milestone"))
    row = agency.locator("tr[data-milestone-id]")
    assert "NCT04567890" in text_of(row)
    row.locator("input[name=reason]").fill("Study stopped early.")
    submit(agency, row.get_by_role("button", name="Missed"))
    assert agency.locator("tr[data-milestone-id]").get_attribute("data-status") == "missed"
    assert agency.locator(".state-badge").get_attribute("data-state") == "reassessment_due"


def test_usage_over_the_threshold_alerts_and_the_agency_suspends(people, world):
    cast = world["people"]
    irccs = people.page_for(cast["irccs0"])
    irccs.goto(f"/requests/{world['in_use']}/adoptions/{world['adoption']}/usage")
    irccs.fill("#year", "2026")
    irccs.locator("#quarter").select_option("1")
    irccs.fill("#units", "8")
    irccs.fill("#procedures", "8")
    irccs.fill("#spend", "150000")
    irccs.fill("#adverse_events", "2")
    submit(irccs, irccs.locator("main form button[type=submit]").first)

    agency = people.page_for(cast["agency"])
    agency.goto("/safety/")
    alert = agency.locator(".safety-alert")
    assert "UsedValve" in text_of(alert) and "25" in text_of(alert)
    alert.locator("input[name=fsn_number]").fill("FSN-2026-014")
    submit(agency, alert.get_by_role("button", name="Suspend the device"))
    assert "is suspended" in text_of(agency.locator("main"))
    agency.goto(f"/requests/{world['in_use']}")
    assert state_shown(agency) == "Suspended"
