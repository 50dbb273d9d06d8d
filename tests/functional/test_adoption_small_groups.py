"""Small-group suppression in the adoption report: usage figures (units, procedures, spend,
adverse events) that only one or two IRCCS reported are those hospitals' own figures, so a
reader who may not see each IRCCS's usage (a manufacturer, an IRCCS, an assessor) finds them
blank; the agency sees them all; the minimum is configurable (REPORT_MIN_GROUP).

In the known history (tests/report_history.py) recommendation A has one IRCCS reporting (I1:
17 units, 31,450.00 EUR), and the quarters have one (2024 Q4) and two (2025 Q1) IRCCS."""

from __future__ import annotations

import json

import pytest

from app.reports_pages import queries as report_queries
from tests.api_support import api_for
from tests.report_history import NOW

A_SPEND = 9250.0 + 22200.0


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch, app):
    monkeypatch.setattr("app.reports_pages.views.utcnow", lambda: NOW)
    monkeypatch.setattr("app.api.reports.utcnow", lambda: NOW)
    app.config["REPORT_CACHE_SECONDS"] = 0
    report_queries.clear_cache()
    yield
    report_queries.clear_cache()


def table(report: dict, key: str) -> list[dict]:
    for section in report["sections"]:
        for block in section["blocks"]:
            if block["kind"] == "table" and block["key"] == key:
                return block["rows"]
    raise AssertionError(f"no table {key}")


def key_figures(report: dict) -> dict:
    figures = [b for s in report["sections"] for b in s["blocks"] if b["kind"] == "figures"]
    return {item["label"]: item["value"] for item in figures[0]["items"]}


def adoption_report(client, user, **query) -> dict:
    path = "/reports/adoption" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()))
    return api_for(client, user).get(path).get_json()


def test_a_manufacturer_does_not_see_one_hospitals_usage(client, history):
    report = adoption_report(client, history.maker1, request_id=history.a.id)
    (row,) = table(report, "recommendations")
    assert row["spend"] is None and row["units_q"] is None and row["share_budget"] is None
    for quarter in table(report, "recommendation_quarters"):
        assert quarter["reporting"] == 1
        assert quarter["units"] is None and quarter["spend"] is None
    for quarter in table(report, "quarters"):
        assert quarter["units"] is None and quarter["spend"] is None
    figures = key_figures(report)
    assert figures["Units used"] is None and figures["Spend reported"] is None
    assert str(A_SPEND) not in json.dumps(report) and "31450" not in json.dumps(report)
    assert "fewer than 3 IRCCS are left blank" in json.dumps(report)


def test_an_irccs_does_not_see_the_others_usage_in_the_totals(client, history):
    report = adoption_report(client, history.irccs1)
    quarters = {q["quarter"]: q for q in table(report, "quarters")}
    assert quarters["2025 Q1"]["reporting"] == 2 and quarters["2025 Q1"]["units"] is None
    # Its own records still show its own figures in full.
    own = table(report, "own_records")
    assert any(row["units"] == 17 for row in own)


def test_the_agency_sees_every_figure(client, history):
    report = adoption_report(client, history.agency, request_id=history.a.id)
    (row,) = table(report, "recommendations")
    assert row["spend"] == pytest.approx(A_SPEND)
    quarters = {q["quarter"]: q for q in table(report, "quarters")}
    assert quarters["2024 Q4"]["units"] == 5 and quarters["2025 Q1"]["units"] == 12
    assert "IRCCS are left blank" not in json.dumps(report)


def test_the_minimum_is_configurable(app, client, history):
    app.config["REPORT_MIN_GROUP"] = 1
    report = adoption_report(client, history.maker1, request_id=history.a.id)
    (row,) = table(report, "recommendations")
    assert row["spend"] == pytest.approx(A_SPEND)
