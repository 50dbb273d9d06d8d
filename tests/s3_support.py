"""A real S3 endpoint for the document store tests: moto's standalone server, over HTTP on a
loopback port, started once per test session. Each test gets a bucket of its own and an app
whose `DOCUMENT_STORE` points into it.

Import the fixtures into a test module: ``from tests.s3_support import s3_server, s3_app``.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest

from app.core.document_store import current_store

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing-key",
    "AWS_SECRET_ACCESS_KEY": "testing-secret",
    "AWS_DEFAULT_REGION": "eu-south-1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class S3Endpoint:
    url: str
    bucket: str
    prefix: str = "hta/documents"

    @property
    def store_url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self) -> list[str]:
        answer = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in answer.get("Contents", ()))

    def key_for(self, sha256: str) -> str:
        return f"{self.prefix}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server on a free loopback port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch) -> S3Endpoint:
    """A fresh bucket on the server, and the AWS_* environment that reaches it."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    endpoint = S3Endpoint(url=s3_server, bucket=f"hta-{uuid.uuid4().hex[:12]}")
    endpoint.client().create_bucket(
        Bucket=endpoint.bucket,
        CreateBucketConfiguration={"LocationConstraint": CREDENTIALS["AWS_DEFAULT_REGION"]},
    )
    return endpoint


@pytest.fixture
def s3_app(app, s3):
    """The test app with its documents in the S3 bucket."""
    app.config["DOCUMENT_STORE"] = s3.store_url
    app.config["S3_ENDPOINT_URL"] = s3.url
    app.extensions.pop("document_store", None)
    assert current_store().url == s3.store_url
    yield app
    app.extensions.pop("document_store", None)
