"""Recognising an uploaded file by its content, and refusing dangerous file names.

Pure Python (stdlib only). A file is accepted for what its bytes are, never for its name's
extension or the content type the browser claims:

- PDF: starts with ``%PDF-``;
- PNG and JPEG: their signatures;
- DOCX and XLSX: a ZIP whose ``[Content_Types].xml`` declares the main part of a Word
  document or an Excel workbook (macro-enabled variants declare another type: refused);
- ODT and ODS: a ZIP whose ``mimetype`` entry names an OpenDocument text or spreadsheet.

Anything else (an executable renamed ``.pdf``, an HTML page, a plain ZIP) is not recognised.
Only small, bounded reads are made inside a ZIP, so a "zip bomb" cannot exhaust memory.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class FileType:
    code: str
    content_type: str
    extension: str


PDF = FileType("pdf", "application/pdf", ".pdf")
PNG = FileType("png", "image/png", ".png")
JPEG = FileType("jpeg", "image/jpeg", ".jpg")
DOCX = FileType(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".docx",
)
XLSX = FileType(
    "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsx",
)
ODT = FileType("odt", "application/vnd.oasis.opendocument.text", ".odt")
ODS = FileType("ods", "application/vnd.oasis.opendocument.spreadsheet", ".ods")

ACCEPTED_TYPES: tuple[FileType, ...] = (PDF, DOCX, XLSX, ODT, ODS, PNG, JPEG)

PDF_SIGNATURE = b"%PDF-"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
ZIP_SIGNATURE = b"PK\x03\x04"
HEAD_BYTES = 16

# The content type of the main part, as declared in an OOXML package's [Content_Types].xml.
OOXML_MAIN_PARTS: dict[bytes, FileType] = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
ODF_MIMETYPES: dict[bytes, FileType] = {
    ODT.content_type.encode(): ODT,
    ODS.content_type.encode(): ODS,
}

CONTENT_TYPES_ENTRY = "[Content_Types].xml"
ODF_MIMETYPE_ENTRY = "mimetype"
# Bounded reads inside a ZIP: real [Content_Types].xml files are a few kilobytes.
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_MIMETYPE_BYTES = 200

_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    RuntimeError,  # encrypted entries
    NotImplementedError,  # unsupported compression
    ValueError,
    KeyError,
    zlib.error,
)


def detect_file_type(stream: BinaryIO) -> FileType | None:
    """The accepted type of the file in `stream` (seekable, binary), or None.

    The stream is left positioned at its start."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    try:
        if head.startswith(PDF_SIGNATURE):
            return PDF
        if head.startswith(PNG_SIGNATURE):
            return PNG
        if head.startswith(JPEG_SIGNATURE):
            return JPEG
        if head.startswith(ZIP_SIGNATURE):
            return _office_type(stream)
        return None
    finally:
        stream.seek(0)


def _office_type(stream: BinaryIO) -> FileType | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if ODF_MIMETYPE_ENTRY in names:
                mimetype = _bounded_read(archive, ODF_MIMETYPE_ENTRY, MAX_MIMETYPE_BYTES)
                return ODF_MIMETYPES.get((mimetype or b"").strip())
            if CONTENT_TYPES_ENTRY in names:
                manifest = _bounded_read(archive, CONTENT_TYPES_ENTRY, MAX_MANIFEST_BYTES)
                return _ooxml_type(manifest or b"")
    except _ZIP_ERRORS:
        return None
    return None


def _bounded_read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    """The entry's bytes, or None when it is (or claims to be) larger than `limit`."""
    if archive.getinfo(name).file_size > limit:
        return None
    with archive.open(name) as entry:
        data = entry.read(limit + 1)
    return data if len(data) <= limit else None


def _ooxml_type(manifest: bytes) -> FileType | None:
    for main_part, file_type in OOXML_MAIN_PARTS.items():
        if b'"' + main_part + b'"' in manifest:
            return file_type
    return None


# --- File names ---------------------------------------------------------------------------

E_NAME_MISSING = "name_missing"
E_NAME_PATH = "name_path"
E_NAME_CONTROL = "name_control"
E_NAME_TOO_LONG = "name_too_long"

MAX_FILENAME_LENGTH = 255
PATH_SEPARATORS = ("/", "\\")


def filename_problem(name: str | None) -> str | None:
    """Why `name` is refused as the name of an uploaded file, or None when it is acceptable.

    Refused, not "cleaned": a name that tries to climb directories (``../../x.pdf``), is
    absolute (``/etc/x``, ``C:\\x``), holds a NUL or another control character, or is empty.
    """
    if name is None or not name.strip():
        return E_NAME_MISSING
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return E_NAME_CONTROL
    if any(separator in name for separator in PATH_SEPARATORS):
        return E_NAME_PATH
    if set(name.strip()) == {"."} or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        return E_NAME_PATH
    if len(name) > MAX_FILENAME_LENGTH:
        return E_NAME_TOO_LONG
    return None
