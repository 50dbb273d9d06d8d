"""Prioritisation: the 12 scored criteria and the derived one, their 0-3 scores, the index.

The agency scores a request against each criterion (DOMAIN.md "Prioritisation criteria") from
0 (none) to 3 (high), with a written justification; the administrator weights the criteria
(equal by default). The priority index summarises the scores in one number from 0 to 100:

    index = 100 * sum(w_c * s_c for c in S) / (3 * sum(w_c for c in S))

where S is the set of criteria scored so far, s_c the score (0..3) and w_c >= 0 the weight
of criterion c. It is the weighted mean of the scores, divided by the top score 3 so that
"every criterion scored 3" is 100 and "every criterion scored 0" is 0. Criteria not scored yet
are left out (the page shows how many are scored), and so are criteria weighted 0. A request
with no scored criterion of positive weight has no index (None): it ranks after every scored
one. Pure functions: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from app.workflow.facts import REQUEST, states_where

CRITERIA: tuple[str, ...] = (
    "disease_severity",
    "population_size",
    "unmet_need",
    "clinical_benefit",
    "safety_gain",
    "patient_reported_gain",
    "evidence_quality",
    "organisational_impact",
    "budget_impact",
    "inappropriate_use_risk",
    "degree_of_innovation",
    "plan_fit",
)
# Criteria filled from the data rather than scored by hand ("declared need": the IRCCS and
# patients behind the needs the request is linked to, `app.domain.needs`). They are weighted
# like the others and always count (0 when nothing is declared).
DERIVED_CRITERIA: tuple[str, ...] = ("declared_need",)
WEIGHTED_CRITERIA: tuple[str, ...] = CRITERIA + DERIVED_CRITERIA

SCORE_MIN = 0
SCORE_MAX = 3
SCORES: tuple[int, ...] = tuple(range(SCORE_MIN, SCORE_MAX + 1))

DEFAULT_WEIGHT = Decimal("1")
MAX_WEIGHT = Decimal("100")

# States whose requests are ranked (and may be scored).
RANKED_STATES: tuple[str, ...] = states_where(workflow=REQUEST, ranked=True)
# The decisions that end a prioritisation round; each needs its reasons written down.
DECISION_TRIGGERS: tuple[str, ...] = ("prioritise", "defer", "not_prioritise", "route")

Number = int | float | Decimal


def effective_weights(stored: Mapping[str, Number]) -> dict[str, Decimal]:
    """The weight of every criterion: the stored one, else the default (equal weights)."""
    return {c: Decimal(str(stored.get(c, DEFAULT_WEIGHT))) for c in WEIGHTED_CRITERIA}


def priority_index(scores: Mapping[str, int], weights: Mapping[str, Number]) -> float | None:
    """The weighted mean of the scores normalised to 0-100 (see the module docstring), rounded
    to one decimal; None when no criterion of positive weight is scored.

    Unknown criteria in `scores` are ignored; a missing weight counts as the default."""
    full = effective_weights(weights)
    numerator = Decimal(0)
    denominator = Decimal(0)
    for criterion, score in scores.items():
        weight = full.get(criterion)
        if weight is None or weight <= 0 or score is None:
            continue
        numerator += weight * Decimal(int(score))
        denominator += weight * SCORE_MAX
    if denominator == 0:
        return None
    return float(round(Decimal(100) * numerator / denominator, 1))


def combined_index(
    scored: Mapping[str, int], derived: Mapping[str, int], weights: Mapping[str, Number]
) -> float | None:
    """The index over the agency's scores and the derived criteria. A request nobody has
    scored yet has no index (it waits, unscored, at the end of the ranking): the derived
    criteria join the index with the first score given by hand."""
    if not any(c in CRITERIA for c in scored):
        return None
    return priority_index({**scored, **derived}, weights)


def is_valid_score(value: object) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return SCORE_MIN <= value <= SCORE_MAX


def is_valid_weight(value: Number) -> bool:
    return Decimal(0) <= Decimal(str(value)) <= MAX_WEIGHT


T = TypeVar("T")


@dataclass(frozen=True)
class Ranked(Generic[T]):
    """One request in the ranking: its position (1-based; None when it has no index)."""

    item: T
    index: float | None
    position: int | None


def rank(items: Iterable[tuple[T, float | None]], tie_break=None) -> list[Ranked[T]]:
    """Order (item, index) pairs by index, highest first; items without an index come last.

    `tie_break(item)` orders equal indexes (e.g. the submission time: first come, first
    served); the order of the input is kept otherwise. Equal indexes share a position."""
    pairs = list(items)
    key_tb = tie_break or (lambda _item: 0)
    ordered = sorted(pairs, key=lambda p: (p[1] is None, -(p[1] or 0.0), key_tb(p[0])))
    ranked: list[Ranked[T]] = []
    previous: float | None = None
    position = 0
    for count, (item, index) in enumerate(ordered, start=1):
        if index is None:
            ranked.append(Ranked(item, None, None))
            continue
        if index != previous:
            position = count
            previous = index
        ranked.append(Ranked(item, index, position))
    return ranked
