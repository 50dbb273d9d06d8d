"""Documents of a request: list them with their versions, upload one (multipart), download a
version. Only the parties to the request (its manufacturer, the agency, the assigned body)
see documents; everyone else gets 404. Through `app.documents.operations`, like the pages: the
same upload rules, file-type detection by content, size limit and audit entries.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, request, url_for

from app.api import schema_types as t
from app.api.problems import ApiError
from app.api.registry import actor, operation
from app.core.document_store import iter_content
from app.documents import labels
from app.documents import operations as service
from app.domain import document_rules
from app.domain.errors import ValidationFailed
from app.domain.file_types import ACCEPTED_TYPES
from app.forms.documents import error_message
from app.i18n import display_date
from app.models.types import utcnow

TRUE_WORDS = ("1", "true", "yes", "on", "y")

# --- Schemas --------------------------------------------------------------------------------

VERSION = t.component(
    "DocumentVersion",
    t.obj(
        {
            "version": t.INTEGER,
            "size": t.INTEGER,
            "sha256": t.STRING,
            "content_type": t.STRING,
            "original_filename": t.STRING,
            "uploaded_at": t.DATETIME,
            "uploaded_by": t.nullable(t.NAMED),
            "download_url": t.STRING,
        }
    ),
)
DOCUMENT = t.component(
    "Document",
    t.obj(
        {
            "id": t.ID,
            "doc_type": t.enum(document_rules.DOCUMENT_TYPES),
            "doc_type_label": t.STRING,
            "title": t.STRING,
            "confidential": t.BOOLEAN,
            "public": t.BOOLEAN,
            "created_at": t.DATETIME,
            "versions": t.array(VERSION, description="Oldest first."),
        }
    ),
)
t.component(
    "DocumentList",
    t.obj(
        {
            "items": t.array(DOCUMENT),
            "missing_mandatory_types": t.array(t.STRING),
            "uploadable_types": t.array(t.STRING),
        }
    ),
)
t.component(
    "UploadResult",
    t.obj({"document": DOCUMENT, "version": VERSION}),
)
t.component(
    "UploadInput",
    t.obj(
        {
            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
            "doc_type": t.enum(document_rules.DOCUMENT_TYPES),
            "title": {"type": "string", "maxLength": document_rules.MAX_TITLE_LENGTH},
            "confidential": t.enum(("true", "false")),
            "public": t.enum(("true", "false")),
        },
        required=("file", "doc_type", "title"),
        description="PDF, DOCX, XLSX, ODT, ODS, PNG or JPEG, recognised by content. The same "
        "type and title again adds a version.",
    ),
)

# --- Serialisation --------------------------------------------------------------------------


def version_json(document, version) -> dict:
    uploader = version.uploaded_by
    return {
        "version": version.version,
        "size": version.size,
        "sha256": version.sha256,
        "content_type": version.content_type,
        "original_filename": version.original_filename,
        "uploaded_at": version.uploaded_at,
        "uploaded_by": (
            {"id": uploader.id, "name": uploader.display_name} if uploader is not None else None
        ),
        "download_url": url_for(
            "api.download_document_version",
            request_id=document.request_id,
            document_id=document.id,
            version=version.version,
        ),
    }


def document_json(document) -> dict:
    return {
        "id": document.id,
        "doc_type": document.doc_type,
        "doc_type_label": labels.doc_type_label(document.doc_type),
        "title": document.title,
        "confidential": document.confidential,
        "public": document.public,
        "created_at": document.created_at,
        "versions": [version_json(document, v) for v in document.versions],
    }


def document_message(_field: str, code: str, details=None) -> str:
    """The pages' message for a documents or information code, with its values filled in."""
    deadline = (details or {}).get("deadline")
    return error_message(
        code,
        limit=labels.human_size(service.max_bytes()),
        deadline=display_date(deadline) if deadline else "",
    )


def _flag(name: str) -> bool:
    return (request.form.get(name) or "").strip().lower() in TRUE_WORDS


# --- Views ----------------------------------------------------------------------------------


@operation(
    "GET",
    "/requests/<int:request_id>/documents",
    tag="Documents",
    summary="The documents of a request, each with every version",
    response="DocumentList",
    errors=(403, 404),
)
def list_documents(request_id: int):
    user = actor()
    req = service.request_for_party(user, request_id)
    return {
        "items": [document_json(d) for d in service.documents_of(req)],
        "missing_mandatory_types": service.missing_mandatory_types(req),
        "uploadable_types": list(document_rules.uploadable_types(user, req)),
    }


@operation(
    "POST",
    "/requests/<int:request_id>/documents",
    tag="Documents",
    summary="Upload a document (or a new version of one)",
    response="UploadResult",
    status=201,
    body="multipart",
    body_schema="UploadInput",
    errors=(403, 404, 409, 413, 415, 422),
    messages=document_message,
)
def upload_document(request_id: int):
    """multipart/form-data with `file`, `doc_type`, `title` and optionally `confidential`
    and `public` ("true"/"false"; only the agency publishes)."""
    user = actor()
    meta = service.DocumentMeta(
        doc_type=request.form.get("doc_type", ""),
        title=request.form.get("title", ""),
        confidential=_flag("confidential"),
        public=_flag("public"),
    )
    try:
        version = service.upload_document(
            user, request_id, request.files.get("file"), meta, utcnow(), ip=request.remote_addr
        )
    except ValidationFailed as error:
        fields = (error.details or {}).get("fields") or {}
        if fields.get("file") == labels.E_FILE_TOO_LARGE:
            raise ApiError(
                413, "payload-too-large", document_message("file", labels.E_FILE_TOO_LARGE)
            ) from None
        raise
    document = version.document
    headers = {"Location": version_json(document, version)["download_url"]}
    return (
        {"document": document_json(document), "version": version_json(document, version)},
        201,
        headers,
    )


@operation(
    "GET",
    "/requests/<int:request_id>/documents/<int:document_id>",
    tag="Documents",
    summary="One document and its versions",
    response="Document",
    errors=(403, 404),
)
def get_document(request_id: int, document_id: int):
    req = service.request_for_party(actor(), request_id)
    return document_json(service.document_of(req, document_id))


@operation(
    "GET",
    "/requests/<int:request_id>/documents/<int:document_id>/versions/<int:version>/content",
    tag="Documents",
    summary="Download one version of a document",
    response={"type": "string"},
    produces=tuple(file_type.content_type for file_type in ACCEPTED_TYPES),
    errors=(403, 404),
)
def download_document_version(request_id: int, document_id: int, version: int):
    """The file as uploaded (its detected content type). Downloading a confidential document
    is recorded in the audit trail."""
    stored, content = service.version_for_download(
        actor(), request_id, document_id, version, utcnow(), ip=request.remote_addr
    )
    response = Response(iter_content(content), mimetype=stored.content_type)
    response.headers["Content-Length"] = str(stored.size)
    response.headers["Content-Disposition"] = content_disposition(stored.original_filename)
    response.headers["ETag"] = f'"{stored.sha256}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def content_disposition(filename: str) -> str:
    """An attachment header that survives any file name (RFC 6266 / 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
