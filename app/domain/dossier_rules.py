"""The rules of the request dossier (pure): field validators and the submission checklist.

Validators return an error CODE (a short stable string, see the ``E_*`` constants) or ``None``
when the value is acceptable; callers (forms, API) map codes to translated messages. Parsers
raise ``InvalidValueError(code)``. Nothing here reads the clock: date rules take ``today``.

Device identifiers:
- UDI-DI: GS1 GTIN-8/12/13/14 with its mod-10 check digit (python-stdnum ``ean``); IFA PPN
  ("11" + ...) with its mod-97 check pair; HIBCC ("+" + labeler code + product + unit digit)
  and ICCBBA (ISBT 128, letter-led) accepted by pattern.
- Basic UDI-DI: GS1 GMN (company prefix digits, at most 25 characters of GS1 character set 82,
  the last two the check character pair of GS1 General Specifications 7.9.5, checked here);
  IFA by its mod-97 pair; HIBCC and ICCBBA accepted by pattern (no check character computed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import ean

from app.domain import dossier_fields
from app.domain.dossier_fields import Kind, fields_of_kind
from app.domain.vocab import (
    CARE_SETTINGS,
    EVIDENCE_DESIGNS,
    RISK_CLASSES,
    RISK_CLASSES_BY_REGULATION,
    SEVERITIES,
    Regulation,
)

# --- Error codes ---
E_UDI_DI_FORMAT = "udi_di_format"
E_UDI_DI_LENGTH = "udi_di_length"
E_UDI_DI_CHECK = "udi_di_check_digit"
E_BASIC_UDI_DI_FORMAT = "basic_udi_di_format"
E_BASIC_UDI_DI_CHECK = "basic_udi_di_check"
E_REGULATION = "regulation_unknown"
E_RISK_CLASS = "risk_class_unknown"
E_RISK_CLASS_REGULATION = "risk_class_not_in_regulation"
E_EMDN = "emdn_format"
E_REPERTORIO = "repertorio_format"
E_NOTIFIED_BODY = "notified_body_format"
E_MONEY_FORMAT = "money_format"
E_MONEY_NEGATIVE = "money_negative"
E_MONEY_DECIMALS = "money_decimals"
E_MONEY_TOO_LARGE = "money_too_large"
E_COUNT_FORMAT = "count_format"
E_COUNT_NEGATIVE = "count_negative"
E_COUNT_TOO_LARGE = "count_too_large"
E_CERT_ISSUED_FUTURE = "certificate_issued_in_future"
E_CERT_EXPIRY_BEFORE_ISSUE = "certificate_expires_before_issue"
E_CHOICE = "choice_unknown"
E_REQUIRED = "required"
E_TOO_LONG = "too_long"


class InvalidValueError(ValueError):
    """Raised by the parsers; ``code`` is one of the ``E_*`` constants."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- UDI-DI ---
GTIN_LENGTHS = (8, 12, 13, 14)
HIBCC_UDI_DI = re.compile(r"\+[A-Z][A-Z0-9]{3}[A-Z0-9]{1,18}[0-9]")
ICCBBA_UDI_DI = re.compile(r"(?:=/)?[A-Z][A-Z0-9]{4}[A-Z0-9]{6,18}")
IFA_PPN = re.compile(r"11[A-Z0-9]{2,18}[0-9]{2}")
MAX_UDI_DI_LENGTH = 25


def compact_identifier(value: str | None) -> str:
    """Drop the spaces people type or paste inside identifiers."""
    return re.sub(r"\s+", "", value or "")


def ppn_is_valid(value: str) -> bool:
    """IFA Pharmacy Product Number: ASCII codes weighted 2, 3, 4 ... summed mod 97."""
    if not IFA_PPN.fullmatch(value):
        return False
    body, check = value[:-2], value[-2:]
    total = sum(weight * ord(char) for weight, char in enumerate(body, start=2))
    return total % 97 == int(check)


def check_udi_di(value: str) -> str | None:
    """A UDI-DI: GTIN (check digit), IFA PPN (check pair), HIBCC or ICCBBA (pattern)."""
    value = compact_identifier(value)
    if len(value) > MAX_UDI_DI_LENGTH:
        return E_UDI_DI_FORMAT
    if value.isdigit():
        if ean.is_valid(value) and len(value) in GTIN_LENGTHS:
            return None
        if ppn_is_valid(value):
            return None
        return E_UDI_DI_CHECK if len(value) in GTIN_LENGTHS else E_UDI_DI_LENGTH
    if ppn_is_valid(value):
        return None
    if HIBCC_UDI_DI.fullmatch(value) or ICCBBA_UDI_DI.fullmatch(value):
        return None
    return E_UDI_DI_FORMAT


# --- Basic UDI-DI (GS1 GMN check character pair) --------------------------------------------
GS1_CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
GS1_CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# Descending primes; the last character of the data is weighted 2.
GMN_WEIGHTS = (
    83,
    79,
    73,
    71,
    67,
    61,
    59,
    53,
    47,
    43,
    41,
    37,
    31,
    29,
    23,
    19,
    17,
    13,
    11,
    7,
    5,
    3,
    2,
)
GMN_MIN_LENGTH = 8  # including the check pair
GMN_MAX_LENGTH = 25
GS1_PREFIX_DIGITS = 5
HIBCC_BASIC_UDI_DI = re.compile(r"\+[A-Z][A-Z0-9]{3}[A-Z0-9]{1,20}")
ICCBBA_BASIC_UDI_DI = re.compile(r"[A-Z][A-Z0-9]{4}[A-Z0-9]{1,20}")


def gmn_check_pair(data: str) -> str:
    """The two check characters of a GS1 Global Model Number (`data` without them)."""
    weights = GMN_WEIGHTS[len(GMN_WEIGHTS) - len(data) :]
    total = sum(GS1_CSET82.index(char) * weight for char, weight in zip(data, weights, strict=True))
    total %= 1021
    return GS1_CSET32[total // 32] + GS1_CSET32[total % 32]


def gmn_format_is_valid(value: str) -> bool:
    return (
        GMN_MIN_LENGTH <= len(value) <= GMN_MAX_LENGTH
        and value[:GS1_PREFIX_DIGITS].isdigit()
        and all(char in GS1_CSET82 for char in value)
    )


def check_basic_udi_di(value: str) -> str | None:
    """A Basic UDI-DI: GS1 GMN (check pair verified), IFA (mod 97), HIBCC or ICCBBA (pattern)."""
    value = compact_identifier(value)
    if value[:1].isdigit():
        if ppn_is_valid(value):
            return None
        if not gmn_format_is_valid(value):
            return E_BASIC_UDI_DI_FORMAT
        return None if gmn_check_pair(value[:-2]) == value[-2:] else E_BASIC_UDI_DI_CHECK
    if len(value) <= GMN_MAX_LENGTH and (
        HIBCC_BASIC_UDI_DI.fullmatch(value) or ICCBBA_BASIC_UDI_DI.fullmatch(value)
    ):
        return None
    return E_BASIC_UDI_DI_FORMAT


# --- Regulation and risk class ---
def check_risk_class(regulation: str | None, risk_class: str | None) -> str | None:
    """The class must exist, and exist under the chosen regulation (MDR I-III, IVDR A-D)."""
    if regulation and regulation not in set(Regulation):
        return E_REGULATION
    if not risk_class:
        return None
    if risk_class not in RISK_CLASSES:
        return E_RISK_CLASS
    if regulation and risk_class not in RISK_CLASSES_BY_REGULATION[regulation]:
        return E_RISK_CLASS_REGULATION
    return None


def notified_body_required(regulation: str | None, risk_class: str | None) -> bool:
    """Class I (MDR) and class A (IVDR) devices are self-certified: no notified body."""
    return risk_class not in ("I", "A")


# --- EMDN / CND ------------------------------------------------------------------------------
# Categories A-Z without E, I and O; then up to six two-digit levels (seven levels in all).
EMDN_CODE = re.compile(r"[A-DF-HJ-NP-Z](?:[0-9]{2}){1,6}")


def normalise_emdn(value: str | None) -> str:
    return compact_identifier(value).upper()


def check_emdn_code(value: str) -> str | None:
    return None if EMDN_CODE.fullmatch(normalise_emdn(value)) else E_EMDN


# --- Italian registry and notified body ---
REPERTORIO_NUMBER = re.compile(r"[0-9]{1,10}")
NOTIFIED_BODY_NUMBER = re.compile(r"[0-9]{4}")


def check_repertorio_number(value: str) -> str | None:
    return None if REPERTORIO_NUMBER.fullmatch(compact_identifier(value)) else E_REPERTORIO


def check_notified_body_number(value: str) -> str | None:
    return None if NOTIFIED_BODY_NUMBER.fullmatch(compact_identifier(value)) else E_NOTIFIED_BODY


# --- Money and counts ---
MONEY_MAX = Decimal("999999999999.99")  # Numeric(14, 2)
COUNT_MAX = 2_147_483_647  # a 32-bit INTEGER column
_CURRENCY_NOISE = re.compile(r"(?i)\s|€|eur")
_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:[.,' ][0-9]{3})+")


def _is_thousands_grouping(text: str, separator: str) -> bool:
    groups = text.split(separator)
    return (
        len(groups) > 1
        and 1 <= len(groups[0]) <= 3
        and groups[0][:1] not in ("", "0")
        and all(len(g) == 3 and g.isdigit() for g in groups[1:])
        and groups[0].isdigit()
    )


def parse_money(text: str | None) -> Decimal | None:
    """An amount in EUR typed either way: "1234.50", "1.234,50", "1,234.50", "1234,5", "€ 90".

    With both separators the last one is the decimal mark. With one kind only, a separator
    followed by exactly three digits groups thousands ("1.234" is 1234: money has at most two
    decimals); otherwise it is the decimal mark. Blank gives None.
    """
    raw = _CURRENCY_NOISE.sub("", text or "")
    if not raw:
        return None
    sign = ""
    if raw[0] in "+-":
        sign, raw = ("-" if raw[0] == "-" else ""), raw[1:]
    number = _canonical_number(raw)
    try:
        amount = Decimal(sign + number)
    except InvalidOperation:
        raise InvalidValueError(E_MONEY_FORMAT) from None
    if not amount.is_finite():
        raise InvalidValueError(E_MONEY_FORMAT)
    return amount


def _canonical_number(raw: str) -> str:
    if not re.fullmatch(r"[0-9.,']+", raw) or not any(c.isdigit() for c in raw):
        raise InvalidValueError(E_MONEY_FORMAT)
    raw = raw.replace("'", "")  # Swiss-style grouping
    if "." in raw and "," in raw:
        decimal_mark = "." if raw.rfind(".") > raw.rfind(",") else ","
        group_mark = "," if decimal_mark == "." else "."
        whole, _, fraction = raw.rpartition(decimal_mark)
        if not _is_thousands_grouping(whole, group_mark) or not fraction.isdigit():
            raise InvalidValueError(E_MONEY_FORMAT)
        return whole.replace(group_mark, "") + "." + fraction
    for mark in (".", ","):
        if mark in raw:
            if _is_thousands_grouping(raw, mark):
                return raw.replace(mark, "")
            whole, _, fraction = raw.partition(mark)
            if mark in fraction or not fraction.isdigit() or (whole and not whole.isdigit()):
                raise InvalidValueError(E_MONEY_FORMAT)
            return (whole or "0") + "." + fraction
    return raw


def check_money(amount: Decimal | None) -> str | None:
    """Zero or more, at most two decimals, and small enough for the column."""
    if amount is None:
        return None
    if amount < 0:
        return E_MONEY_NEGATIVE
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return E_MONEY_DECIMALS
    if amount > MONEY_MAX:
        return E_MONEY_TOO_LARGE
    return None


def parse_count(text: str | None) -> int | None:
    """A whole number, optionally grouped by thousands ("4000", "4.000", "4 000"). Blank: None."""
    raw = (text or "").strip()
    if not raw:
        return None
    negative = raw.startswith("-")
    digits = raw[1:].strip() if negative else raw
    if _GROUPED.fullmatch(digits):
        digits = re.sub(r"[.,' ]", "", digits)
    if not digits.isdigit():
        raise InvalidValueError(E_COUNT_FORMAT)
    return -int(digits) if negative else int(digits)


def check_count(value: int | None) -> str | None:
    if value is None:
        return None
    if value < 0:
        return E_COUNT_NEGATIVE
    if value > COUNT_MAX:
        return E_COUNT_TOO_LARGE
    return None


# --- CE certificate ---
def check_certificate_dates(
    issued_on: date | None, expires_on: date | None, today: date
) -> dict[str, str]:
    """{field: code}: issued not after `today`; expiry strictly after the issue date."""
    errors: dict[str, str] = {}
    if issued_on is not None and issued_on > today:
        errors["ce_certificate_issued_on"] = E_CERT_ISSUED_FUTURE
    if issued_on is not None and expires_on is not None and expires_on <= issued_on:
        errors["ce_certificate_expires_on"] = E_CERT_EXPIRY_BEFORE_ISSUE
    return errors


# --- The whole dossier (a safety net for services and the API) -----------------------------------
IDENTIFIER_CHECKS = {
    "udi_di": check_udi_di,
    "basic_udi_di": check_basic_udi_di,
    "emdn_code": check_emdn_code,
    "repertorio_number": check_repertorio_number,
    "notified_body_number": check_notified_body_number,
}
# The repeatable lists of the dossier and how many rows each may hold (the form and the API).
ROW_LIMITS = {"comparators": 50, "evidence": 100}

MONEY_FIELDS = fields_of_kind(Kind.MONEY)
COUNT_FIELDS = fields_of_kind(Kind.COUNT)
CHOICE_FIELDS = {"severity": SEVERITIES, "care_setting": CARE_SETTINGS}


def dossier_errors(values: Mapping[str, Any], today: date) -> dict[str, str]:
    """{field: code} for every present value that breaks a rule; missing values are fine
    (a draft may be incomplete). List rows are keyed "comparators-0-description" etc."""
    errors: dict[str, str] = {}
    for name, check in IDENTIFIER_CHECKS.items():
        if values.get(name) and (code := check(values[name])):
            errors[name] = code
    for name in MONEY_FIELDS:
        if name in values and (code := check_money(values[name])):
            errors[name] = code
    for name in COUNT_FIELDS:
        if name in values and (code := check_count(values[name])):
            errors[name] = code
    for name, allowed in CHOICE_FIELDS.items():
        if values.get(name) and values[name] not in allowed:
            errors[name] = E_CHOICE
    if code := check_risk_class(values.get("regulation"), values.get("risk_class")):
        errors["risk_class" if code != E_REGULATION else "regulation"] = code
    errors |= check_certificate_dates(
        values.get("ce_certificate_issued_on"), values.get("ce_certificate_expires_on"), today
    )
    errors |= _row_errors("comparators", values.get("comparators") or (), comparator_errors)
    errors |= _row_errors("evidence", values.get("evidence") or (), evidence_errors)
    return errors


def comparator_errors(row: Mapping[str, Any]) -> dict[str, str]:
    return {} if (row.get("description") or "").strip() else {"description": E_REQUIRED}


def evidence_errors(row: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if row.get("design") not in EVIDENCE_DESIGNS:
        errors["design"] = E_REQUIRED if not row.get("design") else E_CHOICE
    if not (row.get("reference") or "").strip():
        errors["reference"] = E_REQUIRED
    for name in ("patients", "follow_up_months"):
        if code := check_count(row.get(name)):
            errors[name] = code
    return errors


def _row_errors(list_name: str, rows: Iterable[Mapping[str, Any]], check) -> dict[str, str]:
    return {
        f"{list_name}-{index}-{field}": code
        for index, row in enumerate(rows)
        for field, code in check(row).items()
    }


# --- Completeness for submission ---
SECTIONS = dossier_fields.SECTIONS


@dataclass(frozen=True)
class MissingItem:
    field: str
    section: str


# In the order the form shows them. The notified body fields are conditional (see below).
REQUIRED_FOR_SUBMISSION: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "device",
        (
            "trade_name",
            "model",
            "intended_purpose",
            "regulation",
            "risk_class",
            "basic_udi_di",
            "udi_di",
            "emdn_code",
        ),
    ),
    (
        "clinical",
        (
            "condition",
            "severity",
            "population",
            "eligible_patients_per_year",
            "intervention",
            "care_setting",
            "comparators",
            "outcomes",
            "claimed_benefits",
            "unmet_need",
            "evidence",
        ),
    ),
    ("economics", ("list_price", "budget_impact_3y", "expected_volume_per_year")),
    ("administration", ("consent_to_publication", "coi_declaration", "coi_declared")),
)
CERTIFICATE_FIELDS = ("notified_body_number", "ce_certificate_number", "ce_certificate_expires_on")
# Every field that can appear in the checklist (for "needed to submit" marks on the form).
SUBMISSION_FIELDS = frozenset(
    [name for _, fields in REQUIRED_FOR_SUBMISSION for name in fields] + list(CERTIFICATE_FIELDS)
)


def _is_missing(field: str, value: Any) -> bool:
    if field == "coi_declared":
        return value is not True
    if field == "consent_to_publication":
        return value is None  # "no" is an answer; only unanswered is missing
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return len(value) == 0
    return False


def missing_for_submission(dossier: Any) -> list[MissingItem]:
    """What must still be filled before the request can be submitted, in form order.

    `dossier` is anything with the DeviceRequest attributes (a model row, a snapshot...).
    Only presence is checked here; the form already refused malformed values.
    """
    missing: list[MissingItem] = []
    for section, fields in REQUIRED_FOR_SUBMISSION:
        names = list(fields)
        if section == "device" and notified_body_required(
            getattr(dossier, "regulation", None), getattr(dossier, "risk_class", None)
        ):
            names += CERTIFICATE_FIELDS
        missing += [
            MissingItem(name, section)
            for name in names
            if _is_missing(name, getattr(dossier, name, None))
        ]
    return missing


# --- The completeness checklist (manufacturer before submitting, agency at intake) ---
DOCUMENTS_SECTION = "documents"


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the completeness checklist: a dossier field or a mandatory document."""

    kind: str  # "field" or "document"
    code: str  # the field name or the document type
    section: str  # the dossier section, or DOCUMENTS_SECTION
    present: bool


def completeness_checklist(
    dossier: Any, present_types: Iterable[str], mandatory_types: Iterable[str]
) -> list[ChecklistItem]:
    """Every field needed to submit (in form order) and every mandatory document, each with
    whether it is there. The one source of "what is missing" for every page that says it."""
    missing = {(item.section, item.field) for item in missing_for_submission(dossier)}
    items = []
    for section, fields in REQUIRED_FOR_SUBMISSION:
        names = list(fields)
        if section == "device" and notified_body_required(
            getattr(dossier, "regulation", None), getattr(dossier, "risk_class", None)
        ):
            names += CERTIFICATE_FIELDS
        items += [
            ChecklistItem("field", name, section, (section, name) not in missing) for name in names
        ]
    have = set(present_types)
    items += [
        ChecklistItem("document", doc_type, DOCUMENTS_SECTION, doc_type in have)
        for doc_type in mandatory_types
    ]
    return items
