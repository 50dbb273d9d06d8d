"""Grouped distributions (count, mean, P50/P75/P90) in one statement for many groupings.

Three methods with the one definition of `app.reports.stats`: `percentile_cont` (PostgreSQL),
row_number/count windows that return only the ranks each percentile needs (any database),
and for values kept with a bucket (whole days) a histogram per group, then only the values
of the buckets holding the ranks (`bucketed_distributions`, any database).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ARRAY,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.sql.elements import Label

from app.extensions import db
from app.reports.stats import PERCENTILES, Distribution, percentile_from_ranks
from app.reports_pages.queries.common import STREAM_BATCH, current_sql

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
        method = "percentile_cont" if current_sql().postgres else "window"
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


def median_subquery(source, key: str, measure: str, name: str, method: str | None = None):
    """(key, median) per group, by percentile_cont or by the middle ranks (same definition)."""
    value = source.c[measure]
    if method is None:
        method = "percentile_cont" if current_sql().postgres else "window"
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


# --- Grouped distributions of bucketed values (histogram, then only the ranks' buckets) -----
#
# Values kept with a bucket (their floor: whole days) are ranked without sorting them all: a
# histogram per group and bucket says which buckets hold the ranks the percentiles need, and
# only the values of those buckets are read again and numbered. Everything happens in the
# one statement per set (no list of buckets goes back and forth), whatever the number of
# groups.


@dataclass(frozen=True)
class Bucketed:
    """One set of distributions over the union of some SELECTs with the columns k (the
    group's key as text, or NULL), g (a second key, text), b (the value's bucket, an integer:
    every value of a bucket is below every value of the next one), v (the value) and
    s0 .. s{width - 1} (summed per group). `counted`: the SELECTs the histogram groups (each
    grouped where it stands); `read`: the same rows, as the second pass reads them (by
    bucket: an index on g and b can serve them)."""

    counted: tuple
    read: tuple
    width: int = 0


def bucketed_distributions(
    sets: Sequence[Bucketed],
) -> dict[tuple[int, str | None, str], GroupFigures]:
    """{(set index, k, g): figures} for every non-empty group: ONE statement per set (in one
    statement for them all, SQLite kept every set's sorts in memory at once: +100 MB for the
    six breakdowns at 100k requests, against none one by one, for the same time)."""
    summaries: dict[tuple, tuple] = {}
    ranked: dict[tuple, dict[int, float]] = {}
    for index, bucketed in enumerate(sets):
        width = bucketed.width
        if not bucketed.counted:
            continue
        for row in db.session.execute(union_all(*_bucketed_selects(index, bucketed))):
            key = (index, None if row.kn else row.k, row.g)
            if row.rank is None:
                sums = tuple(int(getattr(row, f"s{i}") or 0) for i in range(width))
                summaries[key] = (int(row.n), float(row.v or 0), sums)
            else:
                ranked.setdefault(key, {})[int(row.rank)] = float(row.v)
    figures = {}
    for key, (count, total, sums) in summaries.items():
        values = [percentile_from_ranks(ranked.get(key, {}), count, p) for p in PERCENTILES]
        distribution = Distribution.from_percentiles(count, total / count, values)
        figures[key] = GroupFigures(distribution, sums)
    return figures


def _keyed(part, width: int):
    """`part` with k as text ('' for NULL, told apart by kn): what groups match on."""
    columns = part.selected_columns
    return part.with_only_columns(
        func.coalesce(columns.k, literal_column("''")).label("k"),
        case((columns.k.is_(None), 1), else_=0).label("kn"),
        columns.g.label("g"),
        columns.b.label("b"),
        columns.v.label("v"),
        *[columns[f"s{i}"].label(f"s{i}") for i in range(width)],
    )


def _histogram(bucketed: Bucketed, index: int):
    """CTE of (k, kn, g, b, c, t, s...): count, sum of values and sums per group and bucket.
    Each counted SELECT is grouped as it stands (a join and its grouping, nothing computed
    per row but what it selects), their groups then added up."""
    width = bucketed.width
    grouped = []
    for part in bucketed.counted:
        columns = part.selected_columns
        keys = [_bare(columns[name]) for name in ("k", "g", "b")]
        grouped.append(
            part.with_only_columns(
                *[key.label(name) for key, name in zip(keys, ("k", "g", "b"), strict=True)],
                func.count().label("c"),
                func.sum(columns.v).label("t"),
                *[func.sum(columns[f"s{i}"]).label(f"s{i}") for i in range(width)],
            ).group_by(*keys)
        )
    rows = (union_all(*grouped) if len(grouped) > 1 else grouped[0]).subquery(f"groups_{index}")
    return (
        select(
            func.coalesce(rows.c.k, literal_column("''")).label("k"),
            case((rows.c.k.is_(None), 1), else_=0).label("kn"),
            rows.c.g,
            rows.c.b,
            func.sum(rows.c.c).label("c"),
            func.sum(rows.c.t).label("t"),
            *[func.sum(rows.c[f"s{i}"]).label(f"s{i}") for i in range(width)],
        )
        .group_by(rows.c.k, rows.c.g, rows.c.b)
        .cte(f"histogram_{index}")
    )


def _bare(column):
    """A selected column without its label (to group by the expression itself)."""
    return column.element if isinstance(column, Label) else column


def _near_ranks(position, count) -> list:
    """Conditions that `position` (0-based) is within a rank or two of each percentile's
    p * (count - 1): a little wider than the two ranks it needs, so that the database's
    arithmetic can never leave one out."""
    return [
        and_(position >= p * (count - 1) - 1, position <= p * (count - 1) + 2) for p in PERCENTILES
    ]


def _bucketed_selects(index: int, bucketed: Bucketed) -> list:
    """Two SELECTs of (k, kn, g, rank, v, n, s...): per group its count, sum and sums (rank
    NULL), and the values at the ranks its percentiles need."""
    width = bucketed.width
    histogram = _histogram(bucketed, index)
    group = (histogram.c.k, histogram.c.kn, histogram.c.g)
    cumulative = select(
        histogram,
        (
            func.sum(histogram.c.c).over(partition_by=group, order_by=histogram.c.b, rows=(None, 0))
            - histogram.c.c
        ).label("before"),
        func.sum(histogram.c.c).over(partition_by=group).label("n"),
    ).cte(f"cumulative_{index}")
    c = cumulative.c
    # Buckets holding a rank near a percentile: [before, before + count) meets it.
    needed = (
        select(c.k, c.kn, c.g, c.b, c.before, c.n)
        .where(
            or_(
                *[
                    and_(c.before <= p * (c.n - 1) + 2, c.before + c.c > p * (c.n - 1) - 1)
                    for p in PERCENTILES
                ]
            )
        )
        .cte(f"needed_{index}")
    )
    keyed = [_keyed(part, width) for part in bucketed.read]
    numbered = _numbered_values(keyed, needed, index)
    at_rank = numbered.c.position + numbered.c.before
    values = select(
        numbered.c.k,
        numbered.c.kn,
        numbered.c.g,
        cast(at_rank, Integer).label("rank"),
        cast(numbered.c.v, Float).label("v"),
        cast(numbered.c.n, Integer).label("n"),
        *[cast(null(), Integer).label(f"s{i}") for i in range(width)],
    ).where(numbered.c.marker == 0, or_(*_near_ranks(at_rank, numbered.c.n)))
    summary = select(
        c.k,
        c.kn,
        c.g,
        cast(null(), Integer).label("rank"),
        cast(func.sum(c.t), Float).label("v"),
        cast(func.max(c.n), Integer).label("n"),
        *[cast(func.sum(c[f"s{i}"]), Integer).label(f"s{i}") for i in range(width)],
    ).group_by(c.k, c.kn, c.g)
    return [summary, values]


def _numbered_values(keyed, needed, index: int):
    """The values of the needed buckets, numbered (from 0) in value order within each bucket
    of each group, each with its bucket's `before` and its group's `n`. Each part reads only
    its rows of those buckets: first by (g, b), which an index on them can serve, then by
    the whole key once the part's rows are formed (OFFSET 0: PostgreSQL would otherwise
    match the key's request columns first, then look up every visit of every request that
    matched). Each bucket's row of `needed` joins its values as a marker sorted first, whose
    `before` and `n` the windows pass on: no join of the values with `needed`, which SQLite
    planned as a scan of one for each row of the other on small data."""
    wanted = select(needed.c.k, needed.c.kn, needed.c.g, needed.c.b)
    nothing = cast(null(), Float)
    chosen = []
    for number, part in enumerate(keyed):
        columns = part.selected_columns
        part = part.where(tuple_(columns.g, columns.b).in_(select(needed.c.g, needed.c.b)))
        rows = part.offset(0).subquery(f"part_{index}_{number}")
        key = (rows.c.k, rows.c.kn, rows.c.g, rows.c.b)
        chosen.append(
            select(
                *key,
                rows.c.v,
                literal(0).label("marker"),
                nothing.label("before"),
                nothing.label("n"),
            ).where(tuple_(*key).in_(wanted))
        )
    markers = select(
        needed.c.k,
        needed.c.kn,
        needed.c.g,
        needed.c.b,
        nothing.label("v"),
        literal(1).label("marker"),
        cast(needed.c.before, Float).label("before"),
        cast(needed.c.n, Float).label("n"),
    )
    values = union_all(markers, *chosen).subquery(f"chosen_{index}")
    ordered = {
        "partition_by": (values.c.k, values.c.kn, values.c.g, values.c.b),
        "order_by": (values.c.marker.desc(), values.c.v),
    }
    whole = {**ordered, "rows": (None, None)}
    return select(
        values.c.k,
        values.c.kn,
        values.c.g,
        values.c.v,
        values.c.marker,
        (func.row_number().over(**ordered) - 2).label("position"),
        func.max(values.c.before).over(**whole).label("before"),
        func.max(values.c.n).over(**whole).label("n"),
    ).subquery(f"numbered_{index}")
