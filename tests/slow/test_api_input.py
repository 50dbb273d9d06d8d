"""Numbers sent as JSON through a real server (issue 10, bug 5): a JSON number is exact, so
money with three decimals is refused, never read as thousands."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"list_price": 12.345}, "list_price"),
        ({"list_price": 0.125}, "list_price"),
        ({"budget_impact_3y": 1.005}, "budget_impact_3y"),
        ({"eligible_patients_per_year": 12.5}, "eligible_patients_per_year"),
        (
            {"evidence": [{"design": "rct", "patients": 1.234, "reference": "Rossi 2024"}]},
            "evidence-0-patients",
        ),
    ],
)
def test_a_json_number_the_field_cannot_hold_is_refused(pg_server, body, field):
    people = pg_server.people()
    [request_id] = pg_server.seed.requests(people, "draft")
    api = pg_server.api(people.manufacturer)
    before = api.get(f"/requests/{request_id}").json()
    response = api.patch(f"/requests/{request_id}", body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert api.get(f"/requests/{request_id}").json() == before


def test_json_numbers_are_stored_exactly(pg_server):
    people = pg_server.people()
    [request_id] = pg_server.seed.requests(people, "draft")
    api = pg_server.api(people.manufacturer)
    body = {"list_price": 12.34, "acquisition_cost": 1234.5, "running_costs_per_year": 7}
    response = api.patch(f"/requests/{request_id}", body)
    assert response.status_code == 200, response.text
    stored = api.get(f"/requests/{request_id}").json()["dossier"]
    figures = {name: stored[name] for name in body}
    assert figures == {
        "list_price": "12.34",
        "acquisition_cost": "1234.50",
        "running_costs_per_year": "7.00",
    }
