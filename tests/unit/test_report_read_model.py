"""What a stage visit keeps once left (`left_stage`, kept by `StageRecord` itself), and the
rank arithmetic the timing report uses to read exact percentiles from a histogram."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.deadlines import LeftStage, left_stage
from app.models import StageRecord
from app.reports import stats

ENTERED = datetime(2025, 3, 1, 10, 0, 0, 250_000, tzinfo=UTC)


def test_a_left_visit_keeps_its_days_their_floor_and_lateness():
    left = ENTERED + timedelta(days=12, hours=6)
    kept = left_stage(ENTERED, left, ENTERED + timedelta(days=10))
    assert kept == LeftStage(12.25, 12, True)
    assert left_stage(ENTERED, left, left).late is False  # leaving at the due moment is on time
    assert left_stage(ENTERED, left, None).late is None  # no due date: neither late nor not


def test_an_open_visit_keeps_nothing():
    assert left_stage(ENTERED, None, ENTERED + timedelta(days=1)) == LeftStage()
    assert left_stage(None, ENTERED, None) == LeftStage()


def test_the_bucket_is_the_floor_even_below_zero():
    """Bad data (left before entered) still sorts: -0.5 days is in bucket -1, not 0."""
    assert left_stage(ENTERED, ENTERED - timedelta(hours=12), None).whole_days == -1
    assert left_stage(ENTERED, ENTERED + timedelta(days=3), None).whole_days == 3


def test_the_stage_record_keeps_them_in_step_with_its_moments():
    stage = StageRecord(
        left_at=ENTERED + timedelta(days=2.5),  # before entered_at: the order does not matter
        state="assessment",
        entered_at=ENTERED,
        due_at=ENTERED + timedelta(days=1),
    )
    assert (stage.gross_days, stage.gross_whole_days, stage.left_late) == (2.5, 2, True)
    stage.due_at = ENTERED + timedelta(days=5)
    assert stage.left_late is False
    stage.left_at = None  # reopened
    assert (stage.gross_days, stage.gross_whole_days, stage.left_late) == (None, None, None)
    stage.left_at = ENTERED + timedelta(hours=6)
    assert (stage.gross_days, stage.gross_whole_days) == (0.25, 0)


@pytest.mark.parametrize("count", [0, 1, 2, 3, 10, 11, 101])
def test_the_ranks_needed_are_those_the_percentiles_read(count):
    needed = set(stats.ranks_needed(count))
    read = set()
    for fraction in stats.PERCENTILES:
        recorder = _Recorder()
        if count:
            stats.percentile_from_ranks(recorder, count, fraction)
        read |= recorder.read
    assert needed == read


class _Recorder(dict):
    """A mapping of rank -> value that remembers which ranks were read."""

    def __init__(self):
        super().__init__()
        self.read: set[int] = set()

    def __getitem__(self, rank):
        self.read.add(rank)
        return float(rank)


def test_ranks_are_located_in_their_buckets():
    counts = [(-1, 1), (0, 3), (4, 2), (9, 4)]  # ten values
    assert stats.locate_ranks(counts, [0, 1, 3, 4, 5, 9]) == {
        -1: {0: 0},
        0: {0: 1, 2: 3},
        4: {0: 4, 1: 5},
        9: {3: 9},
    }
    with pytest.raises(ValueError):
        stats.locate_ranks(counts, [10])


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_from_buckets_are_the_percentiles_of_every_value(seed):
    rng = random.Random(seed)
    values = [rng.choice([rng.uniform(-2, 60), float(rng.randint(0, 20))]) for _ in range(97)]
    buckets: dict[int, list[float]] = {}
    for value in values:
        buckets.setdefault(int(value // 1), []).append(value)
    counts = sorted((bucket, len(items)) for bucket, items in buckets.items())
    located = stats.locate_ranks(counts, stats.ranks_needed(len(values)))
    by_rank = {
        rank: sorted(buckets[bucket])[position]
        for bucket, positions in located.items()
        for position, rank in positions.items()
    }
    expected = stats.distribution(values)
    for fraction, name in zip(stats.PERCENTILES, ("median", "p75", "p90"), strict=True):
        found = stats.percentile_from_ranks(by_rank, len(values), fraction)
        assert found == pytest.approx(getattr(expected, name), abs=1e-12)
