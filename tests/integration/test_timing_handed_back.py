"""The timing report's days per stage count the assessor's share of a factual-accuracy check:
once the manufacturer returns its comments, the days to finalise are net days (issue 13,
item 7), overall, by breakdown, and in the report's export."""

from __future__ import annotations

import csv
import io

import pytest

from app.core import transition_hooks
from app.core.fire import fire
from app.core.request_timings import STAGE_TRIGGERS, keep_request_timing
from app.reports.filters import ReportFilters
from app.reports_pages import queries as rq
from tests.workflow_support import (  # noqa: F401 (no_area_hooks is a fixture)
    CONSULTED,
    STEP,
    T0,
    make_cast,
    no_area_hooks,
    steps_to,
)

CHECK = "factual_accuracy_check"


@pytest.fixture
def published_with_comments(make, no_area_hooks):  # noqa: F811
    """One day of factual accuracy check is the manufacturer's (until it returns its
    comments), the next two the assessor's, who then finalises the report."""
    transition_hooks.after("request", *STAGE_TRIGGERS)(keep_request_timing)
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = T0
    for trigger, who, data in steps_to("adoption_monitoring", cast):
        moment += STEP
        values = dict(data)
        reason = values.pop("reason", "")
        if trigger == "finalise_report":
            fire(request, "return_factual_comments", cast.manufacturer, moment, comments="p.3")
            moment += 2 * STEP
        if trigger == "publish":
            moment += CONSULTED - STEP
        fire(request, trigger, getattr(cast, who), moment, reason=reason, **values)
    rq.clear_cache()
    return moment


@pytest.mark.parametrize("method", [None, "window"])
def test_the_assessors_days_to_finalise_are_net_days_of_the_stage(published_with_comments, method):
    now = published_with_comments
    figures = rq.timing_aggregates(ReportFilters(), now, ("region",), method)
    (check,) = [s for s in figures.stages if s.state == CHECK]
    # Two visits: the manufacturer's day (net 0) and the assessor's two days (net 2).
    assert check.gross.count == 2
    assert check.gross.mean == pytest.approx(1.5)
    assert check.net.count == 2
    assert check.net.mean == pytest.approx(1.0)  # before the fix: 0
    assert check.net.median == pytest.approx(1.0)
    assert check.net.p90 == pytest.approx(1.8)
    # The request's one region: the same figures.
    (regional,) = [s for _value, s in figures.stages_by["region"] if s.state == CHECK]
    assert regional.net.mean == pytest.approx(1.0)


def test_the_export_shows_the_net_days_of_the_check(published_with_comments, runner, tmp_path):
    out = tmp_path / "timing.csv"
    args = ["report", "timing", "--format", "csv", "--out", str(out), "--lang", "en"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    start = lines.index(["Days per stage"]) + 1
    header = lines[start]
    row = next(line for line in lines[start + 1 :] if line and line[0] == "Factual accuracy check")
    assert row[header.index("Net days mean")] == "1.0"
    assert row[header.index("Gross days mean")] == "1.5"
