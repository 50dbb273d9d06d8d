"""Grouped distributions (count, mean, P50/P75/P90) in one statement for many groupings.

Two methods with the one definition of `app.reports.stats`: `percentile_cont` (PostgreSQL) and
row_number/count windows that return only the ranks each percentile needs (any database).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ARRAY,
    Float,
    String,
    and_,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from app.extensions import db
from app.reports.stats import PERCENTILES, Distribution, percentile_from_ranks
from app.services.report_queries.common import STREAM_BATCH, current_sql

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
