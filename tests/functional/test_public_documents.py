"""Documents on the public register: only those the agency published, never a confidential
one, and only for requests in the register."""

from app.documents.operations import BytesUpload, DocumentMeta, upload_document
from app.extensions import db
from app.models.types import utcnow
from tests.document_support import pdf_bytes
from tests.functional.test_public_register import page, public_request

PUBLIC_MARKER = "PUBLIC-REPORT-TITLE"
SECRET_MARKER = "SECRET-PRICE-LIST-TITLE"


def _upload(actor, request, doc_type, title, *, confidential=False, public=False):
    upload = BytesUpload(pdf_bytes(title), f"{doc_type}.pdf")
    meta = DocumentMeta(doc_type, title, confidential=confidential, public=public)
    return upload_document(actor, request.id, upload, meta, utcnow())


def test_only_published_non_confidential_documents_are_listed_and_served(client, make):
    agency = make.user("agency")
    request = public_request(make)
    published = _upload(agency, request, "assessment_report", PUBLIC_MARKER, public=True)
    secret = _upload(agency, request, "price_list", SECRET_MARKER, confidential=True)
    internal = _upload(agency, request, "other", "Internal note")
    db.session.commit()

    html = page(client, f"/register/{request.id}")
    assert PUBLIC_MARKER in html
    assert SECRET_MARKER not in html and "Internal note" not in html

    served = client.get(f"/register/documents/{request.id}/{published.document_id}")
    assert served.status_code == 200 and served.data.startswith(b"%PDF")
    served.close()
    for hidden in (secret, internal):
        assert (
            client.get(f"/register/documents/{request.id}/{hidden.document_id}").status_code == 404
        )


def test_documents_of_requests_outside_the_register_are_not_served(client, make):
    agency = make.user("agency")
    request = public_request(make, consent=False)
    document = _upload(agency, request, "assessment_report", PUBLIC_MARKER, public=True)
    db.session.commit()
    assert client.get(f"/register/documents/{request.id}/{document.document_id}").status_code == 404
