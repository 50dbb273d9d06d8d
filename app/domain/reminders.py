"""When reminders are due (pure: dates in, decisions out; Europe/Rome calendar days).

- a stage due on `due`: reminded N working days before for each N of its settings (default 7
  and 2; working days skip weekends and Italian holidays), on the due day, and once overdue
  every week (on the first day late, then 7, 14 ... days later);
- a CE certificate: 90 and 30 days before it expires (and at 30 once expired);
- quarterly usage: the report of the quarter just ended is due.

Each decision carries a key suffix that is the same however often it is computed on the same
occasion, so that the reminder is written once (`outbox.notify(..., dedup_key=...)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.domain.deadlines import is_working_day

DEFAULT_DAYS_BEFORE: tuple[int, ...] = (7, 2)
CE_EXPIRY_DAYS: tuple[int, ...] = (90, 30)
OVERDUE_EVERY_DAYS = 7
MAX_DAYS_BEFORE = 60


@dataclass(frozen=True)
class Reminder:
    kind: str  # a notification kind
    key: str  # the occasion: the same all day long (or week, for overdue ones)
    days: int | None = None  # working days left (before the due date)


def working_days_until(today: date, due: date) -> int:
    """Working days after `today` up to and including `due` (0 when `due` <= today)."""
    count = 0
    day = today
    while day < due:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def stage_reminder(today: date, due: date, days_before=DEFAULT_DAYS_BEFORE) -> Reminder | None:
    """The reminder of a stage due on `due`, as of `today`, or None."""
    if due < today:
        weeks = (today - due).days // OVERDUE_EVERY_DAYS
        return Reminder("stage_overdue", f"overdue:{weeks}")
    if due == today:
        return Reminder("stage_due_today", "due")
    left = working_days_until(today, due)
    reached = [n for n in days_before if left <= n]
    if not reached:
        return None
    return Reminder("stage_due_soon", f"before:{min(reached)}", days=left)


def ce_expiry_reminder(today: date, expires_on: date) -> Reminder | None:
    left = (expires_on - today).days
    reached = [n for n in CE_EXPIRY_DAYS if left <= n]
    if not reached:
        return None
    return Reminder("ce_expiry", f"{expires_on.isoformat()}:{min(reached)}")


def previous_quarter(today: date) -> tuple[int, int, date]:
    """(year, quarter, last day) of the quarter before the one `today` is in."""
    quarter = (today.month - 1) // 3 + 1
    year = today.year
    quarter -= 1
    if quarter == 0:
        year, quarter = year - 1, 4
    next_start = date(year + (quarter == 4), 1 if quarter == 4 else quarter * 3 + 1, 1)
    return year, quarter, next_start - timedelta(days=1)


def parse_days_before(text: str) -> tuple[int, ...]:
    """ "7, 2" -> (7, 2): distinct whole numbers 1..MAX_DAYS_BEFORE, largest first.
    ValueError otherwise."""
    values = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        number = int(part)
        if not 1 <= number <= MAX_DAYS_BEFORE:
            raise ValueError(part)
        values.add(number)
    return tuple(sorted(values, reverse=True))
