"""The S3-compatible backend of the document store (`DOCUMENT_STORE=s3://bucket/prefix`):
MinIO, Ceph RGW or a cloud bucket. The endpoint comes from `S3_ENDPOINT_URL` (unset: AWS), the
credentials and region from the standard AWS_* environment (or an instance role).

Objects live at ``<prefix>/ab/cd/<sha256>``. An upload is one PUT carrying the content's
SHA-256 checksum (the server refuses bytes that do not match it) and ``If-None-Match: *`` (a
content is written once: a second writer of the same content gets 412 and has nothing to do).
A PUT is atomic: an interrupted one leaves no object. Documents are at most 50 MB, far below
the 5 GB single-PUT limit, so no multipart upload is ever left half-done.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from app.core.document_store import (
    DocumentStore,
    MissingDocument,
    StagedFile,
    StoreUnavailable,
    fanned_out,
)

NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
ALREADY_THERE_CODES = frozenset({"412", "PreconditionFailed"})


class S3Store(DocumentStore):
    def __init__(self, client, bucket: str, prefix: str, staging_dir: Path):
        super().__init__(staging_dir)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"

    @classmethod
    def from_url(cls, url: str, staging_dir: Path, endpoint_url: str | None = None) -> S3Store:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"DOCUMENT_STORE {url!r} names no bucket")
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=BotoConfig(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )
        return cls(client, bucket, prefix, staging_dir)

    def key_for(self, sha256: str) -> str:
        return f"{self.prefix}/{fanned_out(sha256)}" if self.prefix else fanned_out(sha256)

    def place(self, staged_file: StagedFile) -> None:
        if self.is_stored(staged_file.sha256):
            return
        with staged_file.path.open("rb") as body:
            self._put(self.key_for(staged_file.sha256), body, staged_file)

    def _put(self, key: str, body: BinaryIO, staged_file: StagedFile) -> None:
        checksum = base64.b64encode(bytes.fromhex(staged_file.sha256)).decode()
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentLength=staged_file.size,
                ChecksumSHA256=checksum,
                IfNoneMatch="*",
            )
        except ClientError as error:
            if _code(error) in ALREADY_THERE_CODES:
                return  # another server stored the same content meanwhile
            raise StoreUnavailable(f"storing {key} failed: {error}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"storing {key} failed: {error}") from error

    def is_stored(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key_for(sha256))
        except ClientError as error:
            if _code(error) in NOT_FOUND_CODES:
                return False
            raise StoreUnavailable(f"{self.url} answered {error}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"{self.url} unreachable: {error}") from error
        return True

    def _open_raw(self, sha256: str) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key_for(sha256))
        except ClientError as error:
            if _code(error) in NOT_FOUND_CODES:
                raise MissingDocument(f"no stored content for {sha256}") from None
            raise StoreUnavailable(f"{self.url} answered {error}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"{self.url} unreachable: {error}") from error
        return answer["Body"]

    def digests(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        start = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", ()):
                name = item["Key"].rsplit("/", 1)[-1]
                if item["Key"] == self.key_for_or_none(name):
                    yield name

    def key_for_or_none(self, name: str) -> str | None:
        try:
            return self.key_for(name)
        except ValueError:
            return None

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"{self.url} unreachable: {error}") from error


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
