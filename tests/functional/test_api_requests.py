"""Requests through the API: who sees which, filters and pages, reading, creating and updating
drafts with the web form's validation (same messages, same field names)."""

from __future__ import annotations

import html
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, DeviceRequest, Recommendation
from tests.api_support import NOW, Api, api_for, assert_problem, clear_coi
from tests.functional.test_dossier import COMPLETE_FORM
from tests.statement_support import counting_statements

VALID = {
    "trade_name": "CardioValve X",
    "regulation": "mdr",
    "risk_class": "III",
    "udi_di": "08001234567897",
    "list_price": "18500.00",
    "eligible_patients_per_year": 4000,
    "comparators": [{"description": "Surgical valve replacement"}],
    "evidence": [{"design": "rct", "patients": 120, "reference": "Rossi 2024"}],
    "consent_to_publication": True,
    "confidential_fields": ["list_price"],
}


def count_requests() -> int:
    return db.session.scalar(select(func.count()).select_from(DeviceRequest))


@pytest.fixture
def world(make):
    """Two manufacturers' requests in several states, an assigned body, a published one."""
    maker, rival = make.org("manufacturer"), make.org("manufacturer")
    body, irccs_org = make.org("regional_body"), make.org("irccs")
    users = {
        "manufacturer": make.user("manufacturer", organisation=maker),
        "rival": make.user("manufacturer", organisation=rival),
        "agency": make.user("agency"),
        "assessor": make.user("assessor", organisation=body),
        "other_assessor": make.user("assessor"),
        "irccs": make.user("irccs", organisation=irccs_org),
        "admin": make.user("admin"),
    }
    requests = {
        "draft": make.request(manufacturer=maker, trade_name="Alpha draft"),
        "submitted": make.request(manufacturer=maker, trade_name="Beta", state="intake_review"),
        "assigned": make.request(
            manufacturer=maker, trade_name="Gamma", state="assessment", assigned_body=body
        ),
        "published": make.request(
            manufacturer=maker,
            complete=True,
            trade_name="Delta",
            state="adoption_monitoring",
            confidential_fields=["list_price"],
        ),
        "rival_draft": make.request(manufacturer=rival, trade_name="Rival draft"),
    }
    db.session.add(
        Recommendation(
            request_id=requests["published"].id,
            outcome="recommended",
            rationale="r",
            published_at=NOW,
        )
    )
    db.session.commit()
    return users, requests


def ids_seen(api: Api) -> set[int]:
    return {item["id"] for item in api.get("/requests?limit=100").get_json()["items"]}


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("manufacturer", {"draft", "submitted", "assigned", "published"}),
        ("rival", {"rival_draft"}),
        ("agency", {"submitted", "assigned", "published"}),
        ("assessor", {"assigned"}),
        ("other_assessor", set()),
        ("irccs", {"published"}),
        ("admin", set()),
    ],
)
def test_each_role_lists_what_the_pages_show_it(client, world, who, visible):
    users, requests = world
    api = api_for(client, users[who])
    assert ids_seen(api) == {requests[name].id for name in visible}
    for name, req in requests.items():
        response = api.get(f"/requests/{req.id}")
        if name in visible and who != "assessor":
            assert response.status_code == 200, (who, name)
        elif name not in visible:
            assert_problem(response, 404, "not-found")


def test_an_assessor_declares_conflicts_before_opening_the_request(client, world):
    users, requests = world
    api = api_for(client, users["assessor"])
    path = f"/requests/{requests['assigned'].id}"
    assert_problem(api.get(path), 403, "coi-declaration-required")
    clear_coi(users["assessor"], requests["assigned"])
    db.session.commit()
    assert api.get(path).get_json()["dossier"]["trade_name"] == "Gamma"


def test_confidential_values_are_null_for_readers_who_are_not_parties(client, world):
    users, requests = world
    path = f"/requests/{requests['published'].id}"
    seen_by_irccs = api_for(client, users["irccs"]).get(path).get_json()
    seen_by_agency = api_for(client, users["agency"]).get(path).get_json()
    assert seen_by_irccs["dossier"]["list_price"] is None
    assert seen_by_agency["dossier"]["list_price"] == "18500.00"
    assert seen_by_irccs["dossier"]["trade_name"] == "Delta"
    assert seen_by_irccs["recommendation"]["outcome"] == "recommended"


def test_state_and_text_filters(client, world):
    users, requests = world
    api = api_for(client, users["manufacturer"])
    drafts = api.get("/requests?state=draft").get_json()["items"]
    assert [r["id"] for r in drafts] == [requests["draft"].id]
    found = api.get("/requests?q=gamm").get_json()["items"]
    assert [r["title"] for r in found] == ["Gamma"]
    bad = assert_problem(api.get("/requests?state=nonsense"), 422, "validation")
    assert list(bad["errors"]) == ["state"]


def test_cursor_pages_cover_every_request_once(client, make):
    user = make.user("manufacturer")
    for n in range(5):
        make.request(manufacturer=user.organisation, trade_name=f"Device {n}")
    db.session.commit()
    api = api_for(client, user)
    seen, url, pages = [], "/requests?limit=2", 0
    while url:
        response = api.get(url)
        body = response.get_json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        url = f"/requests?limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else None
        if url:
            assert 'rel="next"' in response.headers["Link"]
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)
    assert_problem(api.get("/requests?cursor=garbage"), 422, "validation")
    assert_problem(api.get("/requests?limit=1000"), 422, "validation")


def test_the_list_runs_a_constant_number_of_queries(client, make):
    agency = make.user("agency")
    api = api_for(client, agency)

    def statements() -> int:
        api.get("/me")  # the token's first use of a window writes more (not per row)
        with counting_statements() as statements:
            assert api.get("/requests?limit=100").status_code == 200
        return len(statements)

    for _ in range(3):
        make.request(state="intake_review")
    db.session.commit()
    with_3 = statements()
    for _ in range(20):
        make.request(state="intake_review")
    db.session.commit()
    assert statements() == with_3


# --- Creating -------------------------------------------------------------------------------


def test_a_manufacturer_creates_a_draft(client, make):
    user = make.user("manufacturer")
    api = api_for(client, user)
    response = api.post("/requests", VALID)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/requests/{body['id']}"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert body["state"] == "draft" and body["manufacturer"]["id"] == user.organisation_id
    assert body["dossier"]["list_price"] == "18500.00"
    assert body["dossier"]["comparators"] == [{"description": "Surgical valve replacement"}]
    assert body["dossier"]["evidence"][0]["design"] == "rct"
    assert "intended_purpose" in body["missing_for_submission"]
    stored = db.session.get(DeviceRequest, body["id"])
    assert stored.created_by_id == user.id and stored.udi_di == "08001234567897"


@pytest.mark.parametrize("role", ["agency", "assessor", "irccs", "admin"])
def test_only_manufacturers_create_requests(client, make, role):
    api = api_for(client, make.user(role))
    assert_problem(api.post("/requests", VALID), 403, "forbidden")
    assert count_requests() == 0


# The web form's rule table (tests/functional/test_dossier.py), sent as JSON.
RULES = [
    ({"udi_di": "08001234567895"}, "udi_di", "udi_di_check_digit"),
    ({"regulation": "ivdr"}, "risk_class", "risk_class_not_in_regulation"),
    ({"basic_udi_di": "8001234CVX23QK"}, "basic_udi_di", "basic_udi_di_check"),
    ({"emdn_code": "P070"}, "emdn_code", "emdn_format"),
    ({"notified_body_number": "123"}, "notified_body_number", "notified_body_format"),
    ({"repertorio_number": "12A"}, "repertorio_number", "repertorio_format"),
    ({"ce_certificate_issued_on": "2999-01-01"}, "ce_certificate_issued_on", None),
    ({"list_price": "-5"}, "list_price", "money_negative"),
    ({"acquisition_cost": "10.005,123"}, "acquisition_cost", "money_decimals"),
    ({"list_price": "12,34,56"}, "list_price", "money_format"),
    ({"expected_volume_per_year": "1.5"}, "expected_volume_per_year", "count_format"),
    ({"severity": "apocalyptic"}, "severity", "choice_unknown"),
]


def _json_of_form() -> dict:
    """COMPLETE_FORM as the JSON an API client sends."""
    body = {k: v for k, v in COMPLETE_FORM.items() if "-" not in k}
    body["is_implantable"] = body["coi_declared"] = True
    body["consent_to_publication"] = True
    body["comparators"] = [{"description": COMPLETE_FORM["comparators-0-description"]}]
    body["evidence"] = [
        {
            key: COMPLETE_FORM[f"evidence-0-{key}"]
            for key in ("design", "patients", "follow_up_months", "published_on", "reference")
        }
    ]
    return body


@pytest.mark.parametrize(("changes", "field", "code"), RULES)
def test_invalid_values_get_the_web_forms_messages(client, make, login, changes, field, code):
    user = make.user("manufacturer", language="en")
    db.session.commit()
    api = api_for(client, user)
    problem = assert_problem(api.post("/requests", _json_of_form() | changes), 422, "validation")
    login(user)
    web = client.post("/requests/new", data=COMPLETE_FORM | changes).get_data(as_text=True)
    assert field in problem["errors"]
    for message in problem["errors"][field]:
        assert html.escape(message, quote=False) in web or message in html.unescape(web)
    if code:
        assert problem["error_codes"][field] == [code]
    assert count_requests() == 0


def test_list_rows_are_named_like_the_forms_fields(client, make):
    api = api_for(client, make.user("manufacturer", language="en"))
    body = {"evidence": [{"design": "rct", "reference": "ok"}, {"patients": -3, "reference": "x"}]}
    problem = assert_problem(api.post("/requests", body), 422, "validation")
    assert problem["errors"] == {
        "evidence-1-design": ["Please fill this in."],
        "evidence-1-patients": ["Enter zero or more."],
    }
    assert problem["error_codes"]["evidence-1-design"] == ["required"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"trade_name": {"nested": True}}, "trade_name"),
        ({"list_price": True}, "list_price"),
        ({"is_software": "yes"}, "is_software"),
        ({"state": "assessment"}, "state"),
        ({"comparators": [3]}, "comparators"),
    ],
)
def test_unknown_fields_and_wrong_json_types_are_refused(client, make, body, field):
    api = api_for(client, make.user("manufacturer"))
    problem = assert_problem(api.post("/requests", body), 422, "validation")
    assert list(problem["errors"]) == [field]


def test_bodies_that_are_not_json_objects(client, app, make):
    api = api_for(client, make.user("manufacturer"))
    form = api.post("/requests", data={"trade_name": "x"})
    assert_problem(form, 415, "unsupported-media-type")
    broken = api.post("/requests", data="{not json", content_type="application/json")
    assert_problem(broken, 400, "bad-request")
    assert_problem(api.post("/requests", ["a list"]), 422, "validation")
    nul = assert_problem(api.post("/requests", {"model": "a\u0000b"}), 422, "validation")
    assert list(nul["errors"]) == ["model"]
    app.config["API_JSON_MAX_BYTES"] = 100
    assert_problem(api.post("/requests", {"intended_purpose": "x" * 200}), 413, "payload-too-large")
    assert count_requests() == 0


# --- Updating -------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, make):
    user = make.user("manufacturer")
    api = api_for(client, user)
    created = api.post("/requests", VALID).get_json()
    path = f"/requests/{created['id']}"
    response = api.patch(path, {"model": "CVX-25", "list_price": 19000})
    assert response.status_code == 200, response.get_data(as_text=True)
    dossier = response.get_json()["dossier"]
    assert dossier["model"] == "CVX-25" and dossier["list_price"] == "19000.00"
    assert dossier["trade_name"] == "CardioValve X" and dossier["udi_di"] == "08001234567897"
    cleared = api.patch(path, {"regulation": None, "risk_class": None}).get_json()["dossier"]
    assert cleared["regulation"] is None and cleared["risk_class"] is None


def test_patch_checks_rules_across_fields_against_the_stored_dossier(client, make):
    api = api_for(client, make.user("manufacturer", language="en"))
    created = api.post("/requests", VALID).get_json()
    problem = assert_problem(
        api.patch(f"/requests/{created['id']}", {"regulation": "ivdr"}), 422, "validation"
    )
    assert problem["error_codes"] == {"risk_class": ["risk_class_not_in_regulation"]}


def test_a_stale_if_match_is_refused(client, make):
    api = api_for(client, make.user("manufacturer"))
    created = api.post("/requests", VALID)
    path, etag = f"/requests/{created.get_json()['id']}", created.headers["ETag"]
    assert api.patch(path, {"model": "A"}, headers={"If-Match": etag}).status_code == 200
    assert_problem(
        api.patch(path, {"model": "B"}, headers={"If-Match": etag}), 412, "precondition-failed"
    )
    assert api.get(path).get_json()["dossier"]["model"] == "A"


def test_a_submitted_dossier_cannot_be_patched_and_others_get_404(client, make):
    user, rival = make.user("manufacturer"), make.user("manufacturer")
    submitted = make.request(manufacturer=user.organisation, state="intake_review")
    draft = make.request(manufacturer=user.organisation)
    db.session.commit()
    api = api_for(client, user)
    assert_problem(api.patch(f"/requests/{submitted.id}", {"model": "X"}), 403, "forbidden")
    assert_problem(
        api_for(client, rival).patch(f"/requests/{draft.id}", {"model": "X"}), 404, "not-found"
    )
    assert_problem(
        api_for(client, make.user("agency")).patch(f"/requests/{submitted.id}", {"model": "X"}),
        403,
        "forbidden",
    )


def test_edits_while_completing_the_file_are_audited(client, make):
    user = make.user("manufacturer")
    incomplete = make.request(manufacturer=user.organisation, state="incomplete", model="Old")
    db.session.commit()
    response = api_for(client, user).patch(f"/requests/{incomplete.id}", {"model": "New"})
    assert response.status_code == 200
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.request_id == incomplete.id)
    ).one()
    assert entry.action == "dossier_updated"
    assert entry.changes == {"model": ["Old", "New"]}


def test_json_round_trip_of_a_complete_dossier(client, make):
    """What GET returns can be sent back as it is."""
    api = api_for(client, make.user("manufacturer"))
    created = api.post("/requests", _json_of_form()).get_json()
    assert created["missing_for_submission"] == []
    again = api.patch(f"/requests/{created['id']}", created["dossier"])
    assert again.status_code == 200, again.get_data(as_text=True)
    assert json.dumps(again.get_json()["dossier"]) == json.dumps(created["dossier"])
