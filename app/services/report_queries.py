"""The SQL behind the timing and adoption reports: aggregates and window functions, streamed.

Nothing here loads events as ORM objects. Each function runs a fixed number of statements
whatever the volume: figures are grouped in the database and only the groups (or, for the
percentiles on SQLite, the few ranks each percentile needs) come back. Tables that grow with
the data (one row per request or per recommendation) are returned as *row factories*: calling
one runs its query with `yield_per` and yields plain tuples, so exports stream in flat memory.

Dialects: PostgreSQL and SQLite. Day arithmetic and calendar parts differ (`_Sql`); percentiles
use `percentile_cont` on PostgreSQL and row_number/count windows elsewhere, with the same
definition (`app.reports.stats`), and a test checks both give the same figures.

Scope: aggregates cover every submitted request matching the filters (they name no
manufacturer and no device); per-request tables are limited to what `visible_requests(actor)`
allows, and confidential dossier figures of others are left out (`can_see_confidential`).
`actor=None` is the command line run by an operator: everything.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time as _time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    ARRAY,
    DateTime,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    null,
    or_,
    select,
    text,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from app.domain.deadlines import ROME
from app.extensions import db
from app.models import (
    Adoption,
    DeviceRequest,
    Organisation,
    Recommendation,
    StageRecord,
    UsageReport,
)
from app.models.types import UTCDateTime
from app.reports.filters import DIMENSIONS, NO_OUTCOME, ReportFilters
from app.reports.stats import PERCENTILES, Distribution, percentile_from_ranks
from app.services.requests import visible_requests
from app.workflow.states import (
    CLOCK_STOP_STATES,
    POSITIVE_OUTCOMES,
    REQUEST_STATES,
    TERMINAL_REQUEST_STATES,
)

SECONDS_PER_DAY = 86_400
MONTH_DAYS = 365.25 / 12
CURVE_MONTHS = 36
MILESTONE_MONTHS = (6, 12, 24)
STREAM_BATCH = 2_000
PG_SORT_MEMORY = "64MB"

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


# --- A short-lived cache of the aggregate figures -----------------------------------------
#
# Exact percentiles over every stage visit need a sort of all of them: with a million stage
# records that takes seconds on either database. The aggregates do not depend on who reads
# them (only the per-request tables do), so each process keeps the last figures per filter set
# for REPORT_CACHE_SECONDS (0 disables it), and drops them as soon as the data changes: the key
# includes the audit chain head and the highest ids of the tables the reports read.

_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_ENTRIES = 32


def data_version() -> tuple:
    """Changes whenever anything the reports read changes (one cheap statement)."""
    from app.models import AuditChainHead

    def highest(column):
        return select(func.max(column)).scalar_subquery()

    return tuple(
        db.session.execute(
            select(
                select(AuditChainHead.last_seq).where(AuditChainHead.id == 1).scalar_subquery(),
                highest(StageRecord.id),
                highest(Recommendation.id),
                highest(Adoption.id),
                highest(UsageReport.id),
            )
        ).one()
    )


def cached(kind: str, key: tuple, compute: Callable[[], object], seconds: float):
    """compute() or a copy kept from less than `seconds` ago for the same data."""
    if seconds <= 0:
        return compute()
    full_key = (kind, key, data_version())
    moment = _time.monotonic()
    with _CACHE_LOCK:
        hit = _CACHE.get(full_key)
        if hit is not None and moment - hit[0] < seconds:
            _CACHE.move_to_end(full_key)
            return hit[1]
    value = compute()
    with _CACHE_LOCK:
        _CACHE[full_key] = (moment, value)
        while len(_CACHE) > CACHE_ENTRIES:
            _CACHE.popitem(last=False)
    return value


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


# --- Dialect helpers ---------------------------------------------------------------------


class _Sql:
    """The few expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, dialect_name: str):
        self.postgres = dialect_name == "postgresql"

    def days(self, start, end):
        """Days (fractional) from `start` to `end`."""
        if self.postgres:
            return cast(extract("epoch", end - start), Float) / SECONDS_PER_DAY
        return func.julianday(end) - func.julianday(start)

    def year(self, moment):
        """Calendar year in Europe/Rome. At New Year Rome is always UTC+1 (no summer time),
        so adding one hour to UTC gives the Rome year on both databases."""
        if self.postgres:
            local = func.timezone("UTC", moment) + literal(timedelta(hours=1))
            return cast(extract("year", local), Integer)
        return cast(func.strftime("%Y", moment, "+1 hour"), Integer)

    def least(self, a, b):
        return func.least(a, b) if self.postgres else func.min(a, b)

    def floor(self, value):
        """Floor of a non-negative number, as an integer."""
        return cast(func.floor(value), Integer) if self.postgres else cast(value, Integer)


def _sql() -> _Sql:
    return _Sql(db.session.get_bind().dialect.name)


def _moment(value: datetime):
    return literal(value, UTCDateTime())


def _rome_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)


# --- Scope -------------------------------------------------------------------------------


def scope_condition(actor, request_id_column):
    """Per-request tables: only the requests the actor may see (everything for the CLI)."""
    if actor is None:
        return true()
    visible = visible_requests(actor).with_only_columns(DeviceRequest.id)
    return request_id_column.in_(visible)


def party_condition(actor, manufacturer_id_column, body_id_column):
    """SQL twin of `can_see_confidential` for requests already known to be submitted."""
    if actor is None or actor.role == "agency":
        return true()
    if actor.role == "manufacturer":
        return manufacturer_id_column == actor.organisation_id
    if actor.role == "assessor":
        return body_id_column == actor.organisation_id
    return false()


def marked_confidential(confidential_column, field_name: str):
    """Whether a JSON list column contains `field_name` (text match works on both dialects)."""
    return cast(confidential_column, String).like(f'%"{field_name}"%')


# --- The filtered set of submitted requests -------------------------------------------------


def requests_cte(filters: ReportFilters, sql: _Sql, name: str = "req"):
    """Submitted requests matching the filters, with the breakdown dimensions as columns."""
    body = aliased(Organisation)
    published = Recommendation.published_at
    outcome = case((published.is_not(None), Recommendation.outcome), else_=None)
    emdn = func.upper(func.substr(DeviceRequest.emdn_code, 1, 1))
    query = (
        select(
            DeviceRequest.id.label("request_id"),
            DeviceRequest.manufacturer_id,
            DeviceRequest.assigned_body_id,
            DeviceRequest.state,
            DeviceRequest.submitted_at,
            published.label("published_at"),
            outcome.label("outcome"),
            sql.year(DeviceRequest.submitted_at).label("year"),
            body.region.label("region"),
            body.name.label("body"),
            DeviceRequest.risk_class.label("risk_class"),
            emdn.label("emdn"),
        )
        .select_from(DeviceRequest)
        .outerjoin(body, body.id == DeviceRequest.assigned_body_id)
        .outerjoin(Recommendation, Recommendation.request_id == DeviceRequest.id)
        .where(DeviceRequest.submitted_at.is_not(None))
    )
    for condition in _filter_conditions(filters, body, outcome, emdn):
        query = query.where(condition)
    return query.cte(name)


def _filter_conditions(filters: ReportFilters, body, outcome, emdn) -> list:
    conditions = []
    if filters.submitted_from:
        conditions.append(DeviceRequest.submitted_at >= _rome_midnight(filters.submitted_from))
    if filters.submitted_to:
        end = _rome_midnight(filters.submitted_to + timedelta(days=1))
        conditions.append(DeviceRequest.submitted_at < end)
    if filters.region:
        conditions.append(body.region == filters.region)
    if filters.body_id:
        conditions.append(DeviceRequest.assigned_body_id == filters.body_id)
    if filters.risk_class:
        conditions.append(DeviceRequest.risk_class == filters.risk_class)
    if filters.emdn:
        conditions.append(emdn == filters.emdn)
    if filters.outcome == NO_OUTCOME:
        conditions.append(outcome.is_(None))
    elif filters.outcome:
        conditions.append(outcome == filters.outcome)
    if filters.request_id:
        conditions.append(DeviceRequest.id == filters.request_id)
    return conditions


# --- Grouped distributions (one statement for many groupings) -------------------------------

KEY_SLOTS = 2


@dataclass(frozen=True)
class Branch:
    """One distribution to compute: `measure` grouped by `keys`, plus sums over the group."""

    measure: str
    keys: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupFigures:
    distribution: Distribution
    sums: tuple[int, ...]


def grouped_distributions(
    source, branches: Sequence[Branch], method: str | None = None
) -> dict[tuple[int, tuple], GroupFigures]:
    """{(branch index, key tuple): figures} for every non-empty group, in ONE statement.

    Keys come back as text (None for a NULL group). `method` forces "window" or
    "percentile_cont" (tests compare them); by default PostgreSQL uses percentile_cont.
    """
    if method is None:
        method = "percentile_cont" if _sql().postgres else "window"
    width = max((len(b.sums) for b in branches), default=0)
    if method == "percentile_cont":
        return _percentile_cont(source, branches, width)
    return _window_percentiles(source, branches, width)


def _key_columns(source, keys: tuple[str, ...]) -> list:
    columns = [cast(source.c[key], String) for key in keys]
    columns += [cast(null(), String)] * (KEY_SLOTS - len(keys))
    return [column.label(f"k{i}") for i, column in enumerate(columns)]


def _sum_columns(source, branch: Branch, width: int, over: dict | None) -> list:
    columns = []
    for i in range(width):
        if i < len(branch.sums):
            total = func.sum(source.c[branch.sums[i]])
            total = total.over(**over) if over is not None else total
        else:
            total = literal(0)
        columns.append(total.label(f"s{i}"))
    return columns


def _window_percentiles(source, branches, width) -> dict:
    parts = []
    for index, branch in enumerate(branches):
        value = source.c[branch.measure]
        partition = [source.c[k] for k in branch.keys] or None
        # One sort per branch: every window shares PARTITION BY and ORDER BY; the totals use
        # the whole partition as their frame.
        ranked = {"partition_by": partition, "order_by": value}
        whole = {**ranked, "rows": (None, None)}
        inner = (
            select(
                literal(index).label("b"),
                *_key_columns(source, branch.keys),
                cast(value, Float).label("v"),
                func.row_number().over(**ranked).label("rn"),
                func.count().over(**whole).label("n"),
                func.avg(value).over(**whole).label("mean"),
                *_sum_columns(source, branch, width, whole),
            )
            .where(value.is_not(None))
            .subquery()
        )
        # Keep the rows around each percentile's two ranks (a little wider than needed, so
        # that rounding in p * (n - 1) can never drop one). At most a dozen rows per group.
        near = [
            and_(inner.c.rn > p * (inner.c.n - 1) - 0.5, inner.c.rn < p * (inner.c.n - 1) + 3)
            for p in PERCENTILES
        ]
        parts.append(select(inner).where(or_(*near)))
    statement = union_all(*parts).subquery()
    ordered = select(statement).order_by(
        statement.c.b, statement.c.k0, statement.c.k1, statement.c.rn
    )
    figures = {}
    rows = db.session.execute(ordered.execution_options(yield_per=STREAM_BATCH))
    for (branch, k0, k1), group in itertools.groupby(rows, key=lambda r: (r.b, r.k0, r.k1)):
        group = list(group)
        first = group[0]
        count = int(first.n)
        by_index = {int(row.rn) - 1: row.v for row in group}
        values = [percentile_from_ranks(by_index, count, p) for p in PERCENTILES]
        keys = (k0, k1)[: len(branches[branch].keys)]
        figures[(branch, keys)] = GroupFigures(
            Distribution.from_percentiles(count, first.mean, values),
            tuple(int(getattr(first, f"s{i}") or 0) for i in range(width)),
        )
    return figures


def _percentile_cont(source, branches, width) -> dict:
    parts = []
    for index, branch in enumerate(branches):
        value = cast(source.c[branch.measure], Float)
        fractions = literal(list(PERCENTILES), ARRAY(Float))
        parts.append(
            select(
                literal(index).label("b"),
                *_key_columns(source, branch.keys),
                func.count(value).label("n"),
                func.avg(value).label("mean"),
                func.percentile_cont(fractions).within_group(value).label("pcts"),
                *_sum_columns(source, branch, width, None),
            )
            .where(value.is_not(None))
            .group_by(*[source.c[k] for k in branch.keys])
        )
    figures = {}
    for row in db.session.execute(union_all(*parts)):
        if not row.n:
            continue
        keys = (row.k0, row.k1)[: len(branches[row.b].keys)]
        figures[(row.b, keys)] = GroupFigures(
            Distribution.from_percentiles(int(row.n), row.mean, row.pcts),
            tuple(int(getattr(row, f"s{i}") or 0) for i in range(width)),
        )
    return figures


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


def stage_days_cte(req, sql: _Sql, now: datetime):
    """One row per stage visit of the filtered requests: gross days, late and deadline flags."""
    stage = StageRecord.__table__
    end = func.coalesce(stage.c.left_at, _moment(now))
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


def _net_days(sql: _Sql, stage, start, end, now: datetime):
    """Net days of a stage visit counted from `start` up to `end` (0 for clock stops)."""
    stage_end = sql.least(func.coalesce(stage.c.left_at, _moment(now)), end)
    counted = and_(
        end.is_not(None),
        stage.c.entered_at >= start,
        stage.c.entered_at < end,
        stage.c.state.not_in(CLOCK_STOP_STATES),
    )
    return case((counted, sql.days(stage.c.entered_at, stage_end)), else_=0)


def per_request_cte(req, sql: _Sql, now: datetime):
    """One row per filtered request: end-to-end (gross and net), days to the prioritisation
    decision (gross, as Lombardy measures it) and days in assessment (net by nature).

    One grouped pass over the stage records."""
    stage = StageRecord.__table__
    open_end = func.coalesce(stage.c.left_at, _moment(now))
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


def _sort_memory(sql: _Sql) -> None:
    """PostgreSQL: let this transaction's sorts use more memory than the 4 MB default (the
    percentiles sort every stage visit; in memory that is about a quarter faster)."""
    if sql.postgres:
        db.session.execute(text(f"SET LOCAL work_mem = '{PG_SORT_MEMORY}'"))


def timing_aggregates(filters, now, dimensions, method=None) -> TimingFigures:
    """The figures that name no request: the same for every reader (three statements, and
    one SET on PostgreSQL)."""
    sql = _sql()
    _sort_memory(sql)
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
            (value[0], span("e2e", keys, value)) for value in sorted(values, key=_none_last)
        ]


def _none_last(key: tuple) -> tuple:
    return tuple((value is None, value or "") for value in key)


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
    sql = _sql()
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
                            func.coalesce(counted.c.left_at, _moment(now)),
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
            sql.days(req.c.submitted_at, _moment(now)).label("gross"),
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
        due_at = _aware(row.due)
        late = max((now - due_at).total_seconds(), 0) / SECONDS_PER_DAY if due_at else 0.0
        rows.append(
            SlowRequest(
                request_id=row.request_id,
                receipt_number=row.receipt_number,
                device=" ".join(p for p in (row.trade_name, row.model) if p),
                manufacturer=row.name,
                state=row.state,
                submitted_at=_aware(row.submitted_at),
                gross_days=float(row.gross),
                net_days=float(row.net or 0),
                stage_entered_at=_aware(row.entered),
                due_at=due_at,
                days_late=late,
            )
        )
    return rows


def _aware(value):
    """Timestamps from raw (non-ORM) columns or subqueries: aware UTC datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    sql = _sql()
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
            _plain_time(req.c.submitted_at),
            req.c.year,
            req.c.region,
            req.c.body,
            req.c.risk_class,
            req.c.emdn,
            req.c.outcome,
            _plain_time(req.c.published_at),
            sql.days(req.c.submitted_at, req.c.published_at).label("e2e_gross"),
            case(
                (req.c.published_at.is_not(None), func.coalesce(e2e_net.c.net, 0)), else_=None
            ).label("e2e_net"),
            _plain_time(open_stage.c.entered),
            _plain_time(open_stage.c.due),
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
            entered, due = _utc(entered), _utc(due)
            late = max((now - due).total_seconds() / SECONDS_PER_DAY, 0.0) if due else 0.0
        else:
            entered = due = late = None
        yield (
            rid,
            receipt,
            f"{name} {model}" if name and model else name or model,
            maker,
            state,
            _utc(submitted),
            year,
            region,
            body,
            risk,
            emdn,
            outcome,
            _utc(published),
            None if gross is None else float(gross),
            None if net is None else float(net),
            entered,
            due,
            late,
        )


def _plain_time(column):
    """A timestamp read with the dialect's plain DateTime processing (naive UTC on SQLite,
    aware on PostgreSQL) rather than the model type's per-value hook: faster on long streams."""
    return type_coerce(column, DateTime()).label(column.name)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _float(value) -> float | None:
    return None if value is None else float(value)


# --- Adoption ------------------------------------------------------------------------------

ADOPTION_STATE_ORDER = (
    "not_started",
    "local_evaluation",
    "approved_for_use",
    "procurement",
    "in_use",
    "discontinued",
    "declined",
)


@dataclass(frozen=True)
class RegionFigures:
    region: str | None
    records: int
    decided: int
    adopting: int
    first_use_days: Distribution


@dataclass(frozen=True)
class QuarterFigures:
    year: int
    quarter: int
    units: int
    procedures: int
    spend: float
    adverse_events: int
    reporting: int


@dataclass
class AdoptionSummary:
    now: datetime | None = None  # when these figures were computed
    recommendations: int = 0
    records: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    decision_days: Distribution = field(default_factory=Distribution)
    first_use_days: Distribution = field(default_factory=Distribution)
    curve: list[tuple[int, float | None, int]] = field(default_factory=list)
    milestones: dict[int, float | None] = field(default_factory=dict)
    regions: list[RegionFigures] = field(default_factory=list)
    quarters: list[QuarterFigures] = field(default_factory=list)
    spend_3y_with_budget: float = 0.0
    budget_3y: float = 0.0
    recommendations_with_budget: int = 0


@dataclass(frozen=True)
class RecommendationRow:
    request_id: int
    receipt_number: str | None
    device: str
    manufacturer: str
    outcome: str
    published_at: datetime
    records: int
    by_state: dict[str, int]
    decision_median: float | None
    first_use_median: float | None
    milestones: dict[int, float | None]
    expected_per_quarter: float | None  # None: not given, or confidential to this reader
    quarters_reported: int
    units: int
    procedures: int
    adverse_events: int
    spend_3y: float
    budget_3y: float | None

    @property
    def units_per_quarter(self) -> float | None:
        return self.units / self.quarters_reported if self.quarters_reported else None

    @property
    def share_of_expected(self) -> float | None:
        if not self.expected_per_quarter or self.units_per_quarter is None:
            return None
        return self.units_per_quarter / self.expected_per_quarter

    @property
    def share_of_budget(self) -> float | None:
        return self.spend_3y / self.budget_3y if self.budget_3y else None


@dataclass
class AdoptionFigures:
    now: datetime
    summary: AdoptionSummary
    recommendation_rows: Callable[[int | None], Iterator[RecommendationRow]]
    quarter_rows: Callable[[int | None], Iterator[tuple]]
    region_rows: Callable[[int | None], Iterator[tuple]]
    not_started_rows: Callable[[int | None], Iterator[tuple]]
    own_rows: Callable[[int | None], Iterator[tuple]] | None = None


def recommendations_cte(filters: ReportFilters, sql: _Sql):
    """Published positive recommendations of the filtered requests."""
    req = requests_cte(filters, sql)
    return (
        select(
            req.c.request_id,
            req.c.published_at,
            req.c.outcome,
            req.c.manufacturer_id,
            req.c.assigned_body_id,
            DeviceRequest.receipt_number,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.expected_volume_per_year,
            DeviceRequest.budget_impact_3y,
            DeviceRequest.confidential_fields,
        )
        .select_from(req)
        .join(DeviceRequest, DeviceRequest.id == req.c.request_id)
        .where(req.c.published_at.is_not(None), req.c.outcome.in_(POSITIVE_OUTCOMES))
        .cte("recs")
    )


def _not_negative(expression):
    return case((expression < 0, 0.0), else_=expression)


def pairs_cte(recs, sql: _Sql, now: datetime):
    """One row per (recommendation, IRCCS) adoption record, with its timing in days."""
    irccs = aliased(Organisation)
    return (
        select(
            Adoption.id.label("adoption_id"),
            Adoption.request_id,
            Adoption.irccs_id,
            irccs.name.label("irccs"),
            irccs.region.label("region"),
            Adoption.state,
            _not_negative(sql.days(recs.c.published_at, Adoption.decided_at)).label("decided_days"),
            _not_negative(sql.days(recs.c.published_at, Adoption.first_use_at)).label("use_days"),
            _not_negative(sql.days(recs.c.published_at, _moment(now))).label("avail_days"),
        )
        .select_from(recs)
        .join(Adoption, Adoption.request_id == recs.c.request_id)
        .join(irccs, irccs.id == Adoption.irccs_id)
        .cte("pairs")
    )


def latest_usage_subquery():
    """Usage reports, only the latest version of each (adoption, year, quarter): a report with
    no later version of the same quarter. An anti-join (NOT EXISTS on the period index), so a
    query about a few adoption records only looks at their reports."""
    later = aliased(UsageReport)
    newer_exists = (
        select(later.id)
        .where(
            later.adoption_id == UsageReport.adoption_id,
            later.year == UsageReport.year,
            later.quarter == UsageReport.quarter,
            later.version > UsageReport.version,
        )
        .exists()
    )
    return select(UsageReport).where(~newer_exists).subquery("usage")


def _quarter_index(sql: _Sql, moment):
    """year * 4 + quarter - 1 of a moment (Rome time, taken as UTC+1)."""
    if sql.postgres:
        local = func.timezone("UTC", moment) + literal(timedelta(hours=1))
        month = cast(extract("month", local), Integer)
    else:
        month = cast(func.strftime("%m", moment, "+1 hour"), Integer)
    return sql.year(moment) * 4 + (month - 1) // 3


def _within_three_years(sql: _Sql, usage, published_at):
    """The usage quarter is one of the 12 quarters from the publication's quarter."""
    start = _quarter_index(sql, published_at)
    index = usage.c.year * 4 + usage.c.quarter - 1
    return and_(index >= start, index < start + 12)


def _visible_figure(actor, recs, field_name: str):
    """The dossier figure where this reader may see it, else NULL."""
    hidden = and_(
        marked_confidential(recs.c.confidential_fields, field_name),
        ~party_condition(actor, recs.c.manufacturer_id, recs.c.assigned_body_id),
    )
    return case((hidden, None), else_=getattr(recs.c, field_name))


def adoption_figures(
    actor,
    filters: ReportFilters,
    now: datetime,
    method: str | None = None,
    cache_seconds: float = 0,
) -> AdoptionFigures:
    """Every figure of the adoption report: the summary now (five statements, or none when
    cached), the tables as row factories (one statement each when called)."""
    summary = cached(
        "adoption",
        (filters, _party_key(actor), method),
        lambda: adoption_summary(actor, filters, now, method),
        cache_seconds,
    )
    return AdoptionFigures(
        now=now,
        summary=summary,
        recommendation_rows=lambda limit=None: recommendation_rows(
            actor, filters, now, limit, method
        ),
        quarter_rows=lambda limit=None: quarter_rows(actor, filters, now, limit),
        region_rows=lambda limit=None: region_rows(actor, filters, now, limit),
        not_started_rows=lambda limit=None: not_started_rows(actor, filters, now, limit),
        own_rows=(
            (lambda limit=None: own_adoption_rows(actor, filters, now, limit))
            if actor is not None and actor.role == "irccs"
            else None
        ),
    )


def _party_key(actor) -> tuple:
    """What the adoption summary depends on about its reader: which budgets it may see."""
    if actor is None or actor.role == "agency":
        return ("all",)
    if actor.role in ("manufacturer", "assessor"):
        return (actor.role, actor.organisation_id)
    return ("none",)


def adoption_summary(actor, filters, now, method=None) -> AdoptionSummary:
    """The summary across recommendations (five statements, and one SET on PostgreSQL)."""
    sql = _sql()
    _sort_memory(sql)
    summary = AdoptionSummary(now=now)
    recs = recommendations_cte(filters, sql)
    pairs = pairs_cte(recs, sql, now)
    _adoption_counts(summary, actor, recs, pairs, sql)
    _adoption_distributions(summary, pairs, method)
    _adoption_curve(summary, pairs, sql)
    _adoption_quarters(summary, pairs)
    return summary


def _adoption_counts(summary, actor, recs, pairs, sql) -> None:
    """Recommendations, records by state and region, and spend against visible budgets."""
    budget = _visible_figure(actor, recs, "budget_impact_3y")
    usage = latest_usage_subquery()
    spend = (
        select(func.coalesce(func.sum(usage.c.spend), 0))
        .select_from(usage)
        .join(Adoption, Adoption.id == usage.c.adoption_id)
        .join(recs, recs.c.request_id == Adoption.request_id)
        .where(budget.is_not(None), _within_three_years(sql, usage, recs.c.published_at))
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(budget), 0),
            func.count(budget),
            spend,
        ).select_from(recs)
    ).one()
    summary.recommendations = int(row[0])
    summary.budget_3y = float(row[1] or 0)
    summary.recommendations_with_budget = int(row[2] or 0)
    summary.spend_3y_with_budget = float(row[3] or 0)
    by_region: dict = {}
    query = select(
        pairs.c.region,
        pairs.c.state,
        func.count(),
        func.count(pairs.c.decided_days),
        func.count(pairs.c.use_days),
    ).group_by(pairs.c.region, pairs.c.state)
    for region, state, records, decided, adopting in db.session.execute(query):
        summary.by_state[state] = summary.by_state.get(state, 0) + records
        totals = by_region.setdefault(region, [0, 0, 0])
        totals[0] += records
        totals[1] += decided
        totals[2] += adopting
    summary.records = sum(summary.by_state.values())
    summary.regions = [
        RegionFigures(region, *totals, Distribution())
        for region, totals in sorted(by_region.items(), key=lambda kv: kv[0] or "")
    ]


def _adoption_distributions(summary, pairs, method) -> None:
    branches = [
        Branch("decided_days"),
        Branch("use_days"),
        Branch("use_days", ("region",)),
    ]
    results = grouped_distributions(pairs, branches, method)
    empty = GroupFigures(Distribution(), ())
    summary.decision_days = results.get((0, ()), empty).distribution
    summary.first_use_days = results.get((1, ()), empty).distribution
    summary.regions = [
        RegionFigures(
            r.region,
            r.records,
            r.decided,
            r.adopting,
            results.get((2, (r.region,)), empty).distribution,
        )
        for r in summary.regions
    ]


def _adoption_curve(summary, pairs, sql) -> None:
    """Cumulative share of IRCCS records in use m months after publication, counting at month
    m only the recommendations published at least m months ago."""
    avail = func.min if not sql.postgres else func.least
    avail_month = avail(sql.floor(pairs.c.avail_days / MONTH_DAYS), CURVE_MONTHS)
    use_month = case(
        (pairs.c.use_days.is_not(None), sql.floor(pairs.c.use_days / MONTH_DAYS)), else_=None
    )
    query = select(avail_month.label("avail"), use_month.label("used"), func.count()).group_by(
        avail_month, use_month
    )
    cells = [
        (int(a), None if u is None else int(u), int(n)) for a, u, n in db.session.execute(query)
    ]
    horizon = max((a for a, _, _ in cells), default=-1)
    curve = []
    for month in range(horizon + 1):
        at_risk = sum(n for a, _, n in cells if a >= month)
        adopted = sum(n for a, u, n in cells if a >= month and u is not None and u < month)
        curve.append((month, adopted / at_risk if at_risk else None, at_risk))
    summary.curve = curve
    summary.milestones = {m: (curve[m][1] if m < len(curve) else None) for m in MILESTONE_MONTHS}


def _adoption_quarters(summary, pairs) -> None:
    usage = latest_usage_subquery()
    query = (
        select(
            usage.c.year,
            usage.c.quarter,
            func.sum(usage.c.units),
            func.sum(usage.c.procedures),
            func.sum(usage.c.spend),
            func.sum(usage.c.adverse_events),
            func.count(func.distinct(usage.c.adoption_id)),
        )
        .join(pairs, pairs.c.adoption_id == usage.c.adoption_id)
        .group_by(usage.c.year, usage.c.quarter)
        .order_by(usage.c.year, usage.c.quarter)
    )
    summary.quarters = [
        QuarterFigures(int(y), int(q), int(u or 0), int(p or 0), float(s or 0), int(a or 0), int(n))
        for y, q, u, p, s, a, n in db.session.execute(query)
    ]


def median_subquery(source, key: str, measure: str, name: str, method: str | None = None):
    """(key, median) per group, by percentile_cont or by the middle ranks (same definition)."""
    value = source.c[measure]
    if method is None:
        method = "percentile_cont" if _sql().postgres else "window"
    if method == "percentile_cont":
        return (
            select(
                source.c[key].label("key"),
                func.percentile_cont(0.5).within_group(cast(value, Float)).label("median"),
            )
            .where(value.is_not(None))
            .group_by(source.c[key])
            .subquery(name)
        )
    ranked = {"partition_by": source.c[key], "order_by": value}
    inner = (
        select(
            source.c[key].label("key"),
            cast(value, Float).label("v"),
            func.row_number().over(**ranked).label("rn"),
            func.count().over(partition_by=source.c[key]).label("n"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    # The one or two middle ranks; lower + 0.5 * (upper - lower) as percentile_cont does.
    middle = and_(inner.c.rn >= (inner.c.n + 1) // 2, inner.c.rn <= (inner.c.n + 2) // 2)
    low, high = func.min(inner.c.v), func.max(inner.c.v)
    return (
        select(inner.c.key, (low + 0.5 * (high - low)).label("median"))
        .where(middle)
        .group_by(inner.c.key)
        .subquery(name)
    )


def _limited(query, limit: int | None):
    query = query.limit(limit) if limit else query
    return db.session.execute(query.execution_options(yield_per=STREAM_BATCH))


def recommendation_rows(
    actor, filters, now: datetime, limit: int | None = None, method: str | None = None
) -> Iterator[RecommendationRow]:
    """One row per recommendation the actor may see, most recent first, streamed.

    The actor's scope and the limit are applied to the recommendations first, so a preview
    of the first rows only computes their figures."""
    sql = _sql()
    every = recommendations_cte(filters, sql)
    page = (
        select(every)
        .where(scope_condition(actor, every.c.request_id))
        .order_by(every.c.published_at.desc(), every.c.request_id.desc())
    )
    recs = (page.limit(limit) if limit else page).cte("recs_page")
    pairs = pairs_cte(recs, sql, now)
    counts = _per_recommendation_counts(pairs)
    usage_totals = _per_recommendation_usage(recs, sql)
    decision = median_subquery(pairs, "request_id", "decided_days", "decision", method)
    first_use = median_subquery(pairs, "request_id", "use_days", "first_use", method)
    expected = _visible_figure(actor, recs, "expected_volume_per_year")
    budget = _visible_figure(actor, recs, "budget_impact_3y")
    query = (
        select(
            recs.c.request_id,
            recs.c.receipt_number,
            recs.c.trade_name,
            recs.c.model,
            Organisation.name.label("manufacturer"),
            recs.c.outcome,
            recs.c.published_at,
            *[column for column in counts.c if column.name != "request_id"],
            decision.c.median.label("decision_median"),
            first_use.c.median.label("first_use_median"),
            expected.label("expected"),
            budget.label("budget"),
            *[column for column in usage_totals.c if column.name != "request_id"],
        )
        .select_from(recs)
        .join(Organisation, Organisation.id == recs.c.manufacturer_id)
        .outerjoin(counts, counts.c.request_id == recs.c.request_id)
        .outerjoin(usage_totals, usage_totals.c.request_id == recs.c.request_id)
        .outerjoin(decision, decision.c.key == recs.c.request_id)
        .outerjoin(first_use, first_use.c.key == recs.c.request_id)
        .order_by(recs.c.published_at.desc(), recs.c.request_id.desc())
    )
    for row in _limited(query, None):
        yield _recommendation_row(row, now)


def _per_recommendation_counts(pairs):
    columns = [func.count().label("records")]
    columns += [
        func.sum(case((pairs.c.state == state, 1), else_=0)).label(f"n_{state}")
        for state in ADOPTION_STATE_ORDER
    ]
    columns += [
        func.sum(case((pairs.c.use_days < months * MONTH_DAYS, 1), else_=0)).label(
            f"within_{months}"
        )
        for months in MILESTONE_MONTHS
    ]
    columns.append(func.max(pairs.c.avail_days).label("avail_days"))
    return select(pairs.c.request_id, *columns).group_by(pairs.c.request_id).subquery("counts")


def _per_recommendation_usage(recs, sql):
    usage = latest_usage_subquery()
    within = _within_three_years(sql, usage, recs.c.published_at)
    return (
        select(
            Adoption.request_id,
            func.count(func.distinct(usage.c.year * 4 + usage.c.quarter)).label("quarters"),
            func.sum(usage.c.units).label("units"),
            func.sum(usage.c.procedures).label("procedures"),
            func.sum(usage.c.adverse_events).label("adverse_events"),
            func.sum(case((within, usage.c.spend), else_=0)).label("spend_3y"),
        )
        .select_from(usage)
        .join(Adoption, Adoption.id == usage.c.adoption_id)
        .join(recs, recs.c.request_id == Adoption.request_id)
        .group_by(Adoption.request_id)
        .subquery("usage_totals")
    )


def _recommendation_row(row, now: datetime) -> RecommendationRow:
    records = int(row.records or 0)
    avail = float(row.avail_days or 0)
    milestones = {}
    for months in MILESTONE_MONTHS:
        reached = records and avail >= months * MONTH_DAYS
        milestones[months] = (
            (int(getattr(row, f"within_{months}") or 0) / records) if reached else None
        )
    expected = row.expected
    return RecommendationRow(
        request_id=row.request_id,
        receipt_number=row.receipt_number,
        device=" ".join(p for p in (row.trade_name, row.model) if p),
        manufacturer=row.manufacturer,
        outcome=row.outcome,
        published_at=_aware(row.published_at),
        records=records,
        by_state={s: int(getattr(row, f"n_{s}") or 0) for s in ADOPTION_STATE_ORDER},
        decision_median=_float(row.decision_median),
        first_use_median=_float(row.first_use_median),
        milestones=milestones,
        expected_per_quarter=None if expected is None else float(expected) / 4,
        quarters_reported=int(row.quarters or 0),
        units=int(row.units or 0),
        procedures=int(row.procedures or 0),
        adverse_events=int(row.adverse_events or 0),
        spend_3y=float(row.spend_3y or 0),
        budget_3y=_float(row.budget),
    )


QUARTER_ROW_COLUMNS = (
    "request_id",
    "device",
    "year",
    "quarter",
    "reporting",
    "units",
    "procedures",
    "expected_units",
    "share_of_expected",
    "spend",
    "adverse_events",
)


def quarter_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """Units, procedures and spend per recommendation and quarter, against the expected."""
    sql = _sql()
    recs = recommendations_cte(filters, sql)
    usage = latest_usage_subquery()
    expected = _visible_figure(actor, recs, "expected_volume_per_year")
    query = (
        select(
            recs.c.request_id,
            recs.c.trade_name,
            recs.c.model,
            usage.c.year,
            usage.c.quarter,
            func.count(func.distinct(usage.c.adoption_id)),
            func.sum(usage.c.units),
            func.sum(usage.c.procedures),
            func.max(expected),
            func.sum(usage.c.spend),
            func.sum(usage.c.adverse_events),
        )
        .select_from(usage)
        .join(Adoption, Adoption.id == usage.c.adoption_id)
        .join(recs, recs.c.request_id == Adoption.request_id)
        .where(scope_condition(actor, recs.c.request_id))
        .group_by(recs.c.request_id, recs.c.trade_name, recs.c.model, usage.c.year, usage.c.quarter)
        .order_by(recs.c.request_id.desc(), usage.c.year, usage.c.quarter)
    )
    for rid, name, model, year, quarter, n, units, procedures, yearly, spend, adverse in _limited(
        query, limit
    ):
        per_quarter = None if yearly is None else float(yearly) / 4
        units = int(units or 0)
        yield (
            rid,
            " ".join(p for p in (name, model) if p),
            int(year),
            int(quarter),
            int(n),
            units,
            int(procedures or 0),
            per_quarter,
            units / per_quarter if per_quarter else None,
            float(spend or 0),
            int(adverse or 0),
        )


REGION_ROW_COLUMNS = (
    "request_id",
    "device",
    "region",
    "records",
    "adopting",
    "share",
    "not_started",
)


def region_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """Per recommendation and IRCCS region: records, adopting, share adopting, not started."""
    sql = _sql()
    recs = recommendations_cte(filters, sql)
    pairs = pairs_cte(recs, sql, now)
    query = (
        select(
            recs.c.request_id,
            recs.c.trade_name,
            recs.c.model,
            pairs.c.region,
            func.count(),
            func.count(pairs.c.use_days),
            func.sum(case((pairs.c.state == "not_started", 1), else_=0)),
        )
        .select_from(pairs)
        .join(recs, recs.c.request_id == pairs.c.request_id)
        .where(scope_condition(actor, recs.c.request_id))
        .group_by(recs.c.request_id, recs.c.trade_name, recs.c.model, pairs.c.region)
        .order_by(recs.c.request_id.desc(), pairs.c.region)
    )
    for rid, name, model, region, records, adopting, not_started in _limited(query, limit):
        yield (
            rid,
            " ".join(p for p in (name, model) if p),
            region,
            int(records),
            int(adopting),
            adopting / records if records else None,
            int(not_started or 0),
        )


NOT_STARTED_COLUMNS = ("request_id", "device", "irccs", "region", "published_at", "days_waiting")


def not_started_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """IRCCS that have not started, longest waiting first (an IRCCS sees only itself)."""
    sql = _sql()
    recs = recommendations_cte(filters, sql)
    pairs = pairs_cte(recs, sql, now)
    query = (
        select(
            recs.c.request_id,
            recs.c.trade_name,
            recs.c.model,
            pairs.c.irccs,
            pairs.c.region,
            recs.c.published_at,
            pairs.c.avail_days,
        )
        .select_from(pairs)
        .join(recs, recs.c.request_id == pairs.c.request_id)
        .where(pairs.c.state == "not_started", scope_condition(actor, recs.c.request_id))
        .order_by(pairs.c.avail_days.desc(), recs.c.request_id, pairs.c.irccs)
    )
    if actor is not None and actor.role == "irccs":
        query = query.where(pairs.c.irccs_id == actor.organisation_id)
    for rid, name, model, irccs, region, published, days in _limited(query, limit):
        yield (
            rid,
            " ".join(p for p in (name, model) if p),
            irccs,
            region,
            _aware(published),
            float(days),
        )


OWN_ROW_COLUMNS = (
    "request_id",
    "device",
    "state",
    "published_at",
    "decided_at",
    "first_use_at",
    "decision_days",
    "first_use_days",
    "units",
    "procedures",
    "spend",
    "adverse_events",
)


def own_adoption_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """An IRCCS's own adoption records with its reported totals (latest versions)."""
    sql = _sql()
    recs = recommendations_cte(filters, sql)
    usage = latest_usage_subquery()
    totals = (
        select(
            usage.c.adoption_id,
            func.sum(usage.c.units).label("units"),
            func.sum(usage.c.procedures).label("procedures"),
            func.sum(usage.c.spend).label("spend"),
            func.sum(usage.c.adverse_events).label("adverse"),
        )
        .group_by(usage.c.adoption_id)
        .subquery("own_totals")
    )
    query = (
        select(
            recs.c.request_id,
            recs.c.trade_name,
            recs.c.model,
            Adoption.state,
            recs.c.published_at,
            Adoption.decided_at,
            Adoption.first_use_at,
            sql.days(recs.c.published_at, Adoption.decided_at),
            sql.days(recs.c.published_at, Adoption.first_use_at),
            totals.c.units,
            totals.c.procedures,
            totals.c.spend,
            totals.c.adverse,
        )
        .select_from(recs)
        .join(Adoption, Adoption.request_id == recs.c.request_id)
        .outerjoin(totals, totals.c.adoption_id == Adoption.id)
        .where(Adoption.irccs_id == actor.organisation_id)
        .order_by(recs.c.published_at.desc(), recs.c.request_id.desc())
    )
    for row in _limited(query, limit):
        yield (
            row[0],
            " ".join(p for p in (row[1], row[2]) if p),
            row[3],
            _aware(row[4]),
            _aware(row[5]),
            _aware(row[6]),
            _float(row[7]),
            _float(row[8]),
            int(row[9] or 0),
            int(row[10] or 0),
            float(row[11] or 0),
            int(row[12] or 0),
        )


# --- The per-request record ---------------------------------------------------------------


@dataclass
class RequestRecordData:
    """Everything the filed record of one request shows (a handful of rows: ORM is fine)."""

    request: DeviceRequest
    show_confidential: bool
    stages: list
    recommendation: Recommendation | None
    entries: list
    entry_checks: dict[int, bool]
    chain: object  # app.domain.audit_chain.ChainReport


def request_record(actor, request_id: int, now: datetime) -> RequestRecordData:
    """The request (NotFound unless the actor may see it), its timeline, recommendation, audit
    trail with each entry's own check, and the verification of the whole chain."""
    from app.domain.errors import NotFound
    from app.domain.permissions import can_see_confidential
    from app.services.audit import entries_for_request, verify_chain
    from app.services.requests import get_request_for
    from app.services.workflow import stage_timeline

    if actor is None:
        request = db.session.get(DeviceRequest, request_id)
        if request is None:
            raise NotFound("request not found")
    else:
        request = get_request_for(actor, request_id)
    entries = entries_for_request(request.id)
    return RequestRecordData(
        request=request,
        show_confidential=actor is None or can_see_confidential(actor, request),
        stages=stage_timeline(request, now),
        recommendation=db.session.scalars(
            select(Recommendation).where(Recommendation.request_id == request.id)
        ).one_or_none(),
        entries=entries,
        entry_checks=_entry_checks(entries),
        chain=verify_chain(),
    )


def _entry_checks(entries) -> dict[int, bool]:
    """Each entry's hash recomputed from its content, and its link to the entry before it."""
    from app.domain.audit_chain import GENESIS_HASH, HASHED_FIELDS, entry_hash
    from app.models import AuditEntry

    previous_seqs = [e.seq - 1 for e in entries if e.seq > 1]
    previous = (
        dict(
            db.session.execute(
                select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(previous_seqs))
            ).all()
        )
        if previous_seqs
        else {}
    )
    checks = {}
    for entry in entries:
        fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
        expected_prev = GENESIS_HASH if entry.seq == 1 else previous.get(entry.seq - 1)
        checks[entry.seq] = entry_hash(fields) == entry.hash and entry.prev_hash == expected_prev
    return checks
