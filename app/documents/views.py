"""Document pages: the list with every version, the upload form, downloads, publication.

Thin: form -> service -> commit once. A request the user is not a party to answers 404;
an action the user may not take on a request they can see answers 403 (both through the app's
error handler, `app.errors`).
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.documents import bp, labels, public_bp
from app.documents import operations as service
from app.documents.presenters import documents_panel, documents_reads
from app.domain import document_rules, permissions
from app.domain.errors import PermissionDenied, ValidationFailed
from app.errors import error_page, form_page
from app.extensions import db, login_manager
from app.forms.documents import UploadForm
from app.models.types import utcnow
from app.requests.presenters import register_page_panel
from app.sqlite_reads import writes_on_read
from app.workflow.labels import state_label

CACHE_CONTROL = "private, no-store"


@bp.before_request
def require_login():
    if current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


register_page_panel("documents_panel", documents_panel, reads=documents_reads)


@bp.app_template_global("doc_type_label")
def _doc_type_label(code: str) -> str:
    return labels.doc_type_label(code)


@bp.app_template_filter("filesize")
def _filesize(size: int | None) -> str:
    return labels.human_size(size) if size is not None else ""


@bp.app_template_filter("file_type")
def _file_type(content_type: str) -> str:
    return labels.file_type_label(content_type)


def party_request(request_id: int):
    return service.request_for_party(current_user, request_id)


# --- The list ---------------------------------------------------------------------------------


@bp.get("/<int:request_id>/documents")
def index(request_id: int):
    req = party_request(request_id)
    return render_template(
        "documents/index.html",
        req=req,
        documents=service.documents_of(req),
        missing_types=service.missing_mandatory_types(req),
        can_upload=document_rules.can_upload_document(current_user, req),
        can_publish=document_rules.can_mark_public(current_user, req),
    )


# --- Upload -----------------------------------------------------------------------------------


@bp.route("/<int:request_id>/documents/upload", methods=["GET", "POST"])
def upload(request_id: int):
    req = party_request(request_id)
    types = document_rules.uploadable_types(current_user, req)
    if not types and (request.method == "GET" or not _uploads_sometimes(req)):
        abort(403)
    form = UploadForm().set_types(types)
    if not types:  # the request moved on before this upload arrived
        return _moved_on(form, req)
    if request.method == "GET":
        _prefill(form, req)
        return _render_upload(form, req)
    if not form.validate():
        return _render_upload(form, req, 422)
    meta = service.DocumentMeta(
        doc_type=form.doc_type.data,
        title=form.title.data or "",
        confidential=form.confidential.data,
        public=form.public.data,
    )
    form_page(
        lambda status: _render_upload(form, req, status),
        show=lambda error: form.apply_service_errors(
            error.details.get("fields") or {}, limit=_limit()
        ),
    )
    try:
        version = service.upload_document(
            current_user, request_id, form.file.data, meta, utcnow(), ip=request.remote_addr
        )
        db.session.commit()
    except PermissionDenied:
        # Checked under the row lock: the request moved on since this form was opened (e.g.
        # it was submitted meanwhile). Say so on the form rather than a bare 403.
        db.session.rollback()
        db.session.refresh(req)
        if document_rules.uploadable_types(current_user, req):
            return error_page(403)
        return _moved_on(form, req)
    except OSError:  # not a refusal: the disk failed; the form says so and keeps the input
        db.session.rollback()
        current_app.logger.exception("storing an uploaded document failed")
        form.form_errors.append(
            _("The file could not be stored. Nothing was saved: please try again.")
        )
        return _render_upload(form, req, 500)
    flash(
        _(
            "Uploaded: %(title)s, version %(version)s.",
            title=version.document.title,
            version=version.version,
        ),
        "success",
    )
    return redirect(url_for("documents.index", request_id=request_id))


def _uploads_sometimes(req) -> bool:
    """The manufacturer and the assigned body upload in some states (the agency in all)."""
    return permissions.is_manufacturer_of(current_user, req) or permissions.is_assessor_of(
        current_user, req
    )


def _moved_on(form: UploadForm, req):
    """The upload form again (409) with what was typed, saying why nothing was saved."""
    form.form_errors.append(
        _(
            "The request moved on while you were uploading: it is now “%(state)s”, and you "
            "can no longer add documents to it. Nothing was saved.",
            state=state_label(req.state, current_user.role),
        )
    )
    return _render_upload(form, req, 409)


def _prefill(form: UploadForm, req) -> None:
    """ "Upload a new version" links carry the document: start from its type, title, flags."""
    document_id = request.args.get("document", type=int)
    if document_id is not None:
        document = service.document_of(req, document_id)
        form.doc_type.data = document.doc_type
        form.title.data = document.title
        form.confidential.data = document.confidential
        form.public.data = document.public
    elif request.args.get("doc_type") in document_rules.DOCUMENT_TYPES:
        form.doc_type.data = request.args["doc_type"]
        form.title.data = labels.doc_type_label(request.args["doc_type"])


def _limit() -> str:
    return labels.human_size(service.max_bytes())


def _render_upload(form: UploadForm, req, status: int = 200):
    return (
        render_template(
            "documents/upload.html",
            form=form,
            req=req,
            limit=_limit(),
            can_publish=document_rules.can_mark_public(current_user, req),
        ),
        status,
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A body over MAX_CONTENT_LENGTH is refused before it is read: on the upload page say so
    in the form (the other fields cannot be recovered from an unread body)."""
    db.session.rollback()
    message = labels.MESSAGES[labels.E_FILE_TOO_LARGE] % {"limit": _limit()}
    request_id = (request.view_args or {}).get("request_id")
    if request.endpoint != "documents.upload" or request_id is None:
        flash(str(message), "danger")
        target = request.referrer or url_for("requests.detail", request_id=request_id or 0)
        return redirect(target) if request_id else (str(message), 413)
    req = party_request(request_id)
    types = document_rules.uploadable_types(current_user, req)
    form = UploadForm(formdata=None).set_types(types)
    form.file.errors = [str(message)]
    form.form_errors.append(_("Nothing was saved. Please fill in the form again."))
    return _render_upload(form, req, 413)


# --- Download ---------------------------------------------------------------------------------


@bp.get("/<int:request_id>/documents/<int:document_id>/versions/<int:version>/download")
@writes_on_read  # the audit entry of a confidential download
def download(request_id: int, document_id: int, version: int):
    try:
        stored, content = service.version_for_download(
            current_user, request_id, document_id, version, utcnow(), ip=request.remote_addr
        )
    except FileNotFoundError:  # not a refusal: the stored file is gone (logged, then 500)
        current_app.logger.exception("a stored document is missing")
        abort(500)
    db.session.commit()  # the audit entry of a confidential download
    return _send(content, stored)


@public_bp.get("/<int:request_id>/<int:document_id>")
def public_download(request_id: int, document_id: int):
    """A document the agency published, of a request in the public register (no login)."""
    try:
        stored, content = service.public_version(request_id, document_id)
    except FileNotFoundError:  # not a refusal: the stored file is gone (logged, then 500)
        current_app.logger.exception("a stored document is missing")
        abort(500)
    return _send(content, stored)


def _send(content, stored):
    """The content streamed (verified as it goes), with its digest as the ETag."""
    response = send_file(
        content,
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.original_filename,
        etag=stored.sha256,
        max_age=0,
    )
    response.content_length = stored.size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


# --- Publication ------------------------------------------------------------------------------


@bp.post("/<int:request_id>/documents/<int:document_id>/publication")
def publication(request_id: int, document_id: int):
    req = party_request(request_id)
    public = request.form.get("public") == "1"
    try:
        document = service.set_publication(
            current_user, req.id, document_id, public, utcnow(), ip=request.remote_addr
        )
        db.session.commit()
    except ValidationFailed:  # a button, not a form: say why on the list, as a redirect
        db.session.rollback()
        flash(str(labels.MESSAGES[labels.E_PUBLIC_CONFIDENTIAL]), "danger")
        return redirect(url_for("documents.index", request_id=request_id))
    if document.public:
        flash(_("Published on the public register: %(title)s.", title=document.title), "success")
    else:
        flash(_("Withdrawn from the public register: %(title)s.", title=document.title), "success")
    return redirect(url_for("documents.index", request_id=request_id))
