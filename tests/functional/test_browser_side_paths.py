"""Side paths of a request that matter to its users, in a real browser; days pass between the
steps on the live app's clock.

- The agency (reading Italian, the application's default) marks a file incomplete: sent
  without its reason, the form comes back in Italian, open, with the missing items she typed;
  the manufacturer answers each missing item with a document and resubmits. While the file was
  incomplete the clock stopped: the timeline shows the days gross, and 0 net.
- The assessor asks the manufacturer questions: the manufacturer's bell counts one more
  unread notification, which falls back once she opens it from her inbox; the clock stops (the
  current stage is marked clock-stopped, net days 0) until the manufacturer answers; the
  assessment's deadline then moves on by the days the clock stood still.
- Another manufacturer, and an assessor of another regional body, get "not found" on the
  request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.browser_support import (
    BROWSER,
    Person,
    act,
    assert_step,
    audit_trail,
    draft_and_submit,
    open_action,
    seed,
    stage_rows,
    state_shown,
    submit,
    text_of,
    timeline,
)
from tests.document_support import pdf_bytes

pytestmark = BROWSER


@pytest.fixture(scope="module")
def cast(live_app):
    def build(make):
        manufacturer = make.org("manufacturer", name="Valvetech S.p.A.")
        body = make.org("regional_body", name="HTA Lombardia", region="lombardia")
        other_body = make.org("regional_body", name="HTA Veneto", region="veneto")
        users = {
            "manufacturer": make.user("manufacturer", manufacturer, full_name="Marta Rossi"),
            "agency": make.user("agency", full_name="Anna Bianchi", language="it"),
            "assessor": make.user("assessor", body, full_name="Luca Verdi"),
            "other_manufacturer": make.user("manufacturer", full_name="Otto Conti"),
            "other_assessor": make.user("assessor", other_body, full_name="Sara Galli"),
        }
        return {role: Person.of(user) for role, user in users.items()}

    return seed(live_app, build)


def last_step(page) -> dict[str, str]:
    return audit_trail(page)[-1]


def current_stage(page) -> dict[str, str]:
    row = timeline(page)[-1]
    assert row["Left"] == "current"
    return row


def answer_the_round(page, answers: dict[int, tuple[str, str | None]]) -> None:
    """On an open round of questions: answer each one (text, and optionally a PDF of a document
    type), saving each as a draft; then send the answers."""
    for number, (text, doc_type) in answers.items():
        question = page.locator(f"section.question[data-question='{number}']")
        question.locator("textarea").fill(text)
        if doc_type:
            question.locator("summary").click()
            question.locator("input[type=file]").set_input_files(
                {"name": f"{doc_type}.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
            )
            question.locator("select").select_option(doc_type)
            question.locator("input[name$=title]").fill(text)
        submit(page, question.get_by_role("button", name="Save the draft"))
        # The saved draft is shown again, for changes until the answers are sent.
        saved = page.locator(f"section.question[data-question='{number}'] textarea")
        assert saved.input_value() == text
    submit(page, page.locator("#send").get_by_role("button"))


def test_an_incomplete_file_is_completed_and_resubmitted(people, cast, clock):
    manufacturer = people.page_for(cast["manufacturer"])
    request_url = draft_and_submit(manufacturer, "StentFlow")

    clock.advance(days=3)
    agency = people.page_for(cast["agency"])
    agency.goto(request_url)
    missing = "Sintesi della valutazione clinica\nDichiarazione di conformità firmata"
    act(agency, "mark_incomplete", missing_items=missing)
    # Without the reason: the form comes back open, in Italian, with what she typed.
    form = agency.locator("#wf-action-mark_incomplete")
    assert form.is_visible()
    assert text_of(form.locator("#mark_incomplete-reason-error")) == "Questo campo è obbligatorio."
    assert "Correggi gli errori indicati di seguito." in text_of(form)
    assert form.locator("textarea[name='mark_incomplete-missing_items']").input_value() == missing
    assert state_shown(agency) == "Verifica di ammissibilità"
    assert last_step(agency)["Azione"] == "Presenta la richiesta"

    act(agency, "mark_incomplete", reason="Mancano due documenti.")
    assert_step(
        agency,
        clock.now(),
        state="Incompleta: in attesa del fabbricante",
        who="Anna Bianchi Agenzia centrale",
        action="Segna come incompleta",
        states="Verifica di ammissibilità → Incompleta: in attesa del fabbricante",
        language="it",
    )
    step = last_step(agency)
    assert "Mancano due documenti." in step["Motivazione e dati"]
    assert "Dichiarazione di conformità firmata" in step["Motivazione e dati"]

    clock.advance(days=5)
    manufacturer.goto(request_url)
    assert state_shown(manufacturer) == "Action needed: complete your file"
    stopped = current_stage(manufacturer)
    assert stopped["Stage"] == "Action needed: complete your file Manufacturer's time"
    assert (stopped["Gross days"], stopped["Net days"]) == ("5", "0")

    submit(manufacturer, open_action(manufacturer, "resubmit").get_by_role("link"))
    answer_the_round(
        manufacturer,
        {
            1: ("Clinical evaluation summary, attached.", "clinical_evaluation_summary"),
            2: ("Signed declaration of conformity, attached.", "declaration_of_conformity"),
        },
    )
    assert_step(
        manufacturer,
        clock.now(),
        state="Submitted: admissibility check",
        who="Marta Rossi Manufacturer",
        action="Resubmit the completed file",
        states="Action needed: complete your file → Submitted: admissibility check",
    )
    [incomplete] = stage_rows(manufacturer, "Action needed: complete your file")
    assert (incomplete["Gross days"], incomplete["Net days"]) == ("5", "0")
    first_review, second_review = stage_rows(manufacturer, "Submitted: admissibility check")
    assert (first_review["Gross days"], first_review["Net days"]) == ("3", "3")
    assert second_review["Left"] == "current"
    documents = text_of(manufacturer.locator("table.documents-table"))
    assert "Clinical evaluation summary" in documents
    assert "Declaration of conformity" in documents


@pytest.fixture(scope="module")
def assessing_url(people, cast):
    """A request the assessor has accepted to assess; the agency's steps read Italian."""
    manufacturer = people.page_for(cast["manufacturer"])
    request_url = draft_and_submit(manufacturer, "NeuroPulse")
    agency = people.page_for(cast["agency"])
    agency.goto(request_url)
    act(agency, "admit")
    act(agency, "start_prioritisation")
    # A decision on the merits needs every criterion scored.
    agency.goto(f"{request_url}/prioritisation")
    for row in agency.locator("tr[data-criterion]").all():
        row.locator("select").select_option("2")
        row.locator("textarea").fill("Valutato sul dossier.")
    submit(agency, agency.locator("form button[type=submit]").last)
    agency.goto(request_url)
    act(agency, "prioritise", reason="Bisogno insoddisfatto elevato.")
    submit(agency, open_action(agency, "assign_body").get_by_role("link"))
    body = agency.locator("tr[data-body-id]", has_text="HTA Lombardia")
    submit(agency, body.get_by_role("button"))
    assessor = people.page_for(cast["assessor"])
    assessor.goto(request_url)
    assessor.get_by_label("No: I have no conflict of interest").check()
    submit(assessor, assessor.get_by_role("button", name="Send the declaration"))
    act(assessor, "accept_assignment")
    assert state_shown(assessor) == "Assessment"
    return request_url


def shown(text: str) -> datetime:
    """A moment as the English pages show it ("16 Mar 2027, 23:59")."""
    return datetime.strptime(text, "%d %b %Y, %H:%M")


def bell_count(page) -> int:
    """The unread count on the bell in the header (no badge: none)."""
    badge = page.locator("#bell-count")
    return int(text_of(badge)) if badge.count() else 0


def test_questions_to_the_manufacturer_stop_the_clock(people, cast, clock, assessing_url):
    clock.advance(days=10)
    manufacturer = people.page_for(cast["manufacturer"])
    manufacturer.goto("/")
    unread_before = bell_count(manufacturer)
    assessor = people.page_for(cast["assessor"])
    assessor.goto(assessing_url)
    assessment_due = shown(current_stage(assessor)["Due"])
    submit(assessor, open_action(assessor, "request_information").get_by_role("link"))
    assessor.fill("#questions-0-text", "Twelve-month follow-up of the pilot cohort?")
    assessor.fill("#questions-1-text", "Training plan for the implanting centres?")
    submit(assessor, assessor.get_by_role("button", name="Send the questions"))
    assert "The agency's time stops until the manufacturer answers." in text_of(
        assessor.locator("main")
    )
    manufacturer.goto("/")
    assert bell_count(manufacturer) == unread_before + 1
    manufacturer.locator("#bell").click()
    # Newest first: the questions just asked.
    manufacturer.get_by_role("link", name="questions are waiting for your answers").first.click()
    manufacturer.wait_for_url(f"**{assessing_url}")
    assert bell_count(manufacturer) == unread_before
    assessor.goto(assessing_url)
    assert_step(
        assessor,
        clock.now(),
        state="Information requested",
        who="Luca Verdi Regional HTA assessor",
        action="Request information",
        states="Assessment → Information requested",
    )
    assert "Training plan for the implanting centres?" in last_step(assessor)["Reason and data"]
    stopped = current_stage(assessor)
    assert stopped["Stage"] == "Information requested Manufacturer's time"
    assert (stopped["Gross days"], stopped["Net days"]) == ("0", "0")
    assert stage_rows(assessor, "Assessment")[-1]["Gross days"] == "10"

    clock.advance(days=7)
    manufacturer.goto(assessing_url)
    assert state_shown(manufacturer) == "Action needed: answer the assessor's questions"
    stopped = current_stage(manufacturer)
    assert stopped["Stage"] == "Action needed: answer the assessor's questions Manufacturer's time"
    assert (stopped["Gross days"], stopped["Net days"]) == ("7", "0")

    submit(manufacturer, open_action(manufacturer, "answer_information").get_by_role("link"))
    answer_the_round(
        manufacturer,
        {1: ("Follow-up at 12 months: no late events.", None), 2: ("Two days on site.", None)},
    )
    assert_step(
        manufacturer,
        clock.now(),
        state="Assessment",
        who="Marta Rossi Manufacturer",
        action="Answer the questions",
        states="Action needed: answer the assessor's questions → Assessment",
    )
    [answered] = stage_rows(manufacturer, "Action needed: answer the assessor's questions")
    assert (answered["Gross days"], answered["Net days"]) == ("7", "0")
    before, after = stage_rows(manufacturer, "Assessment")
    assert (before["Gross days"], before["Net days"]) == ("10", "10")
    # The assessment goes on with its deadline moved by the days the clock stood still.
    assert after["Left"] == "current"
    assert shown(after["Due"]) - assessment_due == timedelta(days=7)


@pytest.mark.parametrize("outsider", ["other_manufacturer", "other_assessor"])
def test_other_parties_do_not_find_the_request(people, cast, assessing_url, outsider):
    page = people.page_for(cast[outsider])
    for url in (assessing_url, f"{assessing_url}/documents", f"{assessing_url}/coi"):
        response = page.goto(url)
        assert response.status == 404
        assert "NeuroPulse" not in text_of(page.locator("body"))
