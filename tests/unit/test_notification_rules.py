"""Pure rules of notifications: who may be told, which event a transition writes, when a
reminder is due (working days, Italian holidays), retries and digests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from app.domain import permissions
from app.domain.reminders import (
    ce_expiry_reminder,
    parse_days_before,
    previous_quarter,
    stage_reminder,
    working_days_until,
)
from app.notifications import recipients as aud
from app.notifications.delivery import next_digest_at, retry_delay
from app.notifications.hooks import events_for, queue_audiences
from app.notifications.messages import ALLOWED_PARAMS, KINDS, clean_params


def user(role, org=None, uid=1):
    return SimpleNamespace(id=uid, role=role, organisation_id=org)


def request(state="assessment", manufacturer=10, body=20):
    return SimpleNamespace(id=1, state=state, manufacturer_id=manufacturer, assigned_body_id=body)


# --- may_be_told mirrors the page permissions -------------------------------------------------


@pytest.mark.parametrize(
    ("who", "coi", "expected"),
    [
        (user("manufacturer", 10), None, True),
        (user("manufacturer", 11), None, False),
        (user("agency", 1), None, True),
        (user("assessor", 20), permissions.COI_CLEARED, True),
        (user("assessor", 20), permissions.COI_MISSING, True),
        (user("assessor", 20), permissions.COI_EXCLUDED, False),
        (user("assessor", 21), permissions.COI_CLEARED, False),
        (user("irccs", 30), None, False),
        (user("admin"), None, False),
    ],
)
def test_may_be_told_a_request_follows_can_view_request(who, coi, expected):
    assert aud.may_be_told(who, request(), coi_status=coi) is expected


def test_an_irccs_is_told_only_about_its_own_adoption_record():
    adoption = SimpleNamespace(request_id=1, irccs_id=30)
    assert aud.may_be_told(user("irccs", 30), request("suspended"), adoption=adoption)
    assert not aud.may_be_told(user("irccs", 31), request("suspended"), adoption=adoption)


def test_nobody_is_told_about_a_draft_but_its_manufacturer():
    draft = request("draft", body=None)
    assert aud.may_be_told(user("manufacturer", 10), draft)
    assert not aud.may_be_told(user("agency", 1), draft)


# --- which events a transition writes --------------------------------------------------------


def test_submitting_puts_the_request_in_the_agency_queue_only():
    assert events_for("submit", "intake_review", False, "manufacturer") == (
        ("queue_arrival", frozenset({aud.AGENCY})),
    )


def test_the_agency_moving_its_own_request_on_tells_only_the_manufacturer():
    assert events_for("admit", "awaiting_prioritisation", False, "agency") == (
        ("status_changed", frozenset({aud.MANUFACTURER})),
    )


def test_a_system_lapse_tells_the_queue_owner_and_the_manufacturer():
    events = dict(events_for("review_due", "reassessment_due", False, None))
    assert events == {
        "queue_arrival": frozenset({aud.AGENCY}),
        "status_changed": frozenset({aud.MANUFACTURER}),
    }


def test_suspension_is_urgent_and_reaches_the_irccs_buying_or_using_the_device():
    assert events_for("suspend", "suspended", False, "agency") == (
        ("suspended", frozenset({aud.MANUFACTURER, aud.ASSESSORS, aud.IRCCS_USING})),
    )
    assert KINDS["suspended"].urgent and KINDS["resumed"].urgent


def test_internal_transitions_without_an_event_tell_nobody():
    assert events_for("some_internal_step", "assignment", True, "agency") == ()


def test_factual_accuracy_check_is_in_the_manufacturers_queue():
    assert aud.MANUFACTURER in queue_audiences("factual_accuracy_check")


# --- messages carry codes only ---------------------------------------------------------------


def test_clean_params_drops_everything_but_the_allowed_codes():
    cleaned = clean_params(
        {"ref": "HTA-2026-000001", "reason": "secret", "due": date(2026, 5, 4), "text": "x"}
    )
    assert cleaned == {"ref": "HTA-2026-000001", "due": "2026-05-04"}
    assert set(cleaned) <= ALLOWED_PARAMS


# --- reminders: working days and holidays ----------------------------------------------------


def test_working_days_skip_weekends_and_italian_holidays():
    # Thursday 30 April 2026 -> Monday 4 May: Friday 1 May is Labour Day, then a weekend.
    assert working_days_until(date(2026, 4, 30), date(2026, 5, 4)) == 1
    assert working_days_until(date(2026, 5, 4), date(2026, 5, 4)) == 0


def test_stage_reminders_seven_and_two_working_days_before():
    due = date(2026, 5, 12)  # a Tuesday
    # 7 working days before (1 May is a holiday): Friday 1 May does not count.
    assert stage_reminder(date(2026, 4, 30), due).key == "before:7"
    assert stage_reminder(date(2026, 4, 29), due) is None
    assert stage_reminder(date(2026, 5, 8), due) == stage_reminder(date(2026, 5, 8), due)
    two_before = stage_reminder(date(2026, 5, 8), due)
    assert (two_before.kind, two_before.key, two_before.days) == ("stage_due_soon", "before:2", 2)
    assert stage_reminder(date(2026, 5, 12), due).kind == "stage_due_today"


def test_overdue_reminders_come_weekly():
    due = date(2026, 5, 12)
    keys = [stage_reminder(due + timedelta(days=n), due).key for n in (1, 6, 7, 13, 14)]
    assert keys == ["overdue:0", "overdue:0", "overdue:1", "overdue:1", "overdue:2"]


def test_custom_reminder_days():
    due = date(2026, 5, 12)
    assert stage_reminder(date(2026, 5, 8), due, (3,)).key == "before:3"
    assert stage_reminder(date(2026, 5, 8), due, ()) is None


def test_ce_certificate_reminders_at_90_and_30_days():
    expiry = date(2026, 12, 31)
    assert ce_expiry_reminder(expiry - timedelta(days=91), expiry) is None
    assert ce_expiry_reminder(expiry - timedelta(days=90), expiry).key.endswith(":90")
    assert ce_expiry_reminder(expiry - timedelta(days=30), expiry).key.endswith(":30")
    assert ce_expiry_reminder(expiry + timedelta(days=3), expiry).key.endswith(":30")


def test_previous_quarter():
    assert previous_quarter(date(2026, 1, 15)) == (2025, 4, date(2025, 12, 31))
    assert previous_quarter(date(2026, 5, 2)) == (2026, 1, date(2026, 3, 31))
    assert previous_quarter(date(2026, 12, 31)) == (2026, 3, date(2026, 9, 30))


@pytest.mark.parametrize(("text", "days"), [("7, 2", (7, 2)), ("2,7,7", (7, 2)), ("", ())])
def test_parse_days_before(text, days):
    assert parse_days_before(text) == days


@pytest.mark.parametrize("text", ["0", "x", "61", "-3"])
def test_parse_days_before_refuses(text):
    with pytest.raises(ValueError):
        parse_days_before(text)


# --- delivery ---------------------------------------------------------------------------------


def test_retries_back_off_exponentially_up_to_six_hours():
    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert retry_delay(30) == timedelta(hours=6)


def test_digests_go_out_at_the_next_digest_hour_in_rome():
    evening = datetime(2026, 5, 4, 18, 0, tzinfo=UTC)  # 20:00 in Rome
    assert next_digest_at(evening, 7) == datetime(2026, 5, 5, 5, 0, tzinfo=UTC)
    early = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)  # 05:00 in Rome
    assert next_digest_at(early, 7) == datetime(2026, 5, 4, 5, 0, tzinfo=UTC)
