"""Firing one workflow action from a posted form, and turning domain errors into responses.

The steps, for a request or an adoption record already loaded through its scoped loader
(so an invisible object is a 404 before anything else):
  unknown trigger -> 404; a role that never fires it -> 403;
  form invalid -> 409 if the object moved on meanwhile, else 422 with the form re-shown;
  fire(...) -> commit once, flash, redirect.
Errors from fire are answered by the app's handler (`app.errors`), after rolling back: this
module declares the page (`form_page`: ValidationFailed / GuardFailed -> 422 with the form
re-shown and what is wrong) and the conflict message (`explain_conflicts`: Conflict /
InvalidTransition, and a concurrent write caught at flush -> 409 saying what the object is
now); PermissionDenied -> 403; NotFound -> 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect
from flask import request as http_request
from flask_babel import gettext as _
from flask_login import current_user

from app.core import fire as workflow_service
from app.domain.errors import Conflict, GuardFailed, InvalidTransition
from app.errors import explain_conflicts, form_page
from app.extensions import db
from app.forms.actions import ActionForm, build_action_form
from app.models.types import utcnow
from app.requests.action_panel import (
    IRCCS_KINDS,
    FailedAction,
    active_irccs_choices,
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


def perform_action(target: ActionTarget, trigger: str, *, formdata=None):
    """`formdata`: the posted form as the action reads it (default: as posted)."""
    obj = target.obj
    actor = current_user._get_current_object()
    spec = spec_for(target.workflow, trigger, obj.state)
    if not any(s.may_be_fired_by(actor.role) for s in target.workflow.by_trigger(trigger)):
        abort(403)
    form = build_action_form(
        spec,
        version=obj.version,
        regional_bodies=regional_body_choices() if _has_body_field(spec) else (),
        irccs=active_irccs_choices() if _has_irccs_field(spec) else (),
        formdata=http_request.form if formdata is None else formdata,
    )
    explain_conflicts(lambda error: _moved_on_message(target, trigger, error))
    form_page(
        lambda _status: target.rerender(),
        show=lambda error: _remember_refusal(target, trigger, spec, form, error),
    )
    if not form.validate():
        _refuse_if_moved_on(target, trigger, form)
        return _show_failure(target, trigger, form)
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


def _has_irccs_field(spec: TransitionSpec) -> bool:
    return any(f.kind in IRCCS_KINDS for f in spec.fields)


def _refuse_if_moved_on(target: ActionTarget, trigger: str, form: ActionForm) -> None:
    """An invalid form on an object that changed meanwhile: say so (409) rather than 422."""
    version = form.version()
    if not version.isdigit() or int(version) != target.obj.version:
        raise Conflict("changed since the form was drawn (or the page sent no valid version)")
    specs = target.workflow.by_trigger(trigger)
    if not any(target.obj.state in s.sources for s in specs):
        raise InvalidTransition("the state changed since the form was drawn", trigger=trigger)


def _remember_refusal(
    target: ActionTarget, trigger: str, spec: TransitionSpec, form: ActionForm, error
) -> None:
    """Show fire's refusal on the action's form: invalid data on its fields, a failed guard
    as what is missing."""
    if isinstance(error, GuardFailed):
        _remember_guard_failure(target, trigger, form, error)
        return
    form.apply_service_errors((error.details or {}).get("fields") or {})
    if not form.errors:
        form.form_errors.append(_("The data of this action is not valid."))
    _remember(target, trigger, form)


def _show_failure(target: ActionTarget, trigger: str, form: ActionForm):
    _remember(target, trigger, form)
    return target.rerender()


def _remember(target: ActionTarget, trigger: str, form: ActionForm, message="", details=()):
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


def _remember_guard_failure(
    target: ActionTarget, trigger: str, form: ActionForm, error: GuardFailed
) -> None:
    """The guard's message on the field it is about (a data guard), else above the form with
    the missing items."""
    failure = (error.details or {}).get("failure")
    if failure is not None and failure.field and failure.field in form:
        form[failure.field].errors = [*form[failure.field].errors, failure.text]
        _remember(target, trigger, form)
        return
    message, items = guard_failure_text(failure) if failure is not None else (error.message, [])
    _remember(target, trigger, form, message, items)


def _current_state_label(target: ActionTarget) -> str:
    db.session.refresh(target.obj)
    return target.state_label(target.obj.state)


def _moved_on_message(target: ActionTarget, trigger: str, error) -> str:
    if isinstance(error, InvalidTransition):
        return _not_possible_message(target, trigger)
    return _conflict_message(target)


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
