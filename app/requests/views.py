"""Request dossier views: list, create, edit, view. Thin: form -> service -> commit once.

Every URL needs a login. A request the user may not see answers 404 everywhere (never
revealing that it exists); one they can see but not change answers 403.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.core.audit import entries_for_request
from app.domain import permissions
from app.domain.dossier_rules import SUBMISSION_FIELDS
from app.domain.errors import Conflict, PermissionDenied, ValidationFailed
from app.errors import form_page
from app.extensions import db, login_manager
from app.forms.dossier import FIELD_LABELS, MESSAGES, SECTION_LABELS, DossierForm
from app.i18n import display_datetime
from app.models import DeviceRequest
from app.models.types import utcnow
from app.requests import bp
from app.requests.completeness import completeness_for, section_label
from app.requests.list_rows import (
    kept_list_query,
    list_query,
    paginate_rows,
    reader_of,
    state_labels,
)
from app.requests.operations import create_draft, local_today, update_dossier
from app.requests.presenters import (
    dossier_context,
    dossier_html,
    history_context,
    page_loading,
    page_panels,
    page_reads,
    translated_table,
    workflow_panel_context,
)
from app.requests.queries import get_request_for
from app.workflow.action_labels import action_label
from app.workflow.labels import state_label
from app.workflow.states import REQUEST_STATES

DOSSIER_TEMPLATE_GLOBALS = {
    "field_labels": FIELD_LABELS,
    "section_labels": SECTION_LABELS,
    "completeness_section_label": section_label,
}


@bp.before_request
def require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.get("/")
def index():
    text = request.args.get("q", "").strip()
    state = request.args.get("state", "")
    page = request.args.get("page", 1, type=int)
    state = state if state in REQUEST_STATES else ""
    reader = reader_of(current_user)
    # Rows formatted before rendering, statements kept per reader (app/requests/list_rows.py).
    query = list_query(reader, state, text) if text else kept_list_query(reader, state)
    role = reader.role
    pagination = paginate_rows(query, page, current_app.config["PAGE_SIZE"], role, kept=not text)
    return render_template(
        "requests/index.html",
        pagination=pagination,
        requests=pagination.items,
        q=text,
        state=state,
        state_options=state_labels(role).items(),  # (in REQUEST_STATES' order)
        can_create=permissions.can_create_request(current_user),
        show_manufacturer=role != "manufacturer",
        role=role,
        locale=str(get_locale()),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    if not permissions.can_create_request(current_user):
        abort(403)
    now = utcnow()
    form = DossierForm(today=local_today(now))
    if request.method == "GET" or form.apply_row_action(request.form.get("row_action")):
        return _render_form(form, None)
    if not form.validate():
        return _render_form(form, None, status=422)
    domain_errors: dict = {}
    form_page(
        lambda status: _render_form(form, None, status=status, domain_errors=domain_errors),
        show=lambda error: domain_errors.update(error.details.get("fields") or {}),
        refusals=(ValidationFailed,),
    )
    draft = create_draft(current_user, form.dossier_data(), now)
    db.session.commit()
    flash(_("Draft saved. You can complete it later."), "success")
    return redirect(url_for("requests.detail", request_id=draft.id))


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
def edit(request_id: int):
    device_request = _load(request_id)
    now = utcnow()
    if request.method == "GET":
        if not permissions.can_edit_dossier(current_user, device_request):
            abort(403)
        return _render_form(
            DossierForm.for_request(device_request, today=local_today(now)), device_request
        )
    if not permissions.is_manufacturer_of(current_user, device_request):
        abort(403)
    form = DossierForm(today=local_today(now))
    if not permissions.can_edit_dossier(current_user, device_request):
        # Posted from a page opened before a colleague submitted: the form again, saying so.
        _show_refusal(form, device_request, None, {})
        return _render_form(form, device_request, status=409)
    if form.apply_row_action(request.form.get("row_action")):
        return _render_form(form, device_request)
    if not form.validate():
        return _render_form(form, device_request, status=422)
    domain_errors: dict = {}
    form_page(
        # Refused because the request moved on under the lock (PermissionDenied): a conflict.
        lambda status: _render_form(
            form,
            device_request,
            status=409 if status == 403 else status,
            domain_errors=domain_errors,
        ),
        show=lambda error: _show_refusal(form, device_request, error, domain_errors),
        refusals=(ValidationFailed, Conflict, PermissionDenied),
    )
    changes = update_dossier(
        current_user,
        device_request,
        form.dossier_data(),
        now,
        # A page always sends the version it was opened at: blank or garbage is refused.
        expected_version=form.version.data or "",
        ip=request.remote_addr,
    )
    db.session.commit()
    flash(_("Dossier saved.") if changes else _("No changes to save."), "success")
    return redirect(url_for("requests.detail", request_id=device_request.id))


@bp.get("/<int:request_id>")
def detail(request_id: int):
    device_request = get_request_for(current_user, request_id, options=page_loading())
    is_owner = permissions.is_manufacturer_of(current_user, device_request)
    context = {
        "req": device_request,
        "device_request": device_request,
        "can_edit": permissions.can_edit_dossier(current_user, device_request),
        "completeness": (
            completeness_for(
                device_request,
                links=permissions.can_edit_dossier(current_user, device_request),
            )
            if is_owner and device_request.state in permissions.EDITABLE_STATES
            else None
        ),
        **DOSSIER_TEMPLATE_GLOBALS,
        # The dossier's ~40 labels translated once per locale, not once per view.
        "field_labels": translated_table(FIELD_LABELS),
        "section_labels": translated_table(SECTION_LABELS),
    }
    # The page's small lists of the request, in one statement.
    reads = page_reads(current_user, device_request)
    # The agency moderates the public consultation: comments waiting are said here too.
    context["pending_comments"] = reads.pending_comments
    context |= dossier_context(current_user, device_request)
    context |= workflow_panel_context(current_user, device_request, reads)
    context |= page_panels(current_user, device_request, reads)
    context["dossier_html"] = dossier_html(device_request, context)
    return render_template("requests/detail.html", **context)


@bp.get("/<int:request_id>/history")
def history(request_id: int):
    """Every stage visit and the whole audit trail (the request page shows the recent part)."""
    device_request = _load(request_id)
    page = request.args.get("page", 1, type=int)
    context = history_context(current_user, device_request, page)
    return render_template("requests/history.html", req=device_request, **context)


def _show_refusal(form: DossierForm, device_request, error, domain_errors: dict) -> None:
    """Invalid values: listed above the form. Otherwise nothing was saved and the form, which
    keeps the user's input, says why: the request moved on (who did what, when), someone else
    saved meanwhile, or the page sent no valid version. It then carries the current version,
    so saving again is the user's choice. (Called after the rollback: the request reloads.)"""
    if isinstance(error, ValidationFailed):
        domain_errors.update(error.details.get("fields") or {})
        return
    if not permissions.can_edit_dossier(current_user, device_request):
        form.form_errors.append(_moved_on_message(device_request))
    elif isinstance(error, Conflict) and "version" in error.details:
        form.form_errors.append(
            _(
                "This page did not say which version of the dossier you started from (it may "
                "be damaged or out of date). Nothing was saved: your changes are still in the "
                "form below. Open the request in a new tab to compare, then save again."
            )
        )
    else:
        form.form_errors.append(
            _(
                "Someone else saved this dossier while you were editing it. Your changes are "
                "still in the form below: open the request in a new tab to compare, then save "
                "again."
            )
        )
    form.version.data = str(device_request.version)
    form.version.raw_data = None


def _moved_on_message(device_request) -> str:
    entries = entries_for_request(device_request.id)
    last = entries[-1] if entries else None
    state = state_label(device_request.state, current_user.role)
    if last is None:
        return _(
            "The request is now “%(state)s”: its dossier can no longer be edited. Nothing was "
            "saved; what you typed is still below, so you can copy it.",
            state=state,
        )
    return _(
        "%(who)s did “%(action)s” on %(when)s: the request is now “%(state)s” and its "
        "dossier can no longer be edited. Nothing was saved; what you typed is still below, "
        "so you can copy it.",
        who=last.actor_name or _("The system"),
        action=action_label(last.action),
        when=display_datetime(last.occurred_at),
        state=state,
    )


def _load(request_id: int) -> DeviceRequest:
    return get_request_for(current_user, request_id)


def _render_form(form: DossierForm, device_request, status: int = 200, domain_errors=None):
    for name, code in (domain_errors or {}).items():
        # Only reached when the form let through what the domain refuses: show it anyway.
        form.form_errors.append(f"{FIELD_LABELS.get(name.split('-')[0], name)}: {MESSAGES[code]}")
    completeness = (
        completeness_for(device_request, links=True, in_form=True)
        if device_request is not None
        else None
    )
    return (
        render_template(
            "requests/form.html",
            form=form,
            req=device_request,
            completeness=completeness,
            in_form=True,
            submission_fields=SUBMISSION_FIELDS,
            **DOSSIER_TEMPLATE_GLOBALS,
        ),
        status,
    )
