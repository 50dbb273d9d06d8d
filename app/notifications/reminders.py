"""Reminders written by `flask deadlines check` (flush, never commit; idempotent).

- stages: every open stage with a due date, to whoever holds it (the roles whose work queue
  holds the state, as for a queue arrival), by `app.domain.reminders.stage_reminder` with the
  stage's working-day settings (`ReminderSetting`, admin-set; default 7 and 2);
- CE certificates: 90 and 30 days before expiry, to the manufacturer and the agency, for
  requests still open;
- usage reports: the IRCCS using a device that has not reported the quarter just ended.

Each reminder has a key (`stage:<id>:before:7`, `ce:<request>:<expiry>:30`,
`usage:<adoption>:2026Q1`); the outbox skips a user who already has it, so a second run (or
two at once) writes nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select

from app.domain.deadlines import rome_date
from app.domain.reminders import (
    DEFAULT_DAYS_BEFORE,
    ce_expiry_reminder,
    previous_quarter,
    stage_reminder,
)
from app.extensions import db
from app.models import Adoption, DeviceRequest, ReminderSetting, StageRecord, UsageReport
from app.notifications import recipients as aud
from app.notifications.hooks import queue_audiences
from app.notifications.messages import request_ref
from app.notifications.outbox import notify
from app.workflow.states import TERMINAL_REQUEST_STATES

CE_WINDOW_DAYS = 90


@dataclass
class ReminderCount:
    stages: int = 0
    certificates: int = 0
    usage: int = 0
    barriers: int = 0  # overdue adoption barriers (`app.adoption.barriers.remind_overdue`)

    @property
    def total(self) -> int:
        return self.stages + self.certificates + self.usage + self.barriers


def days_before_by_state() -> dict[str, tuple[int, ...]]:
    """The admin's settings (states without a row use DEFAULT_DAYS_BEFORE)."""
    return {
        row.state: tuple(row.days_before or ())
        for row in db.session.scalars(select(ReminderSetting))
    }


def write_reminders(now: datetime) -> ReminderCount:
    today = rome_date(now)
    return ReminderCount(
        stages=_stage_reminders(now, today),
        certificates=_certificate_reminders(now, today),
        usage=_usage_reminders(now, today),
        barriers=_barrier_reminders(now),
    )


def _barrier_reminders(now: datetime) -> int:
    # Imported here: the adoption package's barriers import the notifications.
    from app.adoption.barriers import remind_overdue

    return remind_overdue(now)


def _stage_reminders(now: datetime, today) -> int:
    settings = days_before_by_state()
    horizon = now + timedelta(days=2 * max([*DEFAULT_DAYS_BEFORE, *_all(settings)]) + 14)
    rows = db.session.execute(
        select(StageRecord, DeviceRequest)
        .join(DeviceRequest, DeviceRequest.id == StageRecord.request_id)
        .where(
            StageRecord.left_at.is_(None),
            StageRecord.due_at.is_not(None),
            StageRecord.due_at < horizon,
            DeviceRequest.state == StageRecord.state,
        )
        .order_by(StageRecord.due_at, StageRecord.id)
    ).all()
    written = 0
    for stage, request in rows:
        audiences = queue_audiences(stage.state)
        if not audiences:
            continue
        days_before = settings.get(stage.state, DEFAULT_DAYS_BEFORE)
        reminder = stage_reminder(today, rome_date(stage.due_at), days_before)
        if reminder is None:
            continue
        params = {
            "ref": request_ref(request.receipt_number, request.id),
            "state": stage.state,
            "due": rome_date(stage.due_at),
            "days": reminder.days,
        }
        written += notify(
            reminder.kind,
            aud.recipients_for(request, audiences),
            now,
            params=params,
            dedup_key=f"stage:{stage.id}:{reminder.key}",
        )
    return written


def _all(settings: dict[str, tuple[int, ...]]) -> list[int]:
    return [n for values in settings.values() for n in values]


def _certificate_reminders(now: datetime, today) -> int:
    requests = db.session.scalars(
        select(DeviceRequest)
        .where(
            DeviceRequest.ce_certificate_expires_on.is_not(None),
            DeviceRequest.ce_certificate_expires_on <= today + timedelta(days=CE_WINDOW_DAYS),
            DeviceRequest.state.not_in([*TERMINAL_REQUEST_STATES, "draft"]),
        )
        .order_by(DeviceRequest.id)
    ).all()
    written = 0
    for request in requests:
        reminder = ce_expiry_reminder(today, request.ce_certificate_expires_on)
        if reminder is None:
            continue
        written += notify(
            reminder.kind,
            aud.recipients_for(request, {aud.MANUFACTURER, aud.AGENCY}),
            now,
            params={
                "ref": request_ref(request.receipt_number, request.id),
                "expiry": request.ce_certificate_expires_on,
            },
            dedup_key=f"ce:{request.id}:{reminder.key}",
        )
    return written


def _usage_reminders(now: datetime, today) -> int:
    year, quarter, last_day = previous_quarter(today)
    reported = exists().where(
        and_(
            UsageReport.adoption_id == Adoption.id,
            UsageReport.year == year,
            UsageReport.quarter == quarter,
        )
    )
    rows = db.session.execute(
        select(Adoption, DeviceRequest)
        .join(DeviceRequest, DeviceRequest.id == Adoption.request_id)
        .where(
            Adoption.state == "in_use",
            Adoption.first_use_at.is_not(None),
            ~reported,
        )
        .order_by(Adoption.id)
    ).all()
    written = 0
    for adoption, request in rows:
        if rome_date(adoption.first_use_at) > last_day:
            continue
        told = [
            aud.Recipient(user, request.id, adoption.id)
            for user in aud.users_of_organisation(adoption.irccs_id, "irccs")
            if aud.may_be_told(user, request, adoption=adoption)
        ]
        written += notify(
            "usage_report_due",
            told,
            now,
            params={
                "ref": request_ref(request.receipt_number, request.id),
                "year": year,
                "quarter": quarter,
            },
            dedup_key=f"usage:{adoption.id}:{year}Q{quarter}",
        )
    return written


def save_days_before(state: str, days_before: tuple[int, ...]) -> bool:
    """Store the reminder days of `state`; True when they changed (flushes)."""
    current = days_before_by_state().get(state, DEFAULT_DAYS_BEFORE)
    if tuple(days_before) == tuple(current):
        return False
    setting = db.session.get(ReminderSetting, state)
    if setting is None:
        setting = ReminderSetting(state=state)
        db.session.add(setting)
    setting.days_before = list(days_before)
    db.session.flush()
    return True
