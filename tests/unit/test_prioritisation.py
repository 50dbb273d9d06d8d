"""The priority index (weighted mean of the 0-3 scores, normalised to 0-100), the ranking, and
the Core Model checklist rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.core_model import DOMAINS, EU_JCA_DOMAINS, domains_not_started, progress
from app.domain.permissions import COI_CLEARED, COI_EXCLUDED, COI_MISSING, coi_status
from app.domain.prioritisation import (
    CRITERIA,
    DEFAULT_WEIGHT,
    effective_weights,
    is_valid_score,
    priority_index,
    rank,
)

EQUAL: dict = {}


def test_there_are_twelve_criteria_with_equal_default_weights():
    assert len(CRITERIA) == 12
    assert set(effective_weights({}).values()) == {DEFAULT_WEIGHT}


def test_top_scores_everywhere_make_100_and_zero_scores_make_0():
    assert priority_index(dict.fromkeys(CRITERIA, 3), EQUAL) == 100.0
    assert priority_index(dict.fromkeys(CRITERIA, 0), EQUAL) == 0.0


def test_with_equal_weights_the_index_is_the_plain_mean_over_3():
    scores = {"disease_severity": 3, "unmet_need": 1, "budget_impact": 2}
    # mean 2 of a top score of 3
    assert priority_index(scores, EQUAL) == pytest.approx(66.7)


def test_weights_pull_the_index_towards_the_heavier_criteria():
    scores = {"disease_severity": 3, "budget_impact": 0}
    assert priority_index(scores, EQUAL) == 50.0
    # 100 * (3*3 + 1*0) / (3 * (3 + 1)) = 75
    assert priority_index(scores, {"disease_severity": 3}) == 75.0
    assert priority_index(scores, {"budget_impact": Decimal("3")}) == 25.0


def test_criteria_not_scored_or_weighted_zero_are_left_out():
    assert priority_index({"unmet_need": 3}, EQUAL) == 100.0
    assert priority_index({"unmet_need": 3, "plan_fit": 0}, {"plan_fit": 0}) == 100.0


def test_no_scored_criterion_of_positive_weight_means_no_index():
    assert priority_index({}, EQUAL) is None
    assert priority_index({"plan_fit": 3}, {"plan_fit": 0}) is None


def test_unknown_criteria_are_ignored():
    assert priority_index({"charm": 3, "unmet_need": 0}, EQUAL) == 0.0


@given(
    st.dictionaries(st.sampled_from(CRITERIA), st.integers(0, 3), min_size=1),
    st.dictionaries(st.sampled_from(CRITERIA), st.integers(1, 100)),
)
def test_the_index_stays_between_0_and_100_and_never_falls_when_a_score_rises(scores, weights):
    # The index is rounded to one decimal, so a point on a criterion of tiny weight next to
    # heavy ones may not show: the rounded index never falls, and it rises with equal weights.
    index = priority_index(scores, weights)
    assert 0 <= index <= 100
    criterion = next(c for c, s in scores.items() if s < 3) if min(scores.values()) < 3 else None
    if criterion is not None:
        raised = scores | {criterion: scores[criterion] + 1}
        assert priority_index(raised, weights) >= index
        assert priority_index(raised, EQUAL) > priority_index(scores, EQUAL)


def test_scores_are_whole_numbers_from_0_to_3():
    assert all(is_valid_score(s) for s in (0, 1, 2, 3))
    assert not any(is_valid_score(s) for s in (-1, 4, 1.5, "2", True, None))


def test_the_ranking_puts_the_best_first_and_the_unscored_last():
    ranked = rank([("a", 40.0), ("b", None), ("c", 90.0), ("d", 40.0)])
    assert [r.item for r in ranked] == ["c", "a", "d", "b"]
    assert [r.position for r in ranked] == [1, 2, 2, None]


def test_equal_indexes_follow_the_tie_break():
    ranked = rank([("late", 50.0), ("early", 50.0)], tie_break=lambda item: item != "early")
    assert [r.item for r in ranked] == ["early", "late"]


# --- The Core Model checklist ------------------------------------------------------------------


def test_nine_domains_of_which_four_are_the_eu_joint_clinical_assessment():
    assert len(DOMAINS) == 9
    assert set(DOMAINS[:4]) == EU_JCA_DOMAINS
    assert "clinical_effectiveness" in EU_JCA_DOMAINS
    assert "costs_economic_evaluation" not in EU_JCA_DOMAINS


def test_a_domain_without_a_row_is_not_started():
    statuses = {d: "done" for d in DOMAINS if d != "legal"} | {"ethical": "not_started"}
    assert domains_not_started(statuses) == ["ethical", "legal"]
    assert domains_not_started(dict.fromkeys(DOMAINS, "not_applicable")) == []
    assert progress({"safety": "done", "legal": "not_applicable", "ethical": "in_progress"}) == (
        2,
        9,
    )


# --- Conflict-of-interest status ---------------------------------------------------------------


class Declaration:
    def __init__(self, has_conflict, overridden_at=None):
        self.has_conflict = has_conflict
        self.overridden_at = overridden_at


def test_missing_none_conflict_and_override_are_four_different_things():
    assert coi_status(None) == COI_MISSING
    assert coi_status(Declaration(False)) == COI_CLEARED
    assert coi_status(Declaration(True)) == COI_EXCLUDED
    assert coi_status(Declaration(True, overridden_at="2026-03-02")) == COI_CLEARED
