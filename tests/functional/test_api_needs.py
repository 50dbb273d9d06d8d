"""IRCCS needs through the API: post, endorse, link, read back the declared-need score;
the same refusals as the pages, and linked requests named only to those who may see them."""

from __future__ import annotations

from app.extensions import db
from tests.api_support import api_for
from tests.assessment_support import request_in

NEED = {
    "title": "Home dialysis monitoring",
    "condition": "End-stage renal disease",
    "population": "Adults on home haemodialysis",
    "patients_per_year": 800,
    "standard_of_care": "Hospital haemodialysis three times a week",
    "gap": "No remote monitoring of sessions at home",
}


def test_post_endorse_link_and_read_the_score(client, cast, make):
    posted = api_for(client, cast.irccs).post("/needs", json=NEED)
    assert posted.status_code == 201, posted.get_json()
    need_id = posted.get_json()["id"]
    endorsed = api_for(client, cast.other_irccs).post(
        f"/needs/{need_id}/endorsements", json={"comment": "We see the same patients."}
    )
    assert endorsed.status_code == 201
    assert endorsed.get_json()["endorsements"] == 1
    req = request_in(make, cast, "awaiting_prioritisation")
    linked = api_for(client, cast.manufacturer).post(
        f"/requests/{req.id}/needs", json={"need_id": need_id}
    )
    assert linked.status_code == 201, linked.get_json()
    # Two IRCCS (2), 800 patients (under 1,000): 2.
    assert linked.get_json()["declared_need"] == {
        "needs": 1,
        "irccs": 2,
        "patients": 800,
        "score": 2,
    }
    listing = api_for(client, cast.agency).get("/needs").get_json()
    assert [(n["id"], n["endorsements"], n["linked_requests"]) for n in listing["items"]] == [
        (need_id, 1, 1)
    ]
    agency_view = api_for(client, cast.agency).get(f"/needs/{need_id}").get_json()
    assert agency_view["visible_linked_requests"] == [{"id": req.id, "title": req.title}]
    irccs_view = api_for(client, cast.other_irccs).get(f"/needs/{need_id}").get_json()
    assert irccs_view["visible_linked_requests"] == []
    assert irccs_view["need"]["linked_requests"] == 1


def test_refusals_match_the_pages(client, cast, make):
    bad = api_for(client, cast.irccs).post("/needs", json=NEED | {"patients_per_year": 0})
    assert bad.status_code == 422
    assert bad.get_json()["error_codes"] == {"patients_per_year": ["out_of_range"]}
    assert api_for(client, cast.manufacturer).post("/needs", json=NEED).status_code == 403
    need_id = api_for(client, cast.irccs).post("/needs", json=NEED).get_json()["id"]
    own = api_for(client, cast.irccs).post(f"/needs/{need_id}/endorsements", json={})
    assert own.status_code == 403
    req = request_in(make, cast, "prioritisation")
    other = api_for(client, cast.other_manufacturer).post(
        f"/requests/{req.id}/needs", json={"need_id": need_id}
    )
    assert other.status_code == 404
    assert api_for(client, cast.admin).get("/needs").status_code == 403
    assert api_for(client, cast.agency).get("/needs/999999").status_code == 404
    db.session.rollback()
