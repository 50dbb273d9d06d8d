"""The rules of IRCCS needs: what a need must say, and how the "declared need" criterion is
filled from the data."""

from __future__ import annotations

import pytest

from app.domain.needs import MANY_PATIENTS, check_need, declared_need_score, figures
from app.domain.prioritisation import combined_index

VALID = {
    "condition": "Severe aortic stenosis",
    "population": "Adults over 75 unfit for surgery",
    "patients_per_year": 400,
    "standard_of_care": "Surgical valve replacement",
    "gap": "No option for frail patients",
}


def test_a_complete_need_is_valid():
    assert check_need(VALID) == {}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"gap": "  "}, ("gap", "required")),
        ({"patients_per_year": None}, ("patients_per_year", "required")),
        ({"patients_per_year": 0}, ("patients_per_year", "out_of_range")),
        ({"patients_per_year": "12"}, ("patients_per_year", "invalid_number")),
        ({"patients_per_year": True}, ("patients_per_year", "invalid_number")),
        ({"condition": "x" * 5000}, ("condition", "too_long")),
    ],
)
def test_a_need_missing_or_out_of_range_fields_is_refused(change, error):
    assert error in check_need(VALID | change).items()


@pytest.mark.parametrize(
    ("irccs", "patients", "score"),
    [
        (0, 0, 0),  # nothing declared
        (0, 200, 1),  # a regional body's need, no IRCCS behind it yet
        (1, 200, 1),
        (2, 200, 2),
        (3, 200, 2),
        (4, 200, 3),
        (1, MANY_PATIENTS, 2),  # a large need weighs a point more
        (3, MANY_PATIENTS, 3),
        (9, 50_000, 3),  # never above 3
    ],
)
def test_the_declared_need_score_grows_with_the_irccs_and_the_patients(irccs, patients, score):
    assert declared_need_score(irccs, patients) == score


def test_figures_count_each_irccs_once_across_needs():
    result = figures([(10, {11, 12}, 300), (11, {10, 13}, 1200), (None, {14}, 50)])
    assert (result.needs, result.irccs, result.patients) == (3, 5, 1200)


def test_the_derived_criterion_joins_the_index_only_once_something_is_scored_by_hand():
    weights = {}
    assert combined_index({}, {"declared_need": 3}, weights) is None
    # (3 + 3) / 2 of 3 -> 100; (3 + 0) -> 50
    assert combined_index({"disease_severity": 3}, {"declared_need": 3}, weights) == 100.0
    assert combined_index({"disease_severity": 3}, {"declared_need": 0}, weights) == 50.0
