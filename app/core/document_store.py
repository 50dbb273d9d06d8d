"""The bytes of uploaded documents, stored once per content, behind one interface with two
backends chosen by `DOCUMENT_STORE`:

- unset (the embedded default): the local content-addressed store under the instance folder,
  ``<instance>/documents/ab/cd/<sha256>`` (the first two pairs of hex digits fan the files out);
- ``s3://bucket/prefix``: S3-compatible object storage (`app.core.s3_store`), the same layout
  under the prefix, so every app server sees every document.

The guarantees are the backends' common contract:

- SHA-256 addressed and written once: an upload is first copied to a temporary file while its
  digest and size are computed (stopping as soon as it exceeds the limit), checked, and only then
  put in place under its digest; a content already stored is not written again.
- A refused or interrupted upload leaves nothing behind: the temporary file is always removed,
  and the object appears under its key only once it is whole (`os.replace` locally; a single
  PUT, with its SHA-256 checksum, on S3).
- Verified on read: `open_content` streams the bytes in chunks and checks the digest as they
  pass; the last chunk is held back until the digest matches, so a damaged file never reaches
  a client whole (the download is cut short and the error logged).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import Flask, current_app

CHUNK_BYTES = 1024 * 1024
STORE_DIR = "documents"
TMP_DIR = "tmp"
_HEX = frozenset("0123456789abcdef")


class MissingDocument(FileNotFoundError):
    """The store has no content for a digest the database refers to."""


class DamagedDocument(OSError):
    """The stored bytes no longer hash to their digest."""


class StoreUnavailable(OSError):
    """The store could not be reached or refused the operation (an OSError, like a full disk:
    the upload page says the file could not be stored)."""


@dataclass(frozen=True)
class StagedFile:
    """An upload copied to a temporary file: where, its digest and size (None when it was
    larger than the limit: copying stopped there)."""

    path: Path
    sha256: str
    size: int | None


def check_digest(sha256: str) -> str:
    if len(sha256) != 64 or not _HEX.issuperset(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return sha256


def fanned_out(sha256: str) -> str:
    """``ab/cd/abcd...``: where a content lives below the store's root or prefix."""
    check_digest(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class DocumentStore(ABC):
    """What every backend does. `staged` is shared: uploads are staged on local disk (the
    digest must be known before the content can be addressed)."""

    url: str

    def __init__(self, staging_dir: Path):
        self.staging_dir = staging_dir

    @contextmanager
    def staged(self, stream: BinaryIO, max_bytes: int) -> Iterator[StagedFile]:
        """Copy `stream` to a temporary file (removed on exit, placed or not)."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.staging_dir, prefix="upload-")
        path = Path(name)
        try:
            with os.fdopen(handle, "wb") as out:
                sha256, size = copy_hashing(stream, out, max_bytes)
                out.flush()
                os.fsync(out.fileno())
            yield StagedFile(path=path, sha256=sha256, size=size)
        finally:
            path.unlink(missing_ok=True)

    @abstractmethod
    def place(self, staged_file: StagedFile) -> None:
        """Put the staged content in place under its digest (nothing when already stored)."""

    @abstractmethod
    def is_stored(self, sha256: str) -> bool: ...

    @abstractmethod
    def _open_raw(self, sha256: str) -> BinaryIO:
        """The stored bytes as a readable stream; MissingDocument when absent."""

    @abstractmethod
    def digests(self) -> Iterator[str]:
        """Every digest stored (in no particular order)."""

    @abstractmethod
    def check(self) -> None:
        """Raise if the store cannot be reached or written (for readiness probes)."""

    def open_content(self, sha256: str, size: int | None = None) -> VerifiedContent:
        """The content as a file-like object that verifies the digest (and size) as it is read;
        MissingDocument at once when absent."""
        return VerifiedContent(self._open_raw(check_digest(sha256)), sha256, size)

    def verify(self, sha256: str) -> int:
        """Read the whole content, checking its digest; its size. DamagedDocument otherwise."""
        size = 0
        with self.open_content(sha256) as content:
            while chunk := content.read(CHUNK_BYTES):
                size += len(chunk)
        return size

    def put_stream(self, stream: BinaryIO, sha256: str) -> None:
        """Store the bytes of `stream` (migrations, restores), which must hash to `sha256`:
        DamagedDocument otherwise, and nothing is stored."""
        with self.staged(stream, max_bytes=2**62) as staged_file:
            if staged_file.sha256 != sha256:
                raise DamagedDocument(f"content offered as {sha256} hashes differently")
            self.place(staged_file)

    def copy_from(self, source: DocumentStore, sha256: str) -> None:
        """Copy one content from `source` (verified as read, and again as written)."""
        with source.open_content(sha256) as content:
            self.put_stream(content, sha256)


class LocalStore(DocumentStore):
    """Files under `root`; temporary files in ``root/tmp`` (one filesystem: `os.replace` is
    atomic)."""

    def __init__(self, root: Path):
        super().__init__(root / TMP_DIR)
        self.root = root
        self.url = str(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / fanned_out(sha256)

    def place(self, staged_file: StagedFile) -> None:
        target = self.path_for(staged_file.sha256)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged_file.path, target)

    def is_stored(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def _open_raw(self, sha256: str) -> BinaryIO:
        try:
            return self.path_for(sha256).open("rb")
        except FileNotFoundError:
            raise MissingDocument(f"no stored content for {sha256}") from None

    def digests(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if first.name == TMP_DIR or not first.is_dir():
                continue
            for path in sorted(first.glob("*/*")):
                if path.is_file() and len(path.name) == 64 and _HEX.issuperset(path.name):
                    yield path.name

    def check(self) -> None:
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(self.staging_dir, os.W_OK):
            raise OSError(f"document store {self.root} is not writable")


class VerifiedContent(io.RawIOBase):
    """A read-only stream over stored bytes that hashes them as they pass and withholds the
    last chunk until the digest (and the expected size, when known) has matched."""

    def __init__(self, raw: BinaryIO, sha256: str, size: int | None = None):
        super().__init__()
        self._raw = raw
        self.sha256 = sha256
        self.size = size
        self._chunks = self._verified_chunks()
        self._buffer = b""

    def _verified_chunks(self) -> Iterator[bytes]:
        digest = hashlib.sha256()
        seen = 0
        held = b""
        while chunk := self._raw.read(CHUNK_BYTES):
            digest.update(chunk)
            seen += len(chunk)
            if held:
                yield held
            held = chunk
        if digest.hexdigest() != self.sha256 or (self.size is not None and seen != self.size):
            raise DamagedDocument(f"stored content for {self.sha256} is damaged")
        if held:
            yield held

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        count = min(len(buffer), len(self._buffer))
        buffer[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def copy_hashing(stream: BinaryIO, out: BinaryIO, max_bytes: int) -> tuple[str, int | None]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            return "", None
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest(), size


# --- Choosing the backend ---------------------------------------------------------------------


def store_from_url(url: str | None, instance_path: str, s3_options: dict | None = None):
    """The store named by `url`: None/"" for the local store under the instance folder, a
    directory path (or ``file://`` URL) for a local store elsewhere, ``s3://bucket/prefix``."""
    if not url:
        return LocalStore(Path(instance_path) / STORE_DIR)
    if url.startswith("s3://"):
        from app.core.s3_store import S3Store

        return S3Store.from_url(url, Path(instance_path) / TMP_DIR, **(s3_options or {}))
    return LocalStore(Path(url.removeprefix("file://")))


def s3_options_of(app: Flask) -> dict:
    return {"endpoint_url": app.config.get("S3_ENDPOINT_URL") or None}


def current_store() -> DocumentStore:
    """The app's store (built once per process: boto3 clients must not cross a fork)."""
    app = current_app
    cached = app.extensions.get("document_store")
    if cached is None or cached[0] != os.getpid():
        store = store_from_url(
            app.config.get("DOCUMENT_STORE"), app.instance_path, s3_options_of(app)
        )
        cached = (os.getpid(), store)
        app.extensions["document_store"] = cached
    return cached[1]


# --- The calls the document operations make ---------------------------------------------------


def staged(stream: BinaryIO, max_bytes: int):
    return current_store().staged(stream, max_bytes)


def place(staged_file: StagedFile) -> None:
    current_store().place(staged_file)


def is_stored(sha256: str) -> bool:
    return current_store().is_stored(sha256)


def open_content(sha256: str, size: int | None = None) -> VerifiedContent:
    return current_store().open_content(sha256, size)


def path_for(sha256: str) -> Path:
    """Where the local store keeps a content (the local backend only)."""
    store = current_store()
    if not isinstance(store, LocalStore):
        raise TypeError("path_for applies to the local document store only")
    return store.path_for(sha256)


def iter_content(content: VerifiedContent, chunk_bytes: int = 64 * 1024) -> Iterable[bytes]:
    """The content's bytes in chunks; closed when they have been sent (or the client left)."""
    with content:
        while chunk := content.read(chunk_bytes):
            yield chunk
