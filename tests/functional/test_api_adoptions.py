"""Adoption records and quarterly usage through the API: each IRCCS its own, the agency all,
nobody else; the adoption workflow; usage reports and their corrections."""

from __future__ import annotations

from datetime import date

import pytest

from app.core import transition_hooks
from app.extensions import db
from tests.api_support import api_for, assert_problem
from tests.workflow_support import adoption_of, keep_only_guards_of, make_cast, walk_to


@pytest.fixture
def published(make, monkeypatch):
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    with monkeypatch.context() as patch:
        patch.setattr(transition_hooks, "_before", {})
        patch.setattr(transition_hooks, "_after", {})
        keep_only_guards_of(patch, ("app.core.guards",))
        walk_to(request, "adoption_monitoring", cast)
    db.session.commit()
    return cast, request


def fire(api, adoption_id, trigger, body=None):
    return api.post(f"/adoptions/{adoption_id}/transitions/{trigger}", body or {})


def in_use(client, cast, request):
    adoption = adoption_of(request, cast.irccs_org)
    api = api_for(client, cast.irccs)
    for trigger in ("start_evaluation", "approve_for_use", "start_use"):
        assert fire(api, adoption.id, trigger).status_code == 200
    return api, adoption


FIGURES = {
    "year": date.today().year - 1,
    "quarter": 2,
    "units": 5,
    "procedures": 5,
    "spend": 92500,
    "adverse_events": 1,
}


@pytest.mark.parametrize(
    ("who", "count"),
    [("agency", 2), ("irccs", 1), ("other_irccs", 1), ("manufacturer", 0), ("assessor", 0)],
)
def test_each_role_lists_the_records_it_may_see(client, published, who, count):
    cast, request = published
    items = api_for(client, getattr(cast, who)).get("/adoptions").get_json()["items"]
    assert len(items) == count
    if who == "irccs":
        assert items[0]["irccs"]["id"] == cast.irccs_org.id
        assert items[0]["request"]["id"] == request.id
        assert items[0]["state"] == "not_started"


def test_another_irccs_record_is_404(client, published):
    cast, request = published
    mine = adoption_of(request, cast.irccs_org)
    other = api_for(client, cast.other_irccs)
    for path in ("", "/transitions", "/usage-reports"):
        assert_problem(other.get(f"/adoptions/{mine.id}{path}"), 404, "not-found")
    assert_problem(fire(other, mine.id, "start_evaluation"), 404, "not-found")
    assert_problem(
        api_for(client, cast.manufacturer).get(f"/adoptions/{mine.id}"), 404, "not-found"
    )


def test_filters(client, published):
    cast, request = published
    agency = api_for(client, cast.agency)
    assert len(agency.get(f"/adoptions?request_id={request.id}").get_json()["items"]) == 2
    assert agency.get("/adoptions?request_id=999999").get_json()["items"] == []
    assert agency.get("/adoptions?state=in_use").get_json()["items"] == []
    bad = assert_problem(agency.get("/adoptions?state=adopted&request_id=x"), 422, "validation")
    assert set(bad["errors"]) == {"state", "request_id"}


def test_the_irccs_moves_its_record_and_the_agency_may_not(client, published):
    cast, request = published
    adoption = adoption_of(request, cast.irccs_org)
    assert_problem(
        fire(api_for(client, cast.agency), adoption.id, "start_evaluation"), 403, "forbidden"
    )
    irccs = api_for(client, cast.irccs)
    started = fire(irccs, adoption.id, "start_evaluation").get_json()
    assert started["state"] == "local_evaluation" and started["state_label"]
    assert_problem(fire(irccs, adoption.id, "start_use"), 409, "invalid-transition")
    no_reason = assert_problem(
        fire(irccs, adoption.id, "decline", {"data": {"decline_reason": "bored"}}),
        422,
        "validation",
    )
    assert no_reason["error_codes"] == {
        "decline_reason": ["invalid_choice"],
        "reason": ["required"],
    }
    declined = fire(
        irccs,
        adoption.id,
        "decline",
        {"reason": "No budget this year.", "data": {"decline_reason": "no_budget"}},
    )
    assert declined.status_code == 200
    record = irccs.get(f"/adoptions/{adoption.id}").get_json()
    assert record["state"] == "declined" and record["decline_reason"] == "no_budget"
    assert record["decided_at"] is not None


def test_usage_is_reported_once_in_use_and_corrected_with_a_reason(client, published):
    cast, request = published
    adoption = adoption_of(request, cast.irccs_org)
    irccs = api_for(client, cast.irccs)
    path = f"/adoptions/{adoption.id}/usage-reports"
    assert_problem(irccs.post(path, FIGURES), 403, "forbidden")
    irccs, adoption = in_use(client, cast, request)
    created = irccs.post(path, FIGURES)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["spend"] == "92500.00"
    corrected = irccs.post(path, FIGURES | {"units": 6, "reason": "Counted twice."})
    assert corrected.get_json()["version"] == 2
    agency_view = api_for(client, cast.agency).get(path).get_json()["items"]
    assert [(r["version"], r["units"]) for r in agency_view] == [(2, 6), (1, 5)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quarter": 5}, "quarter"),
        ({"units": -1}, "units"),
        ({"units": 1.5}, "units"),
        ({"spend": "lots"}, "spend"),
        ({"spend": "-3"}, "spend"),
        ({"spend": True}, "spend"),
        ({"year": date.today().year + 1, "quarter": 1}, "quarter"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_figures_are_refused(client, published, changes, field):
    cast, request = published
    irccs, adoption = in_use(client, cast, request)
    problem = assert_problem(
        irccs.post(f"/adoptions/{adoption.id}/usage-reports", FIGURES | changes), 422, "validation"
    )
    assert list(problem["errors"]) == [field]


def test_only_the_irccs_of_the_record_reports(client, published):
    cast, request = published
    _, adoption = in_use(client, cast, request)
    path = f"/adoptions/{adoption.id}/usage-reports"
    assert_problem(api_for(client, cast.agency).post(path, FIGURES), 403, "forbidden")
    assert_problem(api_for(client, cast.other_irccs).post(path, FIGURES), 404, "not-found")


def test_barriers_through_the_api_record_list_escalate(client, published):
    """An IRCCS that declined records a barrier and escalates it; it reads them back; another
    IRCCS gets 404; the agency resolves it."""
    from datetime import timedelta

    cast, request = published
    adoption = adoption_of(request, cast.irccs_org)
    api = api_for(client, cast.irccs)
    assert fire(api, adoption.id, "start_evaluation").status_code == 200
    declined = fire(
        api,
        adoption.id,
        "decline",
        {"reason": "No budget.", "data": {"decline_reason": "no_budget"}},
    )
    assert declined.status_code == 200
    due = (date.today() + timedelta(days=40)).isoformat()
    recorded = fire(
        api,
        adoption.id,
        "record_barrier",
        {
            "data": {
                "barrier_kind": "no_budget",
                "barrier_description": "The 2027 budget has no line for it.",
                "barrier_owner": "irccs",
                "barrier_due_date": due,
            }
        },
    )
    assert recorded.status_code == 200, recorded.get_json()
    [barrier] = api.get(f"/adoptions/{adoption.id}/barriers").get_json()["items"]
    assert (barrier["kind"], barrier["owner"], barrier["status"], barrier["due_date"]) == (
        "no_budget",
        "irccs",
        "open",
        due,
    )
    other = api_for(client, cast.other_irccs)
    assert other.get(f"/adoptions/{adoption.id}/barriers").status_code == 404
    refused = fire(
        api, adoption.id, "escalate_barrier", {"data": {"barrier": "seven"}, "reason": "x"}
    )
    assert refused.status_code == 422
    escalated = fire(
        api,
        adoption.id,
        "escalate_barrier",
        {"data": {"barrier": barrier["id"]}, "reason": "The board said no twice."},
    )
    assert escalated.status_code == 200
    agency = api_for(client, cast.agency)
    resolved = fire(
        agency,
        adoption.id,
        "resolve_barrier",
        {"data": {"barrier": barrier["id"], "resolution_note": "National framework contract."}},
    )
    assert resolved.status_code == 200
    [barrier] = agency.get(f"/adoptions/{adoption.id}/barriers").get_json()["items"]
    assert barrier["status"] == "resolved" and barrier["escalation_reason"] == (
        "The board said no twice."
    )


def test_the_region_s_user_resolves_the_region_s_barrier_through_the_api_and_nothing_else(
    client, published
):
    """The assessor of the regional body of the IRCCS's region does not find the record (404,
    as on the web), except to resolve a barrier the region owns; another region's user never."""
    from datetime import timedelta

    cast, request = published
    adoption = adoption_of(request, cast.irccs_org)
    api = api_for(client, cast.irccs)
    assert fire(api, adoption.id, "start_evaluation").status_code == 200
    decline = {"reason": "No tariff.", "data": {"decline_reason": "no_budget"}}
    assert fire(api, adoption.id, "decline", decline).status_code == 200
    due = (date.today() + timedelta(days=40)).isoformat()
    barrier = {
        "barrier_kind": "no_budget",
        "barrier_description": "The region has no tariff for it.",
        "barrier_owner": "region",
        "barrier_due_date": due,
    }
    assert fire(api, adoption.id, "record_barrier", {"data": barrier}).status_code == 200
    [row] = api.get(f"/adoptions/{adoption.id}/barriers").get_json()["items"]
    region = api_for(client, cast.assessor)
    assert region.get(f"/adoptions/{adoption.id}").status_code == 404
    assert region.get(f"/adoptions/{adoption.id}/transitions").status_code == 404
    escalate = {"data": {"barrier": row["id"]}, "reason": "x"}
    assert fire(region, adoption.id, "escalate_barrier", escalate).status_code == 404
    resolve = {"data": {"barrier": row["id"], "resolution_note": "Tariff DRG 104 assigned."}}
    stranger = api_for(client, cast.other_assessor)
    assert fire(stranger, adoption.id, "resolve_barrier", resolve).status_code == 404
    assert fire(region, adoption.id, "resolve_barrier", resolve).status_code == 200
    [row] = api.get(f"/adoptions/{adoption.id}/barriers").get_json()["items"]
    assert (row["status"], row["resolution_note"]) == ("resolved", "Tariff DRG 104 assigned.")
