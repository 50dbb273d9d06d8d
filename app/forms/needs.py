"""Forms of IRCCS needs: posting a need, endorsing it, linking a request (input shape only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.domain.needs import PATIENTS_MAX, TEXT_MAX
from app.forms.base import AppForm

REQUIRED = _l("This field is required.")


def _text(label, rows=3, required=True):
    validators = [DataRequired(message=REQUIRED)] if required else [Optional()]
    return TextAreaField(
        label, validators=[*validators, Length(max=TEXT_MAX)], render_kw={"rows": rows}
    )


class NeedForm(AppForm):
    title = StringField(
        _l("Short title"), validators=[DataRequired(message=REQUIRED), Length(max=200)]
    )
    condition = _text(_l("Condition (and severity)"))
    population = _text(_l("Population"))
    patients_per_year = IntegerField(
        _l("Patients per year"),
        validators=[
            InputRequired(message=_l("Enter a whole number of patients.")),
            NumberRange(
                min=1,
                max=PATIENTS_MAX,
                message=_l("Enter a number from 1 to %(max)s.", max=PATIENTS_MAX),
            ),
        ],
    )
    standard_of_care = _text(_l("Current standard of care"))
    gap = _text(_l("What is missing"), rows=4)

    def values(self) -> dict:
        return {
            name: self[name].data
            for name in (
                "title",
                "condition",
                "population",
                "patients_per_year",
                "standard_of_care",
                "gap",
            )
        }


class EndorseForm(AppForm):
    comment = _text(_l("Comment (optional)"), rows=2, required=False)


class LinkForm(AppForm):
    request_id = SelectField(
        _l("Your request"), coerce=int, validators=[DataRequired(message=_l("Choose a request."))]
    )
