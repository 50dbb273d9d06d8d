"""Documents through the API: upload (multipart) with the pages' rules, versions, downloads,
and who may see them (parties only; others get 404)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from tests.api_support import api_for, assert_problem, clear_coi
from tests.document_support import exe_bytes, pdf_bytes, png_bytes


def upload(api, request_id, *, data=b"", name="ifu.pdf", doc_type="instructions_for_use", **form):
    fields = {"file": (io.BytesIO(data or pdf_bytes()), name), "doc_type": doc_type} | form
    fields.setdefault("title", "Instructions for use")
    return api.post(
        f"/requests/{request_id}/documents", data=fields, content_type="multipart/form-data"
    )


@pytest.fixture
def parties(make):
    maker, body = make.org("manufacturer"), make.org("regional_body")
    users = {
        "manufacturer": make.user("manufacturer", organisation=maker, language="en"),
        "rival": make.user("manufacturer"),
        "agency": make.user("agency"),
        "assessor": make.user("assessor", organisation=body),
        "irccs": make.user("irccs"),
    }
    draft = make.request(manufacturer=maker)
    assessed = make.request(manufacturer=maker, state="assessment", assigned_body=body)
    clear_coi(users["assessor"], assessed)
    db.session.commit()
    return users, draft, assessed


def test_the_manufacturer_uploads_versions_and_downloads_them(client, parties):
    users, draft, _ = parties
    api = api_for(client, users["manufacturer"])
    first = upload(api, draft.id, data=pdf_bytes("v1"))
    assert first.status_code == 201, first.get_data(as_text=True)
    second = upload(api, draft.id, data=pdf_bytes("v2"), title="instructions  FOR use")
    body = second.get_json()
    assert body["version"]["version"] == 2
    assert body["document"]["id"] == first.get_json()["document"]["id"]
    assert second.headers["Location"] == body["version"]["download_url"]

    document = api.get(f"/requests/{draft.id}/documents/{body['document']['id']}").get_json()
    assert [v["version"] for v in document["versions"]] == [1, 2]
    assert document["versions"][0]["content_type"] == "application/pdf"
    listing = api.get(f"/requests/{draft.id}/documents").get_json()
    assert listing["missing_mandatory_types"] == ["ce_certificate"]
    assert "assessment_report" not in listing["uploadable_types"]

    with api.get(document["versions"][0]["download_url"]) as download:
        assert download.status_code == 200
        assert download.data == pdf_bytes("v1")
        assert download.mimetype == "application/pdf"
        assert "attachment" in download.headers["Content-Disposition"]


def test_a_confidential_download_is_audited(client, parties):
    users, draft, _ = parties
    api = api_for(client, users["manufacturer"])
    url = upload(api, draft.id, confidential="true").get_json()["version"]["download_url"]
    with api.get(url) as download:
        assert download.status_code == 200
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.request_id == draft.id)
    ).all()
    assert actions == ["document_uploaded", "document_downloaded"]


def test_the_assessor_and_the_agency_see_the_documents_of_an_assessed_request(client, parties):
    users, _, assessed = parties
    # The manufacturer uploads only while it holds the file; the agency at any time.
    assert_problem(upload(api_for(client, users["manufacturer"]), assessed.id), 403, "forbidden")
    upload(api_for(client, users["agency"]), assessed.id, doc_type="study", title="RCT")
    for who in ("assessor", "agency"):
        items = api_for(client, users[who]).get(f"/requests/{assessed.id}/documents").get_json()
        assert [d["title"] for d in items["items"]] == ["RCT"], who
    report = upload(
        api_for(client, users["assessor"]), assessed.id, doc_type="assessment_report", title="HTA"
    )
    assert report.status_code == 201


@pytest.mark.parametrize("who", ["rival", "irccs", "assessor"])
def test_outsiders_get_404(client, parties, who):
    users, draft, _ = parties
    url = upload(api_for(client, users["manufacturer"]), draft.id).get_json()["version"][
        "download_url"
    ]
    api = api_for(client, users[who])
    assert_problem(api.get(f"/requests/{draft.id}/documents"), 404, "not-found")
    assert_problem(api.get(url), 404, "not-found")
    assert_problem(upload(api, draft.id), 404, "not-found")


def test_the_pages_rules_refuse_bad_uploads(client, parties):
    users, draft, _ = parties
    api = api_for(client, users["manufacturer"])
    exe = assert_problem(upload(api, draft.id, data=exe_bytes(), name="x.pdf"), 422, "validation")
    assert exe["error_codes"] == {"file": ["file_type"]}
    assert "not accepted" in exe["errors"]["file"][0]
    wrong_type = assert_problem(
        upload(api, draft.id, doc_type="assessment_report"), 422, "validation"
    )
    assert wrong_type["error_codes"] == {"doc_type": ["doc_type_not_allowed"]}
    public = assert_problem(upload(api, draft.id, public="true"), 422, "validation")
    assert public["error_codes"] == {"public": ["public_not_allowed"]}
    no_title = assert_problem(upload(api, draft.id, title=" "), 422, "validation")
    assert no_title["error_codes"] == {"title": ["title_missing"]}
    as_json = api.post(f"/requests/{draft.id}/documents", {"title": "x"})
    assert_problem(as_json, 415, "unsupported-media-type")


def test_a_file_over_the_limit_answers_413(app, client, parties):
    users, draft, _ = parties
    app.config["DOCUMENT_MAX_BYTES"] = 100
    api = api_for(client, users["manufacturer"])
    problem = assert_problem(upload(api, draft.id, data=png_bytes() * 10), 413, "payload-too-large")
    assert "too large" in problem["detail"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    assert_problem(upload(api, draft.id, data=b"%PDF" + b"x" * 5000), 413, "payload-too-large")


def test_the_manufacturer_cannot_upload_once_submitted(client, make):
    user = make.user("manufacturer")
    submitted = make.request(manufacturer=user.organisation, state="intake_review")
    db.session.commit()
    assert_problem(upload(api_for(client, user), submitted.id), 403, "forbidden")
