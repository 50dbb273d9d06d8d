"""Documents of a request: upload (with versions), download, publication, the mandatory set.

    upload_document(actor, request_id, upload, meta, now, ip=None) -> DocumentVersion
    version_for_download(actor, request_id, document_id, version, now, ip=None)
        -> (DocumentVersion, VerifiedContent)   (a confidential one writes a "document_downloaded"
        entry; the content verifies its digest as it is read)
    set_publication(actor, request_id, document_id, public, now, ip=None) -> Document
    documents_of(request) -> [Document]            (versions and uploaders eager-loaded)
    missing_mandatory_types(request) -> [doc_type]
    public_documents_for(request) -> [dict]        (for the public register)
    BytesUpload(data, filename)                    an in-memory upload (seeding, imports)

Every refusal happens before anything is written: no row, no file. The file is put in place
in the document store (`app.core.document_store`: local or S3) before its row is added, so a
failed write never leaves a row pointing at nothing. Services flush; the view commits.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

from flask import current_app, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core import document_store as store
from app.core.audit import record_audit
from app.documents import labels
from app.documents.pdf_check import is_well_formed_pdf
from app.domain import document_rules as rules
from app.domain.errors import NotFound, PermissionDenied, ValidationFailed
from app.domain.file_types import PDF, detect_file_type, filename_problem
from app.extensions import db
from app.models import DeviceRequest, Document, DocumentVersion
from app.requests.queries import get_request_for
from app.routing import INT32_MAX

ENTITY_TYPE = "document"


class UploadLike(Protocol):
    """What a view hands over: werkzeug's FileStorage fits."""

    filename: str | None
    stream: BinaryIO


class BytesUpload:
    """An upload made of bytes in memory (seeding, imports): what `upload_document` takes."""

    def __init__(self, data: bytes, filename: str):
        self.stream = io.BytesIO(data)
        self.filename = filename


@dataclass(frozen=True)
class DocumentMeta:
    doc_type: str
    title: str
    confidential: bool = False
    public: bool = False


# --- Loading with permission ------------------------------------------------------------------


def request_for_party(actor, request_id: int, *, for_update: bool = False) -> DeviceRequest:
    """The request if `actor` is a party to it; NotFound otherwise (never revealing which)."""
    request = get_request_for(actor, request_id, for_update=for_update)
    if not rules.is_party(actor, request):
        raise NotFound("request not found", denied=("request", request.id))
    return request


def document_of(request: DeviceRequest, document_id: int) -> Document:
    if not 0 < document_id <= INT32_MAX:  # e.g. ?document=... typed in the address bar
        raise NotFound("document not found")
    document = db.session.get(Document, document_id)
    if document is None or document.request_id != request.id:
        raise NotFound("document not found")
    return document


# --- Upload -----------------------------------------------------------------------------------


def max_bytes() -> int:
    return int(current_app.config["DOCUMENT_MAX_BYTES"])


def upload_document(
    actor,
    request_id: int,
    upload: UploadLike | None,
    meta: DocumentMeta,
    now: datetime,
    *,
    ip: str | None = None,
) -> DocumentVersion:
    """Store `upload` as a new version of the request's document of that type and title.

    NotFound for a non-party; PermissionDenied when the actor may upload nothing now;
    ValidationFailed(fields={"file"|"title"|"doc_type"|"public": code}) for bad input.
    """
    # The row lock serialises uploads to one request (version numbers never collide).
    request = request_for_party(actor, request_id, for_update=True)
    if not rules.can_upload_document(actor, request):
        raise PermissionDenied("you may not upload documents to this request now")
    title = rules.normalise_title(meta.title)
    errors = _meta_errors(actor, request, meta, title)
    name_error = filename_problem(upload.filename if upload else None) if upload else None
    if upload is None:
        errors["file"] = labels.E_FILE_MISSING
    elif name_error:
        errors["file"] = name_error
    if errors:
        raise ValidationFailed("the upload is not valid", fields=errors)
    with store.staged(upload.stream, max_bytes()) as staged:
        content_type = _check_content(staged)
        store.place(staged)
    document = _document_for(request, meta.doc_type, title)
    version = _add_version(document, staged, content_type, upload.filename, actor, now)
    _apply_flags(document, actor, meta)
    db.session.flush()
    _audit_upload(actor, document, version, now, ip)
    return version


def _meta_errors(actor, request, meta: DocumentMeta, title: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not rules.can_upload_document(actor, request, meta.doc_type):
        errors["doc_type"] = labels.E_DOC_TYPE
    if not title:
        errors["title"] = labels.E_TITLE_MISSING
    elif len(title) > rules.MAX_TITLE_LENGTH:
        errors["title"] = labels.E_TITLE_TOO_LONG
    if meta.public and not rules.can_mark_public(actor, request):
        errors["public"] = labels.E_PUBLIC_NOT_ALLOWED
    elif meta.public and meta.confidential:
        errors["public"] = labels.E_PUBLIC_CONFIDENTIAL
    return errors


def _check_content(staged: store.StagedFile) -> str:
    """The detected content type, or ValidationFailed (empty, too large, not accepted)."""
    if staged.size is None:
        raise ValidationFailed("file too large", fields={"file": labels.E_FILE_TOO_LARGE})
    if staged.size == 0:
        raise ValidationFailed("empty file", fields={"file": labels.E_FILE_EMPTY})
    with staged.path.open("rb") as stream:
        file_type = detect_file_type(stream)
        broken_pdf = file_type is PDF and not is_well_formed_pdf(stream)
    if file_type is None:
        raise ValidationFailed("file type not accepted", fields={"file": labels.E_FILE_TYPE})
    if broken_pdf:  # `%PDF-` in front of something else (an HTML page, a damaged file)
        raise ValidationFailed("not a valid PDF", fields={"file": labels.E_PDF_BROKEN})
    return file_type.content_type


def _document_for(request: DeviceRequest, doc_type: str, title: str) -> Document:
    """The document of this type and title (titles compare case-insensitively), or a new one."""
    document = db.session.scalars(
        select(Document).where(
            Document.request_id == request.id,
            Document.doc_type == doc_type,
            func.lower(Document.title) == func.lower(title),
        )
    ).one_or_none()
    if document is None:
        document = Document(request_id=request.id, doc_type=doc_type, title=title)
        db.session.add(document)
        db.session.flush()
    return document


def _add_version(document, staged, content_type, filename, actor, now) -> DocumentVersion:
    latest = db.session.scalar(
        select(func.max(DocumentVersion.version)).where(DocumentVersion.document_id == document.id)
    )
    version = DocumentVersion(
        document=document,
        version=(latest or 0) + 1,
        sha256=staged.sha256,
        size=staged.size,
        content_type=content_type,
        original_filename=filename,
        uploaded_by_id=actor.id,
        uploaded_at=now,
    )
    db.session.add(version)
    return version


def _apply_flags(document: Document, actor, meta: DocumentMeta) -> None:
    """The upload's flags become the document's. Only the agency publishes: a new version
    uploaded by anyone else is unpublished until the agency looks at it again."""
    document.confidential = meta.confidential
    document.public = bool(meta.public) if actor.role == "agency" else False


def _audit(actor, document: Document, action: str, data: dict, now, ip) -> None:
    record_audit(
        actor,
        entity_type=ENTITY_TYPE,
        entity_id=document.id,
        request_id=document.request_id,
        action=action,
        now=now,
        data=data,
        ip=ip,
    )


def _audit_upload(actor, document, version, now, ip) -> None:
    _audit(
        actor,
        document,
        "document_uploaded",
        {
            "doc_type": document.doc_type,
            "title": document.title,
            "version": version.version,
            "original_filename": version.original_filename,
            "content_type": version.content_type,
            "size": version.size,
            "sha256": version.sha256,
            "confidential": document.confidential,
            "public": document.public,
        },
        now,
        ip,
    )


# --- Download ---------------------------------------------------------------------------------


def version_for_download(
    actor,
    request_id: int,
    document_id: int,
    version_number: int,
    now: datetime,
    *,
    ip: str | None = None,
) -> tuple[DocumentVersion, store.VerifiedContent]:
    """The version and its bytes (verified as they are read); NotFound for a non-party or no
    such version; MissingDocument (a FileNotFoundError) when the store lacks them.

    Downloading a confidential document writes an audit entry (the caller commits it
    before sending the file)."""
    request = request_for_party(actor, request_id)
    if not rules.can_download_document(actor, request):
        raise NotFound("document not found")
    document = document_of(request, document_id)
    version = _version_of(document, version_number)
    content = store.open_content(version.sha256, version.size)
    if document.confidential:
        data = {"title": document.title, "version": version.version}
        _audit(actor, document, "document_downloaded", data, now, ip)
    return version, content


def _version_of(document: Document, number: int) -> DocumentVersion:
    version = db.session.scalars(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.version == number
        )
    ).one_or_none()
    if version is None:
        raise NotFound("version not found")
    return version


# --- Publication ------------------------------------------------------------------------------


def set_publication(
    actor, request_id: int, document_id: int, public: bool, now: datetime, *, ip=None
) -> Document:
    """The agency publishes a document on the public register (never a confidential one),
    or withdraws it from there."""
    request = request_for_party(actor, request_id, for_update=True)
    if not rules.can_mark_public(actor, request):
        raise PermissionDenied("only the agency publishes documents")
    document = document_of(request, document_id)
    if public and document.confidential:
        raise ValidationFailed(
            "confidential document", fields={"public": labels.E_PUBLIC_CONFIDENTIAL}
        )
    if document.public == public:
        return document
    document.public = public
    db.session.flush()
    action = "document_published" if public else "document_unpublished"
    _audit(
        actor, document, action, {"title": document.title, "doc_type": document.doc_type}, now, ip
    )
    return document


# --- Queries for the pages --------------------------------------------------------------------


def documents_of(request: DeviceRequest) -> list[Document]:
    """The request's documents by type order then title, with every version (two queries)."""
    documents = db.session.scalars(
        select(Document)
        .where(Document.request_id == request.id)
        .options(selectinload(Document.versions).selectinload(DocumentVersion.uploaded_by))
    ).all()
    order = {code: index for index, code in enumerate(rules.DOCUMENT_TYPES)}
    return sorted(documents, key=lambda d: (order.get(d.doc_type, 99), d.title.lower()))


def mandatory_types() -> tuple[str, ...]:
    configured = current_app.config.get("MANDATORY_DOCUMENT_TYPES")
    types = rules.DEFAULT_MANDATORY_TYPES if configured is None else tuple(configured)
    unknown = [t for t in types if t not in rules.DOCUMENT_TYPES]
    if unknown:
        raise RuntimeError(f"MANDATORY_DOCUMENT_TYPES holds unknown types: {unknown}")
    return types


def present_types(request_id: int) -> set[str]:
    """Document types of the request that have at least one version."""
    return set(
        db.session.scalars(
            select(Document.doc_type)
            .join(DocumentVersion, DocumentVersion.document_id == Document.id)
            .where(Document.request_id == request_id)
            .distinct()
        )
    )


def missing_mandatory_types(request: DeviceRequest) -> list[str]:
    return rules.missing_document_types(present_types(request.id), mandatory_types())


def public_documents_for(request: DeviceRequest) -> list[dict]:
    """What the public register may list of the request's documents: those marked public and
    not confidential, latest version only, as allow-listed dicts (title, kind, version,
    published_at, url). The caller has checked the request is in the register."""
    documents = db.session.scalars(
        select(Document)
        .where(
            Document.request_id == request.id,
            Document.public.is_(True),
            Document.confidential.is_(False),
        )
        .options(selectinload(Document.versions))
        .order_by(Document.id)
    ).all()
    return [
        {
            "title": document.title,
            "kind": labels.doc_type_label(document.doc_type),
            "version": document.latest.version,
            "published_at": document.latest.uploaded_at,
            "url": url_for(
                "documents_public.public_download", request_id=request.id, document_id=document.id
            ),
        }
        for document in documents
        if document.latest is not None
    ]


def public_version(
    request_id: int, document_id: int
) -> tuple[DocumentVersion, store.VerifiedContent]:
    """The latest version of a public, non-confidential document of a request in the public
    register; NotFound otherwise."""
    from app.public.register import in_register_clause

    document = db.session.scalars(
        select(Document)
        .join(DeviceRequest, DeviceRequest.id == Document.request_id)
        .where(
            Document.id == document_id,
            Document.request_id == request_id,
            Document.public.is_(True),
            Document.confidential.is_(False),
            in_register_clause(),
        )
    ).one_or_none()
    if document is None or document.latest is None:
        raise NotFound("document not found")
    latest = document.latest
    return latest, store.open_content(latest.sha256, latest.size)
