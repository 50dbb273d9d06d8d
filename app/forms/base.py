"""The base of every web form: `AppForm`.

Beyond each form's own rules it refuses text that no database column can hold (a NUL byte,
often pasted from another program, or an unpaired surrogate) on the field that holds it, with
a message in the user's language; the form is shown again with what was typed. Without it
PostgreSQL would refuse the row when it is written, after every check passed: a server error
that loses the input. The API refuses the same text (`app.api.bodies`).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField

from app.domain.text import is_storable_text

UNSTORABLE_TEXT = _l(
    "This text contains a character that cannot be stored (such as a NUL byte, sometimes "
    "pasted from another program): remove it, then save again."
)


class AppForm(FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return refuse_unstorable_text(self) and valid


def refuse_unstorable_text(fields) -> bool:
    """Put UNSTORABLE_TEXT on every field (rows included) whose input cannot be stored."""
    valid = True
    for field in fields:
        if isinstance(field, FieldList):
            valid &= refuse_unstorable_text(field.entries)
        elif isinstance(field, FormField):
            valid &= refuse_unstorable_text(field.form)
        elif any(isinstance(v, str) and not is_storable_text(v) for v in field.raw_data or ()):
            field.errors = [*field.errors, UNSTORABLE_TEXT]
            valid = False
    return valid
