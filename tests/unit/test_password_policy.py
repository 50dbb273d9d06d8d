"""The password policy: length, the shipped list of common passwords, the user's own name and
email, and runs of a few characters; and argon2 parameters that changed ask for a rehash."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from app.accounts import passwords
from app.accounts.passwords import (
    PERSONAL,
    TOO_COMMON,
    TOO_FEW_CHARACTERS,
    TOO_SHORT,
    password_problem,
)

EMAIL = "maria.rossi@ospedale.example"
NAME = "Maria Rossi"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("aaaaaaaaaa", TOO_SHORT),
        ("1234567890", TOO_SHORT),
        ("aaaaaaaaaaaaaaaa", TOO_FEW_CHARACTERS),
        ("121212121212", TOO_FEW_CHARACTERS),
        ("123456789012", TOO_COMMON),
        ("Password1234", TOO_COMMON),
        ("PasswordPassword!!", TOO_COMMON),  # the letters alone are a common password
        (EMAIL, PERSONAL),
        ("maria.rossi2027!", PERSONAL),
        ("my name is Rossi, ok", PERSONAL),
        ("correct horse battery", None),
        ("a good long password", None),
    ],
)
def test_the_policy(password, problem):
    assert password_problem(password, email=EMAIL, full_name=NAME) == problem


def test_the_common_list_ships_with_the_app_and_skips_its_comments():
    common = passwords.common_passwords()
    assert len(common) > 100 and "123456789012" in common
    assert not any(entry.startswith("#") for entry in common)


def test_a_hash_made_with_other_parameters_needs_a_rehash(app):
    old = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash("whatever it is")
    current = passwords.hash_password("whatever it is")
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(current)
