"""Information requests through the API: the assessor asks, the manufacturer drafts answers
(text, files) and sends them; drafts stay the manufacturer's own until sent."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from app.core import transition_hooks
from app.extensions import db
from tests.api_support import api_for, assert_problem, clear_coi
from tests.document_support import pdf_bytes
from tests.workflow_support import keep_only_guards_of, make_cast, walk_to


@pytest.fixture
def assessing(make, monkeypatch):
    """A request in assessment, its assessor cleared of conflicts."""
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    with monkeypatch.context() as patch:
        patch.setattr(transition_hooks, "_before", {})
        patch.setattr(transition_hooks, "_after", {})
        keep_only_guards_of(patch, ("app.core.guards",))
        walk_to(request, "assessment", cast)
    clear_coi(cast.assessor, request)
    db.session.commit()
    return cast, request


def ask(api, request_id, *questions, **extra):
    rows = [{"text": text} | extra for text in questions]
    return api.post(f"/requests/{request_id}/information-rounds", {"questions": rows})


def test_the_assessor_asks_and_the_clock_stops(client, assessing):
    cast, request = assessing
    response = ask(api_for(client, cast.assessor), request.id, "Follow-up data?", "Recalls?")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["kind"] == "assessment" and body["is_open"] is True
    assert [q["number"] for q in body["questions"]] == [1, 2]
    seen = api_for(client, cast.manufacturer).get(f"/requests/{request.id}").get_json()
    assert seen["state"] == "information_requested"


def test_a_due_date_after_the_deadline_is_refused_with_the_pages_message(client, assessing):
    cast, request = assessing
    late = (date.today() + timedelta(days=400)).isoformat()
    problem = assert_problem(
        ask(api_for(client, cast.assessor), request.id, "When?", due_on=late), 422, "validation"
    )
    assert problem["error_codes"] == {"questions-0-due_on": ["due_after_deadline"]}
    assert_problem(
        ask(api_for(client, cast.assessor), request.id, "When?", due_on="31/12/2026"),
        422,
        "validation",
    )
    assert api_for(client, cast.agency).get(f"/requests/{request.id}").get_json()["state"] == (
        "assessment"
    )


@pytest.mark.parametrize(("who", "status"), [("other_assessor", 404), ("manufacturer", 403)])
def test_only_the_assigned_assessor_asks(client, assessing, who, status):
    cast, request = assessing
    response = ask(api_for(client, getattr(cast, who)), request.id, "Question?")
    assert response.status_code == status


def test_drafts_are_private_until_sent(client, assessing):
    cast, request = assessing
    number = ask(api_for(client, cast.assessor), request.id, "Data?").get_json()["number"]
    manufacturer = api_for(client, cast.manufacturer)
    answer_url = f"/requests/{request.id}/information-rounds/{number}/questions/1/answer"
    saved = manufacturer.put(
        answer_url,
        data={"text": "See the attached study.", "file": (io.BytesIO(pdf_bytes()), "fu.pdf")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    attachment = saved.get_json()["attachments"][0]
    assert attachment["title"] == "fu.pdf" and attachment["version"] == 1
    assessor = api_for(client, cast.assessor)
    rounds_path = f"/requests/{request.id}/information-rounds"
    assert assessor.get(rounds_path).get_json()["items"][0]["questions"][0]["answer"] is None

    sent = manufacturer.post(f"{rounds_path}/{number}/send")
    assert sent.status_code == 200, sent.get_data(as_text=True)
    answer = assessor.get(rounds_path).get_json()["items"][0]["questions"][0]["answer"]
    assert answer["text"] == "See the attached study." and answer["draft"] is False
    with assessor.get(answer["attachments"][0]["download_url"]) as download:
        assert download.data == pdf_bytes()
    closed = assert_problem(manufacturer.put(answer_url, {"text": "Late"}), 409, "conflict")
    assert closed["detail"]


def test_answers_are_the_manufacturers_and_need_text(client, assessing):
    cast, request = assessing
    number = ask(api_for(client, cast.assessor), request.id, "Data?").get_json()["number"]
    url = f"/requests/{request.id}/information-rounds/{number}/questions/1/answer"
    manufacturer = api_for(client, cast.manufacturer)
    empty = assert_problem(manufacturer.put(url, {"text": "  "}), 422, "validation")
    assert empty["error_codes"] == {"text": ["answer_missing"]}
    assert_problem(manufacturer.put(url, {"text": 5}), 422, "validation")
    assert_problem(api_for(client, cast.agency).put(url, {"text": "x"}), 403, "forbidden")
    assert_problem(
        api_for(client, cast.other_manufacturer).put(url, {"text": "x"}), 404, "not-found"
    )
    missing_question = url.replace("questions/1", "questions/9")
    assert_problem(manufacturer.put(missing_question, {"text": "x"}), 404, "not-found")
    unanswered = assert_problem(
        manufacturer.post(f"/requests/{request.id}/information-rounds/{number}/send"),
        422,
        "guard-failed",
    )
    assert unanswered["missing"]


def test_the_missing_items_of_an_intake_round_are_answered_the_same_way(client, make):
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    db.session.commit()
    manufacturer, agency = api_for(client, cast.manufacturer), api_for(client, cast.agency)
    for doc_type in ("instructions_for_use", "ce_certificate"):
        manufacturer.post(
            f"/requests/{request.id}/documents",
            data={
                "file": (io.BytesIO(pdf_bytes()), "f.pdf"),
                "doc_type": doc_type,
                "title": doc_type,
            },
            content_type="multipart/form-data",
        )
    assert manufacturer.post(f"/requests/{request.id}/transitions/submit").status_code == 200
    marked = agency.post(
        f"/requests/{request.id}/transitions/mark_incomplete",
        {"reason": "Studies missing.", "data": {"missing_items": ["2-year follow-up"]}},
    )
    assert marked.status_code == 200, marked.get_data(as_text=True)
    rounds = manufacturer.get(f"/requests/{request.id}/information-rounds").get_json()["items"]
    assert rounds[0]["kind"] == "intake"
    assert rounds[0]["questions"][0]["text"] == "2-year follow-up"
    base = f"/requests/{request.id}/information-rounds/{rounds[0]['number']}"
    manufacturer.put(f"{base}/questions/1/answer", {"text": "Uploaded."})
    sent = manufacturer.post(f"{base}/send")
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert sent.get_json()["audit_entry"]["action"] == "resubmit"
