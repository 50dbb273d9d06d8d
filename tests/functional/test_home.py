"""The home page: a glance at the user's work queue, counted over the whole queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import StageRecord
from app.models.types import utcnow
from tests.workflow_support import make_cast, no_area_hooks, walk_to  # noqa: F401 (fixture)

# Requests are walked straight to their state (no conflict declarations nor documents needed).
pytestmark = pytest.mark.usefixtures("no_area_hooks")


def _glance(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<div class="display-6[^"]*">(\d+)</div>', page)]


def _submitted(make, cast, when):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "intake_review", cast, start=when)
    return request


def test_the_agency_sees_how_much_waits_is_late_and_is_due_soon(make, as_user):
    cast = make_cast(make)
    now = utcnow()
    _submitted(make, cast, now - timedelta(days=200))  # long past its intake deadline
    due_soon = _submitted(make, cast, now - timedelta(days=2))
    db.session.execute(
        update(StageRecord)
        .where(StageRecord.request_id == due_soon.id, StageRecord.left_at.is_(None))
        .values(due_at=now + timedelta(days=3))
    )
    _submitted(make, cast, now - timedelta(days=1))
    db.session.commit()

    page = as_user(cast.agency).get("/").get_data(as_text=True)
    assert _glance(page) == [3, 1, 1]
    assert "/work/?overdue=1" in page  # the overdue card opens the filtered queue


def test_another_manufacturer_counts_none_of_it(make, as_user):
    cast = make_cast(make)
    _submitted(make, cast, utcnow() - timedelta(days=200))
    db.session.commit()
    assert _glance(as_user(cast.other_manufacturer).get("/").get_data(as_text=True)) == [0, 0, 0]
    # The manufacturer's own request waits for the agency, not for it.
    assert _glance(as_user(cast.manufacturer).get("/").get_data(as_text=True)) == [0, 0, 0]


def test_an_irccs_sees_its_open_adoption_records(make, as_user):
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "adoption_monitoring", cast, start=utcnow() - timedelta(days=300))
    db.session.commit()
    assert _glance(as_user(cast.irccs).get("/").get_data(as_text=True)) == [1]
