"""Per-request spans against the published anchors: submission to recommendation (gross and
net), to the prioritisation decision (gross, as Lombardy measures it) and in assessment (net
by nature), with how many requests go over each anchor.

Every span comes from the request's `RequestTiming` row (a read model the workflow rewrites
after every stage change, see `app.core.request_timings`), not from its visits. Without
filters (the report page as it opens) the figures come in two statements from the indexes on
those rows: the count, sum and number over the anchor of each span, then the values at the
ranks the percentiles need, each one step of an index walk (ORDER BY ... LIMIT 2 OFFSET k),
exact as if every value had been sorted. With filters every filtered request is ranked by a
window (percentile_cont on PostgreSQL): one statement. By breakdown, on SQLite, the
end-to-end spans come from a histogram per group and whole day, then only the buckets holding
the ranks (`breakdown_span_figures`): one statement per breakdown; on PostgreSQL they are
ranked with the overall ones (see `timing.BUCKETS`).

The assessment of a request being reassessed grows with the clock: its row only says so, and
its days are added up from its visits when the report reads (a handful of requests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, case, cast, func, literal, literal_column, select, union_all

from app.extensions import db
from app.models import RequestTiming, StageRecord
from app.reports.filters import ReportFilters
from app.reports.stats import (
    PERCENTILES,
    Distribution,
    percentile_from_ranks,
    rank_position,
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

# span: (gross measure, net measure or None). A measure names a column of `per_request_cte`;
# "<measure>_over" is its flag of going over the span's anchor. The days to the
# prioritisation decision are gross only (as Lombardy reports them); assessment is never a
# clock stop, so its net days are its gross days (NET_IS_GROSS).
SPANS = {
    "e2e": ("e2e_gross", "e2e_net"),
    "prioritisation": ("prio_gross", None),
    "assessment": ("assessment", None),
}
NET_IS_GROSS = frozenset({"assessment"})
MEASURE_ANCHORS = {
    "e2e_gross": ANCHOR_DAYS["e2e"],
    "e2e_net": ANCHOR_DAYS["e2e"],
    "prio_gross": ANCHOR_DAYS["prioritisation"],
    "assessment": ANCHOR_DAYS["assessment"],
}


@dataclass(frozen=True)
class SpanFigures:
    """A per-request measure (e.g. submission to recommendation), gross and net."""

    gross: Distribution
    net: Distribution
    gross_over_anchor: int = 0
    net_over_anchor: int = 0


def _reassessment_days(request_id_column, sql: Sql, now: datetime):
    """Days of every assessment visit of the request, the open one counted to `now`."""
    stage = StageRecord.__table__
    days = func.coalesce(stage.c.gross_days, sql.days(stage.c.entered_at, moment_literal(now)))
    return (
        select(func.coalesce(func.sum(days), 0))
        .where(stage.c.request_id == request_id_column, stage.c.state == "assessment")
        .scalar_subquery()
    )


def _measures(timing, sql: Sql, now: datetime) -> dict:
    """The four measures of a `request_timings` row, as the report reads them."""
    assessment = case(
        (timing.c.assessment_open, _reassessment_days(timing.c.request_id, sql, now)),
        else_=timing.c.assessment_days,
    )
    return {
        "e2e_gross": timing.c.e2e_gross_days,
        "e2e_net": timing.c.e2e_net_days,
        "prio_gross": timing.c.prioritisation_days,
        "assessment": assessment,
    }


def _over(expression, days: int):
    return case((expression > days, 1), else_=0)


def per_request_cte(req, sql: Sql, now: datetime):
    """One row per filtered request: its columns and the four measures with their flags."""
    timing = RequestTiming.__table__
    measures = _measures(timing, sql, now)
    return (
        select(
            req,
            *[value.label(name) for name, value in measures.items()],
            *[
                _over(value, MEASURE_ANCHORS[name]).label(f"{name}_over")
                for name, value in measures.items()
            ],
        )
        .select_from(req.outerjoin(timing, timing.c.request_id == req.c.request_id))
        .cte("per_request")
    )


def span_figures(
    req,
    sql: Sql,
    now: datetime,
    dimensions: Sequence[str],
    method: str | None,
    by_index: bool,
    filters: ReportFilters | None = None,
) -> tuple[dict[str, SpanFigures], dict[str, list[tuple[str | None, SpanFigures]]]]:
    """({span: figures} overall, {breakdown: [(value, end-to-end figures)]}).

    `by_index`: the overall figures from the indexes (every submitted request, no filter);
    otherwise ranked by `method`, in one statement. Breakdowns: with `filters`, from
    histograms of the stored spans per group (`breakdown_span_figures`, one statement
    each); without, ranked by `method` in that statement."""
    bucketed = filters is not None
    groupings = {name: [] if by_index else [()] for name in SPANS}
    if not bucketed:
        groupings["e2e"] += [(d,) for d in dimensions]
    branches, index = [], {}
    for name, measures in SPANS.items():
        for keys in groupings[name]:
            for kind, measure in zip(("gross", "net"), measures, strict=True):
                if measure is not None:
                    index[(name, keys, kind)] = len(branches)
                    branches.append(Branch(measure, keys, (f"{measure}_over",)))
    results = (
        grouped_distributions(per_request_cte(req, sql, now), branches, method) if branches else {}
    )
    by_branch: dict[int, dict] = {}
    for (branch, keys), group in results.items():
        by_branch.setdefault(branch, {})[keys] = group

    def grouped(name: str, keys: tuple, values: tuple, kind: str) -> GroupFigures | None:
        position = index.get((name, keys, kind))
        return None if position is None else by_branch.get(position, {}).get(values)

    if by_index:
        overall = indexed_span_figures(sql, now)
    else:
        overall = {
            name: _span(name, grouped(name, (), (), "gross"), grouped(name, (), (), "net"))
            for name in SPANS
        }
    if bucketed:
        return overall, breakdown_span_figures(filters, sql, dimensions)
    by: dict[str, list[tuple[str | None, SpanFigures]]] = {}
    for dimension in dimensions:
        keys = (dimension,)
        values = set(by_branch.get(index[("e2e", keys, "gross")], {}))
        values |= set(by_branch.get(index[("e2e", keys, "net")], {}))
        by[dimension] = [
            (
                value[0],
                _span(
                    "e2e",
                    grouped("e2e", keys, value, "gross"),
                    grouped("e2e", keys, value, "net"),
                ),
            )
            for value in sorted(values, key=none_last)
        ]
    return overall, by


def breakdown_span_figures(
    filters: ReportFilters, sql: Sql, dimensions: Sequence[str]
) -> dict[str, list[tuple[str | None, SpanFigures]]]:
    """{breakdown: [(value, end-to-end figures)]}, values in order (one statement each): the
    stored spans by group and whole day, then only the buckets holding the ranks."""
    if not dimensions:
        return {}
    keys = request_keys(filters, sql, dimensions, "span_request_keys")
    sets = [
        Bucketed(
            counted=_span_parts(keys, sql, d),
            read=_span_parts(filtered_requests(filters, sql).subquery(f"spans_{d}"), sql, d),
            width=1,
        )
        for d in dimensions
    ]
    groups: dict[tuple[int, str | None], dict[str, GroupFigures]] = {}
    for (index, value, kind), group in bucketed_distributions(sets).items():
        groups.setdefault((index, value), {})[kind] = group
    by: dict[str, list[tuple[str | None, SpanFigures]]] = {d: [] for d in dimensions}
    for (index, value), kinds in sorted(
        groups.items(), key=lambda kv: (kv[0][0], none_last(kv[0][1:]))
    ):
        by[dimensions[index]].append((value, _span("e2e", kinds.get("gross"), kinds.get("net"))))
    return by


def _span_parts(chosen, sql: Sql, dimension: str) -> tuple:
    """SELECTs of the end-to-end days (gross, then net) of the `chosen` requests that have
    them, as `Bucketed` reads them, with the flag of going over the anchor."""
    timing = RequestTiming.__table__
    joined = timing.join(chosen, chosen.c.request_id == timing.c.request_id)
    key = cast(chosen.c[dimension], String).label("k")
    parts = []
    for kind, column in (("gross", timing.c.e2e_gross_days), ("net", timing.c.e2e_net_days)):
        parts.append(
            select(
                key,
                cast(literal_column(f"'{kind}'"), String).label("g"),
                sql.whole(column).label("b"),
                column.label("v"),
                _over(column, ANCHOR_DAYS["e2e"]).label("s0"),
            )
            .select_from(joined)
            .where(column.is_not(None))
        )
    return tuple(parts)


def _span(name: str, gross: GroupFigures | None, net: GroupFigures | None) -> SpanFigures:
    if name in NET_IS_GROSS:
        net = gross
    return SpanFigures(
        gross.distribution if gross else Distribution(),
        net.distribution if net else Distribution(),
        gross.sums[0] if gross else 0,
        net.sums[0] if net else 0,
    )


# --- Overall, from the indexes -------------------------------------------------------------


def _measure_values(sql: Sql, now: datetime) -> dict:
    """{measure: SELECT of its values (column v)} over every row: the stored value, plus for
    the assessment the days of the requests being reassessed, worked out now."""
    timing = RequestTiming.__table__
    stored = {
        "e2e_gross": timing.c.e2e_gross_days,
        "e2e_net": timing.c.e2e_net_days,
        "prio_gross": timing.c.prioritisation_days,
        "assessment": timing.c.assessment_days,
    }
    values = {
        name: select(column.label("v")).where(column.is_not(None))
        for name, column in stored.items()
    }
    reassessed = select(_reassessment_days(timing.c.request_id, sql, now).label("v")).where(
        timing.c.assessment_open
    )
    values["assessment"] = union_all(values["assessment"], reassessed)
    return values


def indexed_span_figures(sql: Sql, now: datetime) -> dict[str, SpanFigures]:
    """Every span over every submitted request (two statements)."""
    values = _measure_values(sql, now)
    totals = _totals(values)
    ranked = _values_at_ranks(values, {name: total[0] for name, total in totals.items()})
    figures = {}
    for measure, (count, total, over) in totals.items():
        by_rank = ranked.get(measure, {})
        percentiles = [percentile_from_ranks(by_rank, count, p) for p in PERCENTILES]
        distribution = Distribution.from_percentiles(
            count, total / count if count else None, percentiles
        )
        figures[measure] = GroupFigures(distribution, (over,))
    return {
        name: _span(name, figures[gross], figures[net] if net else None)
        for name, (gross, net) in SPANS.items()
    }


def _totals(values: dict) -> dict[str, tuple[int, float, int]]:
    """{measure: (count, sum, over the anchor)}: one statement."""
    parts = []
    for name, query in values.items():
        source = query.subquery(f"{name}_values")
        parts.append(
            select(
                literal(name).label("measure"),
                func.count(source.c.v),
                func.sum(source.c.v),
                func.sum(_over(source.c.v, MEASURE_ANCHORS[name])),
            )
        )
    return {
        name: (int(count or 0), float(total or 0), int(over or 0))
        for name, count, total, over in db.session.execute(union_all(*parts))
    }


def _values_at_ranks(values: dict, counts: dict[str, int]) -> dict[str, dict[int, float]]:
    """{measure: {rank: value}} for the ranks its percentiles need: for each percentile, the
    two values from its lower rank on, in index order (one statement, nothing when empty)."""
    parts = []
    for name, query in values.items():
        count = counts.get(name, 0)
        for low in sorted({rank_position(count, p)[0] for p in PERCENTILES} if count else ()):
            pair = query.order_by("v").limit(2).offset(low).subquery(f"{name}_{low}")
            parts.append(
                select(literal(name).label("measure"), literal(low).label("low"), pair.c.v)
            )
    pairs: dict[tuple[str, int], list[float]] = {}
    for name, low, value in run_union(parts, ("", 0, 0.0)):
        pairs.setdefault((name, int(low)), []).append(float(value))
    found: dict[str, dict[int, float]] = {}
    for (name, low), pair in pairs.items():
        for offset, value in enumerate(sorted(pair)):
            found.setdefault(name, {})[low + offset] = value
    return found
