"""A dossier sent as JSON, validated by the web form itself (`app.forms.dossier.DossierForm`).

The JSON object is turned into the form data a browser would post (a MultiDict), so every rule,
message and normalisation is the form's: an API client reads exactly the errors a user would.
For an update the stored dossier is the starting point and the JSON overrides it (PATCH), so
rules across fields (risk class and regulation, certificate dates) see the whole dossier; only
the fields the client sent are passed on to the service.

Field names in errors are the form's: list rows are "comparators-0-description",
"evidence-1-design" and so on (the same keys the domain rules use).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.api.problems import ApiError
from app.domain import dossier_rules as rules
from app.forms import dossier as form_module
from app.forms.dossier import MESSAGES, DossierForm, initial_data

F = form_module
TEXTUAL = (*F.TEXT_FIELDS, *F.IDENTIFIER_FIELDS, *F.CHOICE_FIELDS, *F.DATE_FIELDS)
NUMERIC = (*F.MONEY_FIELDS, *F.COUNT_FIELDS)
BOOLEAN = (*F.FLAG_FIELDS, "consent_to_publication")
LISTS = ("confidential_fields", "comparators", "evidence")
DOSSIER_FIELDS = (*TEXTUAL, *NUMERIC, *BOOLEAN, *LISTS)
EVIDENCE_KEYS = ("design", "patients", "follow_up_months", "published_on", "reference")
MAX_ROWS = rules.ROW_LIMITS


# --- JSON types -------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def _type_error(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if name in TEXTUAL:
        return None if isinstance(value, str) else _("Expected a text (string).")
    if name in NUMERIC:
        return None if _is_number(value) else _("Expected a number.")
    if name in BOOLEAN:
        return None if isinstance(value, bool) else _("Expected true or false.")
    if name == "confidential_fields":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else _("Expected a list of field names.")
    if name == "comparators":
        ok = isinstance(value, list) and all(_is_comparator(v) for v in value)
        return None if ok else _('Expected a list of {"description": "..."} objects.')
    if name == "evidence":
        ok = isinstance(value, list) and all(_is_evidence(v) for v in value)
        return None if ok else _("Expected a list of evidence objects.")
    return None


def _is_comparator(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return (
        isinstance(value, dict)
        and set(value) <= {"description"}
        and isinstance(value.get("description", ""), str | type(None))
    )


def _is_evidence(value: Any) -> bool:
    if not isinstance(value, dict) or not set(value) <= set(EVIDENCE_KEYS):
        return False
    texts = ("design", "published_on", "reference")
    return all(isinstance(value.get(k), str | type(None)) for k in texts) and all(
        value.get(k) is None or _is_number(value[k]) for k in ("patients", "follow_up_months")
    )


def check_shape(body: Mapping[str, Any]) -> None:
    """422 for unknown fields, values of the wrong JSON type and JSON numbers that are not
    what the field holds (before the form's rules)."""
    errors, codes = {}, {}
    for name, value in body.items():
        if name not in DOSSIER_FIELDS:
            errors[name], codes[name] = [_("Unknown field.")], ["unknown_field"]
        elif message := _type_error(name, value):
            errors[name], codes[name] = [message], ["type"]
        elif name in MAX_ROWS and isinstance(value, list) and len(value) > MAX_ROWS[name]:
            errors[name] = [_("At most %(count)s rows.", count=MAX_ROWS[name])]
            codes[name] = ["type"]
        else:
            for field_id, code in _number_errors(name, value):
                errors[field_id], codes[field_id] = [str(MESSAGES[code])], [code]
    if errors:
        raise ApiError(422, "validation", errors=errors, error_codes=codes)


# --- JSON numbers ---------------------------------------------------------------------------------
# A JSON number is exact: it is checked as the number it is, and handed to the form written
# without any separator a person might type, so "12.345" is never read as twelve thousand.


def _is_json_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _exact(value: int | float) -> Decimal | None:
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return amount if amount.is_finite() else None


def _number_error(name: str, value: Any) -> str | None:
    if not _is_json_number(value):
        return None
    money = name in F.MONEY_FIELDS
    amount = _exact(value)
    if amount is None:
        return rules.E_MONEY_FORMAT if money else rules.E_COUNT_FORMAT
    if money:
        return rules.check_money(amount)
    return None if amount == amount.to_integral_value() else rules.E_COUNT_FORMAT


def _number_errors(name: str, value: Any) -> list[tuple[str, str]]:
    """(field id, code) for JSON numbers a field cannot hold (three decimals of money, a
    fraction of a patient)."""
    if name in NUMERIC:
        code = _number_error(name, value)
        return [(name, code)] if code else []
    if name != "evidence" or not isinstance(value, list):
        return []
    found = []
    for index, row in enumerate(value):
        for key in ("patients", "follow_up_months"):
            code = _number_error(key, row.get(key))
            if code:
                found.append((f"evidence-{index}-{key}", code))
    return found


def _number_text(value: int | float) -> str:
    """A JSON number as the form's fields read it unambiguously: digits, and a decimal point
    only before one or two decimals (more were refused by `check_shape`)."""
    amount = _exact(value)
    if amount is None:
        return repr(value)
    if amount == amount.to_integral_value():
        return str(int(amount))
    return format(amount, "f")


# --- JSON -> the form's data --------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if _is_json_number(value):
        return _number_text(value)
    return str(value)


def form_data(values: Mapping[str, Any]) -> MultiDict:
    """What a browser would post for these dossier values (model-style or JSON-style)."""
    data = MultiDict()
    for name in (*TEXTUAL, *NUMERIC):
        if values.get(name) is not None:
            data.add(name, _text(values[name]))
    for name in F.FLAG_FIELDS:
        if values.get(name) is True:
            data.add(name, "y")
    consent = values.get("consent_to_publication")
    if consent in (True, False, F.YES, F.NO):
        data.add("consent_to_publication", {True: F.YES, False: F.NO}.get(consent, consent))
    for name in values.get("confidential_fields") or ():
        data.add("confidential_fields", name)
    for index, row in enumerate(values.get("comparators") or ()):
        description = row if isinstance(row, str) else (row.get("description") or "")
        data.add(f"comparators-{index}-description", description)
    for index, row in enumerate(values.get("evidence") or ()):
        for key in EVIDENCE_KEYS:
            data.add(f"evidence-{index}-{key}", _text(row.get(key)))
    return data


def _form_errors(form: DossierForm) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field in form:
        if field.short_name == "version":
            continue
        if isinstance(field, form_module.FieldList):
            for entry in field:
                for sub in entry.form:
                    if sub.errors:
                        errors[sub.id] = [str(e) for e in sub.errors]
        elif field.errors and isinstance(field.errors, list | tuple):
            errors[field.short_name] = [str(e) for e in field.errors]
    return errors


def _codes(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The stable code behind each message (in the reader's language, so built per request)."""
    code_of = {str(message): code for code, message in MESSAGES.items()}
    return {
        name: [code_of.get(m, "invalid") for m in messages] for name, messages in errors.items()
    }


def validated_dossier(body: Mapping[str, Any], today: date, stored=None) -> dict[str, Any]:
    """The service's `data` for the fields in `body`, or 422 with the form's messages.

    `stored` (a DeviceRequest) is the dossier the body updates; None for a new draft."""
    check_shape(body)
    values = dict(initial_data(stored)) if stored is not None else {}
    values.update(body)
    form = DossierForm(formdata=form_data(values), today=today, meta={"csrf": False})
    if not form.validate():
        errors = _form_errors(form)
        raise ApiError(422, "validation", errors=errors, error_codes=_codes(errors))
    cleaned = form.dossier_data()
    return {name: cleaned[name] for name in body if name in cleaned}


def domain_message(_field: str, code: str, _details=None) -> str:
    """The form's message for a domain rule's code (the service's safety net)."""
    message = MESSAGES.get(code)
    return str(message) if message is not None else _("This value is not valid.")
