"""The main path of a request in a real browser, carried by the four roles (DOMAIN.md), clicking
and typing as people do; days pass between the steps on the live app's clock.

A manufacturer drafts and submits a complete dossier with its mandatory documents; the agency
admits it, scores and prioritises it (late: the prioritisation takes longer than its 90 days)
and assigns a regional body; the body's assessor declares no conflict of interest, accepts,
works the HTA Core Model assessment and sends the draft report; the manufacturer returns its
factual comments (a clock stop); the assessor finalises; the agency opens the consultation and
publishes a positive recommendation; an IRCCS user (reading Italian) moves its adoption record
to use and reports a quarter's usage; the agency reads the timing and adoption reports and
downloads them. After each step the test reads what the user sees: the state, the audit-trail
row naming who did what and when, and the stage timeline with gross and net days.
"""

from __future__ import annotations

import pytest

from tests.browser_support import (
    BROWSER,
    Person,
    act,
    assert_step,
    audit_trail,
    draft_and_submit,
    seed,
    shown_moment,
    stage_rows,
    state_shown,
    submit,
    text_of,
    timeline,
)

pytestmark = BROWSER

TRADE_NAME = "CardioValve X"


@pytest.fixture(scope="module")
def cast(live_app):
    def build(make):
        manufacturer = make.org("manufacturer", name="Valvetech S.p.A.")
        body = make.org("regional_body", name="HTA Lombardia", region="lombardia")
        irccs = make.org("irccs", name="IRCCS San Matteo", region="lombardia")
        users = {
            "manufacturer": make.user("manufacturer", manufacturer, full_name="Marta Rossi"),
            "agency": make.user("agency", full_name="Anna Bianchi"),
            "assessor": make.user("assessor", body, full_name="Luca Verdi"),
            "irccs": make.user("irccs", irccs, full_name="Paola Neri", language="it"),
        }
        return {role: Person.of(user) for role, user in users.items()}

    return seed(live_app, build)


def last_step(page) -> dict[str, str]:
    return audit_trail(page)[-1]


def stage(page, label: str) -> dict[str, str]:
    """The last timeline row of the stage labelled `label`."""
    rows = stage_rows(page, label)
    assert rows, f"no stage {label!r} in {timeline(page)}"
    return rows[-1]


def assert_stage(page, label, *, gross, net, deadline="On time", current=False):
    row = stage(page, label)
    assert (row["Gross days"], row["Net days"], row["Deadline"]) == (gross, net, deadline)
    assert (row["Left"] == "current") is current


def test_a_request_goes_from_draft_to_adoption_and_into_the_reports(people, cast, clock):
    manufacturer = people.page_for(cast["manufacturer"])
    request_url = the_manufacturer_submits(manufacturer, clock)
    agency = people.page_for(cast["agency"])
    the_agency_admits_and_prioritises(agency, request_url, clock)
    the_agency_assigns_the_regional_body(agency, clock)
    assessor = people.page_for(cast["assessor"])
    the_assessor_accepts_and_sends_the_draft_report(assessor, request_url, clock)
    the_manufacturer_returns_factual_comments(manufacturer, request_url, clock)
    the_assessor_finalises_the_report(assessor, request_url, clock)
    the_agency_publishes_a_positive_recommendation(agency, request_url, clock)
    irccs = people.page_for(cast["irccs"])
    the_irccs_adopts_and_reports_usage(irccs, clock)
    the_agency_reads_and_downloads_the_reports(agency)


def the_manufacturer_submits(page, clock) -> str:
    request_url = draft_and_submit(page, TRADE_NAME)
    assert_step(
        page,
        clock.now(),
        state="Submitted: admissibility check",
        who="Marta Rossi Manufacturer",
        action="Submit the request",
        states="Draft → Submitted: admissibility check",
    )
    assert "Receipt number: HTA-2027-000001" in text_of(page.locator("main"))
    [row] = timeline(page)
    assert row["Entered"] == shown_moment(clock.now(), "en")
    assert row["Due"] == "16 Mar 2027, 23:59"  # 15 days
    assert_stage(page, "Submitted: admissibility check", gross="0", net="0", current=True)
    return request_url


def the_agency_admits_and_prioritises(page, request_url, clock) -> None:
    clock.advance(days=4)
    page.goto(request_url)
    act(page, "admit")
    assert_step(
        page,
        clock.now(),
        state="Awaiting prioritisation",
        who="Anna Bianchi Central agency",
        action="Admit",
        states="Intake review → Awaiting prioritisation",
    )
    assert_stage(page, "Intake review", gross="4", net="4")

    clock.advance(days=3)
    submit(page, page.locator("#mainnav").get_by_role("link", name="Prioritisation"))
    ranked = page.locator("tr[data-request-id]", has_text=TRADE_NAME)
    submit(page, ranked.get_by_role("button", name="Start prioritisation"))
    submit(page, ranked.get_by_role("link", name="Score the criteria"))
    criteria = page.locator("tr[data-criterion]")
    for index, row in enumerate(criteria.all()):
        row.locator("select").select_option(str(3 - index % 2))
        row.locator("textarea").fill(f"Reason for criterion {index + 1}.")
    submit(page, page.get_by_role("button", name="Save the scores"))
    assert "12 of 12 criteria scored" in text_of(page.locator("main"))
    # Six 3s and six 2s, and the declared need filled from the data: 0 (no need linked).
    assert text_of(page.locator(".priority-index")) == "76.9"

    clock.advance(days=95)  # the deadline is 90 days: late
    submit(page, page.locator("#mainnav").get_by_role("link", name="Prioritisation"))
    assert text_of(ranked.locator(".priority-index")) == "76.9"
    ranked.locator("summary").click()
    ranked.locator("select[name$=decision]").select_option("prioritise")
    ranked.locator("textarea").fill("High unmet need in patients unfit for surgery.")
    submit(page, ranked.get_by_role("button", name="Record the decision"))
    page.goto(request_url)
    assert_step(
        page,
        clock.now(),
        state="Assignment to a regional body",
        who="Anna Bianchi Central agency",
        action="Prioritise for assessment",
        states="Prioritisation → Assignment to a regional body",
    )
    assert "High unmet need in patients unfit for surgery." in last_step(page)["Reason and data"]
    assert_stage(page, "Awaiting prioritisation", gross="3", net="3", deadline="")
    assert_stage(page, "Prioritisation", gross="95", net="95", deadline="Late")


def the_agency_assigns_the_regional_body(page, clock) -> None:
    clock.advance(days=1)
    item = page.locator('.accordion-item[data-trigger="assign_body"]')
    item.locator(".accordion-button").click()
    submit(page, item.get_by_role("link", name="Assign a regional HTA body"))
    body = page.locator("tr[data-body-id]", has_text="HTA Lombardia")
    submit(page, body.get_by_role("button", name="Assign to this body"))
    assert text_of(page.locator(".assigned-body")) == "HTA Lombardia"
    submit(page, page.get_by_role("link", name="CardioValve X"))
    assert_step(
        page,
        clock.now(),
        state="Assignment to a regional body",
        who="Anna Bianchi Central agency",
        action="Assign a regional HTA body",
    )
    assert "Regional HTA body HTA Lombardia" in last_step(page)["Reason and data"]


def the_assessor_accepts_and_sends_the_draft_report(page, request_url, clock) -> None:
    clock.advance(days=2)
    # Nothing of the dossier before the declaration of conflicts of interest.
    page.goto(request_url)
    assert page.url.endswith("/coi")
    page.get_by_label("No: I have no conflict of interest").check()
    submit(page, page.get_by_role("button", name="Send the declaration"))
    act(page, "accept_assignment")
    assert_step(
        page,
        clock.now(),
        state="Assessment",
        who="Luca Verdi Regional HTA assessor",
        action="Accept the assignment",
        states="Assignment to a regional body → Assessment",
    )
    assert_stage(page, "Assignment to a regional body", gross="3", net="3")

    clock.advance(days=30)
    submit(page, page.get_by_role("link", name="Assessment (HTA Core Model)"))
    # Too early: no domain is started yet. The refusal names them, on the checklist ...
    submit(page, page.get_by_role("button", name="Send the draft report for factual check"))
    refusal = text_of(page.locator(".draft-refused"))
    assert "Health problem and current use of technology" in refusal
    assert "Legal aspects" in refusal
    # ... which is filled in and saved from there.
    for index, domain in enumerate(page.locator("fieldset.domain-card").all()):
        domain.locator("select").select_option("done")
        domain.locator("textarea[name^=findings_]").fill(f"Findings of domain {index + 1}.")
        domain.locator("textarea[name^=conclusion_]").fill(f"Conclusion of domain {index + 1}.")
    page.fill("#summary", "Clear benefit in patients at high surgical risk.")
    submit(page, page.get_by_role("button", name="Save the assessment"))
    assert "Assessment saved." in text_of(page.locator("main"))
    assert "9 of 9 domains done or not applicable" in text_of(page.locator("main"))
    assert page.input_value("#summary") == "Clear benefit in patients at high surgical risk."
    submit(page, page.get_by_role("button", name="Send the draft report for factual check"))
    assert_step(
        page,
        clock.now(),
        state="Factual accuracy check",
        who="Luca Verdi Regional HTA assessor",
        action="Send the draft report for factual check",
        states="Assessment → Factual accuracy check",
    )
    assert_stage(page, "Assessment", gross="30", net="30")


def the_manufacturer_returns_factual_comments(page, request_url, clock) -> None:
    clock.advance(days=6)
    page.goto(request_url)
    assert state_shown(page) == "Action needed: check the draft report"
    submit(page, page.get_by_role("link", name="Check the draft report"))
    page.locator("textarea[name=comment_safety]").fill("The stroke rate is 2.1%, not 3.1%.")
    page.fill("#general", "One figure to correct in the safety section.")
    submit(page, page.get_by_role("button", name="Send the comments to the assessor"))
    assert_step(
        page,
        clock.now(),
        state="Action needed: check the draft report",
        who="Marta Rossi Manufacturer",
        action="Return factual accuracy comments",
    )
    assert "One figure to correct" in last_step(page)["Reason and data"]
    # The check was the manufacturer's time: the clock stopped, net days stay 0. With the
    # comments returned, the rest of the stage is the assessor's: the clock runs again.
    checked, finalising = stage_rows(page, "Action needed: check the draft report")
    assert (checked["Gross days"], checked["Net days"]) == ("6", "0")
    assert "Manufacturer's time" in checked["Stage"]
    assert finalising["Left"] == "current" and "Manufacturer's time" not in finalising["Stage"]


def the_assessor_finalises_the_report(page, request_url, clock) -> None:
    clock.advance(days=2)
    page.goto(request_url)
    submit(page, page.get_by_role("link", name="Assessment (HTA Core Model)"))
    assert "The stroke rate is 2.1%, not 3.1%." in text_of(page.locator("main"))
    submit(page, page.get_by_role("button", name="Finalise the report"))
    assert_step(
        page,
        clock.now(),
        state="Appraisal",
        who="Luca Verdi Regional HTA assessor",
        action="Finalise the report",
        states="Factual accuracy check → Appraisal",
    )
    checked, _finalised = stage_rows(page, "Factual accuracy check")
    assert (checked["Gross days"], checked["Net days"]) == ("6", "0")
    assert_stage(page, "Factual accuracy check", gross="2", net="2")  # the assessor's days


def the_agency_publishes_a_positive_recommendation(page, request_url, clock) -> None:
    clock.advance(days=14)
    page.goto(request_url)
    submit(page, page.get_by_role("link", name="Appraisal and recommendation"))
    page.select_option("#outcome", "recommended")
    page.fill("#rationale", "Clear benefit in patients unfit for surgery.")
    submit(page, page.get_by_role("button", name="Open public consultation"))
    assert_step(
        page,
        clock.now(),
        state="Public consultation",
        who="Anna Bianchi Central agency",
        action="Open public consultation",
        states="Appraisal → Public consultation",
    )
    assert_stage(page, "Appraisal", gross="14", net="14")

    clock.advance(days=30)
    submit(page, page.get_by_role("link", name="Appraisal and recommendation"))
    # The draft put to consultation is filled in.
    assert page.input_value("#outcome") == "recommended"
    assert page.input_value("#rationale") == "Clear benefit in patients unfit for surgery."
    submit(page, page.get_by_role("button", name="Publish the recommendation"))
    assert_step(
        page,
        clock.now(),
        state="Adoption monitoring",
        who="Anna Bianchi Central agency",
        action="Publish the recommendation",
        states="Public consultation → Adoption monitoring",
    )
    assert "Outcome Recommended" in last_step(page)["Reason and data"]
    assert_stage(page, "Public consultation", gross="30", net="30")


def the_irccs_adopts_and_reports_usage(page, clock) -> None:
    """The IRCCS user reads Italian (the default language of the application)."""
    clock.advance(days=10)
    page.goto("/adoptions/")
    submit(page, page.locator("main table a", has_text=TRADE_NAME))
    assert state_shown(page) == "Da avviare"
    for trigger, days, state, action in (
        ("start_evaluation", 0, "Valutazione locale", "Avvia la valutazione locale"),
        ("approve_for_use", 20, "Approvata per l'uso", "Approva per l'uso"),
        ("start_use", 15, "In uso", "Registra il primo utilizzo"),
    ):
        clock.advance(days=days)
        before = state_shown(page)
        act(page, trigger, prefix="adoption-action")
        assert_step(
            page,
            clock.now(),
            state=state,
            who="Paola Neri IRCCS",
            action=action,
            states=f"{before} → {state}",
            language="it",
        )
    assert text_of(page.locator(".adoption-first-use-at")) == shown_moment(clock.now(), "it")

    submit(page, page.locator("a.usage-link"))
    page.fill("#year", "2027")
    page.select_option("#quarter", "3")
    page.fill("#units", "12")
    page.fill("#procedures", "11")
    page.fill("#spend", "222000")
    page.fill("#adverse_events", "0")
    submit(page, page.get_by_role("button", name="Salva la rendicontazione"))
    reported = page.locator('tr.usage-latest[data-period="2027-Q3"]')
    assert text_of(reported).startswith("2027 Q3 12 11 222.000,00 € 0 v1")


# What each download starts with: the PDF and ZIP (XLSX) signatures, the CSV's UTF-8 BOM.
DOWNLOADS = {
    "PDF": ("application/pdf", b"%PDF-"),
    "XLSX": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    "CSV": ("text/csv", "\ufeff".encode()),
}
# Key figures of the one request, on the page and in the CSV.
REPORTS = {
    "Timing report": ("Submitted requests", "With a published recommendation"),
    "Adoption report": ("IRCCS adoption records", "In use"),
}


def the_agency_reads_and_downloads_the_reports(page) -> None:
    for report, figures in REPORTS.items():
        submit(page, page.locator("#mainnav").get_by_role("link", name="Reports"))
        submit(page, page.get_by_role("link", name=report))
        assert text_of(page.locator("h1")) == report
        key_figures = text_of(page.locator("main"))
        for label, (content_type, signature) in DOWNLOADS.items():
            body, response_type = download(page, f"Download {label}")
            assert response_type.split(";")[0] == content_type
            assert body.startswith(signature)
        csv_lines = body.decode("utf-8-sig").splitlines()
        assert csv_lines[0] == report
        for figure in figures:
            assert f"{figure} 1" in key_figures
            assert f"{figure},1" in csv_lines


def download(page, link_name: str) -> tuple[bytes, str]:
    """Click a download link: the body that arrived and its content type."""
    link = page.get_by_role("link", name=link_name)
    answered = link.get_attribute("href").split("?")[0] + "*"
    with page.expect_response(answered) as answer, page.expect_download() as arrived:
        link.click()
    path = arrived.value.path()
    return path.read_bytes(), answer.value.headers["content-type"]
