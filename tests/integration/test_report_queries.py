"""The report queries against a known history (tests/report_history.py): exact figures, the
one percentile definition on both databases, scoping, empty data, and a constant number of
statements whatever the volume."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.domain.deadlines import DeadlineRule, due_at
from app.extensions import db
from app.models import DeviceRequest, StageRecord
from app.reports import stats
from app.reports.filters import ReportFilters
from app.reports_pages import queries as rq
from tests.report_history import NOW, SECRET_DEVICE, build_history
from tests.statement_support import counting_statements


@pytest.fixture(autouse=True)
def _fresh_cache():
    rq.clear_cache()
    yield
    rq.clear_cache()


@pytest.fixture
def history(app, make):
    return build_history(make, db.session)


def approx(value):
    return pytest.approx(value, abs=1e-6)


# --- Timing ----------------------------------------------------------------------------


def test_stage_figures_of_the_known_history(history):
    figures = rq.timing_figures(None, ReportFilters(), NOW, dimensions=("region",))
    stages = {s.state: s for s in figures.stages}
    intake = stages["intake_review"]  # 10, 5, 20, 10 days
    assert intake.gross.count == 4
    assert intake.gross.median == approx(10)
    assert intake.gross.p75 == approx(12.5)
    assert intake.gross.p90 == approx(17)
    assert intake.gross.mean == approx(11.25)
    assert intake.net.median == approx(10)
    assert (intake.late, intake.with_deadline) == (1, 4)  # B took 20 of 15 days

    assessment = stages["assessment"]  # 90, 40, 73 and C's open 79 days
    assert [assessment.gross.median, assessment.gross.p75, assessment.gross.p90] == [
        approx(76),
        approx(81.75),
        approx(86.7),
    ]
    assert assessment.gross.mean == approx(70.5)
    assert (assessment.late, assessment.with_deadline) == (1, 4)  # C, still open, is late

    incomplete = stages["incomplete"]  # a clock stop: gross 20, net 0
    assert incomplete.gross.median == approx(20)
    assert incomplete.net.median == 0 and incomplete.net.mean == 0

    waiting = stages["awaiting_prioritisation"]  # 30, 10, 5; no deadline
    assert [waiting.gross.median, waiting.gross.p75, waiting.gross.p90] == [
        approx(10),
        approx(20),
        approx(26),
    ]
    assert waiting.with_deadline == 0

    # B's factual accuracy check took 15 calendar days over the 1 November holiday: still on
    # time (10 working days), while A's took 14.
    check = stages["factual_accuracy_check"]
    assert check.gross.median == approx(14.5) and check.net.median == 0
    assert check.late == 0
    assert stages["appraisal"].late == 1 and stages["appraisal"].with_deadline == 2
    assert stages["adoption_monitoring"].gross.median == approx((149 + 69) / 2)


def test_the_working_day_deadline_skips_the_italian_holiday():
    entered = datetime(2024, 10, 28, 10, tzinfo=UTC)  # Monday; Friday 1 November is a holiday
    due = due_at(DeadlineRule(10, working_days=True), entered)
    assert due == datetime(2024, 11, 12, 22, 59, 59, tzinfo=UTC)  # Tuesday 12, 23:59:59 in Rome


def test_end_to_end_and_anchor_figures(history):
    figures = rq.timing_figures(None, ReportFilters(), NOW, dimensions=("region", "outcome"))
    e2e = figures.end_to_end  # A 299 / 265, B 323 / 278
    assert e2e.gross.count == 2
    assert (e2e.gross.median, e2e.gross.p75, e2e.gross.p90) == (
        approx(311),
        approx(317),
        approx(320.6),
    )
    assert (e2e.net.median, e2e.net.p75, e2e.net.p90) == (
        approx(271.5),
        approx(274.75),
        approx(276.7),
    )
    assert (e2e.gross_over_anchor, e2e.net_over_anchor) == (2, 1)  # 266 days: B only, net
    assert figures.anchors["prioritisation"].gross.median == approx(90)  # 125, 90, 35
    for method in (None, "window"):  # from the indexes, and ranking every request
        anchors = rq.timing_aggregates(ReportFilters(), NOW, (), method=method).anchors
        assert anchors["prioritisation"].net.count == 0  # gross only, as Lombardy measures
        assert anchors["assessment"].net == anchors["assessment"].gross
        assert anchors["prioritisation"].gross.median == approx(90)
    assert figures.anchors["assessment"].gross.median == approx(101.5)  # 90, 40 + 73
    by_region = dict(figures.end_to_end_by["region"])
    assert by_region["lombardia"].gross.median == approx(299)
    assert by_region["toscana"].net.median == approx(278)
    by_outcome = dict(figures.end_to_end_by["outcome"])
    assert set(by_outcome) == {"recommended", "recommended_restricted"}
    assert (figures.submitted, figures.published, figures.open) == (3, 2, 1)


def test_slowest_open_requests_say_how_late(history):
    figures = rq.timing_figures(None, ReportFilters(), NOW, dimensions=())
    [slow] = figures.slowest
    assert slow.request_id == history.c.id
    assert slow.gross_days == approx(119) and slow.net_days == approx(119)
    assert slow.days_late == approx(30)
    assert slow.state == "assessment"


def test_filters_narrow_every_figure(history):
    lombardy = rq.timing_figures(None, ReportFilters(region="lombardia"), NOW, dimensions=())
    assert lombardy.submitted == 2 and lombardy.end_to_end.gross.median == approx(299)
    late_class = rq.timing_figures(None, ReportFilters(risk_class="IIb"), NOW, dimensions=())
    assert late_class.submitted == 1
    assert {s.state for s in late_class.stages} >= {"information_requested"}
    since = rq.timing_figures(
        None, ReportFilters(submitted_from=datetime(2024, 3, 1).date()), NOW, dimensions=()
    )
    assert since.submitted == 2
    pending = rq.timing_figures(None, ReportFilters(outcome="none"), NOW, dimensions=())
    assert pending.submitted == 1 and pending.end_to_end.gross.count == 0


def test_request_rows_are_scoped_to_the_reader(history):
    columns = rq.REQUEST_ROW_COLUMNS
    every = list(rq.request_rows(None, ReportFilters(), NOW))
    assert {r[columns.index("request_id")] for r in every} == {
        history.a.id,
        history.b.id,
        history.c.id,
    }
    own = list(rq.request_rows(history.maker1, ReportFilters(), NOW))
    assert {r[0] for r in own} == {history.a.id, history.c.id}
    assert not any(SECRET_DEVICE in str(value) for row in own for value in row)
    body = list(rq.request_rows(history.assessor_l, ReportFilters(), NOW))
    assert {r[0] for r in body} == {history.a.id, history.c.id}
    row_a = next(r for r in every if r[0] == history.a.id)
    assert row_a[columns.index("e2e_gross")] == approx(299)
    assert row_a[columns.index("e2e_net")] == approx(265)


def test_slowest_list_is_scoped(history):
    assert rq.timing_figures(history.maker2, ReportFilters(), NOW, dimensions=()).slowest == []
    assert len(rq.timing_figures(history.maker1, ReportFilters(), NOW, dimensions=()).slowest) == 1


# --- The percentile definition --------------------------------------------------------


def _random_stages(make, count: int, seed: int) -> dict[str, list[float]]:
    """`count` visits of three stages, a fifth of them still open (their days run to NOW),
    with ties and whole numbers of days (the edges of the report's day buckets)."""
    rng = random.Random(seed)
    request = make.request(submitted_at=NOW - timedelta(days=900), state="assessment")
    values: dict[str, list[float]] = {}
    for _ in range(count):
        state = rng.choice(["intake_review", "assessment", "appraisal"])
        days = rng.choice([rng.uniform(0, 90), round(rng.uniform(0, 30))])  # with ties
        if rng.random() < 0.2:
            entered, left = NOW - timedelta(days=days), None
        else:
            entered = NOW - timedelta(days=rng.uniform(100, 800))
            left = entered + timedelta(days=days)
        db.session.add(
            StageRecord(request_id=request.id, state=state, entered_at=entered, left_at=left)
        )
        values.setdefault(state, []).append(days)
    db.session.flush()
    return values


@pytest.mark.parametrize("method", [None, "window"])
@pytest.mark.parametrize("count", [1, 2, 7, 40, 301])
def test_stage_percentiles_match_the_reference_definition(app, make, count, method):
    """The default reads a histogram of the stored durations and sorts only the buckets
    holding the ranks; windows rank every visit: both give the reference figures."""
    expected = _random_stages(make, count, seed=count)
    figures = rq.timing_aggregates(ReportFilters(), NOW, (), method=method)
    assert {s.state for s in figures.stages} == set(expected)
    for stage in figures.stages:
        reference = stats.distribution(expected[stage.state])
        assert stage.gross.count == reference.count
        for name in ("median", "p75", "p90", "mean"):
            assert getattr(stage.gross, name) == pytest.approx(getattr(reference, name), abs=1e-5)


@pytest.mark.parametrize("count", [0, 3, 120])
def test_filtered_stage_percentiles_match_the_reference_definition(app, make, count):
    """With filters the buckets are read in one pass, for the filtered requests only."""
    expected = _random_stages(make, count, seed=count)
    db.session.execute(update(DeviceRequest).values(risk_class="III"))
    other = make.request(submitted_at=NOW - timedelta(days=50), state="assessment")
    other.risk_class = "IIa"
    db.session.add(
        StageRecord(request_id=other.id, state="assessment", entered_at=NOW - timedelta(days=3))
    )
    db.session.flush()
    default = rq.timing_aggregates(ReportFilters(risk_class="III"), NOW, ())
    window = rq.timing_aggregates(ReportFilters(risk_class="III"), NOW, (), method="window")
    assert [s.state for s in default.stages] == [s.state for s in window.stages]
    assert {s.state for s in default.stages} == set(expected)
    for a, b in zip(default.stages, window.stages, strict=True):
        reference = stats.distribution(expected[a.state])
        for name in ("count", "mean", "median", "p75", "p90"):
            assert getattr(a.gross, name) == pytest.approx(getattr(reference, name), abs=1e-6)
            assert getattr(b.gross, name) == pytest.approx(getattr(reference, name), abs=1e-6)
        assert (a.late, a.with_deadline) == (b.late, b.with_deadline)


@pytest.mark.postgres
def test_percentile_cont_and_windows_agree_on_postgresql(app, make):
    _random_stages(make, 57, seed=3)
    window = rq.timing_aggregates(ReportFilters(), NOW, ("year",), method="window")
    cont = rq.timing_aggregates(ReportFilters(), NOW, ("year",), method="percentile_cont")
    indexed = rq.timing_aggregates(ReportFilters(), NOW, ("year",))
    assert len(window.stages) == len(cont.stages) == len(indexed.stages) == 3
    for a, b, c in zip(window.stages, cont.stages, indexed.stages, strict=True):
        for name in ("count", "mean", "median", "p75", "p90"):
            assert getattr(a.gross, name) == pytest.approx(getattr(b.gross, name), abs=1e-9)
            assert getattr(c.gross, name) == pytest.approx(getattr(b.gross, name), abs=1e-9)
    for (key_a, a), (key_b, b) in zip(
        window.stages_by["year"], cont.stages_by["year"], strict=True
    ):
        assert key_a == key_b and a.gross.p90 == pytest.approx(b.gross.p90, abs=1e-9)


def _grouped_stages(make, count: int, seed: int) -> dict[tuple, dict[str, list[float]]]:
    """`count` visits spread over requests of three risk classes (and none), in two regions
    (and no body assigned): {(dimension, value): {stage: days}}, open visits included."""
    rng = random.Random(seed)
    bodies = [make.org("regional_body", region=r) for r in ("lombardia", "veneto")] + [None]
    requests = []
    for risk_class in ("I", "IIa", "III", None):
        for body in bodies:
            request = make.request(
                submitted_at=NOW - timedelta(days=900), state="assessment", risk_class=risk_class
            )
            request.assigned_body_id = body.id if body else None
            requests.append((request, risk_class, body.region if body else None))
    expected: dict[tuple, dict[str, list[float]]] = {}
    for _ in range(count):
        request, risk_class, region = rng.choice(requests)
        state = rng.choice(["intake_review", "assessment", "appraisal"])
        days = rng.choice([rng.uniform(0, 60), round(rng.uniform(0, 20))])  # with ties
        if rng.random() < 0.2:
            entered, left = NOW - timedelta(days=days), None
        else:
            entered = NOW - timedelta(days=rng.uniform(100, 800))
            left = entered + timedelta(days=days)
        db.session.add(
            StageRecord(request_id=request.id, state=state, entered_at=entered, left_at=left)
        )
        for key in (("risk_class", risk_class), ("region", region)):
            expected.setdefault(key, {}).setdefault(state, []).append(days)
    db.session.flush()
    return expected


@pytest.mark.parametrize("method", [None, "buckets"])
@pytest.mark.parametrize("count", [5, 60, 400])
def test_breakdown_stage_percentiles_match_the_reference_definition(app, make, count, method):
    """By breakdown the figures come from histograms per group, then only the buckets
    holding the ranks (the default on SQLite; "buckets" on PostgreSQL, whose default is
    percentile_cont): every group's figures are the reference ones, and the windows'."""
    expected = _grouped_stages(make, count, seed=count)
    dimensions = ("risk_class", "region")
    default = rq.timing_aggregates(ReportFilters(), NOW, dimensions, method=method)
    window = rq.timing_aggregates(ReportFilters(), NOW, dimensions, method="window")
    for dimension in dimensions:
        found = {(value, s.state): s for value, s in default.stages_by[dimension]}
        reference = {
            (value, state): stats.distribution(days)
            for (d, value), stages in expected.items()
            if d == dimension
            for state, days in stages.items()
        }
        assert set(found) == set(reference)
        for key, stage in found.items():
            for name in ("count", "mean", "median", "p75", "p90"):
                assert getattr(stage.gross, name) == pytest.approx(
                    getattr(reference[key], name), abs=1e-5
                )
        windows = {(value, s.state): s for value, s in window.stages_by[dimension]}
        assert set(windows) == set(found)
        for key, stage in found.items():
            assert (stage.late, stage.with_deadline) == (
                windows[key].late,
                windows[key].with_deadline,
            )
            assert stage.gross.p90 == pytest.approx(windows[key].gross.p90, abs=1e-6)
    # With a filter: only the filtered requests' visits, the same figures as the windows'.
    filtered = ReportFilters(risk_class="III")
    default = rq.timing_aggregates(filtered, NOW, ("region",), method=method)
    window = rq.timing_aggregates(filtered, NOW, ("region",), method="window")
    found = {(value, s.state): s.gross for value, s in default.stages_by.get("region", [])}
    ranked = {(value, s.state): s.gross for value, s in window.stages_by.get("region", [])}
    assert set(found) == set(ranked) and (found or count < 60)
    for key, gross in found.items():
        for name in ("count", "mean", "median", "p75", "p90"):
            assert getattr(gross, name) == pytest.approx(getattr(ranked[key], name), abs=1e-6)


def test_the_default_method_gives_the_same_figures_as_windows(history):
    """On SQLite both are windows; on PostgreSQL this compares percentile_cont."""
    default = rq.timing_aggregates(ReportFilters(), NOW, ("region",))
    window = rq.timing_aggregates(ReportFilters(), NOW, ("region",), method="window")
    for a, b in zip(default.stages, window.stages, strict=True):
        for name in ("count", "mean", "median", "p75", "p90"):
            assert getattr(a.gross, name) == pytest.approx(getattr(b.gross, name), abs=1e-6)
    assert default.end_to_end.net.p90 == pytest.approx(window.end_to_end.net.p90, abs=1e-6)


# --- Adoption --------------------------------------------------------------------------


def test_adoption_summary_of_the_known_history(history):
    figures = rq.adoption_figures(None, ReportFilters(), NOW)
    s = figures.summary
    assert (s.recommendations, s.records) == (2, 5)
    assert s.by_state == {"in_use": 2, "declined": 1, "not_started": 1, "local_evaluation": 1}
    assert s.decision_days.median == approx(30)  # 30, 90, 30
    assert s.first_use_days.median == approx(50)  # 60, 40
    curve = {month: (value, at_risk) for month, value, at_risk in s.curve}
    assert curve[1] == (0, 5)
    assert curve[2] == (approx(2 / 5), 5)
    assert curve[3] == (approx(1 / 3), 3)  # only A is 3 months old
    assert s.milestones == {6: None, 12: None, 24: None}  # not reached yet
    quarters = [
        (q.year, q.quarter, q.units, q.procedures, q.spend, q.adverse_events, q.reporting)
        for q in s.quarters
    ]
    # Only the latest version of A-I1's 2025 Q1 report counts (12 units, not 10 + 12).
    assert quarters == [(2024, 4, 5, 5, 9250.0, 0, 1), (2025, 1, 16, 13, 29600.0, 1, 2)]
    regions = {r.region: (r.records, r.decided, r.adopting) for r in s.regions}
    assert regions == {"lombardia": (2, 1, 1), "lazio": (1, 1, 0), "toscana": (2, 1, 1)}
    assert s.budget_3y == approx(2500000 + 987654.32)
    assert s.spend_3y_with_budget == approx(9250 + 22200 + 7400)


def test_recommendation_rows_with_expected_volumes_and_budget(history):
    figures = rq.adoption_figures(None, ReportFilters(), NOW)
    rows = {r.request_id: r for r in figures.recommendation_rows(None)}
    a = rows[history.a.id]
    assert (a.records, a.by_state["in_use"], a.by_state["declined"]) == (3, 1, 1)
    assert a.decision_median == approx(60) and a.first_use_median == approx(60)
    assert a.expected_per_quarter == approx(37.5)
    assert (a.quarters_reported, a.units) == (2, 17)
    assert a.units_per_quarter == approx(8.5)
    assert a.share_of_expected == approx(8.5 / 37.5)
    assert a.spend_3y == approx(31450) and a.budget_3y == approx(2500000)
    b = rows[history.b.id]
    assert b.budget_3y == approx(987654.32)  # the command line sees everything


def test_confidential_figures_of_others_are_hidden(history):
    irccs = rq.adoption_figures(history.irccs1, ReportFilters(), NOW)
    rows = {r.request_id: r for r in irccs.recommendation_rows(None)}
    assert rows[history.b.id].budget_3y is None
    assert rows[history.b.id].expected_per_quarter is None
    assert rows[history.a.id].budget_3y == approx(2500000)  # not marked confidential
    assert irccs.summary.budget_3y == approx(2500000)
    quarter_rows = list(irccs.quarter_rows(None))
    assert all(r[7] is None for r in quarter_rows if r[0] == history.b.id)


def test_manufacturer_sees_own_recommendations_and_anonymous_summary(history):
    figures = rq.adoption_figures(history.maker1, ReportFilters(), NOW)
    assert figures.summary.recommendations == 2  # aggregates over all
    assert [r.request_id for r in figures.recommendation_rows(None)] == [history.a.id]
    assert {r[0] for r in figures.not_started_rows(None)} == {history.a.id}
    assert all(r[0] == history.a.id for r in figures.region_rows(None))


def test_irccs_sees_only_itself_among_those_not_started(history):
    i1 = rq.adoption_figures(history.irccs1, ReportFilters(), NOW)
    assert list(i1.not_started_rows(None)) == []  # I3 has not started, but that is not I1
    own = list(i1.own_rows(None))
    assert {(r[0], r[2]) for r in own} == {
        (history.a.id, "in_use"),
        (history.b.id, "local_evaluation"),
    }
    a_row = next(r for r in own if r[0] == history.a.id)
    assert a_row[8:] == (17, 14, 31450.0, 1)
    agency = rq.adoption_figures(history.agency, ReportFilters(), NOW)
    assert [r[2] for r in agency.not_started_rows(None)] == ["IRCCS Firenze"]
    assert agency.own_rows is None


def test_one_recommendation(history):
    figures = rq.adoption_figures(None, ReportFilters(request_id=history.b.id), NOW)
    assert figures.summary.recommendations == 1
    assert figures.summary.records == 2
    assert [r[0] for r in figures.quarter_rows(None)] == [history.b.id]


# --- Empty data, statements, cache -------------------------------------------------------


def test_empty_database_gives_empty_figures(app):
    timing = rq.timing_figures(None, ReportFilters(), NOW)
    assert timing.submitted == 0 and timing.stages == [] and timing.slowest == []
    assert timing.end_to_end.gross.count == 0 and timing.end_to_end.gross.median is None
    assert list(timing.request_rows()) == []
    adoption = rq.adoption_figures(None, ReportFilters(), NOW)
    assert adoption.summary.records == 0 and adoption.summary.curve == []
    assert list(adoption.recommendation_rows(None)) == []


def test_the_number_of_statements_does_not_grow_with_the_data(app, make):
    def run():
        with counting_statements() as statements:
            figures = rq.timing_figures(None, ReportFilters(), NOW)
            adoption = rq.adoption_figures(None, ReportFilters(), NOW)
            list(adoption.recommendation_rows(10))
        assert figures is not None
        return len(statements)

    db.session.execute(select(1))  # the transaction's BEGIN is not the report's
    small = run()
    build_history(make, db.session, with_audit=False)
    _random_stages(make, 60, seed=9)
    assert run() == small


def test_cached_figures_are_reused_until_the_data_changes(history, make):
    def run():
        with counting_statements() as statements:
            figures = rq.timing_figures(None, ReportFilters(), NOW, cache_seconds=300)
        return figures, len(statements)

    first, cold = run()
    second, warm = run()
    assert warm < cold
    assert second.stages == first.stages
    request = make.request(submitted_at=NOW - timedelta(days=3), state="intake_review")
    db.session.add(
        StageRecord(
            request_id=request.id, state="intake_review", entered_at=NOW - timedelta(days=3)
        )
    )
    db.session.flush()
    third, again = run()
    assert again == cold
    assert third.submitted == first.submitted + 1


def test_record_data_checks_each_entry_and_the_chain(history):
    data = rq.request_record(None, history.b.id, NOW)
    assert [e.action for e in data.entries] == ["submit", "edit"]
    assert all(data.entry_checks.values())
    assert data.chain.ok and data.chain.checked == 3
    assert [s.state for s in data.stages][:2] == ["intake_review", "awaiting_prioritisation"]
    assert db.session.scalars(select(StageRecord)).first() is not None
