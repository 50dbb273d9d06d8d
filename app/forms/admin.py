"""Administration forms: users, organisations and the per-state deadlines.

Validation only. Rules that need the database (a taken email, a role that does not fit the
chosen organisation) belong to `app.accounts.operations`, which reports them per field.
"""

from __future__ import annotations

from functools import cache

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app import labels
from app.accounts.passwords import MIN_PASSWORD_LENGTH
from app.core.deadline_settings import MAX_DEADLINE_DAYS
from app.domain import identifiers
from app.domain.errors import ValidationFailed
from app.domain.vocab import REGION_NAMES, REGIONS, OrgKind
from app.forms.auth import password_length_rule
from app.forms.base import AppForm
from app.workflow.labels import DEADLINE_LABELS

VAT_MESSAGES = {
    "country": _l("Enter an Italian VAT number (11 digits, optionally preceded by IT)."),
    "format": _l("An Italian VAT number has 11 digits, for example IT00743110157."),
    "invalid": _l("This is not a valid Italian VAT number: check the digits."),
}
SRN_MESSAGES = {
    "format": _l("Enter the SRN as country-actor type-9 digits, for example IT-MF-000012345."),
    "actor_type": _l(
        "The actor type must be one of %(types)s.", types=", ".join(identifiers.SRN_ACTOR_TYPES)
    ),
}


def optional_int(value) -> int | None:
    """Coerce a select's value: the empty choice means None."""
    if value in (None, "", "None"):
        return None
    return int(value)


def _choices(label_map: dict, blank_label=None) -> list[SelectChoice]:
    options = [SelectChoice("", blank_label)] if blank_label is not None else []
    return options + [SelectChoice(code, label) for code, label in label_map.items()]


class UserForm(AppForm):
    """Create or edit a user; `NewUserForm` makes the initial password required."""

    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Enter the email address.")),
            Email(message=_l("This is not a valid email address.")),
            Length(max=254),
        ],
        description=_l("Used to log in; letter case does not matter."),
    )
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(message=_l("Enter the person's name.")), Length(max=200)],
    )
    role = SelectField(_l("Role"), choices=_choices(labels.ROLE_LABELS))
    organisation_id = SelectField(
        _l("Organisation"),
        coerce=optional_int,
        choices=[],
        description=_l(
            "Manufacturers, agency staff, assessors and IRCCS users belong to an organisation "
            "of the matching kind; administrators to none."
        ),
    )
    language = SelectField(_l("Language"), choices=_choices(labels.LANGUAGE_LABELS))
    password = PasswordField(
        _l("New password"),
        validators=[Optional(), password_length_rule()],
        description=_l(
            "Leave empty to keep the current password. At least %(count)d characters; "
            "setting one ends the user's open sessions.",
            count=MIN_PASSWORD_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("Password again"),
        validators=[EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )

    def set_organisation_choices(self, organisations) -> None:
        self.organisation_id.choices = [SelectChoice("", _l("None (administrators)"))] + [
            SelectChoice(str(org.id), f"{org.name} ({labels.ORG_KIND_LABELS[org.kind]})")
            for org in organisations
        ]


class NewUserForm(UserForm):
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(message=_l("Set an initial password.")), password_length_rule()],
        description=_l(
            "At least %(count)d characters. Give it to the person through a safe channel; "
            "they can change it after logging in.",
            count=MIN_PASSWORD_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )


class OrganisationForm(AppForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Enter the organisation's name.")), Length(max=200)],
    )
    kind = SelectField(_l("Kind"), choices=_choices(labels.ORG_KIND_LABELS))
    region = SelectField(
        _l("Region"),
        choices=_choices(
            {code: REGION_NAMES[code] for code in REGIONS},
            blank_label=lazy_pgettext("region", "None"),
        ),
        description=_l("Required for regional HTA bodies and IRCCS."),
    )
    vat_number = StringField(
        _l("VAT number"),
        validators=[Length(max=20)],
        description=_l("Italian partita IVA, with or without IT. Required for manufacturers."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    eudamed_srn = StringField(
        _l("EUDAMED SRN"),
        validators=[Length(max=20)],
        description=_l("Single Registration Number, for example IT-MF-000012345 (optional)."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )

    def validate_region(self, field) -> None:
        if self.kind.data in (OrgKind.REGIONAL_BODY, OrgKind.IRCCS) and not field.data:
            raise ValidationError(_l("Regional HTA bodies and IRCCS must have a region."))

    def validate_vat_number(self, field) -> None:
        value = (field.data or "").strip()
        if not value:
            if self.kind.data == OrgKind.MANUFACTURER:
                raise ValidationError(_l("A manufacturer must have a VAT number."))
            return
        try:
            identifiers.validate_vat_number(value)
        except ValidationFailed as error:
            raise ValidationError(VAT_MESSAGES[error.details["reason"]]) from None

    def validate_eudamed_srn(self, field) -> None:
        value = (field.data or "").strip()
        if not value:
            return
        try:
            identifiers.validate_eudamed_srn(value)
        except ValidationFailed as error:
            raise ValidationError(SRN_MESSAGES[error.details["reason"]]) from None


def days_field_name(state: str) -> str:
    return f"days_{state}"


def working_field_name(state: str) -> str:
    return f"working_{state}"


def minimum_field_name(state: str) -> str:
    return f"minimum_{state}"


@cache
def deadlines_form_class(
    states: tuple[str, ...], minimum_states: tuple[str, ...] = ()
) -> type[AppForm]:
    """A form with, per state, the number of days (empty: no deadline) and whether they
    are working days; and, for `minimum_states`, the least calendar days the stage lasts
    (the public consultation)."""
    attributes = {}
    for state in states:
        attributes[days_field_name(state)] = IntegerField(
            DEADLINE_LABELS.get(state, state),
            validators=[
                Optional(),
                NumberRange(
                    min=1,
                    max=MAX_DEADLINE_DAYS,
                    message=_l(
                        "Enter a whole number of days from 1 to %(max)d, or leave it empty "
                        "for no deadline.",
                        max=MAX_DEADLINE_DAYS,
                    ),
                ),
            ],
        )
        attributes[working_field_name(state)] = BooleanField(_l("Working days"))
    for state in minimum_states:
        attributes[minimum_field_name(state)] = IntegerField(
            _l("Minimum before leaving"),
            validators=[
                Optional(),
                NumberRange(
                    min=0,
                    max=MAX_DEADLINE_DAYS,
                    message=_l(
                        "Enter a whole number of days from 0 to %(max)d, or leave it empty "
                        "for no minimum.",
                        max=MAX_DEADLINE_DAYS,
                    ),
                ),
            ],
        )
    return type("DeadlinesForm", (AppForm,), attributes)


def reminder_field_name(state: str) -> str:
    return f"remind_{state}"


def _valid_days_before(form, field) -> None:
    from wtforms.validators import ValidationError

    from app.domain.reminders import MAX_DAYS_BEFORE, parse_days_before

    try:
        parse_days_before(field.data or "")
    except ValueError:
        raise ValidationError(
            _l(
                "Enter whole numbers of working days from 1 to %(max)d, separated by commas "
                "(e.g. 7, 2), or leave it empty for no reminder before the due date.",
                max=MAX_DAYS_BEFORE,
            )
        ) from None


def reminders_form_class(states: tuple[str, ...]) -> type[AppForm]:
    """A form with, per state, the working days before its due date on which the holder of
    the stage is reminded ("7, 2")."""
    attributes = {
        reminder_field_name(state): StringField(
            DEADLINE_LABELS.get(state, state), validators=[_valid_days_before]
        )
        for state in states
    }
    return type("RemindersForm", (AppForm,), attributes)
