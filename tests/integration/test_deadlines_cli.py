"""`flask deadlines check`: lapses fired by the system, overdue stages listed once, idempotent,
one failing request does not block the others."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.core.audit import entries_for_request, verify_chain
from app.core.fire import fire
from app.extensions import db
from app.models import DeviceRequest, StageRecord
from app.workqueue import deadline_check
from app.workqueue.cli import parse_now
from tests.workflow_support import (  # noqa: F401 (no_area_hooks is a fixture)
    CONSULTED,
    STEP,
    audit_count,
    make_cast,
    no_area_hooks,
    walk_to,
)

pytestmark = pytest.mark.usefixtures("no_area_hooks")

NOW = "2026-09-01T08:00:00+02:00"


@pytest.fixture
def scenario(make):
    """Requests whose deadlines passed (three lapse, one just overdue) and one still in time."""
    cast = make_cast(make)

    def new_request(state, start=datetime(2026, 3, 2, 9, tzinfo=UTC)):
        request = make.request(manufacturer=cast.manufacturer_org, complete=True)
        moment = walk_to(request, state, cast, start=start)
        return request, moment

    incomplete, _ = new_request("incomplete")
    unanswered, _ = new_request("information_requested")
    reviewed, moment = new_request("consultation")
    fire(
        reviewed,
        "publish",
        cast.agency,
        moment + CONSULTED,
        outcome="recommended",
        rationale="Works.",
        review_date="2026-06-30",
    )
    overdue, _ = new_request("intake_review")
    in_time, _ = new_request("incomplete", start=datetime(2026, 8, 20, tzinfo=UTC))
    db.session.commit()
    return {
        "incomplete": incomplete.id,
        "unanswered": unanswered.id,
        "reviewed": reviewed.id,
        "overdue": overdue.id,
        "in_time": in_time.id,
    }


def states(ids: dict[str, int]) -> dict[str, str]:
    db.session.expire_all()
    return {name: db.session.get(DeviceRequest, id_).state for name, id_ in ids.items()}


def test_lapses_fire_once_and_overdue_stages_are_reported_once(runner, scenario):
    entries = audit_count()
    first = runner.invoke(args=["deadlines", "check", "--now", NOW])
    assert first.exit_code == 0, first.output
    assert states(scenario) == {
        "incomplete": "inadmissible",
        "unanswered": "discontinued",
        "reviewed": "reassessment_due",
        "overdue": "intake_review",
        "in_time": "incomplete",
    }
    assert audit_count() == entries + 3
    assert "3 lapsed, 1 overdue (1 newly reported), 0 failed." in first.output
    assert f"HTA-2026-{scenario['overdue']:06d}" in first.output and "NEW" in first.output
    stage = db.session.scalars(
        select(StageRecord).where(
            StageRecord.request_id == scenario["overdue"], StageRecord.left_at.is_(None)
        )
    ).one()
    assert stage.overdue_notified_at == parse_now(NOW)

    second = runner.invoke(args=["deadlines", "check", "--now", NOW])
    assert second.exit_code == 0, second.output
    assert "0 lapsed, 1 overdue (0 newly reported), 0 failed." in second.output
    assert "NEW" not in second.output
    assert audit_count() == entries + 3
    db.session.refresh(stage)
    assert stage.overdue_notified_at == parse_now(NOW)
    assert verify_chain().ok


def test_lapses_are_recorded_as_the_system(runner, scenario):
    runner.invoke(args=["deadlines", "check", "--now", NOW])
    last = entries_for_request(scenario["incomplete"])[-1]
    assert (last.action, last.actor_role, last.actor_id) == ("lapse_incomplete", "system", None)


def test_nothing_is_due_before_the_deadline(runner, scenario):
    entries = audit_count()
    result = runner.invoke(args=["deadlines", "check", "--now", "2026-03-05"])
    assert result.exit_code == 0, result.output
    assert "0 lapsed, 0 overdue" in result.output
    assert audit_count() == entries


def test_one_failing_request_does_not_block_the_others(runner, scenario, monkeypatch):
    real_fire = deadline_check.fire

    def failing_fire(request, trigger, *args, **kwargs):
        if request.id == scenario["unanswered"]:
            raise RuntimeError("boom")
        return real_fire(request, trigger, *args, **kwargs)

    monkeypatch.setattr(deadline_check, "fire", failing_fire)
    result = runner.invoke(args=["deadlines", "check", "--now", NOW])
    assert result.exit_code == 1
    assert "FAILED" in result.output and "1 failed" in result.output
    now_states = states(scenario)
    assert now_states["unanswered"] == "information_requested"
    assert now_states["incomplete"] == "inadmissible"
    assert now_states["reviewed"] == "reassessment_due"
    assert verify_chain().ok


def test_now_accepts_dates_and_zones():
    assert parse_now("2026-05-01") == datetime(2026, 4, 30, 22, 0, tzinfo=UTC)
    assert parse_now("2026-05-01T10:00") == datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert parse_now("2026-05-01T10:00+00:00") == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_a_bad_now_is_refused_with_a_clear_message(runner, app):
    result = runner.invoke(args=["deadlines", "check", "--now", "next tuesday"])
    assert result.exit_code != 0
    assert "ISO date" in result.output
