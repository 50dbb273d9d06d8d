"""The requests' spans the timing report reads (`RequestTiming`): kept by the workflow after
every stage change, equal to the definitions worked out from the visits by hand, and giving
the same report figures through the indexes as ranking every request."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core import transition_hooks
from app.core.fire import fire
from app.core.request_timings import (
    STAGE_TRIGGERS,
    keep_request_timing,
    refresh_request_timings,
)
from app.extensions import db
from app.models import Recommendation, RequestTiming, StageRecord
from app.reports import stats
from app.reports.filters import ReportFilters
from app.reports_pages import queries as rq
from app.workflow.states import CLOCK_STOP_STATES
from tests.workflow_support import (  # noqa: F401 (no_area_hooks is a fixture)
    CONSULTED,
    STEP,
    T0,
    make_cast,
    no_area_hooks,
    steps_to,
)

NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)
DONE = ("factual_accuracy_check", "appraisal", "consultation")


def _row(request) -> RequestTiming:
    return db.session.get(RequestTiming, request.id, populate_existing=True)


@pytest.fixture
def only_the_timing_hook(no_area_hooks):  # noqa: F811
    """`fire` with no other area's hooks (no documents to upload), but this one."""
    transition_hooks.after("request", *STAGE_TRIGGERS)(keep_request_timing)


def test_the_workflow_keeps_the_spans_after_every_stage_change(make, only_the_timing_hook):
    """One day per step from T0: submitted at day 1, prioritised at day 4, one day in
    assessment and one in the factual accuracy check (a clock stop), 30 days of consultation,
    published at day 39."""
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = T0
    for position, (trigger, who, data) in enumerate(steps_to("adoption_monitoring", cast)):
        moment += STEP
        values = dict(data)
        reason = values.pop("reason", "")
        if trigger == "publish":
            moment += CONSULTED - STEP
        fire(request, trigger, getattr(cast, who), moment, reason=reason, **values)
        if position == 0:  # submitted: nothing to measure yet
            row = _row(request)
            assert row.e2e_gross_days is None and row.prioritisation_days is None
            assert row.assessment_days is None and not row.assessment_open
    row = _row(request)
    assert row.e2e_gross_days == pytest.approx(38)
    assert row.e2e_net_days == pytest.approx(37)
    assert row.prioritisation_days == pytest.approx(3)
    assert row.assessment_days == pytest.approx(1) and not row.assessment_open
    for trigger, reason in (("review_due", ""), ("reassess", "New evidence.")):
        moment += STEP
        fire(request, trigger, cast.agency, moment, reason=reason)
    row = _row(request)
    assert row.assessment_days is None and row.assessment_open  # counted to now when read
    figures = rq.timing_aggregates(ReportFilters(), moment + timedelta(days=2), ())
    assessment = figures.anchors["assessment"].gross
    assert (assessment.count, assessment.median) == (1, pytest.approx(1 + 2))
    assert figures.end_to_end.net.median == pytest.approx(37)


def test_the_assessors_days_after_the_factual_comments_are_net_days(make, only_the_timing_hook):
    """Three days of factual accuracy check are the manufacturer's until it returns its
    comments (day 1); the two days the assessor then takes to finalise are the agency side's."""
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
    row = _row(request)
    assert row.e2e_gross_days == pytest.approx(40)
    assert row.e2e_net_days == pytest.approx(39)  # before the fix: 37


# --- Random histories against the definitions worked out by hand ----------------------------

STATES = (
    "intake_review",
    "incomplete",
    "awaiting_prioritisation",
    "prioritisation",
    "assignment",
    "assessment",
    "information_requested",
    "factual_accuracy_check",
    "appraisal",
    "consultation",
)


def _random_history(make, rng: random.Random) -> dict:
    """Contiguous visits from a submission, sometimes published, sometimes reassessed, the
    last one open; returns what the definitions need."""
    submitted = NOW - timedelta(days=rng.uniform(200, 900))
    request = make.request(submitted_at=submitted, state="assessment")
    visits, moment = [], submitted
    path = [rng.choice(STATES) for _ in range(rng.randint(1, 9))]
    published = None
    if rng.random() < 0.5:
        path += ["consultation", "adoption_monitoring"]
        if rng.random() < 0.3:
            path += ["reassessment_due", "assessment"]
    for position, state in enumerate(path):
        last = position == len(path) - 1
        days = rng.choice([rng.uniform(0, 40), float(rng.randint(0, 30))])
        left = None if last else moment + timedelta(days=days)
        visits.append((state, moment, left))
        db.session.add(
            StageRecord(request_id=request.id, state=state, entered_at=moment, left_at=left)
        )
        if state == "adoption_monitoring":
            published = moment
        if left is not None:
            moment = left
    if published is not None:
        db.session.add(
            Recommendation(request_id=request.id, outcome="recommended", published_at=published)
        )
    return {"submitted": submitted, "published": published, "visits": visits}


def _days(start, end) -> float:
    return (end - start).total_seconds() / 86_400


def _expected(history: dict, now: datetime) -> dict[str, float | None]:
    """The span definitions of the timing report, straight from the visits."""
    submitted, published, visits = history["submitted"], history["published"], history["visits"]
    values: dict[str, float | None] = {"e2e_gross": None, "e2e_net": None}
    if published is not None:
        values["e2e_gross"] = _days(submitted, published)
        values["e2e_net"] = sum(
            _days(entered, min(left or now, published))
            for state, entered, left in visits
            if submitted <= entered < published and state not in CLOCK_STOP_STATES
        )
    prioritised = [left for state, _, left in visits if state == "prioritisation" and left]
    values["prio_gross"] = _days(submitted, max(prioritised)) if prioritised else None
    done = any(state in DONE for state, _, _ in visits)
    values["assessment"] = (
        sum(_days(entered, left or now) for state, entered, left in visits if state == "assessment")
        if done
        else None
    )
    return values


@pytest.fixture
def histories(app, make):
    rng = random.Random(11)
    found = [_random_history(make, rng) for _ in range(60)]
    db.session.flush()
    refresh_request_timings()
    return found


def test_the_stored_spans_are_the_definitions(histories):
    expected = [_expected(h, NOW) for h in histories]
    for measure, span, kind in (
        ("e2e_gross", "e2e", "gross"),
        ("e2e_net", "e2e", "net"),
        ("prio_gross", "prioritisation", "gross"),
        ("assessment", "assessment", "gross"),
    ):
        reference = stats.distribution([e[measure] for e in expected if e[measure] is not None])
        for method in (None, "window"):
            figures = rq.timing_aggregates(ReportFilters(), NOW, (), method=method)
            found = getattr(figures.anchors[span], kind)
            assert found.count == reference.count, (measure, method)
            for name in ("mean", "median", "p75", "p90"):
                assert getattr(found, name) == pytest.approx(getattr(reference, name), abs=1e-6), (
                    measure,
                    method,
                    name,
                )


def test_filtered_and_unfiltered_spans_agree_when_the_filter_keeps_everything(histories):
    everything = rq.timing_aggregates(ReportFilters(), NOW, ())
    submitted_from = min(h["submitted"] for h in histories).date() - timedelta(days=1)
    filtered = rq.timing_aggregates(ReportFilters(submitted_from=submitted_from), NOW, ())
    for span in ("e2e", "prioritisation", "assessment"):
        for kind in ("gross", "net"):
            a, b = getattr(everything.anchors[span], kind), getattr(filtered.anchors[span], kind)
            assert a.count == b.count
            assert (a.median, a.p90) == (pytest.approx(b.median), pytest.approx(b.p90))
        assert (
            everything.anchors[span].gross_over_anchor == filtered.anchors[span].gross_over_anchor
        )


def test_a_request_never_submitted_has_no_spans(app, make):
    draft = make.request()
    refresh_request_timings()
    assert db.session.scalars(select(RequestTiming.request_id)).all() == []
    assert draft.submitted_at is None


def test_the_hook_is_registered_for_every_stage_change(app):
    """The app factory loads the hook modules: every transition that starts a new stage (and
    only those) rewrites the request's spans."""
    transition_hooks.load_hook_modules()
    hooked = {
        trigger
        for (workflow, trigger), hooks in transition_hooks._after.items()
        if workflow == "request" and keep_request_timing in hooks
    }
    assert hooked == set(STAGE_TRIGGERS)
    assert {"submit", "publish", "reassess"} <= hooked and "assign_body" not in hooked
