"""The timing and adoption reports as JSON: the same figures as the report pages (the known
history of tests/report_history.py), scoped to the reader, with the same filters."""

from __future__ import annotations

import json

import pytest

from app.reports_pages import queries as report_queries
from tests.api_support import api_for, assert_problem
from tests.report_history import M2_NAME, NOW, SECRET_DEVICE


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch, app):
    monkeypatch.setattr("app.reports_pages.views.utcnow", lambda: NOW)
    monkeypatch.setattr("app.api.reports.utcnow", lambda: NOW)
    app.config["REPORT_CACHE_SECONDS"] = 0
    report_queries.clear_cache()
    yield
    report_queries.clear_cache()


def table(report: dict, key: str) -> dict:
    for section in report["sections"]:
        for block in section["blocks"]:
            if block["kind"] == "table" and block["key"] == key:
                return block
    raise AssertionError(f"no table {key}")


def blocks(report: dict, kind: str) -> list[dict]:
    return [b for s in report["sections"] for b in s["blocks"] if b["kind"] == kind]


def test_the_timing_figures_are_the_known_ones(client, history):
    report = api_for(client, history.agency).get("/reports/timing").get_json()
    stages = {row["stage"]: row for row in table(report, "stages")["rows"]}
    intake = stages["Intake review"]
    assert (intake["gross_p75"], intake["gross_p90"]) == (12.5, 17.0)
    assessment = stages["Assessment"]
    assert assessment["gross_median"] == 76.0
    assert assessment["gross_p75"] == pytest.approx(81.75)
    assert intake["late_share"] == pytest.approx(0.25)
    kinds = {c["key"]: c["kind"] for c in table(report, "stages")["columns"]}
    assert kinds["gross_median"] == "days" and kinds["late_share"] == "percent"
    assert report["generated_at"].startswith("2025-03-31T10:00")


def test_the_json_equals_what_the_page_shows(client, login, history):
    api_report = api_for(client, history.agency).get("/reports/timing").get_json()
    login(history.agency)
    page = client.get("/reports/timing").get_data(as_text=True)
    for figures in blocks(api_report, "figures"):
        for item in figures["items"]:
            assert item["text"] in page, item
    stages = table(api_report, "stages")
    days = [c["key"] for c in stages["columns"] if c["kind"] == "days"]
    for row in stages["rows"]:
        for key in days:
            if row[key] is not None:
                assert f"{row[key]:,.1f}" in page, (row["stage"], key)


def test_breakdowns_follow_by(client, history):
    api = api_for(client, history.agency)
    plain = api.get("/reports/timing").get_json()
    by_region = api.get("/reports/timing?by=region").get_json()
    assert len(json.dumps(by_region)) > len(json.dumps(plain))
    assert "lombardia" in json.dumps(by_region).lower()


def test_a_manufacturer_sees_only_its_own_requests(client, history):
    report = json.dumps(api_for(client, history.maker1).get("/reports/timing").get_json())
    for secret in (SECRET_DEVICE, M2_NAME):
        assert secret not in report


def test_the_adoption_report_for_an_irccs(client, history):
    irccs = api_for(client, history.irccs1)
    assert_problem(irccs.get("/reports/timing"), 403, "forbidden")
    report = irccs.get("/reports/adoption").get_json()
    assert report["key"] == "adoption" and blocks(report, "figures")
    assert blocks(report, "line_chart") or blocks(report, "bar_chart")


@pytest.mark.parametrize("path", ["/reports/timing", "/reports/adoption"])
def test_administrators_have_no_reports(client, history, path):
    assert_problem(api_for(client, history.admin).get(path), 403, "forbidden")


def test_filters_are_applied_and_checked(client, history):
    api = api_for(client, history.agency)
    filtered = api.get("/reports/timing?region=toscana").get_json()
    assert filtered["filters"] and filtered["filters"][0]["value"] == "Toscana"
    stages = {row["stage"]: row for row in table(filtered, "stages")["rows"]}
    assert stages["Intake review"]["visits"] == 1  # request B only
    problem = assert_problem(
        api.get("/reports/timing?submitted_from=yesterday&by=colour"), 422, "validation"
    )
    assert set(problem["errors"]) == {"submitted_from", "by"}
