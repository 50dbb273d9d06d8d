"""The minimum consultation period (issue 13, item 7): a recommendation is published no sooner
than the configured number of days (30 by default) after its public consultation opened; the
agency reads why, the public page says from when, the administrator changes it (audited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.deadline_settings import effective_minimums
from app.domain.deadlines import ROME, earliest_leaving
from app.extensions import db
from app.models import AuditEntry, DeviceRequest
from tests.functional.test_public_register import (
    fresh,
    page,
    public_request,
    recommend,
    set_language,
)

OPENED_DAYS_AGO = 5  # public_request's last stage was entered 5 days ago


@pytest.fixture(autouse=True)
def english(client):
    set_language(client, "en")


@pytest.fixture
def consulted(make):
    request = public_request(make, "consultation", trade_name="Consulted Valve")
    recommend(request, "recommended", "Draft: clear benefit.", published=False)
    fresh()
    return request


def _publish(client, request, **data):
    form = {
        "expected_version": str(db.session.get(DeviceRequest, request.id).version),
        "outcome": "recommended",
        "rationale": "Typed by the agency: clear benefit.",
        "conditions": "",
    }
    return client.post(f"/requests/{request.id}/appraisal", data=form | data)


def _state(request) -> str:
    db.session.expire_all()
    return db.session.get(DeviceRequest, request.id).state


def test_earliest_publication_is_the_start_of_the_day_after_the_minimum():
    opened = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 in Rome
    earliest = earliest_leaving(opened, 30)
    assert earliest.astimezone(ROME).isoformat() == "2026-03-31T00:00:00+02:00"
    assert earliest_leaving(opened, 0) is None


def test_publishing_before_the_minimum_is_refused_with_the_date(client, make, login, consulted):
    login(make.user("agency", language="en"))
    response = _publish(client, consulted)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "The public consultation stays open at least 30 days" in text
    earliest = (datetime.now(ROME) - timedelta(days=OPENED_DAYS_AGO) + timedelta(days=30)).date()
    assert earliest.isoformat() in text
    assert "Typed by the agency: clear benefit." in text  # nothing typed is lost
    assert _state(consulted) == "consultation"
    refused = select(AuditEntry).where(AuditEntry.action == "publish")
    assert db.session.scalars(refused).first() is None


def test_the_request_page_shows_publication_blocked_with_the_reason(client, make, login, consulted):
    login(make.user("agency", language="en"))
    text = page(client, f"/requests/{consulted.id}")
    assert "The public consultation stays open at least 30 days" in text


def test_the_public_page_says_from_when_it_may_be_published(client, consulted):
    text = page(client, f"/register/{consulted.id}")
    assert "Comments stay open at least 30 days" in text
    earliest = (datetime.now(ROME) - timedelta(days=OPENED_DAYS_AGO) + timedelta(days=30)).date()
    shown = text.split('id="consultation-minimum"')[1][:300]
    assert f"{earliest.day} {earliest.strftime('%b')} {earliest.year}" in shown  # European order


def test_a_shorter_minimum_set_by_the_admin_lets_the_agency_publish(
    app, client, make, login, consulted
):
    admin = make.user("admin", language="en")
    fresh()
    login(admin)
    admin_page = page(client, "/admin/deadlines")
    assert 'name="minimum_consultation" type="number" value="30"' in admin_page
    response = client.post("/admin/deadlines", data=_full_deadline_form(minimum="3"))
    assert response.status_code == 302
    assert effective_minimums()["consultation"] == 3
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "deadline_setting")
    ).all()
    assert entry.changes == {"minimum_days": [30, 3]}
    agency, agency_client = make.user("agency", language="en"), app.test_client()
    fresh()
    login(agency, test_client=agency_client)
    response = _publish(agency_client, consulted)
    assert response.status_code == 302
    assert _state(consulted) == "adoption_monitoring"


def test_a_bad_minimum_is_refused_and_kept(client, make, login):
    login(make.user("admin", language="en"))
    fresh()
    response = client.post("/admin/deadlines", data=_full_deadline_form(minimum="-1"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'id="minimum_consultation-error"' in text and 'value="-1"' in text
    assert effective_minimums()["consultation"] == 30


def _full_deadline_form(minimum: str) -> dict:
    from app.core.deadline_settings import effective_deadlines

    data = {"minimum_consultation": minimum}
    for state, rule in effective_deadlines(db.session).items():
        data[f"days_{state}"] = "" if rule.days is None else str(rule.days)
        if rule.working_days:
            data[f"working_{state}"] = "y"
    return data
