"""The procurement step of an IRCCS adoption: route, CIG, call and award dates, awarded
price and supplier, recorded through the workflow and shown on the adoption page only to
those who read the IRCCS's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from tests.functional.test_adoption_pages import (
    PUBLISHED,
    adoption_cast,
    offered,
    published,
    reload,
)
from tests.page_support import post_action

TODAY = datetime.now(UTC).date()


@pytest.fixture
def cast(make):
    return adoption_cast(make)


def _approved(client, record):
    for trigger in ("start_evaluation", "approve_for_use"):
        decided = (TODAY - timedelta(days=20)).isoformat()
        fields = {"decision_date": decided} if trigger == "approve_for_use" else {}
        assert post_action(client, record, trigger, **fields).status_code == 302, trigger


def test_irccs_records_procurement_from_call_to_award_and_first_use(cast, make, as_user):
    _, (record,) = published(make, cast, "CardioValve", irccs=[cast["irccs_org"]])
    client = as_user(cast["irccs"])
    _approved(client, record)
    page = client.get(f"/adoptions/{record.id}").get_data(as_text=True)
    assert 'name="start_procurement-procurement_route"' in page
    assert "Central purchasing body" in page

    call = TODAY - timedelta(days=15)
    response = post_action(
        client,
        record,
        "start_procurement",
        procurement_route="regional_aggregator",
        tender_cig="9a1b 2c3d4e",
        call_date=call.isoformat(),
    )
    assert response.status_code == 302
    record = reload(record)
    assert record.state == "procurement"
    assert record.procurement.cig == "9A1B2C3D4E"
    assert record.procurement.started_at.date() == call
    changed_at = record.state_changed_at
    assert offered(client.get(f"/adoptions/{record.id}").get_data(as_text=True)) >= {
        "record_award",
        "start_use",
    }

    award = TODAY - timedelta(days=5)
    response = post_action(
        client,
        record,
        "record_award",
        tender_cig="9A1B2C3D4E",
        award_date=award.isoformat(),
        awarded_price="48250.5",
        supplier="MedTech Italia S.r.l.",
    )
    assert response.status_code == 302
    record = reload(record)
    assert record.state == "procurement" and record.state_changed_at == changed_at
    assert record.procurement.awarded_price == Decimal("48250.50")
    assert record.procurement.award_date == award

    page = client.get(f"/adoptions/{record.id}").get_data(as_text=True)
    for shown in ("Regional aggregator", "9A1B2C3D4E", "MedTech Italia S.r.l.", "48,250.50"):
        assert shown in page, shown

    assert post_action(client, record, "start_use").status_code == 302
    assert reload(record).state == "in_use"
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "adoption", AuditEntry.entity_id == record.id)
        .order_by(AuditEntry.seq)
    ).all()
    data = {entry.action: entry.data for entry in entries}
    assert data["start_procurement"]["procurement_route"] == "regional_aggregator"
    assert data["record_award"]["awarded_price"] == "48250.50"


def test_bad_procurement_data_gets_a_message_and_keeps_what_was_typed(cast, make, as_user):
    _, (record,) = published(make, cast, "CardioValve", irccs=[cast["irccs_org"]])
    client = as_user(cast["irccs"])
    _approved(client, record)
    refused = post_action(
        client, record, "start_procurement", procurement_route="direct", tender_cig="AB12"
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "A CIG is 10 characters: capital letters and digits." in page
    assert 'value="AB12"' in page
    assert reload(record).state == "approved_for_use"

    assert (
        post_action(client, record, "start_procurement", procurement_route="direct").status_code
        == 302
    )
    for fields, message in (
        ({"awarded_price": "12.500,00"}, "Enter a positive amount in euro"),
        ({"awarded_price": "-3"}, "Enter a positive amount in euro"),
        (
            {"awarded_price": "100", "award_date": (TODAY + timedelta(days=3)).isoformat()},
            "Choose today or an earlier date.",
        ),
        (
            {"awarded_price": "100", "award_date": (TODAY - timedelta(days=25)).isoformat()},
            "The procurement cannot come before the decision",
        ),
    ):
        data = {
            "tender_cig": "Z0A1B2C3D4",
            "award_date": TODAY.isoformat(),
            "supplier": "Acme",
        } | fields
        refused = post_action(client, record, "record_award", **data)
        assert refused.status_code == 422, fields
        assert message in refused.get_data(as_text=True), fields
    assert reload(record).procurement.awarded_price is None


def test_the_awarded_price_is_shown_only_to_the_irccs_and_the_agency(cast, make, as_user):
    _, (record,) = published(make, cast, "CardioValve", irccs=[cast["irccs_org"]])
    client = as_user(cast["irccs"])
    _approved(client, record)
    post_action(client, record, "start_procurement", procurement_route="direct")
    post_action(
        client,
        record,
        "record_award",
        tender_cig="Z0A1B2C3D4",
        award_date=TODAY.isoformat(),
        awarded_price="777123",
        supplier="Acme",
    )
    agency = as_user(cast["agency"]).get(f"/adoptions/{record.id}")
    assert "777,123.00" in agency.get_data(as_text=True)
    other = as_user(cast["other_irccs"]).get(f"/adoptions/{record.id}")
    assert other.status_code == 404
    assert PUBLISHED  # the recommendation was published before the procurement


def test_an_award_recorded_without_a_date_is_dated_today(cast, make, as_user):
    _, (record,) = published(make, cast, "CardioValve", irccs=[cast["irccs_org"]])
    client = as_user(cast["irccs"])
    _approved(client, record)
    post_action(client, record, "start_procurement", procurement_route="pre_commercial")
    response = post_action(
        client,
        record,
        "record_award",
        tender_cig="Z0A1B2C3D4",
        awarded_price="9900",
        supplier="Acme",
    )
    assert response.status_code == 302
    assert reload(record).procurement.award_date is not None
    assert "Pre-commercial procurement" in client.get(f"/adoptions/{record.id}").get_data(
        as_text=True
    )
