"""Two scripts that use nothing but the API: a manufacturer's (draft, documents, submit, answer
the assessor's questions, follow the timeline) and an IRCCS's (adopt and report usage per
quarter). The agency and the assessor act through the API too; only the assessor's
conflict-of-interest declaration (a web page) is recorded directly."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from app.core import transition_hooks
from app.extensions import db
from app.models import DeviceRequest
from tests.api_support import NOW, Api, api_for, clear_coi
from tests.document_support import pdf_bytes
from tests.factories import complete_dossier_fields
from tests.workflow_support import (
    adoption_of,
    keep_only_guards_of,
    make_cast,
    score_every_criterion,
    walk_to,
)


def dossier_json() -> dict:
    fields = complete_dossier_fields()
    body = {
        name: (value.isoformat() if isinstance(value, date) else value)
        for name, value in fields.items()
    }
    body = {name: (str(v) if isinstance(v, Decimal) else v) for name, v in body.items()}
    body["comparators"] = [{"description": "Surgical aortic valve replacement"}]
    body["evidence"] = [
        {"design": "rct", "patients": 120, "follow_up_months": 12, "reference": "Rossi 2024"}
    ]
    return body


def upload(api: Api, request_id: int, doc_type: str, title: str):
    return api.post(
        f"/requests/{request_id}/documents",
        data={
            "file": (io.BytesIO(pdf_bytes(title)), f"{doc_type}.pdf"),
            "doc_type": doc_type,
            "title": title,
        },
        content_type="multipart/form-data",
    )


def fire(api: Api, path: str, trigger: str, body: dict | None = None):
    response = api.post(f"{path}/transitions/{trigger}", body or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_manufacturer_script_from_draft_to_answered_questions(client, make):
    cast = make_cast(make)
    db.session.commit()
    manufacturer = api_for(client, cast.manufacturer)
    agency = api_for(client, cast.agency)
    assessor = api_for(client, cast.assessor)

    created = manufacturer.post("/requests", dossier_json(), headers={"Idempotency-Key": "run-1"})
    assert created.status_code == 201, created.get_data(as_text=True)
    request_id = created.get_json()["id"]
    path = f"/requests/{request_id}"
    assert created.headers["Location"].endswith(path)
    assert created.get_json()["missing_for_submission"] == []
    assert created.get_json()["missing_documents"] == ["instructions_for_use", "ce_certificate"]

    submit = manufacturer.post(f"{path}/transitions/submit", {})
    assert submit.status_code == 422
    assert set(submit.get_json()["missing_documents"]) == {"instructions_for_use", "ce_certificate"}

    for doc_type, title in (("instructions_for_use", "IFU"), ("ce_certificate", "CE")):
        assert upload(manufacturer, request_id, doc_type, title).status_code == 201
    listed = manufacturer.get(f"{path}/documents").get_json()
    assert listed["missing_mandatory_types"] == []
    assert {d["title"] for d in listed["items"]} == {"IFU", "CE"}

    submitted = fire(manufacturer, path, "submit")
    assert submitted["state"] == "intake_review"
    assert submitted["audit_entry"]["data"]["receipt_number"].startswith("HTA-")

    fire(agency, path, "admit")
    fire(agency, path, "start_prioritisation")
    score_every_criterion(db.session.get(DeviceRequest, request_id), cast.agency, NOW)
    db.session.commit()
    fire(agency, path, "prioritise", {"reason": "High unmet need."})
    fire(agency, path, "assign_body", {"data": {"regional_body": cast.body.id}})
    clear_coi(cast.assessor, db.session.get(DeviceRequest, request_id))
    db.session.commit()
    fire(assessor, path, "accept_assignment")

    asked = assessor.post(
        f"{path}/information-rounds",
        {"questions": [{"text": "Send the 2-year follow-up."}, {"text": "Any recalls?"}]},
    )
    assert asked.status_code == 201, asked.get_data(as_text=True)
    number = asked.get_json()["number"]

    rounds = manufacturer.get(f"{path}/information-rounds").get_json()["items"]
    assert [q["text"] for q in rounds[0]["questions"]] == [
        "Send the 2-year follow-up.",
        "Any recalls?",
    ]
    assert rounds[0]["can_answer"] is True
    early = manufacturer.post(f"{path}/information-rounds/{number}/send")
    assert early.status_code == 422
    for question, text in ((1, "Attached below."), (2, "None.")):
        saved = manufacturer.put(
            f"{path}/information-rounds/{number}/questions/{question}/answer", {"text": text}
        )
        assert saved.status_code == 200, saved.get_data(as_text=True)
        assert saved.get_json()["draft"] is True
    sent = manufacturer.post(f"{path}/information-rounds/{number}/send")
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert sent.get_json()["state"] == "assessment"

    seen_by_assessor = assessor.get(f"{path}/information-rounds").get_json()["items"][0]
    assert seen_by_assessor["questions"][1]["answer"]["text"] == "None."

    timeline = manufacturer.get(f"{path}/timeline").get_json()
    states = [stage["state"] for stage in timeline["stages"]]
    assert states[-3:] == ["assessment", "information_requested", "assessment"]
    stopped = next(s for s in timeline["stages"] if s["state"] == "information_requested")
    assert stopped["clock_stopped"] is True and stopped["left_at"] is not None

    actions = [e["action"] for e in manufacturer.get(f"{path}/audit").get_json()["items"]]
    assert actions[:2] == ["document_uploaded", "document_uploaded"]
    assert "request_information" in actions and actions[-1] == "answer_information"


@pytest.fixture
def published(make, monkeypatch):
    """A request with a published positive recommendation (set up without the other areas'
    hooks: they are tested elsewhere)."""
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    with monkeypatch.context() as patch:
        patch.setattr(transition_hooks, "_before", {})
        patch.setattr(transition_hooks, "_after", {})
        keep_only_guards_of(patch, ("app.core.guards",))
        walk_to(request, "adoption_monitoring", cast)
    db.session.commit()
    return cast, request


def test_irccs_script_adopts_and_reports_quarterly_usage(client, published):
    cast, request = published
    irccs = api_for(client, cast.irccs)
    adoption_id = adoption_of(request, cast.irccs_org).id

    records = irccs.get("/adoptions").get_json()["items"]
    assert [r["id"] for r in records] == [adoption_id]
    path = f"/adoptions/{adoption_id}"
    triggers = [t["trigger"] for t in irccs.get(f"{path}/transitions").get_json()["items"]]
    assert "start_evaluation" in triggers
    for trigger in ("start_evaluation", "approve_for_use", "start_procurement", "start_use"):
        body = {"data": {"procurement_route": "direct"}} if trigger == "start_procurement" else {}
        fire(irccs, path, trigger, body)
    record = irccs.get(path).get_json()
    assert record["state"] == "in_use" and record["can_report_usage"] is True

    year = date.today().year - 1
    figures = {
        "year": year,
        "quarter": 4,
        "units": 12,
        "procedures": 11,
        "spend": "222000.00",
        "adverse_events": 0,
    }
    first = irccs.post(f"{path}/usage-reports", figures, headers={"Idempotency-Key": "q4"})
    assert first.status_code == 201, first.get_data(as_text=True)
    again = irccs.post(f"{path}/usage-reports", figures, headers={"Idempotency-Key": "q4"})
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"

    no_reason = irccs.post(f"{path}/usage-reports", figures | {"units": 13})
    assert no_reason.status_code == 422
    assert no_reason.get_json()["error_codes"] == {"reason": ["required"]}
    corrected = irccs.post(
        f"{path}/usage-reports", figures | {"units": 13, "reason": "Late invoice."}
    )
    assert corrected.status_code == 201
    assert corrected.get_json()["version"] == 2

    history = irccs.get(f"{path}/usage-reports").get_json()["items"]
    assert [(r["quarter"], r["version"], r["units"]) for r in history] == [(4, 2, 13), (4, 1, 12)]

    report = irccs.get("/reports/adoption").get_json()
    assert report["key"] == "adoption"
    assert report["sections"]
