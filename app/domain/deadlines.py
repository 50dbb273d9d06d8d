"""Deadlines and clock stops (pure). Everything takes `now`; nothing reads the wall clock.

The rule for due dates, in one place:

* A stage entered at moment T (any time of day) with a deadline of N **calendar days** is due
  on the Europe/Rome calendar day `date(T) + N`, at 23:59:59 Europe/Rome (stored in UTC).
  Entered on 1 March at 10:00 with 15 days: due 16 March, 23:59:59 in Rome.
* With N **working days** the entry day does not count; each following day counts when it is
  neither a Saturday, a Sunday nor an Italian national public holiday (`holidays` package:
  1 and 6 January, Easter Monday, 25 April, 1 May, 2 June, 15 August, 1 November,
  8 December, 25 and 26 December, and whatever the law adds). The Nth such day is the due day.
* A stage is **late** when it was left (or, still open, `now` is) after its `due_at`.
* A stage is **near due** while open, not late, and in the last 20% of its allowed time.
* **Gross** days: the stage's elapsed calendar time. **Net** (agency) days: the same, except
  that time in a clock-stop state (the manufacturer's time) counts zero. A clock-stop visit
  whose clock was handed back (the manufacturer returned its factual-accuracy comments: the
  rest of the stage is the assessor's) is recorded with `clock_stopped` False and counts in
  net days (`on_manufacturer_clock`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from app.workflow.states import CLOCK_STOP_STATES

ROME = ZoneInfo("Europe/Rome")
END_OF_DAY = time(23, 59, 59)
NEAR_DUE_SHARE = 0.2
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class DeadlineRule:
    days: int | None
    working_days: bool = False


# Defaults from DOMAIN.md; the admin can change them (DeadlineSetting rows override these).
DEFAULT_DEADLINES: dict[str, DeadlineRule] = {
    "intake_review": DeadlineRule(15),
    "incomplete": DeadlineRule(30),
    "prioritisation": DeadlineRule(90),
    "assignment": DeadlineRule(15),
    "assessment": DeadlineRule(90),
    "information_requested": DeadlineRule(30),
    "factual_accuracy_check": DeadlineRule(10, working_days=True),
    "appraisal": DeadlineRule(30),
    "consultation": DeadlineRule(30),
    "adoption_monitoring": DeadlineRule(3 * 365),
    "reassessment_due": DeadlineRule(30),
    # A region's decision on the tariff of a recommended device, from the request.
    "regional_tariff": DeadlineRule(90),
}


# Minimum periods: a stage that must last at least this many calendar days before it may be
# left (the public consultation: comments stay open for at least 30 days, NICE's 4 weeks).
# The admin can change them on the deadlines page; 0 means no minimum.
DEFAULT_MINIMUM_DAYS: dict[str, int] = {"consultation": 30}


def earliest_leaving(entered_at: datetime, minimum_days: int | None) -> datetime | None:
    """The first moment a stage entered at `entered_at` may be left under a minimum of
    `minimum_days` calendar days: the start (00:00 Europe/Rome) of the day `minimum_days` after
    the day it was entered. Opened on 1 March at 10:00 with 30 days: from 31 March, 00:00 in
    Rome (comments were open all of 1 to 30 March). None: no minimum."""
    if not minimum_days:
        return None
    day = rome_date(entered_at) + timedelta(days=minimum_days)
    return datetime.combine(day, time(0, 0), tzinfo=ROME).astimezone(UTC)


# --- Calendar -----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def italian_holidays(year: int) -> frozenset[date]:
    """Italian national public holidays of `year` (cached: building the table is slow)."""
    return frozenset(holidays.country_holidays("IT", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in italian_holidays(day.year)


def add_working_days(start: date, count: int) -> date:
    """The `count`th working day after `start` (`start` itself never counts)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def rome_date(moment: datetime) -> date:
    """The Europe/Rome calendar day of an aware moment."""
    return moment.astimezone(ROME).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Europe/Rome on `day`, as an aware UTC datetime."""
    return datetime.combine(day, END_OF_DAY, tzinfo=ROME).astimezone(UTC)


def due_day(rule: DeadlineRule, entered_at: datetime) -> date | None:
    if rule.days is None:
        return None
    start = rome_date(entered_at)
    if rule.working_days:
        return add_working_days(start, rule.days)
    return start + timedelta(days=rule.days)


def due_at(rule: DeadlineRule | None, entered_at: datetime) -> datetime | None:
    """When a stage entered at `entered_at` under `rule` is due (None: no deadline)."""
    if rule is None:
        return None
    day = due_day(rule, entered_at)
    return end_of_day(day) if day is not None else None


def continued_due_at(
    previous_due_at: datetime | None, previous_left_at: datetime | None, now: datetime
) -> datetime | None:
    """Due date of a stage resumed after a pause (clock stop or suspension): the time that was
    left when the stage was interrupted, counted again from `now` (negative if it was late)."""
    if previous_due_at is None or previous_left_at is None:
        return None
    return now + (previous_due_at - previous_left_at)


# --- Stage timing ---------------------------------------------------------------------------


def days_between(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / SECONDS_PER_DAY


@dataclass(frozen=True)
class StageTiming:
    gross_days: float
    net_days: float
    late: bool
    near_due: bool
    days_late: float


def on_manufacturer_clock(state: str, clock_stopped: bool | None = None) -> bool:
    """Whether a visit of `state` is the manufacturer's time: a clock-stop state, unless the
    visit was recorded as running on the agency side's clock (`clock_stopped` False: the
    manufacturer handed the stage back). None (not recorded): the state decides."""
    return state in CLOCK_STOP_STATES and clock_stopped is not False


def stage_timing(
    state: str,
    entered_at: datetime,
    left_at: datetime | None,
    due: datetime | None,
    now: datetime,
    clock_stopped: bool | None = None,
) -> StageTiming:
    """Gross and net days of one stage visit, and whether it is (or was) late or near due."""
    end = left_at or now
    gross = days_between(entered_at, end)
    net = 0.0 if on_manufacturer_clock(state, clock_stopped) else gross
    late = due is not None and end > due
    near = (
        left_at is None
        and due is not None
        and not late
        and now >= due - (due - entered_at) * NEAR_DUE_SHARE
    )
    days_late = days_between(due, end) if late and due is not None else 0.0
    return StageTiming(round(gross, 1), round(net, 1), late, near, round(days_late, 1))


@dataclass(frozen=True)
class LeftStage:
    """What a stage visit keeps once it is left, so that reports read it instead of working
    it out again for every visit (`StageRecord` keeps it in step with its moments).

    `gross_days`: from entering to leaving, in days (not rounded, not clamped: what the
    reports measure); `whole_days`: the same rounded down (the reports' histogram bucket);
    `late`: left after the due date (None without one). All None while the stage is open.
    """

    gross_days: float | None = None
    whole_days: int | None = None
    late: bool | None = None


def left_stage(
    entered_at: datetime | None, left_at: datetime | None, due: datetime | None
) -> LeftStage:
    """The stored timing of a stage visit entered at `entered_at` and left at `left_at`."""
    if entered_at is None or left_at is None:
        return LeftStage()
    gross = (left_at - entered_at).total_seconds() / SECONDS_PER_DAY
    return LeftStage(gross, math.floor(gross), None if due is None else left_at > due)


def total_days(
    stages: Iterable[tuple[str, datetime, datetime | None]], now: datetime
) -> tuple[float, float]:
    """Gross and net days over several stage visits (state, entered_at, left_at)."""
    gross = net = 0.0
    for state, entered_at, left_at in stages:
        elapsed = days_between(entered_at, left_at or now)
        gross += elapsed
        if state not in CLOCK_STOP_STATES:
            net += elapsed
    return round(gross, 1), round(net, 1)
