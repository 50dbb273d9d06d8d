"""Reuse through the API: matches, recording an existing assessment, domain choices; the same
permissions as the page."""

from __future__ import annotations

from tests.api_support import api_for
from tests.functional.test_reuse_pages import pair


def test_record_and_reuse_through_the_api(client, cast, make):
    earlier, new = pair(make, cast)
    api = api_for(client, cast.agency)
    reuse = api.get(f"/requests/{new.id}/reuse").get_json()
    match = next(m for m in reuse["matches"] if m["request_id"] == earlier.id)
    assert match["duplicate"] is True
    assert set(match["reasons"]) >= {"basic_udi_di", "udi_di"}
    recorded = api.post(
        f"/requests/{new.id}/prior-assessments",
        json={
            "source": "eu_jca",
            "reference": "JCA 2025/07",
            "issued_on": "2025-09-01",
            "url": "https://health.ec.europa.eu/jca/2025-07",
        },
    )
    assert recorded.status_code == 201, recorded.get_json()
    prior_id = recorded.get_json()["prior_assessments"][0]["id"]
    decided = api.post(
        f"/requests/{new.id}/reuse",
        json={
            "safety": {"choice": "adopted", "prior_assessment_id": prior_id},
            "clinical_effectiveness": {"choice": "adapted", "prior_assessment_id": prior_id},
        },
    )
    assert decided.status_code == 200, decided.get_json()
    domains = decided.get_json()["domains"]
    assert domains["safety"]["choice"] == "adopted"
    assert domains["clinical_effectiveness"]["choice"] == "adapted"
    assert domains["legal"] is None


def test_refusals(client, cast, make):
    _earlier, new = pair(make, cast)
    assert api_for(client, cast.manufacturer).get(f"/requests/{new.id}/reuse").status_code == 403
    assert (
        api_for(client, cast.other_manufacturer).get(f"/requests/{new.id}/reuse").status_code == 404
    )
    missing_url = api_for(client, cast.agency).post(
        f"/requests/{new.id}/prior-assessments",
        json={"source": "other_region", "reference": "Report", "issued_on": "2025-01-01"},
    )
    assert missing_url.status_code == 422
    assert missing_url.get_json()["error_codes"] == {"url": ["required"]}
    bad = api_for(client, cast.agency).post(
        f"/requests/{new.id}/reuse",
        json={"safety": {"choice": "adopted", "prior_assessment_id": 999}},
    )
    assert bad.status_code == 422
