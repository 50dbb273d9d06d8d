"""The dossier rules: each validator with a valid and an invalid case, and the checklist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from app.domain import dossier_rules as rules
from app.domain.dossier_rules import InvalidValueError, MissingItem, missing_for_submission
from tests.factories import complete_dossier_fields

TODAY = date(2025, 6, 1)


# --- UDI-DI ---
@pytest.mark.parametrize(
    "value",
    [
        "08001234567897",  # GTIN-14
        "8001234567897",  # GTIN-13 (EAN)
        "036000291452",  # GTIN-12 (UPC-A)
        "96385074",  # GTIN-8
        "0800 1234 5678 97",  # spaces typed in are ignored
        "+H123ABC1230",  # HIBCC: "+", labeler code, product, unit of measure
        "A9999XYZ100T0474",  # ICCBBA ISBT 128
    ],
)
def test_udi_di_accepts_the_issuing_agencies_formats(value):
    assert rules.check_udi_di(value) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("08001234567895", rules.E_UDI_DI_CHECK),  # wrong GS1 check digit
        ("8001234567890", rules.E_UDI_DI_CHECK),
        ("12345", rules.E_UDI_DI_LENGTH),  # not a GTIN length
        ("123456789012345", rules.E_UDI_DI_LENGTH),
        ("CVX-23!", rules.E_UDI_DI_FORMAT),
        ("+h1", rules.E_UDI_DI_FORMAT),
    ],
)
def test_udi_di_refuses_bad_check_digits_and_shapes(value, code):
    assert rules.check_udi_di(value) == code


def test_ifa_ppn_check_pair():
    body = "1103752864"
    check = sum(w * ord(c) for w, c in enumerate(body, start=2)) % 97
    assert rules.check_udi_di(f"{body}{check:02d}") is None
    assert rules.ppn_is_valid(f"{body}{(check + 1) % 97:02d}") is False


# --- Basic UDI-DI (GS1 GMN) ---------------------------------------------------------------------
def test_gmn_check_pair_matches_the_gs1_example():
    # GS1 General Specifications example GMN.
    assert rules.gmn_check_pair("1987654Ad4X4bL5ttr2310c") == "2K"
    assert rules.check_basic_udi_di("1987654Ad4X4bL5ttr2310c2K") is None


@pytest.mark.parametrize("value", ["8001234CVX23MG", "+H123CVX23", "A9999CVX23"])
def test_basic_udi_di_valid(value):
    assert rules.check_basic_udi_di(value) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1987654Ad4X4bL5ttr2310cZZ", rules.E_BASIC_UDI_DI_CHECK),
        ("8001234CVX23QK", rules.E_BASIC_UDI_DI_CHECK),
        ("80012", rules.E_BASIC_UDI_DI_FORMAT),  # too short for a GMN
        ("8001234" + "A" * 19, rules.E_BASIC_UDI_DI_FORMAT),  # longer than 25
        ("12AB34CVX23MG", rules.E_BASIC_UDI_DI_FORMAT),  # company prefix must be digits
        ("#CVX", rules.E_BASIC_UDI_DI_FORMAT),
    ],
)
def test_basic_udi_di_invalid(value, code):
    assert rules.check_basic_udi_di(value) == code


# --- Risk class ---
@pytest.mark.parametrize(
    ("regulation", "risk_class"),
    [("mdr", "III"), ("mdr", "I"), ("ivdr", "C"), ("legacy", "IIb"), ("legacy", "B"), (None, None)],
)
def test_risk_class_consistent_with_regulation(regulation, risk_class):
    assert rules.check_risk_class(regulation, risk_class) is None


@pytest.mark.parametrize(
    ("regulation", "risk_class", "code"),
    [
        ("mdr", "C", rules.E_RISK_CLASS_REGULATION),
        ("ivdr", "IIa", rules.E_RISK_CLASS_REGULATION),
        ("mdr", "IV", rules.E_RISK_CLASS),
        ("mdd", "I", rules.E_REGULATION),
    ],
)
def test_risk_class_inconsistent(regulation, risk_class, code):
    assert rules.check_risk_class(regulation, risk_class) == code


# --- EMDN, repertorio, notified body -----------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["P0703", "Z12010101", "J0101", "c0401", "W0101010101", "Z 12 01"]
)
def test_emdn_valid(value):
    assert rules.check_emdn_code(value) is None


@pytest.mark.parametrize(
    "value", ["P", "P070", "0703", "E0101", "I01", "O01", "P01020304050607", "P07-03", "PP0703"]
)
def test_emdn_invalid(value):
    assert rules.check_emdn_code(value) == rules.E_EMDN


def test_emdn_is_normalised_to_upper_case_without_spaces():
    assert rules.normalise_emdn(" z12 0101 ") == "Z120101"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1234567", True),
        ("1", True),
        ("1234567890", True),
        ("12345678901", False),
        ("12A45", False),
        ("", False),
    ],
)
def test_repertorio_number(value, ok):
    assert (rules.check_repertorio_number(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("0123", True), ("2797", True), ("123", False), ("12345", False), ("CE0123", False)],
)
def test_notified_body_number(value, ok):
    assert (rules.check_notified_body_number(value) is None) is ok


# --- Money ---
@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234.50", Decimal("1234.50")),
        ("1.234,50", Decimal("1234.50")),  # Italian
        ("1,234.50", Decimal("1234.50")),
        ("1234,5", Decimal("1234.5")),
        ("€ 18.500", Decimal("18500")),  # a single dot before three digits groups thousands
        ("2.500.000,00", Decimal("2500000.00")),
        ("0", Decimal("0")),
        ("", None),
    ],
)
def test_parse_money_accepts_both_conventions(text, amount):
    assert rules.parse_money(text) == amount


@pytest.mark.parametrize("text", ["12,34,56", "abc", "1.2.3", "1.234.5,00", "12e3", "1,2,3.4"])
def test_parse_money_refuses_garbage(text):
    with pytest.raises(InvalidValueError) as error:
        rules.parse_money(text)
    assert error.value.code == rules.E_MONEY_FORMAT


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Decimal("0"), None),
        (Decimal("18500.00"), None),
        (Decimal("-1"), rules.E_MONEY_NEGATIVE),
        (Decimal("0.125"), rules.E_MONEY_DECIMALS),
        (Decimal("1000000000000"), rules.E_MONEY_TOO_LARGE),
    ],
)
def test_check_money(amount, code):
    assert rules.check_money(amount) == code


# --- Counts ---
@pytest.mark.parametrize(
    ("text", "value"), [("4000", 4000), ("4.000", 4000), ("4 000", 4000), ("0", 0), ("", None)]
)
def test_parse_count(text, value):
    assert rules.parse_count(text) == value


@pytest.mark.parametrize("text", ["1.5", "many", "4,0000"])
def test_parse_count_refuses_non_integers(text):
    with pytest.raises(InvalidValueError):
        rules.parse_count(text)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (0, None),
        (150, None),
        (-1, rules.E_COUNT_NEGATIVE),
        (3_000_000_000, rules.E_COUNT_TOO_LARGE),
    ],
)
def test_check_count(value, code):
    assert rules.check_count(value) == code


# --- CE certificate dates ---
def test_certificate_dates_valid():
    assert rules.check_certificate_dates(date(2024, 1, 15), date(2029, 1, 14), TODAY) == {}
    assert rules.check_certificate_dates(TODAY, None, TODAY) == {}


def test_certificate_issued_in_the_future():
    errors = rules.check_certificate_dates(date(2025, 6, 2), None, TODAY)
    assert errors == {"ce_certificate_issued_on": rules.E_CERT_ISSUED_FUTURE}


def test_certificate_expiring_before_issue():
    errors = rules.check_certificate_dates(date(2024, 1, 15), date(2024, 1, 15), TODAY)
    assert errors == {"ce_certificate_expires_on": rules.E_CERT_EXPIRY_BEFORE_ISSUE}


# --- The whole dossier ---
def test_dossier_errors_for_a_valid_dossier():
    values = complete_dossier_fields() | {
        "comparators": [{"description": "Surgery"}],
        "evidence": [{"design": "rct", "reference": "Rossi 2024", "patients": 120}],
    }
    assert rules.dossier_errors(values, TODAY) == {}


def test_dossier_errors_names_each_broken_field():
    values = {
        "udi_di": "123",
        "risk_class": "C",
        "regulation": "mdr",
        "list_price": Decimal("-5"),
        "eligible_patients_per_year": -1,
        "severity": "apocalyptic",
        "comparators": [{"description": " "}],
        "evidence": [{"design": "", "reference": "x", "patients": -3}],
    }
    assert rules.dossier_errors(values, TODAY) == {
        "udi_di": rules.E_UDI_DI_LENGTH,
        "risk_class": rules.E_RISK_CLASS_REGULATION,
        "list_price": rules.E_MONEY_NEGATIVE,
        "eligible_patients_per_year": rules.E_COUNT_NEGATIVE,
        "severity": rules.E_CHOICE,
        "comparators-0-description": rules.E_REQUIRED,
        "evidence-0-design": rules.E_REQUIRED,
        "evidence-0-patients": rules.E_COUNT_NEGATIVE,
    }


# --- Completeness ---
@dataclass
class Dossier:
    """A stand-in with the DeviceRequest attributes (the rule is a pure function)."""

    trade_name: str = ""
    model: str = ""
    intended_purpose: str = ""
    regulation: str | None = None
    risk_class: str | None = None
    basic_udi_di: str = ""
    udi_di: str = ""
    emdn_code: str = ""
    notified_body_number: str = ""
    ce_certificate_number: str = ""
    ce_certificate_expires_on: date | None = None
    condition: str = ""
    severity: str = ""
    population: str = ""
    eligible_patients_per_year: int | None = None
    intervention: str = ""
    care_setting: str = ""
    comparators: list = field(default_factory=list)
    outcomes: str = ""
    claimed_benefits: str = ""
    unmet_need: str = ""
    evidence: list = field(default_factory=list)
    list_price: Decimal | None = None
    budget_impact_3y: Decimal | None = None
    expected_volume_per_year: int | None = None
    consent_to_publication: bool | None = None
    coi_declaration: str = ""
    coi_declared: bool = False


def complete_dossier(**changes) -> Dossier:
    known = set(Dossier.__dataclass_fields__)
    values = {k: v for k, v in complete_dossier_fields().items() if k in known}
    return Dossier(**(values | {"comparators": ["x"], "evidence": ["y"]} | changes))


def test_an_empty_draft_misses_everything_in_form_order():
    missing = missing_for_submission(Dossier())
    fields = [item.field for item in missing]
    assert fields[:3] == ["trade_name", "model", "intended_purpose"]
    assert MissingItem("udi_di", "device") in missing
    assert MissingItem("notified_body_number", "device") in missing
    assert MissingItem("comparators", "clinical") in missing
    assert MissingItem("evidence", "clinical") in missing
    assert MissingItem("budget_impact_3y", "economics") in missing
    assert MissingItem("coi_declared", "administration") in missing
    assert MissingItem("consent_to_publication", "administration") in missing
    assert [s for s in rules.SECTIONS if any(i.section == s for i in missing)] == list(
        rules.SECTIONS
    )
    assert len(missing) == len(set(fields)) == 28


def test_a_complete_dossier_misses_nothing():
    assert missing_for_submission(complete_dossier()) == []


def test_refusing_publication_is_an_answer_but_no_answer_is_missing():
    assert missing_for_submission(complete_dossier(consent_to_publication=False)) == []
    assert missing_for_submission(complete_dossier(consent_to_publication=None)) == [
        MissingItem("consent_to_publication", "administration")
    ]


def test_blank_text_counts_as_missing():
    assert missing_for_submission(complete_dossier(outcomes="   ")) == [
        MissingItem("outcomes", "clinical")
    ]


@pytest.mark.parametrize(("regulation", "risk_class"), [("mdr", "I"), ("ivdr", "A")])
def test_self_certified_classes_need_no_notified_body(regulation, risk_class):
    dossier = complete_dossier(
        regulation=regulation,
        risk_class=risk_class,
        notified_body_number="",
        ce_certificate_number="",
        ce_certificate_expires_on=None,
    )
    assert missing_for_submission(dossier) == []


def test_class_iii_needs_the_certificate():
    dossier = complete_dossier(notified_body_number="", ce_certificate_expires_on=None)
    assert missing_for_submission(dossier) == [
        MissingItem("notified_body_number", "device"),
        MissingItem("ce_certificate_expires_on", "device"),
    ]
