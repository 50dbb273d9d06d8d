"""Italian VAT numbers and EUDAMED SRNs: what is accepted, how it is stored, what is refused."""

from __future__ import annotations

import pytest

from app.domain.errors import ValidationFailed
from app.domain.identifiers import validate_eudamed_srn, validate_vat_number


@pytest.mark.parametrize(
    "typed",
    ["00743110157", "IT00743110157", "it00743110157", " IT 007 431 101 57 ", "007.431.101-57"],
)
def test_valid_vat_number_is_stored_with_the_it_prefix(typed):
    assert validate_vat_number(typed) == "IT00743110157"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("00743110158", "invalid"),  # wrong check digit
        ("12345678901", "invalid"),  # no such province office code
        ("0074311015", "format"),  # 10 digits
        ("007431101577", "format"),  # 12 digits
        ("0074311015A", "format"),
        ("", "format"),
        ("DE00743110157", "country"),
        ("FR12345678901", "country"),
    ],
)
def test_invalid_vat_number_is_refused_with_a_reason(typed, reason):
    with pytest.raises(ValidationFailed) as caught:
        validate_vat_number(typed)
    assert caught.value.details == {"field": "vat_number", "reason": reason}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("IT-MF-000012345", "IT-MF-000012345"),
        (" it-mf-000012345 ", "IT-MF-000012345"),
        ("DE-AR-123456789", "DE-AR-123456789"),
        ("US-MF-000000001", "US-MF-000000001"),
        ("IT-IM-000000042", "IT-IM-000000042"),
        ("IT-PR-000000042", "IT-PR-000000042"),
    ],
)
def test_valid_srn_is_normalised(typed, stored):
    assert validate_eudamed_srn(typed) == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("IT-MF-12345", "format"),  # too few digits
        ("IT-MF-0000123456", "format"),  # too many digits
        ("ITA-MF-000012345", "format"),
        ("IT MF 000012345", "format"),
        ("IT-MF000012345", "format"),
        ("", "format"),
        ("IT-XX-000012345", "actor_type"),
    ],
)
def test_invalid_srn_is_refused(typed, reason):
    with pytest.raises(ValidationFailed) as caught:
        validate_eudamed_srn(typed)
    assert caught.value.details["reason"] == reason
