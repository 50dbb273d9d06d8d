"""Shared by the document and information tests: tiny but valid files of every accepted kind
(and some that must be refused), and a helper that uploads the mandatory documents."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

from flask import current_app
from reportlab.pdfgen import canvas

from app.documents.operations import BytesUpload, DocumentMeta, mandatory_types, upload_document

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def pdf_bytes(text: str = "Instructions") -> bytes:
    """A real one-page PDF showing `text` (reportlab; the same text gives the same bytes)."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def png_bytes() -> bytes:
    """A real 1x1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def zip_bytes(entries: list[tuple[str, bytes]], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            compress = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compress)
    return buffer.getvalue()


def _content_types(main_part: str, part_name: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="{part_name}" ContentType="{main_part}"/>'
        "</Types>"
    ).encode()


def docx_bytes(main_part: str = DOCX_MAIN) -> bytes:
    return zip_bytes(
        [
            ("[Content_Types].xml", _content_types(main_part, "/word/document.xml")),
            ("word/document.xml", b"<w:document/>"),
        ]
    )


def xlsx_bytes() -> bytes:
    return zip_bytes(
        [
            ("[Content_Types].xml", _content_types(XLSX_MAIN, "/xl/workbook.xml")),
            ("xl/workbook.xml", b"<workbook/>"),
        ]
    )


def odf_bytes(mimetype: str) -> bytes:
    return zip_bytes(
        [("mimetype", mimetype.encode()), ("content.xml", b"<office:document-content/>")],
        stored_first=True,
    )


def odt_bytes() -> bytes:
    return odf_bytes("application/vnd.oasis.opendocument.text")


def ods_bytes() -> bytes:
    return odf_bytes("application/vnd.oasis.opendocument.spreadsheet")


def elf_bytes() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


def exe_bytes() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def html_bytes() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


# name, bytes, the content type stored
ACCEPTED_FILES = {
    "pdf": ("ifu.pdf", pdf_bytes, "application/pdf"),
    "docx": (
        "summary.docx",
        docx_bytes,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (
        "prices.xlsx",
        xlsx_bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "odt": ("study.odt", odt_bytes, "application/vnd.oasis.opendocument.text"),
    "ods": ("volumes.ods", ods_bytes, "application/vnd.oasis.opendocument.spreadsheet"),
    "png": ("label.png", png_bytes, "image/png"),
    "jpeg": ("photo.jpg", jpeg_bytes, "image/jpeg"),
}


def upload(
    actor,
    request,
    doc_type: str,
    data: bytes | None = None,
    *,
    title=None,
    now=None,
    filename="file.pdf",
    confidential=False,
    public=False,
):
    """Upload through the service (test set-up; the pages are tested through HTTP)."""
    from app.models.types import utcnow

    return upload_document(
        actor,
        request.id,
        BytesUpload(data if data is not None else pdf_bytes(doc_type), filename),
        DocumentMeta(
            doc_type=doc_type,
            title=title or doc_type.replace("_", " ").capitalize(),
            confidential=confidential,
            public=public,
        ),
        now or utcnow(),
    )


def attach_mandatory_documents(manufacturer, request, now: datetime | None = None) -> None:
    """Upload one file of each mandatory type, so the request can be submitted."""
    for doc_type in mandatory_types():
        upload(manufacturer, request, doc_type, now=now, filename=f"{doc_type}.pdf")


def stored_files() -> list[Path]:
    """Every file in the document store (temporary files included)."""
    root = Path(current_app.instance_path) / "documents"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
