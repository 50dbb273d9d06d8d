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
    func,
    or_,
    select,
)

from app.extensions import db
from app.models import (
    DeviceRequest,
    Organisation,
    Recommendation,
    StageRecord,
)
from app.reports.filters import DIMENSIONS, ReportFilters
from app.reports.stats import Distribution
from app.services.report_queries.common import (
    SECONDS_PER_DAY,
    STREAM_BATCH,
    Sql,
    aware,
    cached,
    current_sql,
    moment_literal,
    none_last,
    plain_time,
    raise_sort_memory,
    requests_cte,
    scope_condition,
    utc,
)
from app.services.report_queries.distributions import Branch, GroupFigures, grouped_distributions
from app.workflow.states import (
    CLOCK_STOP_STATES,
    REQUEST_STATES,
    TERMINAL_REQUEST_STATES,
)

# Stages the timing report measures: every state a request waits in, except the draft.
TIMED_STATES = tuple(s for s in REQUEST_STATES if s not in TERMINAL_REQUEST_STATES and s != "draft")
# Before the recommendation: the stages the process is judged on (and charted).
PRE_RECOMMENDATION_STATES = (
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
ASSESSMENT_DONE_STATES = ("factual_accuracy_check", "appraisal", "consultation")


@dataclass(frozen=True)
class Anchor:
    """A published timing benchmark the report compares against."""

    key: str
    days: int
    measure: str  # the per-request measure column it is compared with (gross; net alongside)


ANCHORS = (
    Anchor("nice", 266, "e2e"),  # NICE medical technologies guidance: about 38 weeks
    Anchor("gba", 90, "assessment"),  # G-BA 137h: 3 months for the assessment
    Anchor("lombardy", 187, "prioritisation"),  # Lombardy: observed days to prioritise
)
ANCHOR_DAYS = {anchor.measure: anchor.days for anchor in ANCHORS}


# --- Timing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageFigures:
    state: str
    gross: Distribution
    net: Distribution
    with_deadline: int
    late: int


@dataclass(frozen=True)
class SpanFigures:
    """A per-request measure (e.g. submission to recommendation), gross and net."""

    gross: Distribution
    net: Distribution
    gross_over_anchor: int = 0
    net_over_anchor: int = 0


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


def stage_days_cte(req, sql: Sql, now: datetime):
    """One row per stage visit of the filtered requests: gross days, late and deadline flags."""
    stage = StageRecord.__table__
    end = func.coalesce(stage.c.left_at, moment_literal(now))
    late = case((and_(stage.c.due_at.is_not(None), end > stage.c.due_at), 1), else_=0)
    has_due = case((stage.c.due_at.is_not(None), 1), else_=0)
    return (
        select(
            *[req.c[d] for d in DIMENSIONS],
            stage.c.state,
            sql.days(stage.c.entered_at, end).label("gross"),
            late.label("late"),
            has_due.label("has_due"),
        )
        .select_from(stage.join(req, req.c.request_id == stage.c.request_id))
        .where(stage.c.state.in_(TIMED_STATES))
        .cte("stage_days")
    )


def _net_days(sql: Sql, stage, start, end, now: datetime):
    """Net days of a stage visit counted from `start` up to `end` (0 for clock stops)."""
    stage_end = sql.least(func.coalesce(stage.c.left_at, moment_literal(now)), end)
    counted = and_(
        end.is_not(None),
        stage.c.entered_at >= start,
        stage.c.entered_at < end,
        stage.c.state.not_in(CLOCK_STOP_STATES),
    )
    return case((counted, sql.days(stage.c.entered_at, stage_end)), else_=0)


def per_request_cte(req, sql: Sql, now: datetime):
    """One row per filtered request: end-to-end (gross and net), days to the prioritisation
    decision (gross, as Lombardy measures it) and days in assessment (net by nature).

    One grouped pass over the stage records."""
    stage = StageRecord.__table__
    open_end = func.coalesce(stage.c.left_at, moment_literal(now))
    marks = (
        select(
            stage.c.request_id,
            func.max(
                case(
                    (
                        and_(stage.c.state == "prioritisation", stage.c.left_at.is_not(None)),
                        stage.c.left_at,
                    ),
                    else_=None,
                )
            ).label("prioritised_at"),
            func.sum(
                case(
                    (stage.c.state == "assessment", sql.days(stage.c.entered_at, open_end)),
                    else_=0,
                )
            ).label("assessment_days"),
            func.max(case((stage.c.state.in_(ASSESSMENT_DONE_STATES), 1), else_=0)).label(
                "assessment_done"
            ),
            func.sum(_net_days(sql, stage, req.c.submitted_at, req.c.published_at, now)).label(
                "e2e_net"
            ),
        )
        .select_from(stage.join(req, req.c.request_id == stage.c.request_id))
        .group_by(stage.c.request_id)
        .cte("marks")
    )
    e2e_gross = sql.days(req.c.submitted_at, req.c.published_at)
    prio_gross = sql.days(req.c.submitted_at, marks.c.prioritised_at)
    e2e_net = case((req.c.published_at.is_not(None), func.coalesce(marks.c.e2e_net, 0)), else_=None)
    assessment = case((marks.c.assessment_done == 1, marks.c.assessment_days), else_=None)
    columns = {
        "e2e_gross": e2e_gross,
        "e2e_net": e2e_net,
        "prio_gross": prio_gross,
        "assessment": assessment,
    }
    flags = {
        "e2e_gross_over": _over(e2e_gross, ANCHOR_DAYS["e2e"]),
        "e2e_net_over": _over(e2e_net, ANCHOR_DAYS["e2e"]),
        "prio_gross_over": _over(prio_gross, ANCHOR_DAYS["prioritisation"]),
        "assessment_over": _over(assessment, ANCHOR_DAYS["assessment"]),
    }
    return (
        select(
            req,
            *[expr.label(name) for name, expr in columns.items()],
            *[expr.label(name) for name, expr in flags.items()],
        )
        .select_from(req.outerjoin(marks, marks.c.request_id == req.c.request_id))
        .cte("per_request")
    )


def _over(expression, days: int):
    return case((expression > days, 1), else_=0)


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
    )
    figures = dataclasses.replace(aggregates)
    figures.slowest = slowest_open_requests(actor, filters, now, slowest_limit)
    figures.request_rows = lambda: request_rows(actor, filters, now)
    return figures


def timing_aggregates(filters, now, dimensions, method=None) -> TimingFigures:
    """The figures that name no request: the same for every reader (three statements, and
    one SET on PostgreSQL)."""
    sql = current_sql()
    raise_sort_memory(sql)
    req = requests_cte(filters, sql)
    figures = TimingFigures(now=now)
    _count_requests(figures, req, now)
    _stage_figures(figures, req, sql, now, dimensions, method)
    _span_figures(figures, req, sql, now, dimensions, method)
    return figures


def _open_condition(columns):
    return or_(
        columns.state.in_(PRE_RECOMMENDATION_STATES),
        and_(columns.state == "suspended", columns.published_at.is_(None)),
    )


def _count_requests(figures: TimingFigures, req, now: datetime) -> None:
    row = db.session.execute(
        select(
            func.count(),
            func.sum(case((req.c.published_at.is_not(None), 1), else_=0)),
            func.sum(case((_open_condition(req.c), 1), else_=0)),
        ).select_from(req)
    ).one()
    figures.submitted, figures.published, figures.open = (int(v or 0) for v in row)


def _stage_figures(figures, req, sql, now, dimensions, method) -> None:
    source = stage_days_cte(req, sql, now)
    sums = ("late", "has_due")
    branches = [Branch("gross", ("state",), sums)]
    branches += [Branch("gross", (d, "state"), sums) for d in dimensions]
    results = grouped_distributions(source, branches, method)

    def stage(state: str, group: GroupFigures) -> StageFigures:
        net = group.distribution.scaled(0.0 if state in CLOCK_STOP_STATES else 1.0)
        late, with_due = group.sums
        return StageFigures(state, group.distribution, net, with_due, late)

    order = {state: i for i, state in enumerate(TIMED_STATES)}
    for (branch, keys), group in sorted(results.items(), key=lambda kv: order[kv[0][1][-1]]):
        if branch == 0:
            figures.stages.append(stage(keys[0], group))
        else:
            dimension = dimensions[branch - 1]
            figures.stages_by.setdefault(dimension, []).append((keys[0], stage(keys[1], group)))


def _span_figures(figures, req, sql, now, dimensions, method) -> None:
    source = per_request_cte(req, sql, now)
    spans = {
        "e2e": ("e2e_gross", "e2e_net", "e2e_gross_over", "e2e_net_over"),
        "prioritisation": ("prio_gross", None, "prio_gross_over", None),
        # Assessment is never a clock stop: its net days are its gross days.
        "assessment": ("assessment", None, "assessment_over", None),
    }
    branches, index = [], {}
    for name, (gross, net, gross_over, net_over) in spans.items():
        groupings = [()] + ([(d,) for d in dimensions] if name == "e2e" else [])
        for keys in groupings:
            index[(name, keys, "gross")] = len(branches)
            branches.append(Branch(gross, keys, (gross_over,)))
            if net is not None:
                index[(name, keys, "net")] = len(branches)
                branches.append(Branch(net, keys, (net_over,)))
    results = grouped_distributions(source, branches, method)
    by_branch: dict[int, dict] = {}
    for (branch, keys), group in results.items():
        by_branch.setdefault(branch, {})[keys] = group

    def span(name: str, keys: tuple, key_values: tuple) -> SpanFigures:
        gross = by_branch.get(index[(name, keys, "gross")], {}).get(key_values)
        net = by_branch.get(index.get((name, keys, "net"), -1), {}).get(key_values)
        if name == "assessment":
            net = gross
        return SpanFigures(
            gross.distribution if gross else Distribution(),
            net.distribution if net else Distribution(),
            gross.sums[0] if gross else 0,
            net.sums[0] if net else 0,
        )

    for name in spans:
        figures.anchors[name] = span(name, (), ())
    figures.end_to_end = figures.anchors["e2e"]
    for dimension in dimensions:
        keys = (dimension,)
        values = set(by_branch.get(index[("e2e", keys, "gross")], {}))
        values |= set(by_branch.get(index[("e2e", keys, "net")], {}))
        figures.end_to_end_by[dimension] = [
            (value[0], span("e2e", keys, value)) for value in sorted(values, key=none_last)
        ]


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
                        (counted.c.state.in_(CLOCK_STOP_STATES), 0),
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

    Lean on purpose (it runs over every request): the end-to-end net days and the open stage
    come from two grouped subqueries joined in, not from per-row lookups, and rows come back
    through Core as plain tuples."""
    sql = current_sql()
    req = requests_cte(filters, sql)
    stage = StageRecord.__table__
    e2e_net = (
        select(
            stage.c.request_id,
            func.sum(
                _net_days(sql, stage, DeviceRequest.submitted_at, Recommendation.published_at, now)
            ).label("net"),
        )
        .select_from(stage)
        .join(DeviceRequest, DeviceRequest.id == stage.c.request_id)
        .join(Recommendation, Recommendation.request_id == stage.c.request_id)
        .where(Recommendation.published_at.is_not(None))
        .group_by(stage.c.request_id)
        .subquery("e2e_net")
    )
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
            case(
                (req.c.published_at.is_not(None), func.coalesce(e2e_net.c.net, 0)), else_=None
            ).label("e2e_net"),
            plain_time(open_stage.c.entered),
            plain_time(open_stage.c.due),
        )
        .select_from(req)
        .join(DeviceRequest, DeviceRequest.id == req.c.request_id)
        .join(Organisation, Organisation.id == DeviceRequest.manufacturer_id)
        .outerjoin(e2e_net, e2e_net.c.request_id == req.c.request_id)
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
