"""The safety loop: a usage report over the device's adverse-event threshold alerts the agency
(notification), which suspends the device from the alert in one click (through fire, with
vigilance references); every IRCCS concerned is told. A CE certificate past expiry alerts too."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Notification, SafetyAlert
from tests.assessment_support import published_with_adoptions
from tests.functional.test_usage_reports import figures, usage_url


@pytest.fixture
def in_use(make, cast):
    req, (own, other) = published_with_adoptions(make, cast, expected_volume_per_year=120)
    return req, own, other


def reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def test_a_report_over_the_threshold_alerts_and_the_agency_suspends_from_it(cast, in_use, as_user):
    req, own, _other = in_use
    irccs = as_user(cast.irccs)
    # 1 adverse event in 8 procedures: 12.5 per 100, above any default threshold.
    assert irccs.post(usage_url(own), data=figures(procedures=8, events=1)).status_code == 302
    alert = db.session.scalars(select(SafetyAlert)).one()
    assert (alert.kind, alert.status, alert.rate) == ("adverse_event_rate", "open", 12.5)
    told = db.session.scalars(select(Notification).where(Notification.kind == "safety_alert")).all()
    assert {n.user_id for n in told} == {cast.agency.id}
    assert all(n.urgent for n in told)

    agency = as_user(cast.agency)
    page = agency.get("/safety/").get_data(as_text=True)
    assert f'data-alert-id="{alert.id}"' in page and "12.5" in page
    response = agency.post(
        f"/safety/alerts/{alert.id}/suspend",
        data={
            "reason": "Adverse events over threshold.",
            "fsn_number": "FSN-2026-014",
            "authority_reference": "MdS-VIG-2026/331",
        },
    )
    assert response.status_code == 302
    assert reload(req).state == "suspended"
    assert reload(alert).status == "suspended"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "suspend")).one()
    assert entry.data["fsn_number"] == "FSN-2026-014"
    assert entry.data["authority_reference"] == "MdS-VIG-2026/331"
    suspended = db.session.scalars(select(Notification).where(Notification.kind == "suspended"))
    assert {cast.irccs.id, cast.other_irccs.id} <= {n.user_id for n in suspended}


def test_a_report_under_the_threshold_raises_nothing(cast, in_use, as_user):
    _req, own, _other = in_use
    as_user(cast.irccs).post(usage_url(own), data=figures(procedures=100, events=1))
    assert db.session.scalars(select(SafetyAlert)).all() == []


def test_the_agency_raises_the_threshold_and_dismisses_with_a_reason(cast, in_use, as_user):
    req, own, _other = in_use
    agency = as_user(cast.agency)
    assert (
        agency.post(f"/safety/requests/{req.id}/threshold", data={"per_100": "0"}).status_code
        == 422
    )
    assert (
        agency.post(f"/safety/requests/{req.id}/threshold", data={"per_100": "20"}).status_code
        == 302
    )
    as_user(cast.irccs).post(usage_url(own), data=figures(procedures=8, events=1))
    assert db.session.scalars(select(SafetyAlert)).all() == []  # 12.5 is under 20
    as_user(cast.irccs).post(usage_url(own), data=figures(quarter=2, procedures=4, events=1))
    alert = db.session.scalars(select(SafetyAlert)).one()  # 25 is over 20
    assert agency.post(f"/safety/alerts/{alert.id}/dismiss", data={"reason": ""}).status_code == 422
    assert reload(alert).status == "open"
    response = agency.post(f"/safety/alerts/{alert.id}/dismiss", data={"reason": "Known cause."})
    assert response.status_code == 302
    assert reload(alert).status == "dismissed"
    assert reload(req).state == "adoption_monitoring"


def test_an_expired_ce_certificate_alerts_once(cast, in_use, runner):
    req, _own, _other = in_use
    req.ce_certificate_expires_on = date(2026, 3, 1)
    db.session.commit()
    result = runner.invoke(args=["deadlines", "check", "--now", "2026-03-05T09:00"])
    assert result.exit_code == 0, result.output
    alert = db.session.scalars(select(SafetyAlert)).one()
    assert alert.kind == "ce_certificate"
    runner.invoke(args=["deadlines", "check", "--now", "2026-03-06T09:00"])
    assert len(db.session.scalars(select(SafetyAlert)).all()) == 1


@pytest.mark.parametrize("role", ["irccs", "manufacturer", "assessor", "admin"])
def test_only_the_agency_reaches_the_safety_pages(cast, in_use, as_user, role):
    req, _own, _other = in_use
    client = as_user(getattr(cast, role))
    assert client.get("/safety/").status_code == 403
    assert (
        client.post(f"/safety/requests/{req.id}/threshold", data={"per_100": "9"}).status_code
        == 403
    )


def test_the_api_lists_alerts_and_suspends_from_one(client, cast, in_use, as_user):
    from tests.api_support import api_for

    req, own, _other = in_use
    as_user(cast.irccs).post(usage_url(own), data=figures(procedures=8, events=1))
    api = api_for(client, cast.agency)
    items = api.get("/safety/alerts").get_json()["items"]
    assert [(a["kind"], a["rate"]) for a in items] == [("adverse_event_rate", "12.50")]
    done = api.post(f"/safety/alerts/{items[0]['id']}/suspension", json={"fsn_number": "FSN-1"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "suspended"
    assert reload(req).state == "suspended"
    assert api_for(client, cast.irccs).get("/safety/alerts").status_code == 403


def test_the_record_shows_the_alerts_to_the_agency_only(cast, in_use, as_user):
    from tests.functional.test_reports_pages import pdf_text

    req, own, _other = in_use
    as_user(cast.irccs).post(usage_url(own), data=figures(procedures=8, events=1))
    text = pdf_text(as_user(cast.agency).get(f"/reports/requests/{req.id}.pdf").data)
    assert "Safety alerts" in text and "12.50" in text
    # One IRCCS's figures: neither another IRCCS nor the manufacturer reads them.
    for reader in (cast.irccs, cast.manufacturer):
        other_text = pdf_text(as_user(reader).get(f"/reports/requests/{req.id}.pdf").data)
        assert "12.50" not in other_text


def test_a_usage_report_carries_its_vigilance_references(cast, in_use, as_user, client):
    from app.models import UsageReport
    from tests.api_support import api_for

    _req, own, other = in_use
    data = figures(
        procedures=8, events=1, fsn_number="FSN-2026-014", authority_reference="MdS-VIG-2026/331"
    )
    assert as_user(cast.irccs).post(usage_url(own), data=data).status_code == 302
    report = db.session.scalars(select(UsageReport)).one()
    assert (report.fsn_number, report.authority_reference) == ("FSN-2026-014", "MdS-VIG-2026/331")
    api = api_for(client, cast.other_irccs)
    body = {
        "year": 2025,
        "quarter": 1,
        "units": 3,
        "procedures": 3,
        "spend": "100.00",
        "adverse_events": 0,
        "fsn_number": "FSN-9",
    }
    made = api.post(f"/adoptions/{other.id}/usage-reports", json=body)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["fsn_number"] == "FSN-9"
