# ruff: noqa: F811  (the S3 fixtures are imported by name)
"""The document store on S3-compatible object storage, against a real S3 endpoint over HTTP
(moto's standalone server on a loopback port; boto3 is not mocked): uploads land in the bucket
under their digest and download through the pages whole and verified, the same content is
stored once, an interrupted or failed upload leaves no object, no row and no temporary file,
a damaged object never reaches a client whole, and `flask documents migrate` moves a local
store to the bucket and checks every digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.core import document_store, s3_store
from app.core.document_store import DamagedDocument, LocalStore
from app.extensions import db
from app.models import Document, DocumentVersion
from tests.api_support import api_for
from tests.document_support import pdf_bytes, png_bytes, stored_files, upload
from tests.functional.test_documents import post_upload
from tests.s3_support import s3, s3_app, s3_server  # noqa: F401  (fixtures)
from tests.workflow_support import make_cast

pytestmark = pytest.mark.s3


@pytest.fixture
def cast(make):
    people = vars(make_cast(make))
    db.session.commit()
    return people


@pytest.fixture
def own_request(make, cast):
    request = make.request(manufacturer=cast["manufacturer_org"])
    db.session.commit()
    return request


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def staging_leftovers() -> list[Path]:
    tmp = Path(current_app.instance_path) / "tmp"
    return sorted(tmp.iterdir()) if tmp.exists() else []


def download_url(request, version) -> str:
    document = version.document
    return f"/requests/{request.id}/documents/{document.id}/versions/{version.version}/download"


def test_an_upload_lands_in_the_bucket_and_downloads_whole(s3_app, s3, cast, own_request, as_user):
    # Below the test client's 500 KB threshold (larger bodies leak its temporary file).
    data = pdf_bytes("pivotal study") + b"%" * 400_000
    client = as_user(cast["manufacturer"])

    response = post_upload(client, own_request.id, data, "ifu.pdf")

    assert response.status_code == 302
    digest = hashlib.sha256(data).hexdigest()
    assert s3.keys() == [s3.key_for(digest)]
    stored = s3.client().get_object(Bucket=s3.bucket, Key=s3.key_for(digest))["Body"].read()
    assert stored == data
    assert stored_files() == [] and staging_leftovers() == []  # nothing on the server's disk
    version = db.session.scalars(select(DocumentVersion)).one()
    with client.get(download_url(own_request, version)) as download:
        assert download.status_code == 200
        assert download.headers["Content-Length"] == str(len(data))
        assert download.headers["ETag"] == f'"{digest}"'
        assert download.data == data


def test_the_api_streams_a_large_document_from_the_bucket(s3_app, s3, cast, own_request, client):
    data = pdf_bytes("large") + b"%" * 3_500_000  # several chunks of the store's reader
    version = upload(cast["manufacturer"], own_request, "instructions_for_use", data)
    db.session.commit()
    api = api_for(client, cast["manufacturer"])
    url = (
        f"/requests/{own_request.id}/documents/{version.document_id}"
        f"/versions/{version.version}/content"
    )
    with api.get(url) as response:
        assert response.status_code == 200
        assert response.headers["Content-Length"] == str(len(data))
        assert response.data == data


def test_the_same_content_is_one_object(s3_app, s3, cast, own_request, as_user):
    client = as_user(cast["manufacturer"])
    data = png_bytes()
    post_upload(client, own_request.id, data, "a.png", doc_type="study", title="Figure A")
    post_upload(client, own_request.id, data, "b.png", doc_type="other", title="Figure B")

    assert count(DocumentVersion) == 2
    assert s3.keys() == [s3.key_for(hashlib.sha256(data).hexdigest())]


def test_an_upload_interrupted_mid_transfer_leaves_nothing(
    s3_app, s3, cast, own_request, as_user, monkeypatch
):
    """The connection to the object store breaks after part of the body went over the wire."""
    sent = []
    original_put = s3_store.S3Store._put

    class BreaksMidway:
        def __init__(self, body):
            self.body = body

        def read(self, size=-1):
            chunk = self.body.read(min(size, 256 * 1024) if size and size > 0 else 256 * 1024)
            sent.append(len(chunk))
            if sum(sent) > 100_000:
                raise ConnectionResetError("connection to the object store lost")
            return chunk

        def __getattr__(self, name):
            return getattr(self.body, name)

    def put_breaking(self, key, body, staged_file):
        return original_put(self, key, BreaksMidway(body), staged_file)

    monkeypatch.setattr(s3_store.S3Store, "_put", put_breaking)
    data = pdf_bytes("big") + b"%" * 400_000

    response = post_upload(as_user(cast["manufacturer"]), own_request.id, data, "ifu.pdf")

    assert 100_000 < sum(sent) < len(data)  # part of the body was read for sending
    assert response.status_code == 500
    assert "The file could not be stored. Nothing was saved" in response.get_data(as_text=True)
    assert s3.keys() == []
    assert count(Document) == 0 and count(DocumentVersion) == 0
    assert staging_leftovers() == []


def test_an_unreachable_store_refuses_the_upload_and_leaves_nothing(
    s3_app, s3, cast, own_request, as_user
):
    from tests.s3_support import free_port

    s3_app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"  # nobody listens
    s3_app.extensions.pop("document_store", None)

    response = post_upload(as_user(cast["manufacturer"]), own_request.id, pdf_bytes(), "ifu.pdf")

    assert response.status_code == 500
    assert "The file could not be stored" in response.get_data(as_text=True)
    assert count(DocumentVersion) == 0 and staging_leftovers() == []


def test_a_damaged_object_never_reaches_the_client_whole(s3_app, s3, cast, own_request, as_user):
    data = pdf_bytes("original") + b"%" * 2_500_000
    version = upload(cast["manufacturer"], own_request, "instructions_for_use", data)
    db.session.commit()
    tampered = data[:-1] + b"!"  # same size, last byte changed
    s3.client().put_object(Bucket=s3.bucket, Key=s3.key_for(version.sha256), Body=tampered)

    response = as_user(cast["manufacturer"]).get(download_url(own_request, version), buffered=False)
    received = b""
    with pytest.raises(DamagedDocument):
        for chunk in response.response:
            received += chunk
    response.close()

    assert response.headers["Content-Length"] == str(len(data))
    assert 0 < len(received) < len(data)  # the download stops short: the client sees it fail
    assert received == data[: len(received)]


def test_a_missing_object_is_a_server_error(s3_app, s3, cast, own_request, as_user):
    version = upload(cast["manufacturer"], own_request, "instructions_for_use", pdf_bytes())
    db.session.commit()
    s3.client().delete_object(Bucket=s3.bucket, Key=s3.key_for(version.sha256))

    response = as_user(cast["manufacturer"]).get(download_url(own_request, version))

    assert response.status_code == 500


def test_migrate_moves_a_local_store_to_the_bucket_and_verifies_it(
    app, s3, cast, own_request, runner
):
    contents = [pdf_bytes("one"), pdf_bytes("two"), png_bytes()]
    for number, data in enumerate(contents):
        upload(cast["manufacturer"], own_request, "other", data, title=f"Annex {number}")
    db.session.commit()
    app.config["S3_ENDPOINT_URL"] = s3.url

    result = runner.invoke(args=["documents", "migrate", "--to", s3.store_url])

    assert result.exit_code == 0, result.output
    assert "3 copied, 0 already in" in result.output
    digests = sorted(hashlib.sha256(data).hexdigest() for data in contents)
    assert s3.keys() == sorted(s3.key_for(d) for d in digests)

    # The app switched over serves every document from the bucket.
    app.config["DOCUMENT_STORE"] = s3.store_url
    app.extensions.pop("document_store", None)
    for digest in digests:
        with document_store.open_content(digest) as content:
            assert hashlib.sha256(content.read()).hexdigest() == digest

    again = runner.invoke(args=["documents", "migrate", "--to", s3.store_url])
    assert "target is the store in use" in again.output and again.exit_code != 0


def test_migrate_reports_a_damaged_local_file_and_fails(app, s3, cast, own_request, runner):
    good, bad = pdf_bytes("good"), pdf_bytes("bad")
    upload(cast["manufacturer"], own_request, "other", good, title="Good")
    damaged = upload(cast["manufacturer"], own_request, "other", bad, title="Bad")
    db.session.commit()
    local = document_store.current_store()
    assert isinstance(local, LocalStore)
    local.path_for(damaged.sha256).write_bytes(bad + b"tampered")
    app.config["S3_ENDPOINT_URL"] = s3.url

    result = runner.invoke(args=["documents", "migrate", "--to", s3.store_url])

    assert result.exit_code == 1
    assert damaged.sha256 in result.output
    assert s3.keys() == [s3.key_for(hashlib.sha256(good).hexdigest())]
