"""Regional tariff cases through the API: the IRCCS asks on its adoption record, the region's
users decide on the case (same `fire`, same permissions as the pages), another region's users
get a 404; the tariff is public to the case's parties."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core import transition_hooks
from app.extensions import db
from app.models import Reimbursement
from tests.api_support import api_for
from tests.workflow_support import adoption_of, keep_only_guards_of, make_cast, walk_to


@pytest.fixture
def asked(make, monkeypatch, client):
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    with monkeypatch.context() as patch:
        patch.setattr(transition_hooks, "_before", {})
        keep_only_guards_of(patch, ("app.core.guards",))
        walk_to(request, "adoption_monitoring", cast)
    db.session.commit()
    adoption = adoption_of(request, cast.irccs_org)
    irccs = api_for(client, cast.irccs)
    for trigger in ("start_evaluation", "approve_for_use", "request_tariff"):
        answer = irccs.post(f"/adoptions/{adoption.id}/transitions/{trigger}", {})
        assert answer.status_code == 200, (trigger, answer.get_json())
    case = db.session.scalars(select(Reimbursement)).one()
    return cast, case


def test_the_region_decides_through_the_api_and_the_parties_read_the_tariff(client, asked):
    cast, case = asked
    region = api_for(client, cast.assessor)
    url = f"/reimbursements/{case.id}"
    listed = region.get(f"{url}/transitions").get_json()["items"]
    assert [item["trigger"] for item in listed] == ["start_tariff_evaluation"]
    started = region.post(f"{url}/transitions/start_tariff_evaluation", {})
    assert started.get_json()["state_label"] == "Tariff under evaluation"
    body = {
        "data": {
            "tariff_kind": "drg",
            "tariff_code": "DRG 105",
            "tariff_amount": "21450.00",
            "effective_date": "2026-10-01",
        }
    }
    assigned = region.post(f"{url}/transitions/assign_tariff", body)
    assert assigned.status_code == 200 and assigned.get_json()["state"] == "assigned"
    for reader in ("agency", "irccs", "manufacturer", "assessor"):
        answer = api_for(client, getattr(cast, reader)).get(url)
        assert answer.status_code == 200, reader
        got = answer.get_json()
        assert (got["tariff_code"], got["tariff_amount"]) == ("DRG 105", "21450.00")
        assert answer.headers["ETag"]


def test_another_regions_users_get_404_and_readers_may_not_decide(client, asked):
    cast, case = asked
    url = f"/reimbursements/{case.id}"
    for stranger in ("other_assessor", "other_irccs", "other_manufacturer"):
        api = api_for(client, getattr(cast, stranger))
        assert api.get(url).status_code == 404, stranger
        answer = api.post(f"{url}/transitions/start_tariff_evaluation", {})
        assert answer.status_code == 404, stranger
    for reader in ("agency", "irccs"):
        answer = api_for(client, getattr(cast, reader)).post(
            f"{url}/transitions/start_tariff_evaluation", {}
        )
        assert answer.status_code == 403, reader
    db.session.expire_all()
    assert db.session.get(Reimbursement, case.id).state == "requested"
