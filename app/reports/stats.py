"""The one definition of the report statistics (pure).

Percentiles use linear interpolation between the closest ranks, exactly like PostgreSQL's
`percentile_cont` (and Python's `statistics.quantiles(method="inclusive")`): for n sorted values
v[0..n-1] and a fraction p, h = p * (n - 1), and the percentile is
v[floor(h)] + (h - floor(h)) * (v[floor(h) + 1] - v[floor(h)]).

SQLite has no percentile function, so the queries return only the few ranks each percentile
needs (row_number/count window functions) and `percentile_from_ranks` finishes the job; on
PostgreSQL `percentile_cont` computes the same number.

For values kept with a bucket (the value rounded down, in an index), the ranks are found
without sorting every value: a histogram of counts per bucket says which bucket holds each
rank the percentiles need (`ranks_needed`, `locate_ranks`), and only those buckets are sorted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PERCENTILES: tuple[float, ...] = (0.5, 0.75, 0.9)


@dataclass(frozen=True)
class Distribution:
    """Count, mean and percentiles of a set of day counts (None when the set is empty)."""

    count: int = 0
    mean: float | None = None
    median: float | None = None
    p75: float | None = None
    p90: float | None = None

    @classmethod
    def from_percentiles(cls, count: int, mean: float | None, values: Sequence) -> Distribution:
        median, p75, p90 = (float(v) if v is not None else None for v in values)
        return cls(count, float(mean) if mean is not None else None, median, p75, p90)

    def scaled(self, factor: float) -> Distribution:
        """The same distribution with every value multiplied by `factor` (0 for clock stops)."""
        if not self.count:
            return self

        def scale(value: float | None) -> float | None:
            return None if value is None else value * factor

        return Distribution(
            self.count, scale(self.mean), scale(self.median), scale(self.p75), scale(self.p90)
        )


EMPTY = Distribution()


def rank_position(count: int, fraction: float) -> tuple[int, float]:
    """(0-based index of the lower rank, interpolation weight of the upper one)."""
    h = fraction * (count - 1)
    low = math.floor(h)
    return low, h - low


def percentile_from_ranks(values_by_index: Mapping[int, float], count: int, fraction: float):
    """The percentile from the values at (at least) the two ranks it needs; None if count is 0."""
    if count <= 0:
        return None
    low, weight = rank_position(count, fraction)
    lower = float(values_by_index[low])
    if weight == 0 or low + 1 >= count:
        return lower
    upper = float(values_by_index[low + 1])
    return lower + weight * (upper - lower)


def ranks_needed(count: int) -> list[int]:
    """The 0-based ranks whose values the percentiles of `count` sorted values need."""
    ranks = set()
    for fraction in PERCENTILES if count > 0 else ():
        low, weight = rank_position(count, fraction)
        ranks.add(low)
        if weight and low + 1 < count:
            ranks.add(low + 1)
    return sorted(ranks)


def locate_ranks(
    counts: Sequence[tuple[int, int]], ranks: Sequence[int]
) -> dict[int, dict[int, int]]:
    """Where sorted ranks fall in a histogram: {bucket: {position in the bucket: rank}}.

    `counts` are (bucket, count) pairs in ascending bucket order, every value of a bucket being
    below every value of the next one; positions and ranks are 0-based."""
    located: dict[int, dict[int, int]] = {}
    pending = iter(sorted(ranks))
    rank = next(pending, None)
    before = 0
    for bucket, count in counts:
        while rank is not None and rank < before + count:
            located.setdefault(bucket, {})[rank - before] = rank
            rank = next(pending, None)
        before += count
    if rank is not None:
        raise ValueError(f"rank {rank} is beyond the {before} values counted")
    return located


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Reference implementation over a sorted list (tests and small in-memory sets)."""
    return percentile_from_ranks(dict(enumerate(sorted_values)), len(sorted_values), fraction)


def distribution(values: Sequence[float]) -> Distribution:
    """Distribution of an in-memory list (the reference the SQL paths are tested against)."""
    ordered = sorted(values)
    if not ordered:
        return EMPTY
    mean = sum(ordered) / len(ordered)
    return Distribution.from_percentiles(
        len(ordered), mean, [percentile(ordered, p) for p in PERCENTILES]
    )


def share(part: int | None, whole: int | None) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    if not whole:
        return None
    return (part or 0) / whole
