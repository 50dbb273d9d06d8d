"""Workflow through the API: the actions each role may take now, firing them (with the same
refusals as the pages), the timeline and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry
from tests.api_support import api_for, assert_problem, clear_coi
from tests.workflow_support import make_cast, no_area_hooks, walk_to  # noqa: F401 (fixture)


@pytest.fixture
def cast(make, no_area_hooks):  # noqa: F811
    cast = make_cast(make)
    db.session.commit()
    return cast


def triggers(api, path: str) -> list[str]:
    response = api.get(f"{path}/transitions")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["trigger"] for item in response.get_json()["items"]]


def audit_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.request_id.is_not(None))
    )


def test_each_party_sees_its_own_actions(client, make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "assignment", cast)
    db.session.commit()
    path = f"/requests/{request.id}"
    assert "assign_body" in triggers(api_for(client, cast.agency), path)
    assert triggers(api_for(client, cast.manufacturer), path) == ["withdraw"]
    for outsider in (cast.assessor, cast.other_manufacturer, cast.irccs):  # not assigned yet
        response = api_for(client, outsider).get(f"{path}/transitions")
        assert_problem(response, 404, "not-found")


def test_actions_list_their_fields_and_choices(client, make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "assignment", cast)
    db.session.commit()
    items = api_for(client, cast.agency).get(f"/requests/{request.id}/transitions").get_json()
    assign = next(i for i in items["items"] if i["trigger"] == "assign_body")
    field = assign["fields"][0]
    assert field["name"] == "regional_body" and field["kind"] == "regional_body"
    assert cast.body.id in [c["value"] for c in field["choices"]]
    assert assign["to_state"] == "assignment" and assign["label"]


def test_a_draft_that_is_not_complete_shows_what_is_missing(client, make, cast):
    draft = make.request(manufacturer=cast.manufacturer_org)
    db.session.commit()
    api = api_for(client, cast.manufacturer)
    submit = next(
        i
        for i in api.get(f"/requests/{draft.id}/transitions").get_json()["items"]
        if i["trigger"] == "submit"
    )
    assert "udi_di" in submit["missing"]
    problem = assert_problem(
        api.post(f"/requests/{draft.id}/transitions/submit"), 422, "guard-failed"
    )
    assert "udi_di" in problem["missing"]
    assert audit_count() == 0


def test_firing_moves_the_request_and_writes_one_audit_entry(client, make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    db.session.commit()
    api = api_for(client, cast.manufacturer)
    response = api.post(f"/requests/{request.id}/transitions/submit")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["state"] == "intake_review"
    assert body["audit_entry"]["action"] == "submit"
    assert body["audit_entry"]["actor"]["name"] == cast.manufacturer.display_name
    assert audit_count() == 1


def test_the_refusals_of_the_pages(client, make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "intake_review", cast)
    db.session.commit()
    path = f"/requests/{request.id}/transitions"
    manufacturer, agency = api_for(client, cast.manufacturer), api_for(client, cast.agency)
    assert_problem(manufacturer.post(f"{path}/admit"), 403, "forbidden")
    assert_problem(agency.post(f"{path}/publish"), 409, "invalid-transition")
    assert_problem(agency.post(f"{path}/no_such_action"), 404, "not-found")
    assert_problem(
        api_for(client, cast.other_manufacturer).post(f"{path}/withdraw", {"reason": "x"}),
        404,
        "not-found",
    )
    missing = assert_problem(agency.post(f"{path}/mark_incomplete", {}), 422, "validation")
    assert missing["error_codes"] == {"missing_items": ["required"], "reason": ["required"]}
    typed = assert_problem(
        agency.post(f"{path}/mark_incomplete", {"data": {"missing_items": 3}}), 422, "validation"
    )
    assert list(typed["errors"]) == ["missing_items"]
    unknown = assert_problem(
        agency.post(f"{path}/admit", {"data": {"colour": "red"}}), 422, "validation"
    )
    assert list(unknown["errors"]) == ["colour"]
    assert audit_count() == 1  # the submission only


def test_lines_may_be_a_list_or_text(client, make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "intake_review", cast)
    db.session.commit()
    response = api_for(client, cast.agency).post(
        f"/requests/{request.id}/transitions/mark_incomplete",
        {"reason": "Missing studies.", "data": {"missing_items": "IFU\nCE certificate"}},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["audit_entry"]["data"]["missing_items"] == ["IFU", "CE certificate"]


def test_if_match_protects_against_a_concurrent_change(client, make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "intake_review", cast)
    db.session.commit()
    stale = f'"{request.version - 1}"'
    agency = api_for(client, cast.agency)
    assert_problem(
        agency.post(f"/requests/{request.id}/transitions/admit", headers={"If-Match": stale}),
        412,
        "precondition-failed",
    )
    current = agency.get(f"/requests/{request.id}").headers["ETag"]
    ok = agency.post(f"/requests/{request.id}/transitions/admit", headers={"If-Match": current})
    assert ok.status_code == 200


def test_the_timeline_shows_each_stage_with_its_days(client, make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "incomplete", cast)
    db.session.commit()
    timeline = api_for(client, cast.manufacturer).get(f"/requests/{request.id}/timeline").get_json()
    assert timeline["state"] == "incomplete"
    first, last = timeline["stages"]
    assert first["state"] == "intake_review" and first["gross_days"] == pytest.approx(1.0)
    assert first["due_at"] is not None and first["clock_stopped"] is False
    assert last["state"] == "incomplete" and last["clock_stopped"] is True
    assert last["left_at"] is None and last["state_label"]
    assert api_for(client, cast.agency).get(f"/requests/{request.id}/timeline").status_code == 200
    assert_problem(
        api_for(client, cast.other_manufacturer).get(f"/requests/{request.id}/timeline"),
        404,
        "not-found",
    )


def test_the_audit_trail_is_for_the_parties(client, make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "adoption_monitoring", cast)
    clear_coi(cast.assessor, request)
    db.session.commit()
    path = f"/requests/{request.id}/audit"
    entries = api_for(client, cast.manufacturer).get(path).get_json()["items"]
    assert [e["action"] for e in entries][:3] == ["submit", "admit", "start_prioritisation"]
    assert all(e["prev_hash"] for e in entries)
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert api_for(client, cast.agency).get(path).status_code == 200
    assert api_for(client, cast.assessor).get(path).status_code == 200
    assert_problem(api_for(client, cast.irccs).get(path), 403, "forbidden")
    assert_problem(api_for(client, cast.other_manufacturer).get(path), 404, "not-found")
