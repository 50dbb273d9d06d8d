"""The tender reference (CIG) and the awarded amount of a procurement (pure rules)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.procurement import is_valid_cig, normalise_cig, parse_amount


@pytest.mark.parametrize("typed", ["9A1B2C3D4E", "9a1b2c3d4e", " 9A1B 2C3D-4E "])
def test_a_cig_is_ten_capital_letters_and_digits_whatever_the_spacing(typed):
    assert normalise_cig(typed) == "9A1B2C3D4E"
    assert is_valid_cig(normalise_cig(typed))


@pytest.mark.parametrize("typed", ["", "9A1B2C3D4", "9A1B2C3D4E5", "9A1B2C3D4_", "9A1B2C3D4È"])
def test_a_cig_of_another_length_or_alphabet_is_refused(typed):
    assert not is_valid_cig(normalise_cig(typed))


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("12500", Decimal("12500.00")),
        ("12500.5", Decimal("12500.50")),
        (" 99.99 ", Decimal("99.99")),
    ],
)
def test_an_amount_is_kept_to_the_cent(typed, amount):
    assert parse_amount(typed) == amount


@pytest.mark.parametrize("typed", ["", "abc", "12.500,00", "0", "-5", "1.005", "1e12", "NaN"])
def test_anything_else_is_not_an_amount(typed):
    assert parse_amount(typed) is None
