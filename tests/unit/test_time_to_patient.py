"""Time to patient: each day from submission to the first patient counted for whoever held
the file (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reports.time_to_patient import (
    TariffWait,
    holder_distributions,
    ready_at,
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
        "region": 0,
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


# --- The regional tariff ----------------------------------------------------------------------


def _bought(published, *, tariff=None, first_use_day=80):
    """Procurement from day 50 after publication, first patient on `first_use_day`."""
    stages, _ = visits(*HISTORY)
    return time_to_patient(
        request_segments(stages, published),
        published,
        procurement_started_at=published + timedelta(days=50),
        first_use_at=published + timedelta(days=first_use_day) if first_use_day else None,
        now=published + timedelta(days=400),
        tariff=tariff,
    )


def test_the_days_waiting_for_a_tariff_after_the_award_are_the_regions():
    _, published = visits(*HISTORY)
    without = _bought(published, first_use_day=120)
    # Awarded on day 60, tariff requested on day 40, decided on day 100, first patient 120.
    waiting = _bought(
        published,
        first_use_day=120,
        tariff=TariffWait(
            ready_at=published + timedelta(days=60),
            requested_at=published + timedelta(days=40),
            decided_at=published + timedelta(days=100),
        ),
    )
    days = waiting.days_by_holder()
    assert days["region"] == 40
    assert days["procurement"] == 70 - 40  # 50..60 and 100..120
    assert days["irccs"] == 50
    assert waiting.total_days == without.total_days  # nothing counted twice, nothing lost


def test_the_region_counts_from_the_request_when_asked_after_the_irccs_was_ready():
    _, published = visits(*HISTORY)
    late_request = TariffWait(
        ready_at=published + timedelta(days=60),
        requested_at=published + timedelta(days=70),
        decided_at=None,  # still pending: up to the end of the path (now)
    )
    days = _bought(published, tariff=late_request, first_use_day=None).days_by_holder()
    assert days["region"] == 400 - 70
    assert days["procurement"] == 20


def test_a_tariff_decided_before_the_irccs_was_ready_or_never_ready_gives_the_region_nothing():
    _, published = visits(*HISTORY)
    early = TariffWait(published + timedelta(days=60), published, published + timedelta(days=30))
    not_ready = TariffWait(None, published, None)
    for tariff in (early, not_ready):
        assert _bought(published, tariff=tariff).days_by_holder()["region"] == 0


def test_ready_means_awarded_when_buying_and_approved_otherwise():
    approved = T0 + timedelta(days=3)
    assert ready_at(approved, None, None) == approved
    assert ready_at(approved, T0 + timedelta(days=5), None) is None  # tender not awarded
    awarded = ready_at(approved, T0, date(2025, 3, 1))
    assert awarded == datetime(2025, 3, 1, 11, tzinfo=UTC)  # midday in Rome (CET)


DAY = st.integers(min_value=0, max_value=500)


@given(
    procurement=st.one_of(st.none(), DAY),
    first_use=st.one_of(st.none(), DAY),
    ready=st.one_of(st.none(), DAY),
    requested=DAY,
    decided=st.one_of(st.none(), DAY),
)
def test_the_holders_days_always_sum_to_the_path(procurement, first_use, ready, requested, decided):
    """Whatever the moments, the region's days come out of the IRCCS's side: every holder's
    days are >= 0 and sum to the path from submission to first use (or now)."""
    stages, published = visits(*HISTORY)
    before = request_segments(stages, published)

    def at(day):
        return None if day is None else published + timedelta(days=day)

    now = published + timedelta(days=600)
    plain = time_to_patient(before, published, at(procurement), at(first_use), now)
    tariff = TariffWait(at(ready), at(requested), at(decided))
    path = time_to_patient(before, published, at(procurement), at(first_use), now, tariff)
    days = path.days_by_holder()
    assert all(value >= 0 for value in days.values())
    assert sum(days.values()) == pytest.approx(plain.total_days)
    end = at(first_use) or now
    assert plain.total_days == pytest.approx(216 + (end - published).total_seconds() / 86400)
    # Before the recommendation nothing moves.
    for holder in ("manufacturer", "agency", "regional_body", "committee"):
        assert days[holder] == plain.days_by_holder()[holder]
