"""The timing report's figures: days per stage, per-request spans (end to end, to the
prioritisation decision, in assessment) against the published anchors, the slowest open
requests and the per-request rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    and_,
    case,
    false,
    func,
    or_,
    select,
)

from app.extensions import db
from app.models import DeviceRequest, Organisation, RequestTiming, StageRecord
from app.reports.filters import DIMENSIONS, ReportFilters
from app.reports.stats import Distribution
from app.reports_pages.queries.adoption import cached_holder_spreads, holder_spreads
from app.reports_pages.queries.common import (
    SECONDS_PER_DAY,
    STREAM_BATCH,
    aware,
    cached,
    current_sql,
    moment_literal,
    plain_time,
    raise_sort_memory,
    requests_cte,
    scope_condition,
    utc,
)
from app.reports_pages.queries.spans import (
    SpanFigures,
    span_figures,
)
from app.reports_pages.queries.stages import (
    StageFigures,
    breakdown_stage_figures,
    grouped_stage_figures,
    handed_back_rows,
    overall_stage_figures,
    with_handed_back_days,
)
from app.workflow.facts import BEFORE_RECOMMENDATION, REQUEST, states_where
from app.workflow.states import CLOCK_STOP_STATES

# Before the recommendation: the stages the process is judged on (and charted), from the
# submission's first stage up to adoption monitoring, in the workflow's order.
PRE_RECOMMENDATION_STATES = states_where(workflow=REQUEST, report_stage=BEFORE_RECOMMENDATION)
# The overall percentiles from what the workflow stored, through indexes (the default;
# "window" and "percentile_cont" rank every visit or request instead, for comparison).
INDEXED = "indexed"
# Breakdowns from histograms of the stored durations, then only the buckets holding the
# ranks: the default on SQLite. On PostgreSQL percentile_cont over every visit is as fast
# (it sorts a million values in memory in a quarter of a second), so it stays the default
# there; "buckets" asks for the histograms on either database (the tests compare them).
BUCKETS = "buckets"


def _breakdown_method(method: str | None, sql) -> str:
    if method in (None, INDEXED):
        return "percentile_cont" if sql.postgres else BUCKETS
    return method


# --- Timing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlowRequest:
    request_id: int
    receipt_number: str | None
    device: str
    manufacturer: str
    state: str
    submitted_at: datetime
    gross_days: float
    net_days: float
    stage_entered_at: datetime | None
    due_at: datetime | None
    days_late: float


@dataclass
class TimingFigures:
    now: datetime
    submitted: int = 0
    published: int = 0
    open: int = 0
    stages: list[StageFigures] = field(default_factory=list)
    stages_by: dict[str, list[tuple[str | None, StageFigures]]] = field(default_factory=dict)
    end_to_end: SpanFigures | None = None
    end_to_end_by: dict[str, list[tuple[str | None, SpanFigures]]] = field(default_factory=dict)
    anchors: dict[str, SpanFigures] = field(default_factory=dict)
    slowest: list[SlowRequest] = field(default_factory=list)
    request_rows: Callable[[], Iterator[tuple]] | None = None
    # Submission to first patient: median and P90 days per stage holder over the paths that
    # reached it (the adoption report's paths).
    time_to_patient: Callable[[], dict[str, Distribution]] | None = None


def timing_figures(
    actor,
    filters: ReportFilters,
    now: datetime,
    *,
    dimensions: Sequence[str] = DIMENSIONS,
    slowest_limit: int = 20,
    method: str | None = None,
    cache_seconds: float = 0,
) -> TimingFigures:
    """Every figure of the timing report: the aggregates (three statements, or none when
    cached), the slowest open requests (one) and the per-request rows as a row factory."""
    aggregates = cached(
        "timing",
        (filters, tuple(dimensions), method),
        lambda: timing_aggregates(filters, now, dimensions, method),
        cache_seconds,
        shared=True,
    )
    figures = dataclasses.replace(aggregates)
    # The slowest open requests name requests: kept per reader (what each may see).
    reader = (actor.role, actor.organisation_id, actor.id) if actor is not None else None
    figures.slowest = cached(
        "timing-slowest",
        (filters, reader, slowest_limit),
        lambda: slowest_open_requests(actor, filters, now, slowest_limit),
        cache_seconds,
        shared=True,
    )
    figures.request_rows = lambda: request_rows(actor, filters, now)
    figures.time_to_patient = lambda: cached_holder_spreads(actor, filters, cache_seconds)
    return figures


def time_to_patient_figures(actor, filters, now: datetime) -> dict[str, Distribution]:
    """Median and P90 days per stage holder, from the submission to the first patient, over
    the filtered recommendations' IRCCS that reached it (one statement over the read model of
    the paths, the adoption report's `holder_spreads`)."""
    return holder_spreads(actor, filters)


def timing_aggregates(filters, now, dimensions, method=None) -> TimingFigures:
    """The figures that name no request: the same for every reader (three statements, and
    one SET on PostgreSQL)."""
    sql = current_sql()
    raise_sort_memory(sql)
    req = requests_cte(filters, sql)
    figures = TimingFigures(now=now)
    every_submitted = _count_requests(figures, req, now)
    kept = figures.submitted / every_submitted if every_submitted else 1.0
    _stage_figures(figures, filters, req, sql, now, dimensions, method, kept)
    _span_figures(figures, filters, req, sql, now, dimensions, method)
    return figures


def _open_condition(columns):
    return or_(
        columns.state.in_(PRE_RECOMMENDATION_STATES),
        and_(columns.state == "suspended", columns.published_at.is_(None)),
    )


def _count_requests(figures: TimingFigures, req, now: datetime) -> int:
    """Submitted, published and open requests among the filtered; returns how many requests
    were submitted in all (how selective the filters are)."""
    every_submitted = (
        select(func.count()).where(DeviceRequest.submitted_at.is_not(None)).scalar_subquery()
    )
    row = db.session.execute(
        select(
            func.count(),
            func.sum(case((req.c.published_at.is_not(None), 1), else_=0)),
            func.sum(case((_open_condition(req.c), 1), else_=0)),
            every_submitted,
        ).select_from(req)
    ).one()
    figures.submitted, figures.published, figures.open, every = (int(v or 0) for v in row)
    return every


def _stage_figures(figures, filters, req, sql, now, dimensions, method, kept: float) -> None:
    """Overall from the stored durations (two statements) unless a method is asked for; by
    breakdown from histograms of the stored durations (one statement each) or by window or
    percentile_cont (one statement), see BUCKETS; then the handed-back parts of the clock
    stops (one). `kept`: the share of the submitted requests the filters keep."""
    by_histogram = method in (None, INDEXED, BUCKETS)
    breakdown = _breakdown_method(method, sql)
    if not by_histogram:
        figures.stages, figures.stages_by = grouped_stage_figures(
            req, sql, now, dimensions, method, True
        )
    else:
        figures.stages = overall_stage_figures(filters, req, sql, now, kept)
    if by_histogram and dimensions and breakdown == BUCKETS:
        figures.stages_by = breakdown_stage_figures(filters, sql, now, dimensions)
    elif by_histogram and dimensions:
        _, figures.stages_by = grouped_stage_figures(req, sql, now, dimensions, breakdown, False)
    _count_handed_back_days(figures, req, sql, now)


def _count_handed_back_days(figures, req, sql, now) -> None:
    """The net days of the clock-stop stages count the parts handed back to the agency side
    (one statement, whatever the data: the page's statements stay constant)."""
    rows = handed_back_rows(req, sql, now)
    state_at, days_at = len(DIMENSIONS), len(DIMENSIONS) + 1
    overall: dict[str, list[float]] = {}
    for row in rows:
        overall.setdefault(row[state_at], []).append(row[days_at])
    figures.stages = [with_handed_back_days(s, overall.get(s.state, [])) for s in figures.stages]
    for dimension, groups in figures.stages_by.items():
        at = DIMENSIONS.index(dimension)
        by_group: dict[tuple[str, str], list[float]] = {}
        for row in rows:
            by_group.setdefault((str(row[at]), row[state_at]), []).append(row[days_at])
        figures.stages_by[dimension] = [
            (value, with_handed_back_days(s, by_group.get((str(value), s.state), [])))
            for value, s in groups
        ]


def _span_figures(figures, filters, req, sql, now, dimensions, method) -> None:
    """Overall from the indexes of the stored spans when nothing is filtered (two
    statements) unless a method is asked for, by window/percentile_cont otherwise (one); by
    breakdown from histograms of the stored spans (one each) or with the ranking above."""
    stored = method in (None, INDEXED, BUCKETS)
    by_index = stored and filters.is_empty
    ranking = None if stored else method
    bucketed = _breakdown_method(method, sql) == BUCKETS
    figures.anchors, figures.end_to_end_by = span_figures(
        req, sql, now, dimensions, ranking, by_index, filters if bucketed else None
    )
    figures.end_to_end = figures.anchors["e2e"]


def _current_stage_columns(stage_alias, request_id_column, now):
    """Correlated subqueries: the open stage's state entry time and due date."""

    def current(column):
        return (
            select(column)
            .where(stage_alias.c.request_id == request_id_column, stage_alias.c.left_at.is_(None))
            .order_by(stage_alias.c.entered_at.desc())
            .limit(1)
            .scalar_subquery()
        )

    return current(stage_alias.c.entered_at), current(stage_alias.c.due_at)


def slowest_open_requests(actor, filters, now: datetime, limit: int) -> list[SlowRequest]:
    """The open requests submitted longest ago (scoped to what the actor may see)."""
    sql = current_sql()
    req = requests_cte(filters, sql)
    stage = StageRecord.__table__.alias("open_stage")
    counted = StageRecord.__table__.alias("counted")
    net = (
        select(
            func.coalesce(
                func.sum(
                    case(
                        (
                            and_(
                                counted.c.state.in_(CLOCK_STOP_STATES),
                                counted.c.clock_stopped.is_not(false()),
                            ),
                            0,
                        ),
                        else_=sql.days(
                            counted.c.entered_at,
                            func.coalesce(counted.c.left_at, moment_literal(now)),
                        ),
                    )
                ),
                0,
            )
        )
        .where(
            counted.c.request_id == req.c.request_id,
            counted.c.entered_at >= req.c.submitted_at,
        )
        .scalar_subquery()
    )
    entered, due = _current_stage_columns(stage, req.c.request_id, now)
    query = (
        select(
            req.c.request_id,
            DeviceRequest.receipt_number,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            Organisation.name,
            req.c.state,
            req.c.submitted_at,
            sql.days(req.c.submitted_at, moment_literal(now)).label("gross"),
            net.label("net"),
            entered.label("entered"),
            due.label("due"),
        )
        .select_from(req)
        .join(DeviceRequest, DeviceRequest.id == req.c.request_id)
        .join(Organisation, Organisation.id == DeviceRequest.manufacturer_id)
        .where(_open_condition(req.c), scope_condition(actor, req.c.request_id))
        .order_by(req.c.submitted_at, req.c.request_id)
        .limit(limit)
    )
    rows = []
    for row in db.session.execute(query):
        due_at = aware(row.due)
        late = max((now - due_at).total_seconds(), 0) / SECONDS_PER_DAY if due_at else 0.0
        rows.append(
            SlowRequest(
                request_id=row.request_id,
                receipt_number=row.receipt_number,
                device=" ".join(p for p in (row.trade_name, row.model) if p),
                manufacturer=row.name,
                state=row.state,
                submitted_at=aware(row.submitted_at),
                gross_days=float(row.gross),
                net_days=float(row.net or 0),
                stage_entered_at=aware(row.entered),
                due_at=due_at,
                days_late=late,
            )
        )
    return rows


REQUEST_ROW_COLUMNS = (
    "request_id",
    "receipt_number",
    "device",
    "manufacturer",
    "state",
    "submitted_at",
    "year",
    "region",
    "body",
    "risk_class",
    "emdn",
    "outcome",
    "published_at",
    "e2e_gross",
    "e2e_net",
    "stage_entered_at",
    "due_at",
    "days_late",
)


def request_rows(actor, filters: ReportFilters, now: datetime) -> Iterator[tuple]:
    """One row per request the actor may see (REQUEST_ROW_COLUMNS), streamed.

    Lean on purpose (it runs over every request): the end-to-end net days come from the
    request's stored spans (`RequestTiming`) and the open stage from a grouped subquery joined
    in, not from per-row lookups, and rows come back through Core as plain tuples."""
    sql = current_sql()
    req = requests_cte(filters, sql)
    stage = StageRecord.__table__
    timing = RequestTiming.__table__
    open_stage = (
        select(
            stage.c.request_id,
            func.max(stage.c.entered_at).label("entered"),
            func.max(stage.c.due_at).label("due"),
        )
        .where(stage.c.left_at.is_(None))
        .group_by(stage.c.request_id)
        .subquery("open_stage")
    )
    query = (
        select(
            req.c.request_id,
            DeviceRequest.receipt_number,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            Organisation.name,
            req.c.state,
            plain_time(req.c.submitted_at),
            req.c.year,
            req.c.region,
            req.c.body,
            req.c.risk_class,
            req.c.emdn,
            req.c.outcome,
            plain_time(req.c.published_at),
            sql.days(req.c.submitted_at, req.c.published_at).label("e2e_gross"),
            timing.c.e2e_net_days.label("e2e_net"),
            plain_time(open_stage.c.entered),
            plain_time(open_stage.c.due),
        )
        .select_from(req)
        .join(DeviceRequest, DeviceRequest.id == req.c.request_id)
        .join(Organisation, Organisation.id == DeviceRequest.manufacturer_id)
        .outerjoin(timing, timing.c.request_id == req.c.request_id)
        .outerjoin(open_stage, open_stage.c.request_id == req.c.request_id)
        .where(scope_condition(actor, req.c.request_id))
        .order_by(req.c.request_id)
    )
    result = db.session.connection().execute(query.execution_options(yield_per=STREAM_BATCH))
    for row in result:
        (rid, receipt, name, model, maker, state, submitted, year, region, body, risk, emdn,
         outcome, published, gross, net, entered, due) = row  # fmt: skip
        if entered is not None and published is None:  # open: how late is its stage?
            entered, due = utc(entered), utc(due)
            late = max((now - due).total_seconds() / SECONDS_PER_DAY, 0.0) if due else 0.0
        else:
            entered = due = late = None
        yield (
            rid,
            receipt,
            f"{name} {model}" if name and model else name or model,
            maker,
            state,
            utc(submitted),
            year,
            region,
            body,
            risk,
            emdn,
            outcome,
            utc(published),
            None if gross is None else float(gross),
            None if net is None else float(net),
            entered,
            due,
            late,
        )
