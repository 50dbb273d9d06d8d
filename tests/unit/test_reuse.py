"""Matching requests to earlier ones (canonical identifiers, GS1 check digits) and the days a
reused assessment saves."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.domain.reuse import (
    DeviceKeys,
    basic_udi_di_key,
    days_saved,
    is_duplicate,
    keys_of,
    match_reasons,
    udi_di_key,
)


def device(**fields):
    values = {"basic_udi_di": "", "udi_di": "", "emdn_code": "", "manufacturer_id": 1}
    return SimpleNamespace(**(values | fields))


def test_a_gtin_13_and_its_gtin_14_spelling_are_the_same_udi_di():
    assert udi_di_key("4006381333931") == udi_di_key("0 4006381333931") == "04006381333931"


@pytest.mark.parametrize("typo", ["4006381333932", "40063813339", "", "  "])
def test_an_invalid_or_missing_udi_di_matches_nothing(typo):
    assert udi_di_key(typo) is None


def test_a_basic_udi_di_with_a_wrong_check_pair_matches_nothing():
    assert basic_udi_di_key("8001234CVX23MG") == "8001234CVX23MG"
    assert basic_udi_di_key("8001234CVX23MH") is None


def test_the_same_device_by_basic_udi_di_or_udi_di_is_a_duplicate():
    a = keys_of(device(basic_udi_di="8001234CVX23MG", udi_di="4006381333931"))
    b = keys_of(device(basic_udi_di="8001234 CVX23MG", udi_di="04006381333931", manufacturer_id=2))
    reasons = match_reasons(a, b)
    assert reasons == ("basic_udi_di", "udi_di")
    assert is_duplicate(reasons)


def test_the_same_emdn_code_matches_only_for_the_same_manufacturer():
    a = keys_of(device(emdn_code="P0703"))
    same_maker = keys_of(device(emdn_code="p 0703"))
    other_maker = keys_of(device(emdn_code="P0703", manufacturer_id=2))
    assert match_reasons(a, same_maker) == ("emdn_and_manufacturer",)
    assert not is_duplicate(match_reasons(a, same_maker))
    assert match_reasons(a, other_maker) == ()


def test_nothing_matches_nothing():
    empty = DeviceKeys(None, None, None, 1)
    assert match_reasons(empty, empty) == ()


def test_days_saved_count_adopted_domains_whole_and_adapted_ones_half():
    # 90 days x (1 + 1 + 0.5) / 9 domains = 25
    choices = {"health_problem": "adopted", "safety": "adopted", "legal": "adapted"}
    assert days_saved(choices, 90) == 25.0
    assert days_saved({"safety": "redone"}, 90) == 0.0
    assert days_saved({}, 90) == 0.0
