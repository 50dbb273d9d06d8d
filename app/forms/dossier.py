"""The request dossier form: device, clinical question (PICO), economics, administration.

Validation only: each field's rule comes from `app.domain.dossier_rules` (which returns error
codes) and is shown with the translated message of `MESSAGES`. Every field is optional here,
because a draft may be saved incomplete; what a submission needs is the separate checklist
(`dossier_rules.missing_for_submission`). Typed input is kept on error: the money and count
fields re-show exactly what was typed.

Comparators and evidence are repeatable rows (FieldList of FormField). Rows can be added and
removed client-side (static/dossier.js clones a <template> row) or, without JavaScript, with
the `row_action` submit buttons ("add-<list>", "remove-<list>-<index>"), see `apply_row_action`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import labels
from app.domain import dossier_rules as rules
from app.domain.dossier_fields import CONFIDENTIAL_CAPABLE_FIELDS, Kind, fields_of_kind
from app.domain.vocab import IVDR_CLASSES, MDR_CLASSES, Regulation
from app.forms.base import AppForm

MESSAGES = {
    rules.E_UDI_DI_FORMAT: _l(
        "Enter the UDI-DI as the issuing agency assigned it: a GS1 GTIN (8, 12, 13 or 14 "
        "digits), or an HIBCC, ICCBBA or IFA code."
    ),
    rules.E_UDI_DI_LENGTH: _l("A GS1 UDI-DI (GTIN) has 8, 12, 13 or 14 digits."),
    rules.E_UDI_DI_CHECK: _l(
        "The check digit does not match: please check the digits of the UDI-DI (GTIN)."
    ),
    rules.E_BASIC_UDI_DI_FORMAT: _l(
        "Enter the Basic UDI-DI as assigned: for GS1, the company prefix, the model reference "
        "and two check characters, at most 25 characters."
    ),
    rules.E_BASIC_UDI_DI_CHECK: _l(
        "The two check characters at the end do not match the rest of the Basic UDI-DI: "
        "please look for a typing error."
    ),
    rules.E_REGULATION: _l("Choose a regulation from the list."),
    rules.E_RISK_CLASS: _l("Choose a risk class from the list."),
    rules.E_RISK_CLASS_REGULATION: _l(
        "This class does not exist under the chosen regulation: the MDR uses classes I, IIa, "
        "IIb and III, the IVDR classes A, B, C and D."
    ),
    rules.E_EMDN: _l(
        "An EMDN code is the category letter followed by pairs of digits, e.g. P0703 or Z12010101."
    ),
    rules.E_REPERTORIO: _l("The repertorio number has digits only (up to 10)."),
    rules.E_NOTIFIED_BODY: _l("The notified body number has exactly 4 digits, e.g. 0123."),
    rules.E_MONEY_FORMAT: _l("Enter an amount in euro, e.g. 1234.50 or 1.234,50."),
    rules.E_MONEY_NEGATIVE: _l("The amount cannot be negative."),
    rules.E_MONEY_DECIMALS: _l("Use at most two decimals (cents)."),
    rules.E_MONEY_TOO_LARGE: _l("This amount is too large."),
    rules.E_COUNT_FORMAT: _l("Enter a whole number, e.g. 4000."),
    rules.E_COUNT_NEGATIVE: _l("Enter zero or more."),
    rules.E_COUNT_TOO_LARGE: _l("This number is too large."),
    rules.E_CERT_ISSUED_FUTURE: _l("The issue date cannot be in the future."),
    rules.E_CERT_EXPIRY_BEFORE_ISSUE: _l("The expiry date must come after the issue date."),
    rules.E_CHOICE: _l("Choose a value from the list."),
    rules.E_REQUIRED: _l("Please fill this in."),
    rules.E_TOO_LONG: _l("This text is too long."),
}

# Labels live with the field schema (`app.domain.dossier_fields`).
SECTION_LABELS = labels.DOSSIER_SECTION_LABELS
FIELD_LABELS = labels.DOSSIER_FIELD_LABELS

# The fields of each kind, as the schema declares them.
MONEY_FIELDS = fields_of_kind(Kind.MONEY)
COUNT_FIELDS = fields_of_kind(Kind.COUNT)
TEXT_FIELDS = fields_of_kind(Kind.LINE, Kind.TEXT)
FLAG_FIELDS = fields_of_kind(Kind.FLAG)
DATE_FIELDS = fields_of_kind(Kind.DATE)
CHOICE_FIELDS = fields_of_kind(Kind.CHOICE)
NULLABLE_CHOICES = ("regulation", "risk_class")
IDENTIFIER_FIELDS = fields_of_kind(Kind.IDENTIFIER)
YES, NO = "yes", "no"


# --- Fields ----------------------------------------------------------------------------------
class _KeepTypedInput:
    """Show back exactly what was typed (on error too), else the stored value formatted."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.format_data(self.data)

    def format_data(self, value) -> str:
        return str(value)


class MoneyField(_KeepTypedInput, StringField):
    """An amount in EUR: "1234.50" and "1.234,50" both work; at most two decimals.

    Optional unless `validators` start with one that requires a value (e.g. InputRequired)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        validators = list(validators or [])
        if not validators or "required" not in getattr(validators[0], "field_flags", {}):
            validators.insert(0, Optional())
        super().__init__(label, [*validators, rule(rules.check_money)], **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = rules.parse_money(valuelist[0])
            except rules.InvalidValueError as error:
                self.data = None
                raise ValueError(MESSAGES[error.code]) from None

    def format_data(self, value: Decimal) -> str:
        return format_decimal(value, format="#,##0.00")


class CountField(_KeepTypedInput, StringField):
    """A whole number of zero or more (patients, units); "4.000" is read as 4000."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(
            label, [Optional(), *(validators or []), rule(rules.check_count)], **kwargs
        )

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = rules.parse_count(valuelist[0])
            except rules.InvalidValueError as error:
                self.data = None
                raise ValueError(MESSAGES[error.code]) from None


class DayField(DateField):
    """A date from the browser's date picker (ISO) or typed as dd/mm/yyyy."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(
            label, [Optional(), *(validators or [])], format=["%Y-%m-%d", "%d/%m/%Y"], **kwargs
        )

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date such as 31/12/2025.")) from None


class ChoiceField(SelectField):
    """A drop-down whose blank choice (or no value sent at all) means "not answered yet"."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_choice_message", MESSAGES[rules.E_CHOICE])
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        self.data = valuelist[0] if valuelist else ""

    def pre_validate(self, form):
        if self.data:
            super().pre_validate(form)


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def rule(check):
    """A WTForms validator from a domain check returning an error code (blank is fine)."""

    def validator(form, field):
        if field.data in (None, "") or field.errors:
            return
        if code := check(field.data):
            raise ValidationError(MESSAGES[code])

    return validator


def _choices(label_map: dict, blank: bool = True) -> list[SelectChoice]:
    options = [SelectChoice("", _l("Choose…"))] if blank else []
    return options + [SelectChoice(code, label) for code, label in label_map.items()]


def _risk_class_choices() -> list[SelectChoice]:
    groups = ((Regulation.MDR, MDR_CLASSES), (Regulation.IVDR, IVDR_CLASSES))
    return [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(
            code,
            _l("Class %(name)s", name=code),
            optgroup=labels.REGULATION_LABELS[regulation],
            render_kw={"data-regulation": regulation},
        )
        for regulation, classes in groups
        for code in classes
    ]


def _text(name: str, max_length: int | None = None, **kwargs):
    """A one-line text field when `max_length` is given, a text area otherwise."""
    field_class = StringField if max_length else TextAreaField
    limit = Length(max=max_length or 20_000, message=MESSAGES[rules.E_TOO_LONG])
    return field_class(FIELD_LABELS[name], [Optional(), limit], **kwargs)


# --- Rows ----------------------------------------------------------------------------------------
class ComparatorRow(Form):
    description = TextAreaField(
        _l("Comparator"),
        [Optional(), Length(max=2000, message=MESSAGES[rules.E_TOO_LONG])],
        render_kw={"rows": 2},
    )

    def is_blank(self) -> bool:
        return not (self.description.data or "").strip()


class EvidenceRow(Form):
    design = ChoiceField(_l("Study design"), choices=_choices(labels.EVIDENCE_DESIGN_LABELS))
    patients = CountField(_l("Patients"))
    follow_up_months = CountField(_l("Follow-up (months)"))
    published_on = DayField(_l("Published on"))
    reference = TextAreaField(
        _l("Reference"),
        [Optional(), Length(max=2000, message=MESSAGES[rules.E_TOO_LONG])],
        description=_l("Authors, year, journal, or a DOI or link."),
        render_kw={"rows": 2},
    )

    def is_blank(self) -> bool:
        return all(_is_blank(field) for field in self)


def _is_blank(field) -> bool:
    value = field.raw_data[0] if field.raw_data else field.data
    return value is None or (isinstance(value, str) and not value.strip())


ROW_LISTS = {"comparators": ComparatorRow, "evidence": EvidenceRow}
# Rows read from a posted form: well above the limits (rules.ROW_LIMITS), so that a form with
# too many rows is shown again whole with a message, never saved cut short; bounded, so that a
# crafted post cannot make the server build any number of rows.
ROWS_READ = 1000
TOO_MANY_ROWS = {
    "comparators": _l("At most %(count)d comparators: remove some rows, then save again."),
    "evidence": _l("At most %(count)d evidence rows: remove some rows, then save again."),
}
ROW_LIMIT_REACHED = {
    "comparators": _l("You can list at most %(count)d comparators."),
    "evidence": _l("You can list at most %(count)d evidence rows."),
}


# --- The form ---------------------------------------------------------------------------------
class DossierForm(AppForm):
    """The whole dossier; `today` (Europe/Rome) bounds the certificate's issue date."""

    # The request's version when the page was opened: a stale save is refused, not merged.
    version = HiddenField()

    # Device
    trade_name = _text("trade_name", 200)
    model = _text("model", 200)
    intended_purpose = _text("intended_purpose", render_kw={"rows": 3})
    regulation = ChoiceField(FIELD_LABELS["regulation"], choices=_choices(labels.REGULATION_LABELS))
    risk_class = ChoiceField(FIELD_LABELS["risk_class"], choices=_risk_class_choices())
    basic_udi_di = StringField(
        FIELD_LABELS["basic_udi_di"],
        [Optional(), rule(rules.check_basic_udi_di)],
        description=_l("The model's identifier in EUDAMED, e.g. a GS1 GMN."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    udi_di = StringField(
        FIELD_LABELS["udi_di"],
        [Optional(), rule(rules.check_udi_di)],
        description=_l("The identifier on the label, e.g. a GS1 GTIN of 14 digits."),
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"},
    )
    emdn_code = StringField(
        FIELD_LABELS["emdn_code"],
        [Optional(), rule(rules.check_emdn_code)],
        filters=[lambda value: rules.normalise_emdn(value) if value else value],
        description=_l("E.g. P0703 or Z12010101."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    repertorio_number = StringField(
        FIELD_LABELS["repertorio_number"],
        [Optional(), rule(rules.check_repertorio_number)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    notified_body_number = StringField(
        FIELD_LABELS["notified_body_number"],
        [Optional(), rule(rules.check_notified_body_number)],
        description=_l("Not needed for self-certified class I (MDR) and class A (IVDR) devices."),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 4},
    )
    ce_certificate_number = _text("ce_certificate_number", 60)
    ce_certificate_issued_on = DayField(FIELD_LABELS["ce_certificate_issued_on"])
    ce_certificate_expires_on = DayField(FIELD_LABELS["ce_certificate_expires_on"])
    is_software = BooleanField(FIELD_LABELS["is_software"])
    uses_ai = BooleanField(FIELD_LABELS["uses_ai"])
    is_implantable = BooleanField(FIELD_LABELS["is_implantable"])

    # Clinical question (PICO)
    condition = _text("condition", render_kw={"rows": 2})
    severity = ChoiceField(FIELD_LABELS["severity"], choices=_choices(labels.SEVERITY_LABELS))
    population = _text("population", render_kw={"rows": 2})
    eligible_patients_per_year = CountField(FIELD_LABELS["eligible_patients_per_year"])
    intervention = _text("intervention", render_kw={"rows": 2})
    care_setting = ChoiceField(
        FIELD_LABELS["care_setting"], choices=_choices(labels.CARE_SETTING_LABELS)
    )
    comparators = FieldList(FormField(ComparatorRow), min_entries=1, max_entries=ROWS_READ)
    outcomes = _text("outcomes", render_kw={"rows": 3})
    claimed_benefits = _text("claimed_benefits", render_kw={"rows": 3})
    unmet_need = _text("unmet_need", render_kw={"rows": 3})
    evidence = FieldList(FormField(EvidenceRow), min_entries=1, max_entries=ROWS_READ)

    # Economics (EUR)
    list_price = MoneyField(FIELD_LABELS["list_price"])
    acquisition_cost = MoneyField(FIELD_LABELS["acquisition_cost"])
    running_costs_per_year = MoneyField(FIELD_LABELS["running_costs_per_year"])
    budget_impact_3y = MoneyField(
        FIELD_LABELS["budget_impact_3y"],
        description=_l("Total cost to the Italian health service over the first three years."),
    )
    expected_volume_per_year = CountField(FIELD_LABELS["expected_volume_per_year"])

    # Administration
    consent_to_publication = RadioField(
        FIELD_LABELS["consent_to_publication"],
        choices=[SelectChoice(YES, _l("Yes")), SelectChoice(NO, _l("No"))],
        validate_choice=False,
        description=_l(
            "May the agency publish the non-confidential parts of this dossier in the public "
            "register?"
        ),
    )
    confidential_fields = CheckboxListField(
        FIELD_LABELS["confidential_fields"],
        choices=[SelectChoice(name, FIELD_LABELS[name]) for name in CONFIDENTIAL_CAPABLE_FIELDS],
        description=_l(
            "Marked fields are shown only to the agency and the assigned regional body, never "
            "published."
        ),
    )
    coi_declaration = _text(
        "coi_declaration",
        description=_l('Describe any conflicts of interest, or write "None".'),
        render_kw={"rows": 3},
    )
    coi_declared = BooleanField(
        _l("I declare that the conflicts of interest above are complete and true.")
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    @classmethod
    def for_request(cls, request, *, today: date) -> DossierForm:
        """The form pre-filled from a stored request (for GET)."""
        return cls(formdata=None, data=initial_data(request), today=today)

    # --- validation
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        valid &= self._validate_consent()
        valid &= self._validate_risk_class()
        valid &= self._validate_certificate_dates()
        valid &= self._validate_evidence_rows()
        valid &= self._validate_row_counts()
        return valid

    def _validate_row_counts(self) -> bool:
        valid = True
        for name, limit in rules.ROW_LIMITS.items():
            filled = [entry for entry in self[name] if not entry.form.is_blank()]
            if len(filled) > limit:
                self.form_errors.append(str(TOO_MANY_ROWS[name]) % {"count": limit})
                valid = False
        return valid

    def _fail(self, field, code: str) -> bool:
        if not field.errors:
            field.errors = [*field.errors, MESSAGES[code]]
        return False

    def _validate_consent(self) -> bool:
        if self.consent_to_publication.data in (None, "", YES, NO):
            return True
        return self._fail(self.consent_to_publication, rules.E_CHOICE)

    def _validate_risk_class(self) -> bool:
        code = rules.check_risk_class(self.regulation.data or None, self.risk_class.data or None)
        return code is None or self._fail(self.risk_class, code)

    def _validate_certificate_dates(self) -> bool:
        issued, expires = self.ce_certificate_issued_on, self.ce_certificate_expires_on
        if issued.errors or expires.errors:
            return True  # already reported (not a date)
        errors = rules.check_certificate_dates(issued.data, expires.data, self.today)
        for name, code in errors.items():
            self._fail(self[name], code)
        return not errors

    def _validate_evidence_rows(self) -> bool:
        valid = True
        for entry in self.evidence:
            row = entry.form
            if row.is_blank():
                continue
            if not row.design.data:
                valid = self._fail(row.design, rules.E_REQUIRED)
            if not (row.reference.data or "").strip():
                valid = self._fail(row.reference, rules.E_REQUIRED)
        return valid

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(field id, label, first message) of every field in error, in page order."""
        summary = []
        for field in self:
            if isinstance(field, FieldList):
                for entry in field:
                    summary += [
                        (sub.id, f"{field_label_of(field)}: {sub.label.text}", sub.errors[0])
                        for sub in entry.form
                        if sub.errors
                    ]
            elif field.errors and isinstance(field.errors, list | tuple):
                summary.append((field.id, field_label_of(field), field.errors[0]))
        return summary

    # --- repeatable rows without JavaScript
    def apply_row_action(self, action: str | None) -> bool:
        """Handle an "add-<list>" or "remove-<list>-<index>" button; True if one was pressed."""
        if not action:
            return False
        verb, _, rest = action.partition("-")
        list_name, _, index = rest.partition("-")
        if list_name not in ROW_LISTS:
            return False
        field_list = self[list_name]
        if verb == "add":
            limit = rules.ROW_LIMITS[list_name]
            if len(field_list.entries) >= limit:
                self.form_errors.append(str(ROW_LIMIT_REACHED[list_name]) % {"count": limit})
            else:
                field_list.append_entry()
            return True
        if verb == "remove":
            field_list.entries = [e for e in field_list.entries if e.name != f"{list_name}-{index}"]
            return True
        return False

    def row_template(self, list_name: str) -> Form:
        """An empty row named "<list>-__index__-<field>", for the client-side <template>."""
        return ROW_LISTS[list_name](formdata=None, prefix=f"{list_name}-__index__-")

    # --- output
    def dossier_data(self) -> dict[str, Any]:
        """The validated values as model attributes (rows: lists of dicts, blanks dropped)."""
        data: dict[str, Any] = {name: (self[name].data or "").strip() for name in TEXT_FIELDS}
        data |= {name: bool(self[name].data) for name in FLAG_FIELDS}
        data |= {name: self[name].data for name in (*MONEY_FIELDS, *COUNT_FIELDS, *DATE_FIELDS)}
        data |= {name: rules.compact_identifier(self[name].data) for name in IDENTIFIER_FIELDS}
        data["emdn_code"] = rules.normalise_emdn(self.emdn_code.data)
        data |= {name: self[name].data or "" for name in CHOICE_FIELDS}
        data |= {name: data[name] or None for name in NULLABLE_CHOICES}
        data["consent_to_publication"] = {YES: True, NO: False}.get(
            self.consent_to_publication.data
        )
        data["confidential_fields"] = sorted(set(self.confidential_fields.data or ()))
        data["comparators"] = [
            {"description": e.form.description.data.strip()}
            for e in self.comparators
            if not e.form.is_blank()
        ]
        data["evidence"] = [_evidence_row(e.form) for e in self.evidence if not e.form.is_blank()]
        return data


def field_label_of(field) -> str:
    return str(FIELD_LABELS.get(field.short_name, field.label.text))


def _evidence_row(row: EvidenceRow) -> dict[str, Any]:
    return {
        "design": row.design.data,
        "patients": row.patients.data,
        "follow_up_months": row.follow_up_months.data,
        "published_on": row.published_on.data,
        "reference": (row.reference.data or "").strip(),
    }


def initial_data(request) -> dict[str, Any]:
    """The form's data for a stored request (model attributes -> field data)."""
    names = (
        *TEXT_FIELDS,
        *FLAG_FIELDS,
        *MONEY_FIELDS,
        *COUNT_FIELDS,
        *DATE_FIELDS,
        *IDENTIFIER_FIELDS,
        *CHOICE_FIELDS,
    )
    data: dict[str, Any] = {name: getattr(request, name) for name in names}
    data |= {name: data[name] or "" for name in CHOICE_FIELDS}
    data["version"] = request.version
    data["consent_to_publication"] = {True: YES, False: NO}.get(request.consent_to_publication)
    data["confidential_fields"] = list(request.confidential_fields or [])
    data["comparators"] = [{"description": c.description} for c in request.comparators]
    data["evidence"] = [
        {
            "design": e.design,
            "patients": e.patients,
            "follow_up_months": e.follow_up_months,
            "published_on": e.published_on,
            "reference": e.reference,
        }
        for e in request.evidence
    ]
    return data
