"""The form to create a personal API token (validation only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.accounts.api_tokens import LIFETIME_CHOICES, MAX_NAME_LENGTH
from app.forms.base import AppForm

NO_EXPIRY = "never"

LIFETIME_LABELS = {
    30: _l("30 days"),
    90: _l("90 days"),
    365: _l("1 year"),
    None: _l("No expiry"),
}


def lifetime_value(days: int | None) -> str:
    return NO_EXPIRY if days is None else str(days)


class TokenForm(AppForm):
    name = StringField(
        _l("Name"),
        [
            DataRequired(message=_l("Give the token a name, e.g. the script that uses it.")),
            Length(max=MAX_NAME_LENGTH, message=_l("At most 100 characters.")),
        ],
        description=_l("What the token is for, e.g. “ERP export” or “nightly usage upload”."),
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME_LENGTH},
    )
    lifetime = SelectField(
        _l("Expires after"),
        choices=[
            SelectChoice(lifetime_value(days), LIFETIME_LABELS[days]) for days in LIFETIME_CHOICES
        ],
        default="90",
    )

    def lifetime_days(self) -> int | None:
        value = self.lifetime.data
        return None if value == NO_EXPIRY else int(value)
