"""The regional tariff: an IRCCS asks its region, the region's users (its regional HTA
body's assessors) evaluate and decide, each step through the workflow with its audit entry;
the adoption record shows what it waits for; a case is seen only by the parties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.deadline_settings import save_deadline
from app.extensions import db
from app.models import Adoption, AuditEntry, Notification, Reimbursement
from app.workqueue.queries import queue_summary
from tests.assessment_support import statements_for
from tests.functional.test_adoption_pages import adoption_cast, published, reload
from tests.page_support import post_action

TODAY = datetime.now(UTC).date()


@pytest.fixture
def cast(make):
    people = adoption_cast(make)  # IRCCS San Matteo (Lombardia), IRCCS Gaslini (Liguria)
    lombardia = make.org("regional_body", name="HTA Lombardia", region="lombardia")
    liguria = make.org("regional_body", name="HTA Liguria", region="liguria")
    people["region"] = make.user("assessor", organisation=lombardia, language="en")
    people["other_region"] = make.user("assessor", organisation=liguria, language="en")
    people["other_manufacturer"] = make.user(
        "manufacturer", organisation=make.org("manufacturer"), language="en"
    )
    db.session.commit()
    return people


def _approved(client, record):
    for trigger in ("start_evaluation", "approve_for_use"):
        assert post_action(client, record, trigger).status_code == 302, trigger


def _case(request_id: int, region: str = "lombardia") -> Reimbursement:
    db.session.expire_all()
    return db.session.scalars(
        select(Reimbursement).where(
            Reimbursement.request_id == request_id, Reimbursement.region == region
        )
    ).one()


def _requested(make, cast):
    """A recommendation with a record at IRCCS San Matteo, approved; its tariff asked."""
    request, (record,) = published(make, cast, "CardioValve", irccs=[cast["irccs_org"]])
    irccs = cast["app_client"](cast["irccs"])
    _approved(irccs, record)
    assert post_action(irccs, record, "request_tariff").status_code == 302
    return request, reload(record), _case(request.id)


@pytest.fixture(autouse=True)
def _clients(cast, as_user):
    cast["app_client"] = as_user


def test_an_irccs_asks_its_region_which_decides_and_the_record_stops_waiting(make, cast, as_user):
    request, record, case = _requested(make, cast)
    assert case.state == "requested" and case.requested_by_id == cast["irccs_org"].id
    # The deadline: 90 days by default, at the end of the day in Rome.
    assert (case.due_at - case.requested_at) >= timedelta(days=90)
    assert (case.due_at - case.requested_at) < timedelta(days=91)

    irccs = as_user(cast["irccs"])
    page = irccs.get(f"/adoptions/{record.id}").get_data(as_text=True)
    assert "Waiting for the regional tariff since" in page
    queue = irccs.get("/work/").get_data(as_text=True)
    assert "Waiting for the regional tariff since" in queue
    listed = irccs.get("/adoptions/").get_data(as_text=True)
    assert "Waiting for the regional tariff since" in listed

    region = as_user(cast["region"])
    queue = region.get("/work/").get_data(as_text=True)
    assert f'data-case-id="{case.id}"' in queue and "Regional tariffs to decide" in queue
    told = db.session.scalars(
        select(Notification).where(Notification.user_id == cast["region"].id)
    ).all()
    assert [n.kind for n in told] == ["tariff_requested"]

    assert post_action(region, case, "start_tariff_evaluation").status_code == 302
    response = post_action(
        region,
        _case(request.id),
        "assign_tariff",
        tariff_kind="drg",
        tariff_code="DRG 104",
        tariff_amount="12500.00",
        effective_date=TODAY.isoformat(),
    )
    assert response.status_code == 302
    case = _case(request.id)
    assert case.state == "assigned" and case.decided_at is not None
    assert (case.tariff_code, case.tariff_amount) == ("DRG 104", Decimal("12500.00"))

    page = irccs.get(f"/adoptions/{record.id}").get_data(as_text=True)
    assert "Waiting for the regional tariff" not in page
    assert "DRG 104" in page and "Tariff or code assigned" in page
    assert f'data-case-id="{case.id}"' not in region.get("/work/").get_data(as_text=True)
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.user_id == cast["irccs"].id)
    ).all()
    assert "tariff_decided" in kinds

    # Every step is in the case's audit trail, and the request on the adoption record's.
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "reimbursement", AuditEntry.entity_id == case.id)
        .order_by(AuditEntry.seq)
    ).all()
    assert actions == ["request_tariff", "start_tariff_evaluation", "assign_tariff"]
    case_page = region.get(f"/reimbursements/{case.id}").get_data(as_text=True)
    assert "Assign the tariff or code" in case_page and "12,500.00" in case_page

    # Tariffs are public: the manufacturer reads its device's case, with the amount.
    maker = as_user(cast["manufacturer"]).get(f"/reimbursements/{case.id}")
    assert maker.status_code == 200 and "12,500.00" in maker.get_data(as_text=True)
    # Which IRCCS asked is not the manufacturer's business (adoption records are not).
    assert "IRCCS San Matteo" not in maker.get_data(as_text=True)
    assert "IRCCS San Matteo" in case_page
    panel = as_user(cast["agency"]).get(f"/requests/{request.id}").get_data(as_text=True)
    assert 'id="regional-tariffs"' in panel and "DRG 104" in panel


def test_only_the_parties_see_a_case_and_only_the_region_acts(make, cast, as_user):
    _, _, case = _requested(make, cast)
    url = f"/reimbursements/{case.id}"
    # Another region's users, an IRCCS of another region, another manufacturer: 404.
    for stranger in ("other_region", "other_irccs", "other_manufacturer"):
        client = as_user(cast[stranger])
        assert client.get(url).status_code == 404, stranger
        assert post_action(client, case, "start_tariff_evaluation").status_code == 404, stranger
    # The agency, the manufacturer and the asking IRCCS read it but may not decide: 403.
    for reader in ("agency", "manufacturer", "irccs"):
        client = as_user(cast[reader])
        page = client.get(url).get_data(as_text=True)
        assert 'data-trigger="start_tariff_evaluation"' not in page, reader
        assert post_action(client, case, "start_tariff_evaluation").status_code == 403, reader
    assert _case(case.request_id).state == "requested"
    assert as_user(cast["region"]).get(url).status_code == 200


def test_an_irccs_of_the_region_without_a_record_does_not_see_the_case(make, cast, as_user):
    _, _, case = _requested(make, cast)
    neighbour_org = make.org("irccs", name="IRCCS Besta")  # Lombardia, no record
    neighbour = make.user("irccs", organisation=neighbour_org, language="en")
    db.session.commit()
    assert as_user(neighbour).get(f"/reimbursements/{case.id}").status_code == 404


def test_one_case_per_region_a_second_ask_is_refused_with_a_reason(make, cast, as_user):
    request, _, case = _requested(make, cast)
    second_org = make.org("irccs", name="IRCCS Humanitas")  # Lombardia too
    second = make.user("irccs", organisation=second_org, language="en")
    record = Adoption(request_id=request.id, irccs_id=second_org.id)
    db.session.add(record)
    db.session.commit()
    client = as_user(second)
    _approved(client, record)
    response = post_action(client, record, "request_tariff")
    assert response.status_code == 422
    assert "already requested for this region" in response.get_data(as_text=True)
    # It waits for the region's case all the same.
    page = client.get(f"/adoptions/{record.id}").get_data(as_text=True)
    assert "Waiting for the regional tariff since" in page
    assert db.session.scalar(select(Reimbursement.id).where(Reimbursement.id != case.id)) is None


def test_a_tariff_needs_a_valid_amount_and_a_refusal_a_reason(make, cast, as_user):
    request, _, case = _requested(make, cast)
    region = as_user(cast["region"])
    post_action(region, case, "start_tariff_evaluation")
    response = post_action(
        region,
        _case(request.id),
        "assign_tariff",
        tariff_kind="drg",
        tariff_code="DRG 104",
        tariff_amount="a lot",
        effective_date=TODAY.isoformat(),
    )
    assert response.status_code == 422
    assert "Enter a positive amount in euro" in response.get_data(as_text=True)
    assert post_action(region, _case(request.id), "refuse_tariff").status_code == 422
    refused = post_action(region, _case(request.id), "refuse_tariff", reason="No evidence.")
    assert refused.status_code == 302
    assert _case(request.id).state == "refused"


def test_the_tariff_deadline_is_configurable_and_an_overdue_case_is_flagged(make, cast, as_user):
    save_deadline("regional_tariff", 30, False)
    db.session.commit()
    _, _, case = _requested(make, cast)
    assert (case.due_at - case.requested_at) < timedelta(days=31)
    case.due_at = datetime.now(UTC) - timedelta(days=1)
    db.session.commit()
    region = as_user(cast["region"])
    queue = region.get("/work/").get_data(as_text=True)
    row = queue.split(f'data-case-id="{case.id}"')[0].rsplit("<tr", 1)[1]
    assert "table-overdue" in row
    # The home page counts it with the region's other work.
    summary = queue_summary(cast["region"], datetime.now(UTC))
    assert (summary.waiting, summary.overdue) == (1, 1)


def test_the_case_page_and_the_region_queue_cost_the_same_for_one_or_many(make, cast, as_user):
    request, _, case = _requested(make, cast)
    request_id, case_url = request.id, f"/reimbursements/{case.id}"
    region = as_user(cast["region"])
    irccs = as_user(cast["irccs"])
    one = statements_for(region, "/work/")
    one_case = statements_for(region, case_url)
    irccs_one = statements_for(irccs, "/work/")
    for n in range(3):
        _, (record,) = published(make, cast, f"Device {n}", irccs=[cast["irccs_org"]])
        _approved(irccs, record)
        assert post_action(irccs, record, "request_tariff").status_code == 302
    assert post_action(region, _case(request_id), "start_tariff_evaluation").status_code == 302
    assert statements_for(region, "/work/") == one
    assert statements_for(region, case_url) == one_case
    assert statements_for(irccs, "/work/") == irccs_one


def test_the_request_page_costs_the_same_with_one_or_several_regions_cases(make, cast, as_user):
    request, (record, other) = published(
        make, cast, "CardioValve", irccs=[cast["irccs_org"], cast["other_irccs_org"]]
    )
    request_id, url = request.id, f"/requests/{request.id}"
    _approved(as_user(cast["irccs"]), record)
    assert post_action(as_user(cast["irccs"]), record, "request_tariff").status_code == 302
    agency, other_irccs, other_id = as_user(cast["agency"]), as_user(cast["other_irccs"]), other.id
    one = statements_for(agency, url)
    other = db.session.get(Adoption, other_id)
    _approved(other_irccs, other)
    assert post_action(other_irccs, other, "request_tariff").status_code == 302
    assert statements_for(agency, url) == one
    regions = db.session.scalars(
        select(Reimbursement.region).where(Reimbursement.request_id == request_id)
    ).all()
    assert sorted(regions) == ["liguria", "lombardia"]
