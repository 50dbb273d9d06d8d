"""The bytes of uploaded documents, stored once per content under the instance folder:
``<instance>/documents/ab/cd/<sha256>`` (the first two pairs of hex digits fan the files out).

An upload is first copied to a temporary file next to the store while its SHA-256 and size
are computed (stopping as soon as it exceeds the limit), checked, and only then moved into
place with `os.replace` (atomic on one filesystem). A content already stored is not written
again. A refused upload leaves nothing behind; the temporary file is always removed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

CHUNK_BYTES = 1024 * 1024
STORE_DIR = "documents"
TMP_DIR = "tmp"


@dataclass(frozen=True)
class StagedFile:
    """An upload copied to a temporary file: where, its digest and size (None when it was
    larger than the limit: copying stopped there)."""

    path: Path
    sha256: str
    size: int | None


def store_root() -> Path:
    return Path(current_app.instance_path) / STORE_DIR


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return store_root() / sha256[:2] / sha256[2:4] / sha256


def is_stored(sha256: str) -> bool:
    return path_for(sha256).is_file()


@contextmanager
def staged(stream: BinaryIO, max_bytes: int) -> Iterator[StagedFile]:
    """Copy `stream` to a temporary file (removed on exit unless `place` moved it)."""
    tmp_dir = store_root() / TMP_DIR
    tmp_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            sha256, size = _copy_hashing(stream, out, max_bytes)
            out.flush()
            os.fsync(out.fileno())
        yield StagedFile(path=path, sha256=sha256, size=size)
    finally:
        path.unlink(missing_ok=True)


def _copy_hashing(stream: BinaryIO, out: BinaryIO, max_bytes: int) -> tuple[str, int | None]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            return "", None
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest(), size


def place(staged_file: StagedFile) -> Path:
    """Move the staged file to its place in the store (or drop it: already stored)."""
    target = path_for(staged_file.sha256)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged_file.path, target)
    return target
