"""Workflow actions through the request page: what each role is offered, and what happens
when they press the button (success, wrong role, stale page, bad input, missing dossier)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.documents import information
from app.extensions import db
from app.models import Adoption, AuditEntry, CoiDeclaration, DeviceRequest, StageRecord
from app.requests import action_panel
from app.workflow.definitions import REQUEST_WORKFLOW
from app.workflow.states import CLOCK_STOP_STATES
from tests.document_support import attach_mandatory_documents
from tests.page_support import action_url, post_action
from tests.workflow_support import make_cast

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def generic_forms_only(monkeypatch):
    """These tests exercise the generic action forms: ignore the pages other areas register
    for some actions (their own tests cover those pages)."""
    monkeypatch.setattr(action_panel, "_ACTION_PAGES", {})


@pytest.fixture
def cast(make):
    """The usual cast (tests.workflow_support.make_cast) as a dict: cast["agency"] ..."""
    people = vars(make_cast(make))
    people["body"].name = "Lombardy HTA Unit"
    db.session.commit()
    return people


def put_in(request: DeviceRequest, state: str, *, entered=T0, due=None, body=None):
    """Prepare a request in `state` (test set-up only; actions go through HTTP)."""
    request.state = state
    if body is not None:
        request.assigned_body_id = body.id
    db.session.add(
        StageRecord(
            request_id=request.id,
            state=state,
            entered_at=entered,
            due_at=due,
            clock_stopped=state in CLOCK_STOP_STATES,
        )
    )
    db.session.commit()
    return request


def declare_no_conflict(assessor, request: DeviceRequest) -> None:
    db.session.add(CoiDeclaration(request_id=request.id, user_id=assessor.id, has_conflict=False))
    db.session.commit()


def offered(page_html: str) -> set[str]:
    """The triggers whose action forms the page shows."""
    return set(re.findall(r'data-trigger="([a-z_]+)"', page_html))


def audit_count(request_id: int) -> int:
    """Workflow actions recorded in the request's audit trail."""
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.request_id == request_id,
            AuditEntry.action.in_(REQUEST_WORKFLOW.triggers),
        )
    )


def state_of(request: DeviceRequest) -> str:
    db.session.expire_all()
    return db.session.get(DeviceRequest, request.id).state


def answer_open_round(manufacturer, request: DeviceRequest) -> None:
    """Set-up: the manufacturer drafts an answer to every open question (the answer pages
    belong to the information work; the sending goes through the action route)."""
    information_round = information.open_round(request.id)
    for question in information_round.questions:
        information.save_answer(
            manufacturer,
            request.id,
            information_round.number,
            question.number,
            f"Uploaded: {question.text}",
            datetime.now(UTC),
        )
    db.session.commit()


def test_intake_journey_through_the_request_page(cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"], complete=True)
    attach_mandatory_documents(cast["manufacturer"], request)
    db.session.commit()
    manufacturer = as_user(cast["manufacturer"])
    agency = as_user(cast["agency"])

    page = manufacturer.get(f"/requests/{request.id}").get_data(as_text=True)
    assert offered(page) == {"submit", "withdraw"}

    response = post_action(manufacturer, request, "submit")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{request.id}")
    page = manufacturer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Done: Submit the request" in page
    assert "Submitted: admissibility check" in page  # the manufacturer's own wording
    assert offered(page) == {"withdraw"}

    page = agency.get(f"/requests/{request.id}").get_data(as_text=True)
    assert offered(page) == {"mark_incomplete", "declare_inadmissible", "admit", "suspend"}
    assert "Intake review" in page

    response = post_action(
        agency,
        request,
        "mark_incomplete",
        missing_items="Instructions for use\n\nDeclaration of conformity\n",
        reason="Two documents are missing.",
    )
    assert response.status_code == 302
    assert state_of(request) == "incomplete"

    page = manufacturer.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Action needed: complete your file" in page
    assert offered(page) == {"resubmit", "withdraw"}
    # The audit trail shows who did what, why, and the missing items.
    assert "Two documents are missing." in page
    assert "<li>Instructions for use</li><li>Declaration of conformity</li>" in page
    assert cast["agency"].full_name in page

    # Resubmitting before answering every missing item is refused with the list.
    response = post_action(manufacturer, request, "resubmit")
    assert response.status_code == 422
    assert "Some questions have no answer yet:" in response.get_data(as_text=True)
    assert "<li>Answer to question 2</li>" in response.get_data(as_text=True)
    answer_open_round(cast["manufacturer"], request)
    assert post_action(manufacturer, request, "resubmit").status_code == 302
    assert state_of(request) == "intake_review"
    assert post_action(agency, request, "admit").status_code == 302
    assert state_of(request) == "awaiting_prioritisation"

    page = agency.get(f"/requests/{request.id}").get_data(as_text=True)
    assert offered(page) == {"start_prioritisation", "suspend"}
    timeline = page.split('class="table table-sm align-middle stage-timeline"')[1].split(
        "</table>"
    )[0]
    # intake_review, incomplete (clock stopped), intake_review, awaiting_prioritisation
    assert timeline.count("<tr") == 5  # header + four visits
    assert "Manufacturer's time" in timeline
    assert audit_count(request.id) == 4


def test_assignment_offers_the_active_regional_bodies(cast, make, as_user):
    make.org("regional_body", name="Closed Body", active=False)
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "assignment")
    agency = as_user(cast["agency"])

    page = agency.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Lombardy HTA Unit (Lombardia)" in page
    assert "Closed Body" not in page

    response = post_action(agency, request, "assign_body", regional_body=str(cast["body"].id))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(DeviceRequest, request.id).assigned_body_id == cast["body"].id

    assessor = as_user(cast["assessor"])
    # Before declaring conflicts of interest the assessor cannot act (sent to declare, or 404).
    assert post_action(assessor, request, "accept_assignment").status_code in (302, 404)
    assert state_of(request) == "assignment"
    declare_no_conflict(cast["assessor"], request)
    page = assessor.get(f"/requests/{request.id}").get_data(as_text=True)
    assert offered(page) == {"accept_assignment", "decline_assignment"}
    assert post_action(assessor, request, "accept_assignment").status_code == 302
    assert state_of(request) == "assessment"


def test_a_wrong_role_is_refused_and_nothing_changes(cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "intake_review")
    before = audit_count(request.id)

    response = post_action(as_user(cast["manufacturer"]), request, "admit")

    assert response.status_code == 403
    assert state_of(request) == "intake_review"
    assert audit_count(request.id) == before


def test_a_system_only_action_cannot_be_fired_from_the_web(cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "incomplete")
    response = post_action(as_user(cast["agency"]), request, "lapse_incomplete")
    assert response.status_code == 403
    assert state_of(request) == "incomplete"


def test_another_organisations_request_is_404_on_every_action_url(cast, make, as_user):
    request = put_in(
        make.request(manufacturer=cast["manufacturer_org"]), "assessment", body=cast["body"]
    )
    outsiders = [as_user(cast["other_manufacturer"]), as_user(cast["other_assessor"])]
    for client in outsiders:
        for trigger in REQUEST_WORKFLOW.triggers:
            response = post_action(client, request, trigger, reason="x")
            assert response.status_code == 404, (trigger, response.status_code)
    assert state_of(request) == "assessment"
    assert audit_count(request.id) == 0


def test_an_unknown_action_is_404(cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "intake_review")
    response = as_user(cast["agency"]).post(action_url(request, "teleport"), data={})
    assert response.status_code == 404


def test_a_stale_page_gets_409_with_a_clear_message(cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "intake_review")
    seen_version = request.version
    agency = as_user(cast["agency"])
    # A colleague admits the request first.
    assert post_action(as_user(cast["agency"]), request, "admit").status_code == 302

    response = post_action(
        agency,
        request,
        "mark_incomplete",
        version=seen_version,
        missing_items="IFU",
        reason="Missing IFU.",
    )

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed this item while you were working on it" in page
    assert "Awaiting prioritisation" in page
    assert state_of(request) == "awaiting_prioritisation"


def test_an_action_no_longer_possible_gets_409(cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "awaiting_prioritisation")
    response = post_action(as_user(cast["agency"]), request, "admit")
    assert response.status_code == 409
    assert "is not possible while the item is" in response.get_data(as_text=True)


def test_invalid_input_is_422_and_keeps_what_was_typed(cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "intake_review")
    agency = as_user(cast["agency"])

    response = post_action(
        agency, request, "mark_incomplete", missing_items="   ", reason="Please add the IFU <now>"
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please add the IFU &lt;now&gt;</textarea>" in page
    assert "This field is required." in page
    # The failed action is shown open; the others stay closed.
    assert 'id="wf-action-mark_incomplete" class="accordion-collapse collapse show"' in page
    assert 'id="wf-action-admit" class="accordion-collapse collapse"' in page
    assert state_of(request) == "intake_review"
    assert audit_count(request.id) == 0


def test_a_required_reason_is_asked_for(cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "intake_review")
    response = post_action(as_user(cast["agency"]), request, "declare_inadmissible", reason="")
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
    assert state_of(request) == "intake_review"


def test_submitting_an_incomplete_dossier_lists_what_is_missing(cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"], complete=True, model="")
    attach_mandatory_documents(cast["manufacturer"], request)
    db.session.commit()

    response = post_action(as_user(cast["manufacturer"]), request, "submit", reason="Ready")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The dossier is not complete yet" in page
    alert = page.split("The dossier is not complete yet")[1].split("</div>")[1]
    assert "<li>Model</li>" in alert
    assert "Ready</textarea>" in page
    assert state_of(request) == "draft"


def test_a_future_review_date_is_required_when_publishing(cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "consultation")
    response = post_action(
        as_user(cast["agency"]),
        request,
        "publish",
        outcome="recommended",
        rationale="Clear benefit.",
        review_date="2020-01-01",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose a date after today." in page
    assert "Clear benefit.</textarea>" in page
    assert state_of(request) == "consultation"


def test_publishing_a_positive_outcome_starts_adoption_monitoring(cast, make, as_user):
    heart_centre = make.org("irccs")
    make.org("irccs")  # not designated: no adoption record
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "consultation")
    review = (datetime.now(UTC) + timedelta(days=800)).date().isoformat()
    response = post_action(
        as_user(cast["agency"]),
        request,
        "publish",
        outcome="recommended_restricted",
        rationale="Benefit in high-risk patients only.",
        conditions="Only in centres with a heart team.",
        designated_centres=str(heart_centre.id),
        review_date=review,
    )
    assert response.status_code == 302
    assert state_of(request) == "adoption_monitoring"
    records = db.session.scalars(select(Adoption.irccs_id).where(Adoption.request_id == request.id))
    assert list(records) == [heart_centre.id]  # only the designated centre
    page = as_user(cast["manufacturer"]).get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Recommended with restrictions" in page  # the outcome, labelled, in the audit trail
    assert heart_centre.name in page  # the designated centre, named in the audit trail


def test_timeline_marks_late_and_near_due_stages(cast, make, as_user):
    now = datetime.now(UTC)
    late = put_in(
        make.request(manufacturer=cast["manufacturer_org"]),
        "intake_review",
        entered=now - timedelta(days=20),
        due=now - timedelta(days=5),
    )
    page = as_user(cast["agency"]).get(f"/requests/{late.id}").get_data(as_text=True)
    timeline = page.split("stage-timeline")[1].split("</table>")[0]
    assert "table-overdue" in timeline
    assert "Late" in timeline


def test_action_forms_carry_their_csrf_token(app, cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "intake_review")
    agency = as_user(cast["agency"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = agency.get(f"/requests/{request.id}").get_data(as_text=True)
        token = re.search(r'name="admit-csrf_token" type="hidden" value="([^"]+)"', page)
        assert token, "the admit form has no CSRF token"
        forged = agency.post(
            action_url(request, "admit"),
            data={"admit-expected_version": str(request.version)},
        )
        assert forged.status_code == 400
        assert state_of(request) == "intake_review"
        response = agency.post(
            action_url(request, "admit"),
            data={
                "admit-csrf_token": token.group(1),
                "admit-expected_version": str(request.version),
            },
        )
        assert response.status_code == 302
        assert state_of(request) == "awaiting_prioritisation"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_an_action_with_a_page_of_its_own_is_a_link(cast, make, as_user):
    request = put_in(make.request(manufacturer=cast["manufacturer_org"]), "information_requested")
    action_panel.register_action_page(
        "request", "answer_information", lambda obj: f"/requests/{obj.id}/answers"
    )
    page = as_user(cast["manufacturer"]).get(f"/requests/{request.id}").get_data(as_text=True)
    assert f'href="/requests/{request.id}/answers">Answer the questions →</a>' in page
    assert 'name="answer_information-answers"' not in page
    assert 'name="withdraw-reason"' in page  # the other actions keep their forms
