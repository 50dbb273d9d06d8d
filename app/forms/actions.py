"""The form of a workflow action, built from its `TransitionSpec` (validation only).

Each data field of the transition becomes a WTForms field chosen by its kind:
text -> one-line input, textarea and lines -> textarea (lines are split on newlines),
choice -> select with translated labels, date -> date input, regional_body -> select of the
active regional bodies (the caller passes them in). A reason textarea is always there:
required when the transition requires one, an optional note otherwise. A hidden
`expected_version` carries the version the user saw, for the optimistic lock.

Forms are prefixed with their trigger so that several can live on one page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.forms.base import AppForm
from app.workflow.action_labels import (
    CHOICE_LABELS,
    FIELD_LABELS,
    LINES_HELP,
    OPTIONAL_REASON_LABEL,
    REASON_LABEL,
    field_error_message,
)
from app.workflow.spec import DataField, TransitionSpec

REASON_MAX_LENGTH = 5000
TEXT_MAX_LENGTH = 20000
REQUIRED_MESSAGE = _l("This field is required.")


def _presence(required: bool):
    return DataRequired(message=REQUIRED_MESSAGE) if required else Optional()


def _blank_choice() -> SelectChoice:
    return SelectChoice("", _l("Choose…"))


def _choices_for(data_field: DataField) -> list[SelectChoice]:
    """The options of a choice field, labelled lazily (they follow the user's language)."""
    labels = CHOICE_LABELS.get(data_field.name, {})
    return [_blank_choice()] + [
        SelectChoice(code, labels.get(code, code)) for code in data_field.choices
    ]


def _field_for(data_field: DataField):
    """The WTForms field of one DataField."""
    label = FIELD_LABELS.get(data_field.name, data_field.name)
    presence = _presence(data_field.required)
    if data_field.kind in ("textarea", "lines"):
        return TextAreaField(
            label,
            validators=[presence, Length(max=TEXT_MAX_LENGTH)],
            description=LINES_HELP if data_field.kind == "lines" else "",
            render_kw={"rows": 4},
        )
    if data_field.kind == "choice":
        # The choices are static: label them lazily so they follow the user's language.
        return SelectField(label, validators=[presence], choices=_choices_for(data_field))
    if data_field.kind == "date":
        return DateField(label, validators=[presence])
    if data_field.kind in ("regional_body", "irccs"):
        # Choices come from the database: set per instance by `build_action_form`.
        return SelectField(label, validators=[presence], choices=[])
    if data_field.kind == "barrier":
        # The barriers panel draws one form per barrier, naming it in a hidden field.
        return HiddenField(label, validators=[presence])
    if data_field.kind == "irccs_list":
        # The workflow checks the ids (active IRCCS); choices set by `build_action_form`.
        return SelectMultipleField(
            label, validators=[presence], choices=[], coerce=int, validate_choice=False
        )
    return StringField(label, validators=[presence, Length(max=500)])


class ActionForm(AppForm):
    """Base class; `action_form_class` adds the transition's fields and the reason."""

    expected_version = HiddenField()

    spec: TransitionSpec  # set on each generated subclass

    def version(self) -> str:
        """As sent: a blank or malformed version is refused by the kernel, never ignored."""
        return (self.expected_version.data or "").strip()

    def reason_text(self) -> str:
        return (self.reason.data or "").strip()

    def data_fields(self) -> list:
        """The bound fields of the transition's data, in declaration order."""
        return [self[data_field.name] for data_field in self.spec.fields]

    def transition_data(self) -> dict[str, Any]:
        """The data to give `fire(...)`, converted to what the workflow expects."""
        return {f.name: _value_of(f, self[f.name].data) for f in self.spec.fields}

    def apply_service_errors(self, errors: Mapping[str, Any]) -> None:
        """Show the service's field errors (codes or sentences) on the matching fields."""
        for name, error in errors.items():
            message = field_error_message(str(error))
            if name in self._fields and name != "expected_version":
                self[name].errors = [*self[name].errors, message]
            else:
                self.form_errors.append(message)


def _value_of(data_field: DataField, value: Any) -> Any:
    if data_field.kind == "lines":
        return [line.strip() for line in (value or "").splitlines() if line.strip()]
    if data_field.kind in ("regional_body", "irccs", "barrier"):
        return int(value) if value and str(value).isdigit() else None
    if data_field.kind == "irccs_list":
        return list(value or [])
    if data_field.kind in ("choice", "date"):
        return value or None
    return (value or "").strip()


@cache
def action_form_class(spec: TransitionSpec) -> type[ActionForm]:
    """The form class of one transition (built once per transition, then cached)."""
    attrs: dict[str, Any] = {"spec": spec}
    for data_field in spec.fields:
        attrs[data_field.name] = _field_for(data_field)
    attrs["reason"] = TextAreaField(
        REASON_LABEL if spec.reason_required else OPTIONAL_REASON_LABEL,
        validators=[_presence(spec.reason_required), Length(max=REASON_MAX_LENGTH)],
        render_kw={"rows": 3},
    )
    name = "".join(part.title() for part in spec.trigger.split("_")) + "ActionForm"
    return type(name, (ActionForm,), attrs)


def build_action_form(
    spec: TransitionSpec,
    *,
    version: int | None = None,
    regional_bodies: Iterable[tuple[int, str]] = (),
    irccs: Iterable[tuple[int, str]] = (),
    formdata: Any = None,
) -> ActionForm:
    """An action form: empty for display (formdata=None) or bound to the posted data.

    `regional_bodies` are (id, label) pairs for a regional_body field; `irccs` for an irccs or
    irccs_list field.
    """
    form = action_form_class(spec)(
        formdata=formdata,
        prefix=spec.trigger,
        expected_version="" if version is None else str(version),
    )
    body_choices = [_blank_choice()] + [SelectChoice(str(i), label) for i, label in regional_bodies]
    for data_field in spec.fields:
        if data_field.kind == "regional_body":
            form[data_field.name].choices = body_choices
        elif data_field.kind == "irccs":
            form[data_field.name].choices = [_blank_choice()] + [
                SelectChoice(str(i), label) for i, label in irccs
            ]
        elif data_field.kind == "irccs_list":
            form[data_field.name].choices = list(irccs)
    return form
