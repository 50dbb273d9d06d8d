"""The email preferences form: one choice per kind of notification (input shape only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from app.forms.base import AppForm
from app.notifications.messages import KINDS
from app.notifications.preferences import DIGEST, IMMEDIATE, OFF, configurable_kinds

MODE_LABELS = {
    IMMEDIATE: _l("Email at once"),
    DIGEST: _l("Daily digest"),
    OFF: _l("No email (inbox only)"),
}


def preferences_form(modes: dict[str, str]) -> AppForm:
    """A form with one select per configurable kind, named after the kind."""

    class PreferencesForm(AppForm):
        pass

    for kind in configurable_kinds():
        setattr(
            PreferencesForm,
            kind,
            SelectField(
                KINDS[kind].label,
                choices=[SelectChoice(mode, label) for mode, label in MODE_LABELS.items()],
                default=modes.get(kind, IMMEDIATE),
            ),
        )
    return PreferencesForm()
