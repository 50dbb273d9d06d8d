"""Time to patient: each day from submission to the first patient counted for whoever held
the file (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.reports.time_to_patient import (
    holder_distributions,
    request_segments,
    time_to_patient,
)

T0 = datetime(2025, 1, 1, 9, tzinfo=UTC)


@dataclass
class Visit:
    state: str
    entered_at: datetime
    left_at: datetime | None
    clock_stopped: bool = False


def visits(*steps):
    """[(state, days, clock_stopped)] one after the other from T0; the last one open."""
    moment, out = T0, []
    for state, days, stopped in steps:
        left = None if days is None else moment + timedelta(days=days)
        out.append(Visit(state, moment, left, stopped))
        moment = left or moment
    return out, moment


HISTORY = (
    ("draft", 40, False),  # before submission: not counted
    ("intake_review", 10, False),
    ("incomplete", 5, True),
    ("intake_review", 3, False),
    ("prioritisation", 20, False),
    ("assignment", 4, False),
    ("assessment", 60, False),
    ("information_requested", 15, True),
    ("assessment", 30, False),
    # The manufacturer returns its comments after 8 days; the assessor finalises in 6: the
    # hand-back splits the visit and the assessor's days are the body's, not the maker's.
    ("factual_accuracy_check", 8, True),
    ("factual_accuracy_check", 6, False),
    ("appraisal", 25, False),
    ("consultation", 30, False),
    ("adoption_monitoring", None, False),
)


def test_each_day_is_counted_for_whoever_held_the_file():
    stages, published = visits(*HISTORY)
    before = request_segments(stages, published)
    decided_and_bought = time_to_patient(
        before,
        published,
        procurement_started_at=published + timedelta(days=50),
        first_use_at=published + timedelta(days=80),
        now=published + timedelta(days=400),
    )
    assert decided_and_bought.days_by_holder() == {
        "manufacturer": 5 + 15 + 8,
        "agency": 10 + 3 + 20,
        "regional_body": 4 + 60 + 30 + 6,
        "committee": 25 + 30,
        "irccs": 50,
        "procurement": 30,
    }
    assert decided_and_bought.reached_patient
    assert decided_and_bought.total_days == 216 + 80


def test_an_irccs_still_on_its_way_counts_up_to_now_and_stays_out_of_the_medians():
    stages, published = visits(*HISTORY)
    before = request_segments(stages, published)
    waiting = time_to_patient(before, published, None, None, now=published + timedelta(days=9))
    assert waiting.days_by_holder()["irccs"] == 9 and not waiting.reached_patient
    used = time_to_patient(
        before, published, None, published + timedelta(days=20), published + timedelta(days=99)
    )
    other = time_to_patient(
        before,
        published,
        published + timedelta(days=10),
        published + timedelta(days=40),
        published + timedelta(days=99),
    )
    spreads = holder_distributions([waiting, used, other])
    assert spreads["irccs"].count == 2 and spreads["irccs"].median == pytest.approx(15)
    assert spreads["procurement"].median == pytest.approx(15)  # 0 and 30
    assert spreads["procurement"].p90 == pytest.approx(27)


def test_a_procurement_dated_before_the_publication_starts_at_the_publication():
    stages, published = visits(*HISTORY)
    path = time_to_patient(
        request_segments(stages, published),
        published,
        published - timedelta(days=5),
        published + timedelta(days=12),
        published + timedelta(days=30),
    )
    days = path.days_by_holder()
    assert (days["irccs"], days["procurement"]) == (0, 12)
