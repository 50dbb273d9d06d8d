"""Documents through the pages: upload every accepted kind, refuse everything else with a
clear message (keeping the form, storing nothing), versions, one file per content, downloads
for the parties only (confidential ones audited), publication, and the mandatory documents
that a submission needs."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select

from app.core import document_store
from app.documents.operations import public_documents_for
from app.extensions import db
from app.models import (
    AuditEntry,
    CoiDeclaration,
    DeviceRequest,
    Document,
    DocumentVersion,
    Recommendation,
    StageRecord,
)
from tests.document_support import (
    ACCEPTED_FILES,
    attach_mandatory_documents,
    elf_bytes,
    exe_bytes,
    html_bytes,
    pdf_bytes,
    png_bytes,
    stored_files,
    upload,
)
from tests.page_support import post_action
from tests.workflow_support import make_cast


@pytest.fixture
def cast(make):
    """The usual cast (tests.workflow_support.make_cast) as a dict: cast["agency"] ..."""
    people = vars(make_cast(make))
    db.session.commit()
    return people


def in_state(request: DeviceRequest, state: str, cast=None) -> DeviceRequest:
    """Put a request in `state` (set-up only), assigned to the cast's body, with the
    assessor cleared of conflicts of interest."""
    request.state = state
    if cast is not None:
        request.assigned_body_id = cast["body"].id
        db.session.add(
            CoiDeclaration(request_id=request.id, user_id=cast["assessor"].id, has_conflict=False)
        )
    db.session.commit()
    return request


def post_upload(client, request_id, data: bytes, filename: str, **fields):
    form = {
        "doc_type": "instructions_for_use",
        "title": "Instructions for use",
        "file": (io.BytesIO(data), filename),
    }
    form |= fields
    return client.post(
        f"/requests/{request_id}/documents/upload",
        data=form,
        content_type="multipart/form-data",
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions(request_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.request_id == request_id)
            .order_by(AuditEntry.seq)
        )
    )


# --- Accepted files -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ACCEPTED_FILES))
def test_each_accepted_kind_is_uploaded_and_stored_by_its_digest(app, cast, make, as_user, kind):
    filename, make_bytes, content_type = ACCEPTED_FILES[kind]
    data = make_bytes()
    request = make.request(manufacturer=cast["manufacturer_org"])
    db.session.commit()
    client = as_user(cast["manufacturer"])

    response = post_upload(client, request.id, data, filename, doc_type="study", title="Pivotal")

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    version = db.session.scalars(select(DocumentVersion)).one()
    digest = hashlib.sha256(data).hexdigest()
    assert (version.sha256, version.size, version.content_type) == (digest, len(data), content_type)
    assert version.original_filename == filename
    assert version.uploaded_by_id == cast["manufacturer"].id
    assert version.uploaded_at is not None
    path = document_store.path_for(digest)
    assert path.read_bytes() == data
    assert path.parent.name == digest[2:4] and path.parent.parent.name == digest[:2]
    assert stored_files() == [path]  # no temporary file left behind
    assert audit_actions(request.id) == ["document_uploaded"]

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Uploaded: Pivotal, version 1." in page
    assert filename in page


# --- Refused files ----------------------------------------------------------------------------


REFUSED = {
    "elf-renamed": (elf_bytes(), "ifu.pdf", "This kind of file is not accepted"),
    "exe-renamed": (exe_bytes(), "ifu.pdf", "This kind of file is not accepted"),
    "html-as-pdf": (html_bytes(), "ifu.pdf", "This kind of file is not accepted"),
    # The PDF signature in front of a web page: the structure is checked, not the magic bytes.
    "html-behind-pdf-signature": (
        b"%PDF-1.7\n" + html_bytes() + b"\n%%EOF\n",
        "ifu.pdf",
        "This file starts like a PDF but is not a valid PDF document",
    ),
    "pdf-cut-short": (pdf_bytes()[:150], "ifu.pdf", "starts like a PDF but is not a valid PDF"),
    "empty": (b"", "ifu.pdf", "The file is empty"),
    "too-large": (pdf_bytes() + b"x" * 200, "ifu.pdf", "The file is too large: the limit is"),
    "climbing": (pdf_bytes(), "../../x.pdf", "The file name contains a folder path"),
    # Escaped as a quoted-string on the wire, so the server reads ..\..\x.pdf (werkzeug
    # un-escapes the header: a raw backslash would simply vanish from the name).
    "backslashes": (pdf_bytes(), r"..\\..\\x.pdf", "The file name contains a folder path"),
    "absolute": (pdf_bytes(), "/etc/x.pdf", "The file name contains a folder path"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_files_keep_the_form_and_store_nothing(app, cast, make, as_user, case):
    data, filename, message = REFUSED[case]
    app.config["DOCUMENT_MAX_BYTES"] = 200
    request = make.request(manufacturer=cast["manufacturer_org"])
    db.session.commit()
    client = as_user(cast["manufacturer"])

    response = post_upload(
        client,
        request.id,
        data,
        filename,
        doc_type="price_list",
        title="Listino prezzi 2026",
        confidential="y",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="Listino prezzi 2026"' in page
    assert '<option selected value="price_list">' in page
    assert checkbox_checked(page, "confidential")
    assert count(Document) == 0 and count(DocumentVersion) == 0
    assert stored_files() == []
    assert audit_actions(request.id) == []


def checkbox_checked(page: str, name: str) -> bool:
    """Whether the page's checkbox `name` is ticked."""
    before, after = page.split(f'name="{name}"', 1)
    tag = before.rsplit("<input", 1)[1] + after.split(">", 1)[0]
    return "checked" in tag


def test_a_nul_in_the_file_name_is_refused(app, cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"])
    db.session.commit()
    response = post_upload(as_user(cast["manufacturer"]), request.id, pdf_bytes(), "x\x00.pdf")
    assert response.status_code == 422
    assert "control characters" in response.get_data(as_text=True)
    assert count(DocumentVersion) == 0 and stored_files() == []


def test_a_missing_title_or_file_is_explained(app, cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"])
    db.session.commit()
    client = as_user(cast["manufacturer"])
    response = client.post(
        f"/requests/{request.id}/documents/upload",
        data={"doc_type": "study", "title": "  "},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give the document a title." in page
    assert "Choose a file to upload." in page


def test_a_body_over_the_request_limit_answers_on_the_upload_page(app, cast, make, as_user):
    app.config["MAX_CONTENT_LENGTH"] = 2000
    request = make.request(manufacturer=cast["manufacturer_org"])
    db.session.commit()
    response = post_upload(
        as_user(cast["manufacturer"]), request.id, pdf_bytes() + b"x" * 5000, "big.pdf"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The file is too large: the limit is 50 MB." in page
    assert "Nothing was saved" in page
    assert 'enctype="multipart/form-data"' in page  # the form is there to try again
    assert count(DocumentVersion) == 0 and stored_files() == []

    # With CSRF on, the body is refused while checking the token: the same page answers.
    client = as_user(cast["manufacturer"])
    app.config["WTF_CSRF_ENABLED"] = True
    response = post_upload(client, request.id, pdf_bytes() + b"x" * 5000, "big.pdf")
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)


def test_a_failed_write_leaves_no_row_and_no_file(app, cast, make, as_user, monkeypatch):
    request = make.request(manufacturer=cast["manufacturer_org"])
    db.session.commit()

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(document_store.os, "replace", broken_replace)
    response = post_upload(as_user(cast["manufacturer"]), request.id, pdf_bytes(), "ifu.pdf")

    assert response.status_code == 500
    assert "The file could not be stored. Nothing was saved" in response.get_data(as_text=True)
    assert count(Document) == 0 and count(DocumentVersion) == 0
    assert stored_files() == []


# --- Versions and storage ---------------------------------------------------------------------


def test_same_type_and_title_is_a_new_version_and_every_version_downloads(app, cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"])
    db.session.commit()
    client = as_user(cast["manufacturer"])
    first, second = pdf_bytes("first"), pdf_bytes("second")

    assert post_upload(client, request.id, first, "ifu-v1.pdf").status_code == 302
    assert (
        post_upload(
            client, request.id, second, "ifu-v2.pdf", title="  instructions FOR use "
        ).status_code
        == 302
    )

    document = db.session.scalars(select(Document)).one()
    assert [v.version for v in document.versions] == [1, 2]
    page = client.get(f"/requests/{request.id}/documents").get_data(as_text=True)
    assert "ifu-v1.pdf" in page and "ifu-v2.pdf" in page
    for number, data, name in ((1, first, "ifu-v1.pdf"), (2, second, "ifu-v2.pdf")):
        url = f"/requests/{request.id}/documents/{document.id}/versions/{number}/download"
        assert url in page
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.data == data
            assert response.headers["Content-Type"] == "application/pdf"
            assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    missing = f"/requests/{request.id}/documents/{document.id}/versions/3/download"
    assert client.get(missing).status_code == 404


def test_the_same_content_is_stored_once(app, cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"])
    db.session.commit()
    client = as_user(cast["manufacturer"])
    data = png_bytes()
    post_upload(client, request.id, data, "a.png", doc_type="study", title="Figure A")
    post_upload(client, request.id, data, "b.png", doc_type="other", title="Figure B")

    assert count(Document) == 2 and count(DocumentVersion) == 2
    assert stored_files() == [document_store.path_for(hashlib.sha256(data).hexdigest())]


# --- Who may download -----------------------------------------------------------------------


def published(request: DeviceRequest, cast) -> DeviceRequest:
    """A positive recommendation in adoption monitoring: every IRCCS may read the request."""
    db.session.add(Recommendation(request_id=request.id, outcome="recommended", rationale="Ok"))
    return in_state(request, "adoption_monitoring", cast)


def test_a_non_party_gets_404_and_a_party_download_of_a_confidential_file_is_audited(
    app, cast, make, as_user
):
    request = make.request(manufacturer=cast["manufacturer_org"], complete=True)
    db.session.commit()
    secret = upload(cast["manufacturer"], request, "price_list", confidential=True)
    public = upload(cast["manufacturer"], request, "instructions_for_use")
    published(request, cast)

    def url(version):
        return (
            f"/requests/{request.id}/documents/{version.document_id}"
            f"/versions/{version.version}/download"
        )

    for outsider in ("other_manufacturer", "other_assessor", "irccs"):
        client = as_user(cast[outsider])
        for path in (url(secret), url(public), f"/requests/{request.id}/documents"):
            assert client.get(path).status_code == 404, (outsider, path)
    assert "document_downloaded" not in audit_actions(request.id)

    for party in ("agency", "manufacturer", "assessor"):
        before = audit_actions(request.id).count("document_downloaded")
        client = as_user(cast[party])
        with client.get(url(public)) as response:
            assert response.status_code == 200
        assert audit_actions(request.id).count("document_downloaded") == before
        with client.get(url(secret)) as response:
            assert response.status_code == 200
        assert audit_actions(request.id).count("document_downloaded") == before + 1
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "document_downloaded")
    ).first()
    assert entry.actor_id == cast["agency"].id
    assert entry.data == {"title": "Price list", "version": 1}


def test_the_request_page_shows_documents_to_parties_only(app, cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"], complete=True)
    db.session.commit()
    upload(cast["manufacturer"], request, "study", title="Pivotal RCT")
    published(request, cast)

    agency_page = as_user(cast["agency"]).get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Pivotal RCT" in agency_page
    irccs = as_user(cast["irccs"]).get(f"/requests/{request.id}")
    assert irccs.status_code == 200  # the IRCCS reads the published request ...
    assert "Pivotal RCT" not in irccs.get_data(as_text=True)  # ... not its documents


# --- Who may upload what ----------------------------------------------------------------------


def test_uploads_follow_role_and_stage(app, cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"], complete=True)
    in_state(request, "assessment", cast)
    manufacturer = as_user(cast["manufacturer"])
    assessor = as_user(cast["assessor"])
    agency = as_user(cast["agency"])

    # The manufacturer does not hold the file during the assessment.
    assert manufacturer.get(f"/requests/{request.id}/documents/upload").status_code == 403
    # An upload posted from a page opened earlier: the form again, saying why (nothing kept).
    refused = post_upload(manufacturer, request.id, pdf_bytes(), "x.pdf")
    assert refused.status_code == 409
    assert "can no longer add documents" in refused.get_data(as_text=True)
    assert count(DocumentVersion) == 0

    # The assessor writes the assessment report, nothing else.
    page = assessor.get(f"/requests/{request.id}/documents/upload").get_data(as_text=True)
    assert 'value="assessment_report"' in page and 'value="study"' not in page
    response = post_upload(assessor, request.id, pdf_bytes(), "x.pdf", doc_type="study")
    assert response.status_code == 422
    response = post_upload(
        assessor, request.id, pdf_bytes(), "report.pdf", doc_type="assessment_report", title="R"
    )
    assert response.status_code == 302

    # The agency may upload any type.
    response = post_upload(agency, request.id, pdf_bytes("memo"), "memo.pdf", doc_type="other")
    assert response.status_code == 302
    assert count(DocumentVersion) == 2


def test_only_the_agency_publishes_and_never_a_confidential_document(app, cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"], complete=True, submitted_at=None)
    db.session.commit()
    manufacturer = as_user(cast["manufacturer"])
    response = post_upload(manufacturer, request.id, pdf_bytes(), "ifu.pdf", public="y")
    assert response.status_code == 422
    assert "Only the agency may publish" in response.get_data(as_text=True)

    in_state(request, "appraisal", cast)
    agency = as_user(cast["agency"])
    fields = {"doc_type": "assessment_report", "title": "Assessment report", "public": "y"}
    response = post_upload(
        agency, request.id, pdf_bytes("report"), "report.pdf", confidential="y", **fields
    )
    assert response.status_code == 422
    assert "A confidential document cannot be published" in response.get_data(as_text=True)
    assert count(DocumentVersion) == 0

    response = post_upload(agency, request.id, pdf_bytes("report"), "report.pdf", **fields)
    assert response.status_code == 302
    report = db.session.scalars(select(Document)).one()
    assert report.public and not report.confidential
    secret = upload(cast["agency"], request, "price_list", confidential=True)
    db.session.commit()
    toggle = f"/requests/{request.id}/documents/{secret.document_id}/publication"
    assert agency.post(toggle, data={"public": "1"}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(Document, secret.document_id).public
    assert manufacturer.post(toggle, data={"public": "1"}).status_code == 403


def test_the_public_register_gets_only_public_documents_of_registered_requests(
    app, cast, make, client
):
    request = make.request(manufacturer=cast["manufacturer_org"], complete=True)
    db.session.commit()
    secret = upload(cast["manufacturer"], request, "price_list", confidential=True)
    in_state(request, "consultation", cast)
    request.submitted_at = request.created_at
    db.session.add(
        StageRecord(
            request_id=request.id,
            state="consultation",
            entered_at=request.created_at,
            clock_stopped=False,
        )
    )
    report = upload(cast["agency"], request, "assessment_report", public=True)
    db.session.commit()

    with app.test_request_context():
        listed = public_documents_for(request)
    assert [(d["title"], d["version"]) for d in listed] == [("Assessment report", 1)]
    assert set(listed[0]) == {"title", "kind", "version", "published_at", "url"}
    with client.get(listed[0]["url"]) as response:  # no login
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.data == document_store.path_for(report.sha256).read_bytes()
    assert client.get(f"/register/documents/{request.id}/{secret.document_id}").status_code == 404

    request.consent_to_publication = False  # no longer in the register
    db.session.commit()
    assert client.get(listed[0]["url"]).status_code == 404


# --- Submission needs the mandatory documents ------------------------------------------------


def test_submission_is_refused_until_the_mandatory_documents_are_uploaded(app, cast, make, as_user):
    request = make.request(manufacturer=cast["manufacturer_org"], complete=True)
    db.session.commit()
    client = as_user(cast["manufacturer"])

    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Still missing for submission" in page and "Nothing is missing" not in page
    missing = page.split('data-section="documents"')[1].split("</ul>")[0]
    assert "Instructions for use" in missing and "CE certificate" in missing

    response = post_action(client, request, "submit")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Document to upload: Instructions for use" in page
    assert "Document to upload: CE certificate" in page
    db.session.expire_all()
    assert db.session.get(DeviceRequest, request.id).state == "draft"

    upload(cast["manufacturer"], request, "instructions_for_use")
    db.session.commit()
    response = post_action(client, request, "submit")
    assert "Document to upload: CE certificate" in response.get_data(as_text=True)
    assert "Document to upload: Instructions for use" not in response.get_data(as_text=True)

    attach_mandatory_documents(cast["manufacturer"], request)
    db.session.commit()
    response = post_action(client, request, "submit")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(DeviceRequest, request.id).state == "intake_review"


def test_the_mandatory_types_are_configurable(app, cast, make, as_user):
    app.config["MANDATORY_DOCUMENT_TYPES"] = ("declaration_of_conformity",)
    request = make.request(manufacturer=cast["manufacturer_org"], complete=True)
    db.session.commit()
    page = as_user(cast["manufacturer"]).get(f"/requests/{request.id}").get_data(as_text=True)
    missing = page.split('data-section="documents"')[1].split("</ul>")[0]
    assert "Declaration of conformity" in missing
    assert "Instructions for use" not in missing
