"""IRCCS adoption pages: each IRCCS sees the recommended devices with its own adoption record
and acts on it; the agency sees every record; nobody opens another IRCCS's record."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Adoption, AuditEntry, Recommendation
from app.workflow.definitions import ADOPTION_WORKFLOW
from tests.page_support import post_action

PUBLISHED = datetime.now(UTC) - timedelta(days=30)


@pytest.fixture
def cast(make):
    return adoption_cast(make)


def adoption_cast(make) -> dict:
    """Two IRCCS (with a user each), the agency and a manufacturer."""
    irccs_org = make.org("irccs", name="IRCCS San Matteo")
    other_irccs_org = make.org("irccs", name="IRCCS Gaslini", region="liguria")
    people = {
        "manufacturer_org": make.org("manufacturer"),
        "irccs_org": irccs_org,
        "irccs": make.user("irccs", organisation=irccs_org, language="en"),
        "other_irccs_org": other_irccs_org,
        "other_irccs": make.user("irccs", organisation=other_irccs_org, language="en"),
        "agency": make.user("agency", language="en"),
    }
    people["manufacturer"] = make.user(
        "manufacturer", organisation=people["manufacturer_org"], language="en"
    )
    db.session.commit()
    return people


def published(make, cast, name: str, outcome: str = "recommended", *, irccs=()):
    """A request with a published recommendation and adoption records for `irccs` orgs."""
    request = make.request(manufacturer=cast["manufacturer_org"], trade_name=name)
    request.state = "adoption_monitoring" if outcome != "not_recommended" else "not_recommended"
    db.session.add(
        Recommendation(
            request_id=request.id, outcome=outcome, rationale="r", published_at=PUBLISHED
        )
    )
    records = [Adoption(request_id=request.id, irccs_id=org.id) for org in irccs]
    db.session.add_all(records)
    db.session.commit()
    return request, records


def offered(page_html: str) -> set[str]:
    return set(re.findall(r'data-trigger="([a-z_]+)"', page_html))


def reload(adoption: Adoption) -> Adoption:
    db.session.expire_all()
    return db.session.get(Adoption, adoption.id)


def test_irccs_lists_recommended_devices_with_its_own_record(cast, make, as_user):
    published(make, cast, "CardioValve", irccs=[cast["irccs_org"], cast["other_irccs_org"]])
    _, (other_only,) = published(make, cast, "NeuroStim", irccs=[cast["other_irccs_org"]])
    other_only.state = "in_use"
    published(make, cast, "Rejected", "not_recommended")
    db.session.commit()

    page = as_user(cast["irccs"]).get("/adoptions/").get_data(as_text=True)

    assert "CardioValve" in page and "NeuroStim" in page
    assert "Rejected" not in page
    rows = page.split("<tbody>")[1]
    assert "No record yet" in rows  # NeuroStim: no record for this IRCCS
    assert "In use" not in rows  # the other IRCCS's state is not shown
    assert "Not started" in rows


def test_irccs_moves_its_record_to_first_use(cast, make, as_user):
    _, (record, other) = published(
        make, cast, "CardioValve", irccs=[cast["irccs_org"], cast["other_irccs_org"]]
    )
    client = as_user(cast["irccs"])

    page = client.get(f"/adoptions/{record.id}").get_data(as_text=True)
    assert offered(page) == {"start_evaluation"}

    for trigger in ("start_evaluation", "approve_for_use", "start_use"):
        response = post_action(client, record, trigger)
        assert response.status_code == 302, trigger
    record = reload(record)
    assert record.state == "in_use"
    assert record.decided_at is not None and record.first_use_at is not None

    page = client.get(f"/adoptions/{record.id}").get_data(as_text=True)
    assert "Done: Record first use" in page
    assert offered(page) == {"discontinue_use"}
    assert 'class="col-sm-7 adoption-first-use-at">—' not in page
    trail = page.split("audit-trail")[1]
    for action in ("Start local evaluation", "Approve for use", "Record first use"):
        assert action in trail
    assert reload(other).state == "not_started"


def test_declining_needs_a_reason_and_keeps_what_was_typed(cast, make, as_user):
    _, (record,) = published(make, cast, "CardioValve", irccs=[cast["irccs_org"]])
    record.state = "local_evaluation"
    db.session.commit()
    client = as_user(cast["irccs"])

    response = post_action(client, record, "decline", reason="No cath lab time this year")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "No cath lab time this year</textarea>" in page
    assert "This field is required." in page
    assert reload(record).state == "local_evaluation"

    response = post_action(
        client, record, "decline", reason="No cath lab time", decline_reason="no_budget"
    )
    assert response.status_code == 302
    record = reload(record)
    assert (record.state, record.decline_reason) == ("declined", "no_budget")
    page = client.get(f"/adoptions/{record.id}").get_data(as_text=True)
    assert "No budget" in page


def test_an_irccs_cannot_open_or_act_on_another_irccss_record(cast, make, as_user):
    _, (theirs,) = published(make, cast, "CardioValve", irccs=[cast["other_irccs_org"]])
    client = as_user(cast["irccs"])

    assert client.get(f"/adoptions/{theirs.id}").status_code == 404
    for trigger in ADOPTION_WORKFLOW.triggers:
        response = post_action(client, theirs, trigger, reason="x", decline_reason="no_budget")
        assert response.status_code == 404, trigger
    assert reload(theirs).state == "not_started"
    # Nothing recorded but the login (a security event about the user account).
    not_logins = (
        select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type != "user")
    )
    assert db.session.scalar(not_logins) == 0


def test_a_stale_adoption_page_gets_409(cast, make, as_user):
    _, (record,) = published(make, cast, "CardioValve", irccs=[cast["irccs_org"]])
    seen = record.version
    client = as_user(cast["irccs"])
    assert post_action(client, record, "start_evaluation").status_code == 302

    response = post_action(client, record, "start_evaluation", version=seen)

    assert response.status_code == 409
    assert "Someone else changed this item" in response.get_data(as_text=True)


def test_agency_sees_every_record_filters_them_but_cannot_act(cast, make, as_user):
    _, records = published(
        make, cast, "CardioValve", irccs=[cast["irccs_org"], cast["other_irccs_org"]]
    )
    records[1].state = "in_use"
    db.session.commit()
    agency = as_user(cast["agency"])

    page = agency.get("/adoptions/").get_data(as_text=True)
    assert "IRCCS San Matteo" in page and "IRCCS Gaslini" in page

    page = agency.get(f"/adoptions/?irccs={cast['other_irccs_org'].id}").get_data(as_text=True)
    rows = page.split("<tbody>")[1]
    assert "IRCCS Gaslini" in rows and "IRCCS San Matteo" not in rows
    page = agency.get("/adoptions/?state=not_started").get_data(as_text=True)
    rows = page.split("<tbody>")[1]
    assert "IRCCS San Matteo" in rows and "IRCCS Gaslini" not in rows

    detail = agency.get(f"/adoptions/{records[0].id}")
    assert detail.status_code == 200
    assert offered(detail.get_data(as_text=True)) == set()
    assert post_action(agency, records[0], "start_evaluation").status_code == 403
    assert reload(records[0]).state == "not_started"


def test_other_roles_have_no_adoption_pages(cast, make, as_user):
    _, (record,) = published(make, cast, "CardioValve", irccs=[cast["irccs_org"]])
    manufacturer = as_user(cast["manufacturer"])
    assert manufacturer.get("/adoptions/").status_code == 403
    assert manufacturer.get(f"/adoptions/{record.id}").status_code == 404


def test_the_nav_shows_adoption_to_irccs_and_agency_only(cast, as_user):
    assert 'href="/adoptions/"' in as_user(cast["irccs"]).get("/").get_data(as_text=True)
    assert 'href="/adoptions/"' in as_user(cast["agency"]).get("/").get_data(as_text=True)
    assert 'href="/adoptions/"' not in as_user(cast["manufacturer"]).get("/").get_data(as_text=True)


def test_adoption_steps_take_their_real_dates_within_reason(cast, make, as_user):
    _, (record,) = published(make, cast, "CardioValve", irccs=[cast["irccs_org"]])
    client = as_user(cast["irccs"])
    assert post_action(client, record, "start_evaluation").status_code == 302
    page = client.get(f"/adoptions/{record.id}").get_data(as_text=True)
    assert 'name="approve_for_use-decision_date"' in page and "Date of the decision" in page

    today = datetime.now(UTC).date()
    # Not in the future; not before the recommendation was published.
    for day, message in (
        (today + timedelta(days=2), "Choose today or an earlier date."),
        (PUBLISHED.date() - timedelta(days=3), "before the recommendation was published"),
    ):
        refused = post_action(client, record, "approve_for_use", decision_date=day.isoformat())
        assert refused.status_code == 422
        assert message in refused.get_data(as_text=True)
        assert day.isoformat() in refused.get_data(as_text=True)  # what was typed is kept
        assert reload(record).state == "local_evaluation"

    decided = today - timedelta(days=20)
    response = post_action(client, record, "approve_for_use", decision_date=decided.isoformat())
    assert response.status_code == 302
    record = reload(record)
    assert record.decided_at.date() == decided

    # The first patient cannot come before the decision.
    early = post_action(
        client, record, "start_use", first_use_date=(decided - timedelta(days=1)).isoformat()
    )
    assert early.status_code == 422
    assert "cannot come before the decision" in early.get_data(as_text=True)
    first = today - timedelta(days=5)
    assert (
        post_action(client, record, "start_use", first_use_date=first.isoformat()).status_code
        == 302
    )
    record = reload(record)
    assert record.first_use_at.date() == first

    # Audited: the dates are in the trail of each step.
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "adoption", AuditEntry.entity_id == record.id)
        .order_by(AuditEntry.seq)
    ).all()
    data = {entry.action: entry.data for entry in entries}
    assert data["approve_for_use"]["decision_date"] == decided.isoformat()
    assert data["start_use"]["first_use_date"] == first.isoformat()
