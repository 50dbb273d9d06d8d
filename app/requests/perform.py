"""Firing one workflow action from a posted form, and turning domain errors into responses.

The steps, for a request or an adoption record already loaded through its scoped loader
(so an invisible object is a 404 before anything else):
  unknown trigger -> 404; a role that never fires it -> 403;
  form invalid -> 409 if the object moved on meanwhile, else 422 with the form re-shown;
  fire(...) -> commit once, flash, redirect.
Errors from fire: ValidationFailed / GuardFailed -> 422 with the form re-shown and what is
wrong; Conflict / InvalidTransition (and a concurrent write caught at flush) -> 409 with a
clear message; PermissionDenied -> 403; NotFound -> 404. The session is rolled back on any
error, so nothing half-done is ever committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect
from flask import request as http_request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.core import fire as workflow_service
from app.domain.errors import (
    Conflict,
    GuardFailed,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.errors import abort_for
from app.extensions import db
from app.forms.actions import ActionForm, build_action_form
from app.models.types import utcnow
from app.requests.action_panel import (
    FailedAction,
    guard_failure_text,
    regional_body_choices,
    remember_failed_action,
)
from app.workflow.action_labels import action_label
from app.workflow.spec import TransitionSpec, WorkflowSpec


@dataclass
class ActionTarget:
    """What is being acted on, and how to show it again."""

    kind: str  # "request" or "adoption"
    obj: object
    workflow: WorkflowSpec
    state_label: Callable[[str], str]
    success_url: str
    # Renders the object's page again (status 422) after remember_failed_action(...).
    rerender: Callable[[], object]


def spec_for(workflow: WorkflowSpec, trigger: str, state: str) -> TransitionSpec:
    """The transition the form is built from: the one leaving `state`, else the first."""
    specs = workflow.by_trigger(trigger)
    if not specs:
        abort(404)
    return next((s for s in specs if state in s.sources), specs[0])


def perform_action(target: ActionTarget, trigger: str):
    obj = target.obj
    actor = current_user._get_current_object()
    spec = spec_for(target.workflow, trigger, obj.state)
    if not any(s.may_be_fired_by(actor.role) for s in target.workflow.by_trigger(trigger)):
        abort(403)
    form = build_action_form(
        spec,
        version=obj.version,
        regional_bodies=regional_body_choices() if _has_body_field(spec) else (),
        formdata=http_request.form,
    )
    if not form.validate():
        _refuse_if_moved_on(target, trigger, form)
        return _show_failure(target, trigger, form)
    try:
        workflow_service.fire(
            obj,
            trigger,
            actor,
            utcnow(),
            reason=form.reason_text(),
            expected_version=form.version(),
            ip=http_request.remote_addr,
            **form.transition_data(),
        )
        db.session.commit()
    except ValidationFailed as error:
        db.session.rollback()
        form.apply_service_errors((error.details or {}).get("fields") or {})
        if not form.errors:
            form.form_errors.append(_("The data of this action is not valid."))
        return _show_failure(target, trigger, form)
    except GuardFailed as error:
        db.session.rollback()
        return _show_guard_failure(target, trigger, form, error)
    except (Conflict, StaleDataError):
        db.session.rollback()
        abort(409, description=_conflict_message(target))
    except InvalidTransition:
        db.session.rollback()
        abort(409, description=_not_possible_message(target, trigger))
    except (PermissionDenied, NotFound) as error:
        abort_for(error)
    except Exception:
        db.session.rollback()
        raise
    flash(
        _(
            "Done: %(action)s. Current state: %(state)s.",
            action=action_label(trigger),
            state=target.state_label(obj.state),
        ),
        "success",
    )
    return redirect(target.success_url)


def _has_body_field(spec: TransitionSpec) -> bool:
    return any(f.kind == "regional_body" for f in spec.fields)


def _refuse_if_moved_on(target: ActionTarget, trigger: str, form: ActionForm) -> None:
    """An invalid form on an object that changed meanwhile: say so (409) rather than 422."""
    version = form.version()
    if version is not None and version != target.obj.version:
        db.session.rollback()
        abort(409, description=_conflict_message(target))
    specs = target.workflow.by_trigger(trigger)
    if not any(target.obj.state in s.sources for s in specs):
        db.session.rollback()
        abort(409, description=_not_possible_message(target, trigger))


def _show_failure(target: ActionTarget, trigger: str, form: ActionForm, message="", details=()):
    db.session.rollback()
    remember_failed_action(
        FailedAction(
            kind=target.kind,
            object_id=target.obj.id,
            trigger=trigger,
            form=form,
            message=message or _("Please correct the errors below."),
            details=list(details),
        )
    )
    return target.rerender()


def _show_guard_failure(target: ActionTarget, trigger: str, form: ActionForm, error: GuardFailed):
    """The guard's message on the field it is about (a data guard), else above the form with
    the missing items."""
    failure = (error.details or {}).get("failure")
    if failure is not None and failure.field and failure.field in form:
        form[failure.field].errors = [*form[failure.field].errors, failure.text]
        return _show_failure(target, trigger, form)
    message, items = guard_failure_text(failure) if failure is not None else (error.message, [])
    return _show_failure(target, trigger, form, message=message, details=items)


def _current_state_label(target: ActionTarget) -> str:
    db.session.refresh(target.obj)
    return target.state_label(target.obj.state)


def _conflict_message(target: ActionTarget) -> str:
    return _(
        "Someone else changed this item while you were working on it: it is now “%(state)s”. "
        "Nothing was saved. Reload the page to see what changed, then try again.",
        state=_current_state_label(target),
    )


def _not_possible_message(target: ActionTarget, trigger: str) -> str:
    return _(
        "“%(action)s” is not possible while the item is “%(state)s”. Nothing was saved. "
        "Someone may have moved it on: reload the page to see what you can do now.",
        action=action_label(trigger),
        state=_current_state_label(target),
    )
