"""Reminders written by `flask deadlines check`: to whoever holds the stage, on working
days before the due date, on the day and weekly once overdue; CE certificates; quarterly
usage reports; idempotent across runs, also two at once on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.core.fire import fire
from app.domain.deadlines import end_of_day
from app.extensions import db
from app.models import ReminderSetting, StageRecord, UsageReport
from app.notifications.reminders import write_reminders
from tests.notification_support import kinds_of, notification_hooks_only, notifications
from tests.workflow_support import STEP, adoption_of, make_cast, walk_to

__all__ = ["notification_hooks_only"]

pytestmark = pytest.mark.usefixtures("notification_hooks_only")


def rome_morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)  # 08:00 in Rome (summer)


@pytest.fixture
def cast(make):
    return make_cast(make)


def in_assessment_due(make, cast, due: date):
    """A request in assessment whose stage is due at the end of `due` (Rome)."""
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "assessment", cast)
    stage = db.session.scalars(
        select(StageRecord).where(
            StageRecord.request_id == request.id, StageRecord.left_at.is_(None)
        )
    ).one()
    stage.due_at = end_of_day(due)
    db.session.flush()
    return request


def reminders_of(user) -> list[tuple[str, str | None]]:
    return [
        (n.kind, n.dedup_key) for n in notifications(user_id=user.id) if n.dedup_key is not None
    ]


def test_the_holder_is_reminded_seven_and_two_working_days_before(make, cast):
    due = date(2026, 5, 12)
    in_assessment_due(make, cast, due)
    # Wednesday 29 April: 8 working days left (1 May is a holiday): nothing yet.
    write_reminders(rome_morning(date(2026, 4, 29)))
    assert reminders_of(cast.assessor) == []
    write_reminders(rome_morning(date(2026, 4, 30)))
    (first,) = notifications(user_id=cast.assessor.id, kind="stage_due_soon")
    assert first.params["days"] == 7 and first.params["due"] == "2026-05-12"
    write_reminders(rome_morning(date(2026, 5, 8)))  # Friday: 2 working days left
    write_reminders(rome_morning(date(2026, 5, 12)))
    assert [kind for kind, _ in reminders_of(cast.assessor)] == [
        "stage_due_soon",
        "stage_due_soon",
        "stage_due_today",
    ]
    # Only the holder of the stage (the assessor), not the manufacturer or the agency.
    assert reminders_of(cast.manufacturer) == [] and reminders_of(cast.agency) == []


def test_overdue_stages_are_reminded_weekly(make, cast):
    due = date(2026, 5, 12)
    in_assessment_due(make, cast, due)
    for day in (13, 14, 19, 20, 26):
        write_reminders(rome_morning(date(2026, 5, day)))
    assert [key.rsplit(":", 1)[1] for _, key in reminders_of(cast.assessor)] == ["0", "1", "2"]


def test_a_second_run_writes_nothing_new(make, cast, runner):
    in_assessment_due(make, cast, date(2026, 5, 12))
    db.session.commit()
    first = runner.invoke(args=["deadlines", "check", "--now", "2026-05-08"])
    # One each to the two assessors of the body holding the stage.
    assert "2 reminders written" in first.output, first.output
    second = runner.invoke(args=["deadlines", "check", "--now", "2026-05-08T18:00"])
    assert "0 reminders written" in second.output, second.output
    assert len(reminders_of(cast.assessor)) == 1


def test_admin_settings_change_the_days_before(make, cast):
    db.session.add(ReminderSetting(state="assessment", days_before=[3]))
    in_assessment_due(make, cast, date(2026, 5, 12))
    write_reminders(rome_morning(date(2026, 4, 30)))
    assert reminders_of(cast.assessor) == []
    write_reminders(rome_morning(date(2026, 5, 7)))
    assert reminders_of(cast.assessor)[0][1].endswith("before:3")


def test_ce_certificate_expiry_reaches_the_manufacturer_and_the_agency(make, cast):
    request = make.request(
        manufacturer=cast.manufacturer_org,
        complete=True,
        ce_certificate_expires_on=date(2026, 9, 30),
    )
    walk_to(request, "prioritisation", cast)
    write_reminders(rome_morning(date(2026, 7, 1)))  # 91 days before
    assert notifications(kind="ce_expiry") == []
    write_reminders(rome_morning(date(2026, 7, 2)))
    write_reminders(rome_morning(date(2026, 7, 3)))
    write_reminders(rome_morning(date(2026, 9, 1)))
    told = sorted((n.user_id, n.dedup_key) for n in notifications(kind="ce_expiry"))
    assert [user for user, _ in told] == sorted([cast.manufacturer.id] * 2 + [cast.agency.id] * 2)
    assert kinds_of(cast.assessor).count("ce_expiry") == 0


def test_quarterly_usage_reports_due_for_the_irccs_using_the_device(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "adoption_monitoring", cast)
    adoption = adoption_of(request, cast.irccs_org)
    for trigger in ("start_evaluation", "approve_for_use", "start_use"):
        moment += STEP
        fire(adoption, trigger, cast.irccs, moment)
    # Use began in April 2026 (Q2, after the 30 days of consultation): the Q2 report is due
    # from July.
    assert adoption.first_use_at.month == 4
    write_reminders(rome_morning(date(2026, 7, 2)))
    (due,) = notifications(kind="usage_report_due")
    assert (due.user_id, due.adoption_id) == (cast.irccs.id, adoption.id)
    assert (due.params["year"], due.params["quarter"]) == (2026, 2)
    write_reminders(rome_morning(date(2026, 7, 3)))
    assert len(notifications(kind="usage_report_due")) == 1
    # Q3 reported in time: no reminder in October.
    db.session.add(UsageReport(adoption_id=adoption.id, year=2026, quarter=3, version=1))
    db.session.flush()
    write_reminders(rome_morning(date(2026, 10, 2)))
    assert len(notifications(kind="usage_report_due")) == 1


@pytest.mark.postgres
@pytest.mark.own_app  # two runs in threads, a connection each
def test_two_concurrent_runs_write_each_reminder_once(app, make, cast):
    for _ in range(3):
        in_assessment_due(make, cast, date(2026, 5, 12))
    db.session.commit()
    errors = []
    barrier = threading.Barrier(2)

    def run():
        with app.app_context():
            try:
                barrier.wait()
                write_reminders(rome_morning(date(2026, 5, 12)))
                db.session.commit()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    assert len(reminders_of(cast.assessor)) == 3
