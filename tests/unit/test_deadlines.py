"""Deadlines (pure): due dates in calendar and working days (Italian holidays), the end-of-day
rule in Europe/Rome, gross and net days across clock stops, late and near-due stages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.deadlines import (
    DEFAULT_DEADLINES,
    ROME,
    DeadlineRule,
    add_working_days,
    continued_due_at,
    due_at,
    end_of_day,
    is_working_day,
    stage_timing,
    total_days,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rome(*args) -> datetime:
    return datetime(*args, tzinfo=ROME)


# --- Calendar days and the end-of-day rule ----------------------------------------------------


def test_calendar_days_end_at_midnight_in_rome():
    due = due_at(DeadlineRule(15), utc(2026, 3, 1, 10, 0))
    assert due == rome(2026, 3, 16, 23, 59, 59)
    assert due.tzinfo == UTC  # stored in UTC: 22:59:59 in winter
    assert due == utc(2026, 3, 16, 22, 59, 59)


def test_the_entry_day_is_the_day_in_rome_not_in_utc():
    # 23:30 UTC on 1 March is already 2 March in Rome.
    assert due_at(DeadlineRule(15), utc(2026, 3, 1, 23, 30)) == rome(2026, 3, 17, 23, 59, 59)


def test_summer_time_is_handled():
    due = due_at(DeadlineRule(30), utc(2026, 6, 1, 8, 0))
    assert due == rome(2026, 7, 1, 23, 59, 59)
    assert due == utc(2026, 7, 1, 21, 59, 59)


def test_no_rule_or_no_days_means_no_deadline():
    assert due_at(None, utc(2026, 3, 1)) is None
    assert due_at(DeadlineRule(None), utc(2026, 3, 1)) is None


def test_end_of_day_is_the_last_second_in_rome():
    assert end_of_day(date(2026, 12, 31)).astimezone(ROME) == rome(2026, 12, 31, 23, 59, 59)


def test_default_deadlines_follow_the_domain_anchors():
    assert DEFAULT_DEADLINES["intake_review"] == DeadlineRule(15)
    assert DEFAULT_DEADLINES["factual_accuracy_check"] == DeadlineRule(10, working_days=True)
    assert DEFAULT_DEADLINES["adoption_monitoring"].days == 3 * 365


# --- Working days and Italian public holidays -------------------------------------------------


@pytest.mark.parametrize(
    ("holiday", "name"),
    [
        (date(2025, 4, 21), "Easter Monday"),
        (date(2025, 4, 25), "Liberation Day"),
        (date(2025, 5, 1), "Labour Day"),
        (date(2025, 6, 2), "Republic Day"),
        (date(2025, 8, 15), "Ferragosto"),
        (date(2025, 12, 8), "Immaculate Conception"),
        (date(2025, 12, 25), "Christmas"),
        (date(2025, 12, 26), "St Stephen"),
        (date(2026, 1, 6), "Epiphany"),
    ],
)
def test_italian_public_holidays_are_not_working_days(holiday, name):
    assert holiday.weekday() < 5, f"{name} should fall on a weekday for this test"
    assert not is_working_day(holiday)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2025, 4, 18), date(2025, 4, 22)),  # Fri -> weekend, Easter Monday -> Tue
        (date(2025, 4, 24), date(2025, 4, 28)),  # Thu -> 25 April, weekend -> Mon
        (date(2025, 4, 30), date(2025, 5, 2)),  # Wed -> 1 May -> Fri
        (date(2025, 5, 30), date(2025, 6, 3)),  # Fri -> weekend, 2 June -> Tue
        (date(2025, 8, 14), date(2025, 8, 18)),  # Thu -> Ferragosto, weekend -> Mon
        (date(2025, 12, 5), date(2025, 12, 9)),  # Fri -> weekend, 8 Dec -> Tue
        (date(2025, 12, 24), date(2025, 12, 29)),  # Wed -> Christmas, St Stephen, weekend
    ],
)
def test_the_next_working_day_skips_weekends_and_holidays(start, expected):
    assert add_working_days(start, 1) == expected


def test_ten_working_days_across_25_april_and_1_may():
    # Tue 22 April 2025: 23, 24, 28, 29, 30 April, 2, 5, 6, 7, 8 May.
    assert add_working_days(date(2025, 4, 22), 10) == date(2025, 5, 8)


def test_a_working_day_rule_gives_the_end_of_the_due_day():
    rule = DeadlineRule(10, working_days=True)
    assert due_at(rule, rome(2025, 4, 22, 15, 0)) == rome(2025, 5, 8, 23, 59, 59)


def test_entering_on_a_holiday_counts_from_the_next_working_day():
    assert add_working_days(date(2025, 12, 25), 1) == date(2025, 12, 29)


# --- Gross and net days, late and near due ----------------------------------------------------


def test_gross_and_net_days_of_an_agency_stage():
    timing = stage_timing(
        "assessment", utc(2026, 3, 1), utc(2026, 3, 11, 12), utc(2026, 6, 1), utc(2026, 9, 1)
    )
    assert (timing.gross_days, timing.net_days) == (10.5, 10.5)
    assert not timing.late


def test_a_clock_stop_stage_counts_zero_net_days():
    timing = stage_timing(
        "information_requested", utc(2026, 3, 1), utc(2026, 3, 21), None, utc(2026, 9, 1)
    )
    assert (timing.gross_days, timing.net_days) == (20.0, 0.0)


def test_an_open_stage_runs_until_now():
    timing = stage_timing("appraisal", utc(2026, 3, 1), None, None, utc(2026, 3, 4))
    assert timing.gross_days == 3.0


def test_totals_across_clock_stops():
    stages = [
        ("intake_review", utc(2026, 3, 1), utc(2026, 3, 11)),  # 10 agency days
        ("incomplete", utc(2026, 3, 11), utc(2026, 3, 31)),  # 20 manufacturer days
        ("intake_review", utc(2026, 3, 31), utc(2026, 4, 5)),  # 5 agency days
        ("assessment", utc(2026, 4, 5), utc(2026, 4, 15)),  # 10 agency days
        ("information_requested", utc(2026, 4, 15), utc(2026, 5, 15)),  # 30 stopped
        ("assessment", utc(2026, 5, 15), None),  # open: 5 days until now
    ]
    assert total_days(stages, utc(2026, 5, 20)) == (80.0, 30.0)


def test_a_stage_left_after_its_due_date_was_late():
    due = utc(2026, 3, 16, 22, 59, 59)
    late = stage_timing("intake_review", utc(2026, 3, 1), due + timedelta(seconds=1), due, due)
    assert late.late
    on_time = stage_timing("intake_review", utc(2026, 3, 1), due, due, due + timedelta(days=9))
    assert not on_time.late


def test_an_open_stage_is_late_once_now_passes_the_due_date():
    due = utc(2026, 3, 16, 22, 59, 59)
    timing = stage_timing("intake_review", utc(2026, 3, 1), None, due, due + timedelta(days=2))
    assert timing.late
    assert timing.days_late == 2.0
    assert not timing.near_due


def test_near_due_is_the_last_fifth_of_the_allowed_time():
    entered = utc(2026, 3, 1)
    due = entered + timedelta(days=10)
    just_before = stage_timing("appraisal", entered, None, due, entered + timedelta(days=7.9))
    inside = stage_timing("appraisal", entered, None, due, entered + timedelta(days=8))
    assert not just_before.near_due
    assert inside.near_due and not inside.late
    closed = stage_timing("appraisal", entered, entered + timedelta(days=9), due, entered)
    assert not closed.near_due


def test_a_resumed_stage_keeps_the_time_that_was_left():
    due = utc(2026, 6, 1)
    left = utc(2026, 5, 1)  # 31 days were left
    assert continued_due_at(due, left, utc(2026, 7, 1)) == utc(2026, 8, 1)
    assert continued_due_at(None, left, utc(2026, 7, 1)) is None
