"""Days per stage: for each stage, the distribution of its visits' gross days (net days are
the same, or zero for a clock stop, except the part of one the manufacturer handed back: see
`with_handed_back_days`), and how many visits had a due date and were late.

Overall (the report page's table) the figures come in two statements whatever the volume,
from what every visit keeps once left (`StageRecord.gross_days`, `gross_whole_days`,
`left_late`, see `app.domain.deadlines.left_stage`):

1. a histogram: per stage and whole number of days, the count, sum, due and late counts of
   the left visits, read from the index `ix_stage_records_state_duration` alone; and the
   same for the open visits, whose days run to `now` (from the partial index on open
   visits, a small share of them all);
2. the values at the ranks the percentiles need: the histogram says which buckets hold them
   (`app.reports.stats.locate_ranks`), and only those buckets are read and sorted.

The percentiles are exact (the one definition of `app.reports.stats`), as if every visit had
been sorted. By breakdown (the exports, or a page that asks for one) on SQLite the same, per
group: one statement per breakdown reads a histogram per group, stage and whole day of the
stored durations, then only the visits of the buckets holding the ranks, numbered within
their bucket (`breakdown_stage_figures`). On PostgreSQL percentile_cont ranks every visit
in one statement (`grouped_stage_figures`): as fast there; see `timing.BUCKETS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import String, and_, case, cast, false, func, literal, or_, select, union_all

from app.extensions import db
from app.models import DeviceRequest, StageRecord
from app.reports.filters import DIMENSIONS, ReportFilters
from app.reports.stats import (
    PERCENTILES,
    Distribution,
    distribution,
    locate_ranks,
    percentile_from_ranks,
    ranks_needed,
)
from app.reports_pages.queries.common import (
    Sql,
    filtered_requests,
    moment_literal,
    none_last,
    request_keys,
    run_union,
)
from app.reports_pages.queries.distributions import (
    Branch,
    Bucketed,
    GroupFigures,
    bucketed_distributions,
    grouped_distributions,
)
from app.workflow.facts import REQUEST, states_where
from app.workflow.states import CLOCK_STOP_STATES

# Stages the timing report measures: every state a request waits in, except the draft.
TIMED_STATES = states_where(workflow=REQUEST, timed=True)
# Open visits are looked up by when they were entered, this much either side of a bucket's
# edges (SQLite's day arithmetic is exact to the millisecond); each value's own bucket decides.
EDGE_MARGIN = timedelta(seconds=1)


@dataclass(frozen=True)
class StageFigures:
    state: str
    gross: Distribution
    net: Distribution
    with_deadline: int
    late: int


def stage_figures_from(state: str, gross: Distribution, with_deadline: int, late: int):
    """Net days are gross days, except in a clock stop (the manufacturer's time): zero (the
    handed-back parts are added by `with_handed_back_days`)."""
    net = gross.scaled(0.0 if state in CLOCK_STOP_STATES else 1.0)
    return StageFigures(state, gross, net, with_deadline, late)


# --- Clock stops handed back ---------------------------------------------------------------


def handed_back_rows(req, sql: Sql, now: datetime) -> list[tuple]:
    """(breakdown values..., state, days) of the visits of a clock-stop stage that run on the
    agency side's clock: after the manufacturer handed it back (its factual-accuracy comments
    returned, `hands_back_clock`), the assessor's days to finalise are net days. One
    statement; such visits are few (at most one per factual-accuracy check)."""
    stage = StageRecord.__table__
    days = func.coalesce(stage.c.gross_days, sql.days(stage.c.entered_at, moment_literal(now)))
    query = (
        select(*[req.c[d] for d in DIMENSIONS], stage.c.state, days)
        .select_from(stage.join(req, req.c.request_id == stage.c.request_id))
        .where(stage.c.state.in_(CLOCK_STOP_STATES), stage.c.clock_stopped == false())
    )
    return [tuple(row) for row in db.session.execute(query)]


def with_handed_back_days(figures: StageFigures, handed_back: Sequence[float]) -> StageFigures:
    """A clock-stop stage's figures whose net days count the handed-back parts' days (the
    agency side's) and zero for the manufacturer's parts: exact, as if every visit's net days
    had been sorted (the zeros come first)."""
    if figures.state not in CLOCK_STOP_STATES or not handed_back:
        return figures
    zeros = max(figures.gross.count - len(handed_back), 0)
    net = distribution([0.0] * zeros + [float(v) for v in handed_back])
    return StageFigures(figures.state, figures.gross, net, figures.with_deadline, figures.late)


def stage_order(state: str) -> int:
    return TIMED_STATES.index(state)


# --- Overall: histogram, then the ranks ----------------------------------------------------


@dataclass
class _Histogram:
    """One stage's visits: totals, and counts per whole number of days."""

    count: int = 0
    total: float = 0.0
    with_due: int = 0
    late: int = 0
    buckets: dict[int, int] = field(default_factory=dict)

    def add(self, bucket: int, count: int, total: float, with_due: int, late: int) -> None:
        self.count += count
        self.total += total
        self.with_due += with_due
        self.late += late
        self.buckets[bucket] = self.buckets.get(bucket, 0) + count

    def located_ranks(self) -> dict[int, dict[int, int]]:
        return locate_ranks(sorted(self.buckets.items()), ranks_needed(self.count))


# Filters keeping less than this share of the requests: their visits are looked up by request.
FEW_REQUESTS = 0.1


def visit_scope(filters: ReportFilters, sql: Sql, stage, kept: float = 1.0):
    """The visits of the requests the figures cover, `kept` being their share of them all.

    Without filters that is every submitted request, so the few never submitted are left
    out rather than the many submitted looked up (the same set: every request has a
    submission time or not). Filters keeping few requests: their visits are looked up by
    request. Keeping many: the visits' indexes are read whole and the others skipped (the
    `+ 0` keeps the planner from looking every visit up by request instead). The filtered
    requests are a subquery, not the CTE: PostgreSQL may then look a visit's request up by
    id rather than scan the whole filtered set for each visit."""
    if filters.is_empty:
        never_submitted = select(DeviceRequest.id).where(DeviceRequest.submitted_at.is_(None))
        return stage.c.request_id.not_in(never_submitted)
    request_id = stage.c.request_id if kept < FEW_REQUESTS else stage.c.request_id + 0
    chosen = filtered_requests(filters, sql).subquery("chosen")
    return request_id.in_(select(chosen.c.request_id))


def overall_stage_figures(
    filters: ReportFilters, req, sql: Sql, now: datetime, kept: float = 1.0
) -> list[StageFigures]:
    """Every timed stage with visits, in workflow order (two statements); `kept`: the share
    of the submitted requests the filters keep."""
    stage = StageRecord.__table__
    scope = visit_scope(filters, sql, stage, kept)
    histograms: dict[str, _Histogram] = {}
    for state, bucket, count, total, with_due, late in _histogram_rows(stage, scope, sql, now):
        histograms.setdefault(state, _Histogram()).add(
            int(bucket), int(count), float(total or 0), int(with_due or 0), int(late or 0)
        )
    located = {state: h.located_ranks() for state, h in histograms.items()}
    values = _values_at_ranks(stage, scope, sql, now, located, each=filters.is_empty)
    figures = []
    for state in sorted(histograms, key=stage_order):
        h = histograms[state]
        ranked = values.get(state, {})
        percentiles = [percentile_from_ranks(ranked, h.count, p) for p in PERCENTILES]
        gross = Distribution.from_percentiles(h.count, h.total / h.count, percentiles)
        figures.append(stage_figures_from(state, gross, h.with_due, h.late))
    return figures


def _open_days(stage, sql: Sql, now: datetime):
    return sql.days(stage.c.entered_at, moment_literal(now))


def _histogram_rows(stage, scope, sql: Sql, now: datetime):
    """(state, whole days, count, sum of days, with a due date, late): left visits, then open."""
    timed = stage.c.state.in_(TIMED_STATES)
    left = (
        select(
            stage.c.state,
            stage.c.gross_whole_days,
            func.count(),
            func.sum(stage.c.gross_days),
            func.count(stage.c.left_late),
            func.sum(case((stage.c.left_late, 1), else_=0)),
        )
        .where(stage.c.gross_whole_days.is_not(None), timed, scope)
        .group_by(stage.c.state, stage.c.gross_whole_days)
    )
    days = _open_days(stage, sql, now)
    bucket = sql.whole(days)
    late = case((stage.c.due_at < moment_literal(now), 1), else_=0)
    still_open = (
        select(
            stage.c.state,
            bucket,
            func.count(),
            func.sum(days),
            func.count(stage.c.due_at),
            func.sum(late),
        )
        .where(sql.open_visit(stage.c.left_at), timed, scope)
        .group_by(stage.c.state, bucket)
    )
    return db.session.execute(union_all(left, still_open)).all()


def _values_at_ranks(
    stage, scope, sql: Sql, now: datetime, located: dict[str, dict[int, dict[int, int]]], each: bool
) -> dict[str, dict[int, float]]:
    """{state: {rank: value}} for the ranks located in the histogram (one statement).

    `each` (every submitted request: the scope is a short list to leave out): each rank is
    read on its own, its bucket's left visits (in index order) and open visits merged in
    order up to the rank's position (ORDER BY ... LIMIT 1 OFFSET p), so no bucket is sorted.
    Otherwise (filtered: the scope is a set to look up, once) the buckets' visits of the
    filtered requests are read in one pass and numbered within each bucket."""
    if each:
        rows = run_union(_rank_by_rank(stage, scope, sql, now, located), ("", 0, 0.0))
    else:
        rows = db.session.execute(_bucket_by_bucket(stage, scope, sql, now, located)).all()
    found: dict[str, dict[int, float]] = {}
    for state, rank, value in rows:
        found.setdefault(state, {})[int(rank)] = float(value)
    return found


def _open_in_bucket(stage, sql: Sql, now: datetime, state: str, bucket: int):
    days = _open_days(stage, sql, now)
    return and_(
        sql.open_visit(stage.c.left_at),
        _entered_for_bucket(stage, state, bucket, now),
        sql.whole(days) == bucket,
    )


def _rank_by_rank(stage, scope, sql: Sql, now: datetime, located) -> list:
    """SELECTs of (state, rank, value), one per rank."""
    days = _open_days(stage, sql, now)
    parts = []
    for state, buckets in located.items():
        for bucket, positions in buckets.items():
            left = select(stage.c.gross_days.label("v")).where(
                stage.c.state == state, stage.c.gross_whole_days == bucket, scope
            )
            still_open = select(days.label("v")).where(
                _open_in_bucket(stage, sql, now, state, bucket), scope
            )
            for position, rank in positions.items():
                value = union_all(left, still_open).order_by("v").limit(1).offset(position)
                value = value.subquery(f"at_{len(parts)}")
                parts.append(select(literal(state), literal(rank), value.c.v))
    return parts


def _bucket_by_bucket(stage, scope, sql: Sql, now: datetime, located):
    """SELECT of (state, rank, value): the located buckets' visits numbered in value order."""
    targets = [(state, bucket) for state, buckets in located.items() for bucket in buckets]
    if not targets:
        return select(literal(""), literal(0), literal(0.0)).where(false())
    days = _open_days(stage, sql, now)
    in_bucket = [and_(stage.c.state == s, stage.c.gross_whole_days == b) for s, b in targets]
    left = select(
        stage.c.state, stage.c.gross_whole_days.label("bucket"), stage.c.gross_days.label("v")
    ).where(or_(false(), *in_bucket), scope)
    open_in_bucket = [_open_in_bucket(stage, sql, now, s, b) for s, b in targets]
    still_open = select(stage.c.state, sql.whole(days).label("bucket"), days.label("v")).where(
        or_(false(), *open_in_bucket), scope
    )
    values = union_all(left, still_open).subquery("bucket_values")
    number = func.row_number().over(
        partition_by=(values.c.state, values.c.bucket), order_by=values.c.v
    )
    numbered = select(values, (number - 1).label("position")).subquery("numbered")
    rank = case(
        *[
            (
                and_(
                    numbered.c.state == state,
                    numbered.c.bucket == bucket,
                    numbered.c.position == position,
                ),
                rank,
            )
            for state, buckets in located.items()
            for bucket, positions in buckets.items()
            for position, rank in positions.items()
        ],
        else_=None,
    )
    ranked = select(numbered.c.state, rank.label("rank"), numbered.c.v).subquery("ranked")
    return select(ranked).where(ranked.c.rank.is_not(None))


def _entered_for_bucket(stage, state: str, bucket: int, now: datetime):
    """Open visits of `state` whose days to `now` may round down to `bucket`."""
    return and_(
        stage.c.state == state,
        stage.c.entered_at > now - timedelta(days=bucket + 1) - EDGE_MARGIN,
        stage.c.entered_at <= now - timedelta(days=bucket) + EDGE_MARGIN,
    )


# --- By breakdown: histograms per group, then the ranks -----------------------------------


def breakdown_stage_figures(
    filters: ReportFilters, sql: Sql, now: datetime, dimensions: Sequence[str]
) -> dict[str, list[tuple[str | None, StageFigures]]]:
    """{breakdown: [(value, figures)]} in stage order, then value order (one statement each):
    the visits' stored durations by group, stage and whole day, then only the buckets
    holding the ranks (`bucketed_distributions`), exact as if every visit had been sorted."""
    keys = request_keys(filters, sql, dimensions, "request_keys")
    sets = [
        Bucketed(
            counted=_visit_parts(keys, sql, now, d),
            read=_visit_parts(filtered_requests(filters, sql).subquery(f"chosen_{d}"), sql, now, d),
            width=2,
        )
        for d in dimensions
    ]
    results = bucketed_distributions(sets) if sets else {}
    by: dict[str, list[tuple[str | None, StageFigures]]] = {d: [] for d in dimensions}
    for (index, value, state), group in sorted(
        results.items(), key=lambda kv: (kv[0][0], stage_order(kv[0][2]), none_last((kv[0][1],)))
    ):
        late, with_due = group.sums
        by[dimensions[index]].append(
            (value, stage_figures_from(state, group.distribution, with_due, late))
        )
    return {d: figures for d, figures in by.items() if figures}


def _visit_parts(chosen, sql: Sql, now: datetime, dimension: str) -> tuple:
    """SELECTs of the visits of the `chosen` requests (their columns: the breakdowns') as
    `Bucketed` reads them: the left ones with their stored days and bucket, the open ones
    with their days to `now`. The histogram joins the filtered requests computed once (a
    materialised CTE: SQLite would otherwise work a request's year out for each of its
    visits); the second pass looks each visit's request up by id (a subquery)."""
    stage = StageRecord.__table__
    joined = stage.join(chosen, chosen.c.request_id == stage.c.request_id)
    key = cast(chosen.c[dimension], String).label("k")
    timed = stage.c.state.in_(TIMED_STATES)
    left = (
        select(
            key,
            stage.c.state.label("g"),
            stage.c.gross_whole_days.label("b"),
            stage.c.gross_days.label("v"),
            case((stage.c.left_late, 1), else_=0).label("s0"),
            case((stage.c.left_late.is_not(None), 1), else_=0).label("s1"),
        )
        .select_from(joined)
        .where(stage.c.gross_whole_days.is_not(None), timed)
    )
    days = _open_days(stage, sql, now)
    still_open = (
        select(
            key,
            stage.c.state.label("g"),
            sql.whole(days).label("b"),
            days.label("v"),
            case((stage.c.due_at < moment_literal(now), 1), else_=0).label("s0"),
            case((stage.c.due_at.is_not(None), 1), else_=0).label("s1"),
        )
        .select_from(joined)
        .where(sql.open_visit(stage.c.left_at), timed)
    )
    return (left, still_open)


# --- By window or percentile_cont (PostgreSQL's default, and for comparison) --------------


def stage_days_cte(req, sql: Sql, now: datetime):
    """One row per stage visit of the filtered requests: gross days, late and deadline flags
    (kept by the visit once left, worked out to `now` while open)."""
    stage = StageRecord.__table__
    now_value = moment_literal(now)
    open_days = sql.days(stage.c.entered_at, now_value)
    late = case(
        (stage.c.left_at.is_not(None), case((stage.c.left_late, 1), else_=0)),
        (stage.c.due_at < now_value, 1),
        else_=0,
    )
    has_due = case((stage.c.due_at.is_not(None), 1), else_=0)
    return (
        select(
            *[req.c[d] for d in DIMENSIONS],
            stage.c.state,
            func.coalesce(stage.c.gross_days, open_days).label("gross"),
            late.label("late"),
            has_due.label("has_due"),
        )
        .select_from(stage.join(req, req.c.request_id == stage.c.request_id))
        .where(stage.c.state.in_(TIMED_STATES))
        .cte("stage_days")
    )


def grouped_stage_figures(
    req,
    sql: Sql,
    now: datetime,
    dimensions: Sequence[str],
    method: str | None,
    overall: bool,
) -> tuple[list[StageFigures], dict[str, list[tuple[str | None, StageFigures]]]]:
    """(overall figures if asked, {breakdown: [(value, figures)]}) by window/percentile_cont,
    in one statement."""
    source = stage_days_cte(req, sql, now)
    sums = ("late", "has_due")
    branches = [Branch("gross", ("state",), sums)] if overall else []
    branches += [Branch("gross", (d, "state"), sums) for d in dimensions]
    results = grouped_distributions(source, branches, method) if branches else {}

    def figures(state: str, group: GroupFigures) -> StageFigures:
        late, with_due = group.sums
        return stage_figures_from(state, group.distribution, with_due, late)

    everything: list[StageFigures] = []
    by: dict[str, list[tuple[str | None, StageFigures]]] = {}
    first = 1 if overall else 0
    for (branch, keys), group in sorted(results.items(), key=lambda kv: stage_order(kv[0][1][-1])):
        if overall and branch == 0:
            everything.append(figures(keys[0], group))
        else:
            dimension = dimensions[branch - first]
            by.setdefault(dimension, []).append((keys[0], figures(keys[1], group)))
    return everything, by
