"""Information requests (clock stops) through the pages: the missing items at intake, the
assessor's numbered questions with due dates, draft answers with attachments, sending them
(which resumes the clock), several rounds, the lapse to discontinued, and object-level access
on every new URL."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from app.core.audit import verify_chain
from app.core.fire import fire
from app.domain.deadlines import rome_date
from app.extensions import db
from app.models import (
    AuditEntry,
    CoiDeclaration,
    DeviceRequest,
    Document,
    InformationRound,
    Recommendation,
    StageRecord,
)
from app.models.types import utcnow
from tests.document_support import attach_mandatory_documents, html_bytes, pdf_bytes, upload
from tests.page_support import post_action
from tests.workflow_support import walk_to


def new_request(make, cast, state: str, *, days_ago: int = 40) -> DeviceRequest:
    """A request brought to `state` through `fire` (the mandatory documents uploaded first),
    its assessor cleared of conflicts of interest."""
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    start = utcnow() - timedelta(days=days_ago)
    db.session.add(
        CoiDeclaration(request_id=request.id, user_id=cast.assessor.id, has_conflict=False)
    )
    attach_mandatory_documents(cast.manufacturer, request, now=start)
    walk_to(request, state, cast, start=start)
    db.session.commit()
    return request


def reload(request: DeviceRequest) -> DeviceRequest:
    db.session.expire_all()
    return db.session.get(DeviceRequest, request.id)


def open_stage(request: DeviceRequest) -> StageRecord:
    return db.session.scalars(
        select(StageRecord).where(
            StageRecord.request_id == request.id, StageRecord.left_at.is_(None)
        )
    ).one()


def rounds(request: DeviceRequest) -> list[InformationRound]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(InformationRound)
            .where(InformationRound.request_id == request.id)
            .order_by(InformationRound.number)
        )
    )


def compose(client, request, questions: list[tuple[str, str]], **extra):
    data = {"expected_version": str(reload(request).version)}
    for index, (text, due_on) in enumerate(questions):
        data[f"questions-{index}-text"] = text
        data[f"questions-{index}-due_on"] = due_on
    return client.post(f"/requests/{request.id}/information/new", data=data | extra)


def answer(client, request, round_number, question, text, *, file=None, **fields):
    data = {f"q{question}-text": text}
    if file is not None:
        data[f"q{question}-file"] = file
    data |= {f"q{question}-{name}": value for name, value in fields.items()}
    return client.post(
        f"/requests/{request.id}/information/{round_number}/questions/{question}/answer",
        data=data,
        content_type="multipart/form-data",
    )


def send(client, request, round_number):
    return client.post(
        f"/requests/{request.id}/information/{round_number}/send",
        data={"expected_version": str(reload(request).version)},
    )


# --- Intake: the missing items ----------------------------------------------------------------


def test_missing_items_at_intake_are_a_checklist_the_manufacturer_answers(cast, make, as_user):
    request = new_request(make, cast, "intake_review")
    agency, manufacturer = as_user(cast.agency), as_user(cast.manufacturer)
    response = post_action(
        agency,
        request,
        "mark_incomplete",
        missing_items="Signed declaration of conformity\nIFU in Italian",
        reason="Two items are missing.",
    )
    assert response.status_code == 302
    (intake,) = rounds(request)
    assert (intake.kind, intake.number, intake.closed_at) == ("intake", 1, None)
    assert [q.text for q in intake.questions] == [
        "Signed declaration of conformity",
        "IFU in Italian",
    ]
    page = manufacturer.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Missing items (intake)" in page and "IFU in Italian" in page

    # Resubmitting needs an answer to every item.
    refused = send(manufacturer, request, 1)
    assert refused.status_code == 422
    assert "Answer to question 1" in refused.get_data(as_text=True)
    assert reload(request).state == "incomplete"

    file = (io.BytesIO(pdf_bytes("doc")), "doc-signed.pdf")
    assert (
        answer(
            manufacturer,
            request,
            1,
            1,
            "Attached, signed.",
            file=file,
            doc_type="declaration_of_conformity",
            title="Declaration of conformity",
        ).status_code
        == 302
    )
    assert answer(manufacturer, request, 1, 2, "Uploaded as version 2.").status_code == 302
    # Drafts are the manufacturer's own.
    assert "Attached, signed." not in agency.get(f"/requests/{request.id}").get_data(as_text=True)

    response = send(manufacturer, request, 1)
    assert response.status_code == 302
    assert reload(request).state == "intake_review"
    (intake,) = rounds(request)
    assert intake.closed_by_action == "resubmit"
    assert all(q.answer.sent_at is not None for q in intake.questions)
    page = agency.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Attached, signed." in page and "doc-signed.pdf" in page


# --- Assessment: a full round, then a second one ----------------------------------------------


def test_a_full_round_stops_the_clock_and_sending_the_answers_resumes_it(cast, make, as_user):
    request = new_request(make, cast, "assessment")
    assessor, manufacturer = as_user(cast.assessor), as_user(cast.manufacturer)
    today = rome_date(utcnow())
    due = (today + timedelta(days=10)).isoformat()

    page = assessor.get(f"/requests/{request.id}").get_data(as_text=True)
    assert f"/requests/{request.id}/information/new" in page
    response = compose(
        assessor,
        request,
        [("What is the 2-year follow-up?", due), ("", ""), ("Which centres enrolled?", "")],
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]

    request = reload(request)
    assert request.state == "information_requested"
    stage = open_stage(request)
    assert (stage.state, stage.clock_stopped) == ("information_requested", True)
    (first,) = rounds(request)
    assert first.kind == "assessment" and first.number == 1
    assert [(q.number, q.text, q.due_on) for q in first.questions] == [
        (1, "What is the 2-year follow-up?", today + timedelta(days=10)),
        (2, "Which centres enrolled?", None),
    ]
    entry = db.session.get(AuditEntry, first.audit_entry_id)
    assert entry.action == "request_information"

    # The workflow panel sends the manufacturer to the round's page to answer.
    page = manufacturer.get(f"/requests/{request.id}").get_data(as_text=True)
    assert f'href="/requests/{request.id}/information/1"' in page

    # The manufacturer answers: drafts first, refused while a question has no answer.
    page = manufacturer.get(f"/requests/{request.id}/information/1").get_data(as_text=True)
    assert "What is the 2-year follow-up?" in page and "Save the draft" in page
    response = answer(
        manufacturer,
        request,
        1,
        1,
        "94% survival at 24 months.",
        file=(io.BytesIO(pdf_bytes("fu")), "follow-up.pdf"),
        doc_type="study",
        title="Follow-up report",
        confidential="y",
    )
    assert response.status_code == 302
    refused = send(manufacturer, request, 1)
    assert refused.status_code == 422
    assert "Answer to question 2" in refused.get_data(as_text=True)
    assert reload(request).state == "information_requested"

    # An answer can be changed until it is sent.
    assert answer(manufacturer, request, 1, 2, "Milano, Roma").status_code == 302
    assert answer(manufacturer, request, 1, 2, "Milano, Roma, Pavia").status_code == 302

    assert send(manufacturer, request, 1).status_code == 302
    request = reload(request)
    assert request.state == "assessment"
    stage = open_stage(request)
    assert (stage.state, stage.clock_stopped) == ("assessment", False)
    stopped = db.session.scalars(
        select(StageRecord).where(
            StageRecord.request_id == request.id, StageRecord.state == "information_requested"
        )
    ).one()
    assert stopped.clock_stopped and stopped.left_at is not None
    (first,) = rounds(request)
    assert first.closed_by_action == "answer_information"
    sent = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.request_id == request.id, AuditEntry.action == "answer_information"
        )
    ).one()
    assert "2. Milano, Roma, Pavia" in sent.data["answers"]
    assert "Follow-up report (v1)" in sent.data["answers"]

    # The assessor reads the thread, and downloads the attachment.
    page = assessor.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "94% survival at 24 months." in page and "Milano, Roma, Pavia" in page
    attachment = first.questions[0].answer.attachments[0].document_version
    url = (
        f"/requests/{request.id}/documents/{attachment.document_id}"
        f"/versions/{attachment.version}/download"
    )
    assert url in page
    with assessor.get(url) as download:
        assert download.status_code == 200
    # The answers can no longer be changed.
    assert answer(manufacturer, request, 1, 2, "Changed").status_code == 409

    # A second round, through the workflow panel's own form this time.
    response = post_action(
        assessor, request, "request_information", questions="Any adverse events since?"
    )
    assert response.status_code == 302
    first, second = rounds(request)
    assert (second.number, second.kind, second.closed_at) == (2, "assessment", None)
    assert [q.text for q in second.questions] == ["Any adverse events since?"]
    page = manufacturer.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Request for information 1" in page and "Request for information 2" in page
    assert answer(manufacturer, request, 2, 1, "None reported.").status_code == 302
    assert send(manufacturer, request, 2).status_code == 302
    assert reload(request).state == "assessment"
    assert verify_chain().ok


def test_due_dates_must_fall_within_the_deadline_and_the_form_is_kept(cast, make, as_user):
    request = new_request(make, cast, "assessment")
    assessor = as_user(cast.assessor)
    today = rome_date(utcnow())
    too_late = (today + timedelta(days=45)).isoformat()

    response = compose(
        assessor,
        request,
        [("Explain the learning curve.", too_late), ("Costs per centre?", today.isoformat())],
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The due date must not be after the deadline of the information request" in page
    assert "The due date must be after today." in page
    assert "Explain the learning curve." in page and too_late in page
    assert reload(request).state == "assessment"
    assert rounds(request) == []

    response = compose(assessor, request, [("", "")])
    assert response.status_code == 422
    assert "Write at least one question." in response.get_data(as_text=True)

    # "Add a question" gives one more row without sending anything.
    response = assessor.post(
        f"/requests/{request.id}/information/new",
        data={"questions-0-text": "Kept", "row_action": "add"},
    )
    assert response.status_code == 200
    assert "questions-3-text" in response.get_data(as_text=True)
    assert rounds(request) == []


def test_an_attachment_is_checked_like_any_upload(cast, make, as_user):
    request = new_request(make, cast, "information_requested")
    manufacturer = as_user(cast.manufacturer)
    response = answer(
        manufacturer,
        request,
        1,
        1,
        "See the attached file.",
        file=(io.BytesIO(html_bytes()), "data.pdf"),
        title="Data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This kind of file is not accepted" in page
    assert "See the attached file." in page  # the typed answer is kept
    (information_round,) = rounds(request)
    assert information_round.questions[0].answer is None
    assert db.session.scalars(select(Document).where(Document.doc_type == "other")).all() == []


def test_an_attachment_can_be_removed_from_a_draft(cast, make, as_user):
    request = new_request(make, cast, "information_requested")
    manufacturer = as_user(cast.manufacturer)
    answer(
        manufacturer,
        request,
        1,
        1,
        "Data attached",
        file=(io.BytesIO(pdf_bytes("data")), "data.pdf"),
    )
    (information_round,) = rounds(request)
    attachment = information_round.questions[0].answer.attachments[0]
    url = f"/requests/{request.id}/information/1/questions/1/attachments/{attachment.id}/remove"
    assert manufacturer.post(url).status_code == 302
    (information_round,) = rounds(request)
    assert information_round.questions[0].answer.attachments == []
    # The document itself stays with the request.
    assert db.session.scalars(select(Document).where(Document.title == "data.pdf")).one()


# --- The lapse --------------------------------------------------------------------------------


def test_unanswered_questions_lapse_to_discontinued(cast, make, as_user, runner):
    request = new_request(make, cast, "information_requested")
    answer(as_user(cast.manufacturer), request, 1, 1, "A draft never sent")
    later = (utcnow() + timedelta(days=60)).isoformat()

    result = runner.invoke(args=["deadlines", "check", "--now", later])

    assert result.exit_code == 0, result.output
    assert reload(request).state == "discontinued"
    (information_round,) = rounds(request)
    assert information_round.closed_by_action == "lapse_information"
    assert information_round.questions[0].answer.sent_at is None
    page = as_user(cast.assessor).get(f"/requests/{request.id}/information/1")
    assert page.status_code == 200
    assert "A draft never sent" not in page.get_data(as_text=True)
    assert "Closed without answers" in page.get_data(as_text=True)


# --- Who may do what --------------------------------------------------------------------------


def test_only_the_manufacturer_answers_and_only_the_assessor_composes(cast, make, as_user):
    request = new_request(make, cast, "information_requested")
    for user in (cast.agency, cast.assessor):
        client = as_user(user)
        assert answer(client, request, 1, 1, "Not mine to answer").status_code == 403
        assert send(client, request, 1).status_code == 403
    manufacturer = as_user(cast.manufacturer)
    assert manufacturer.get(f"/requests/{request.id}/information/new").status_code == 403
    # No compose page outside the assessment.
    assert as_user(cast.assessor).get(f"/requests/{request.id}/information/new").status_code == 403


def new_urls(app, request_id: int, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(method, url) of every page of the documents blueprint for this request."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("documents."):
            continue
        values = {name: ids.get(name, 1) for name in rule.arguments} | {"request_id": request_id}
        url = rule.build(values, append_unknown=False)[1]
        urls += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


def test_every_new_url_is_404_for_non_parties(app, cast, make, as_user):
    request = new_request(make, cast, "information_requested")
    answer(
        as_user(cast.manufacturer),
        request,
        1,
        1,
        "Draft",
        file=(io.BytesIO(pdf_bytes("x")), "x.pdf"),
    )
    version = upload(cast.agency, request, "other", title="Agency memo")
    db.session.add(Recommendation(request_id=request.id, outcome="recommended", rationale="Ok"))
    db.session.commit()
    (information_round,) = rounds(request)
    ids = {
        "document_id": version.document_id,
        "version": version.version,
        "number": information_round.number,
        "question": 1,
        "attachment_id": information_round.questions[0].answer.attachments[0].id,
    }
    urls = new_urls(app, request.id, ids)
    assert len(urls) >= 12
    outsiders = {
        "other_manufacturer": cast.other_manufacturer,
        "other_assessor": cast.other_assessor,
        "irccs": cast.irccs,
    }
    for name, user in outsiders.items():
        client = as_user(user)
        for method, url in urls:
            response = client.open(url, method=method, data={"q1-text": "x", "public": "1"})
            assert response.status_code == 404, (name, method, url, response.status_code)
    # Nothing changed.
    (information_round,) = rounds(request)
    assert information_round.questions[0].answer.text == "Draft"
    assert reload(request).state == "information_requested"


def test_an_irccs_reading_a_published_request_gets_404_on_its_documents(cast, make, as_user):
    request = new_request(make, cast, "assessment")
    request.state = "adoption_monitoring"  # set-up only: the assessment is not tested here
    db.session.add(Recommendation(request_id=request.id, outcome="recommended", rationale="Ok"))
    db.session.commit()
    irccs = as_user(cast.irccs)
    assert irccs.get(f"/requests/{request.id}").status_code == 200
    assert irccs.get(f"/requests/{request.id}/documents").status_code == 404
    assert irccs.get(f"/requests/{request.id}/information").status_code == 404


def test_the_information_pages_list_the_rounds(cast, make, as_user):
    request = new_request(make, cast, "information_requested")
    page = as_user(cast.agency).get(f"/requests/{request.id}/information").get_data(as_text=True)
    assert re.search(
        r"Request for information 1</a>\s*<span>Questions of the assessor</span>", page
    )
    assert "Follow-up data?" in page
    fire(reload(request), "withdraw", cast.manufacturer, utcnow(), reason="Market exit.")
    db.session.commit()
    (information_round,) = rounds(request)
    assert information_round.closed_by_action == "withdraw"


# --- Issue 16: sending never loses what was typed ---------------------------------------------


def _form_posting_to(page: str, action_end: str) -> str:
    """The HTML of the form whose send button posts to `action_end` (the whole <form>)."""
    for match in re.finditer(r"<form\b[^>]*>.*?</form>", page, re.S):
        if re.search(rf'action="[^"]*{re.escape(action_end)}[^"]*"', match.group(0)[:600]):
            return match.group(0)
    raise AssertionError(f"no form posts to {action_end}")


def test_send_saves_the_answers_typed_and_not_saved(cast, make, as_user):
    request = new_request(make, cast, "assessment")
    assessor, manufacturer = as_user(cast.assessor), as_user(cast.manufacturer)
    assert compose(assessor, request, [("Follow-up?", ""), ("Centres?", "")]).status_code == 302

    # The send button's form carries every answer's text box with it.
    page = manufacturer.get(f"/requests/{request.id}/information/1").get_data(as_text=True)
    send_form = _form_posting_to(page, "/information/1/send")
    assert 'name="q1-text"' in send_form and 'name="q2-text"' in send_form

    # Question 1 typed and never saved, question 2 empty: refused, but the typed answer is
    # kept, saved as a draft.
    refused = manufacturer.post(
        f"/requests/{request.id}/information/1/send",
        data={
            "expected_version": str(reload(request).version),
            "q1-text": "Two years, 94% survival.",
            "q2-text": "",
        },
    )
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "Answer to question 2" in body and "Two years, 94% survival." in body
    (first,) = rounds(request)
    assert first.questions[0].answer.text == "Two years, 94% survival."

    # Both typed, none saved: sent with what was typed.
    sent = manufacturer.post(
        f"/requests/{request.id}/information/1/send",
        data={
            "expected_version": str(reload(request).version),
            "q1-text": "Two years, 94% survival (corrected).",
            "q2-text": "Milano, Pavia.",
        },
    )
    assert sent.status_code == 302
    assert reload(request).state == "assessment"
    (first,) = rounds(request)
    assert [q.answer.text for q in first.questions] == [
        "Two years, 94% survival (corrected).",
        "Milano, Pavia.",
    ]
    assert all(q.answer.sent_at is not None for q in first.questions)


def test_saving_one_draft_keeps_the_others_typed(cast, make, as_user):
    request = new_request(make, cast, "assessment")
    assessor, manufacturer = as_user(cast.assessor), as_user(cast.manufacturer)
    assert compose(assessor, request, [("Follow-up?", ""), ("Centres?", "")]).status_code == 302
    response = manufacturer.post(
        f"/requests/{request.id}/information/1/questions/2/answer",
        data={"q1-text": "Typed first, not saved.", "q2-text": "Milano."},
    )
    assert response.status_code == 302
    (first,) = rounds(request)
    assert [q.answer.text for q in first.questions] == ["Typed first, not saved.", "Milano."]

    # Too long an answer elsewhere: nothing is lost, the page says why.
    too_long = "x" * 20001
    refused = manufacturer.post(
        f"/requests/{request.id}/information/1/send",
        data={
            "expected_version": str(reload(request).version),
            "q1-text": "Changed again.",
            "q2-text": too_long,
        },
    )
    assert refused.status_code == 422
    assert "Changed again." in refused.get_data(as_text=True)
    assert reload(request).state == "information_requested"


def test_one_completeness_message_lists_the_agencys_missing_items(cast, make, as_user):
    request = new_request(make, cast, "intake_review")
    agency, manufacturer = as_user(cast.agency), as_user(cast.manufacturer)
    response = post_action(
        agency, request, "mark_incomplete", missing_items="IFU in Italian", reason="Missing."
    )
    assert response.status_code == 302
    page = manufacturer.get(f"/requests/{request.id}").get_data(as_text=True)
    card = page.split('id="missing"')[1].split("</section>")[0]
    assert "Nothing is missing" not in page
    assert "Asked by the agency" in card and "IFU in Italian" in card
    assert f'href="/requests/{request.id}/information/1"' in card

    # Answered (a draft): the card no longer lists it, and says nothing is missing.
    assert answer(manufacturer, request, 1, 1, "Uploaded in Italian.").status_code == 302
    page = manufacturer.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Nothing is missing" in page.split('id="missing"')[1].split("</section>")[0]


def test_the_intake_checklist_ticks_what_is_missing_and_becomes_the_questions(
    app, cast, make, as_user
):
    request = new_request(make, cast, "intake_review")
    agency = as_user(cast.agency)
    page = agency.get(f"/requests/{request.id}").get_data(as_text=True)
    checklist = page.split('class="mb-3 intake-checklist"')[1].split("</fieldset>")[0]
    # Built from the dossier rules and the mandatory documents, each with its status.
    for label in ("Trade name", "Instructions for use", "CE certificate", "Condition"):
        assert label in checklist, label
    assert "present" in checklist and 'data-kind="document"' in checklist

    # Two lines ticked and one typed: three questions, the ticked ones first.
    response = agency.post(
        f"/requests/{request.id}/actions/mark_incomplete",
        data={
            "mark_incomplete-expected_version": str(reload(request).version),
            "mark_incomplete-checklist": ["Instructions for use", "CE certificate"],
            "mark_incomplete-missing_items": "IFU in Italian\nCE certificate",
            "mark_incomplete-reason": "Documents to complete.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (intake,) = rounds(request)
    assert [q.text for q in intake.questions] == [
        "Instructions for use",
        "CE certificate",
        "IFU in Italian",
    ]

    # Ticking alone is enough (nothing typed).
    other = new_request(make, cast, "intake_review")
    response = agency.post(
        f"/requests/{other.id}/actions/mark_incomplete",
        data={
            "mark_incomplete-expected_version": str(reload(other).version),
            "mark_incomplete-checklist": ["Trade name"],
            "mark_incomplete-reason": "Name unclear.",
        },
    )
    assert response.status_code == 302
    assert [q.text for q in rounds(other)[0].questions] == ["Trade name"]
