"""The request page's small reads of one request, in one statement.

The page reads several short lists that hang off the request: its stage visits, its
designated centres (and the asks), its regional tariff cases, the IRCCS paths to the first
patient, the consultation comments waiting for moderation. Each was a statement of its own,
and each statement costs the page its round trip and its execution overhead (more than the
rows it brings). `read_all` runs them as one UNION ALL: each read (`Read`) is its owner's
own SELECT, wrapped as a subquery, numbered in its own order (`row_number() OVER (ORDER BY
...)`: a UNION keeps no branch's order) and placed in columns of its own (every other read's
columns are typed NULLs there), with the read's number as the first column. The answer
gives each read back its rows, in its order, with its column names: what the read's own
statement would have answered, so each owner decodes them as before.

SQLite and PostgreSQL read the same rows: the union's types are those of the first branch,
which carries every read's columns typed as the read's own (CAST(NULL AS ...)), so each
value is converted as the read's own statement would have converted it.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Integer, Select, cast, func, literal_column, null, select, union_all

from app.extensions import db


@dataclass(frozen=True)
class Read:
    """One read of the page: `query`, a SELECT built once (its values bound by name at
    execution), in the order of its columns named by `order` (a name with a leading "-":
    descending). Names must be unique among the page's reads."""

    name: str
    query: Select
    order: tuple[str, ...]


def read_all(reads: list[Read], values: dict) -> dict[str, list]:
    """{read's name: its rows} for `reads`, in one statement (none when there is no read).
    Each row has the attributes of its read's columns; `values` binds every read's
    parameters (reads naming the same parameter share its value)."""
    if not reads:
        return {}
    statement, shapes = _statement(tuple(reads))
    found: dict[str, list] = {read.name: [] for read in reads}
    for row in db.session.connection().execute(statement, values):
        name, start, end, shape = shapes[row[0]]
        found[name].append(shape._make(row[start:end]))
    return found


@lru_cache(maxsize=64)
def _statement(reads: tuple[Read, ...]):
    """The UNION ALL of `reads` and, per read's number, (name, first and past-last column,
    row type); built once per combination of reads (a page has few)."""
    subqueries = [read.query.subquery(f"read_{read.name}") for read in reads]
    slots = [(number, column) for number, sub in enumerate(subqueries) for column in sub.c]
    shapes, start = [], 2  # after the read's number and its row number
    for read, sub in zip(reads, subqueries, strict=True):
        names = [column.key for column in sub.c]
        # (An unnamed column, such as an aggregate, gets a positional name: `_<index>`.)
        shape = namedtuple(f"Row_{read.name}", names, rename=True)
        shapes.append((read.name, start, start + len(names), shape))
        start += len(names)
    branches = []
    for number, (read, sub) in enumerate(zip(reads, subqueries, strict=True)):
        order = [
            sub.c[name[1:]].desc() if name.startswith("-") else sub.c[name] for name in read.order
        ]
        columns = [
            literal_column(str(number), Integer).label("read"),
            func.row_number().over(order_by=order).label("row_number"),
        ]
        columns += [
            (column if owner == number else cast(null(), column.type)).label(f"c{index}")
            for index, (owner, column) in enumerate(slots)
        ]
        branches.append(select(*columns).select_from(sub))
    union = union_all(*branches)
    columns = union.selected_columns
    return union.order_by(columns.read, columns.row_number), tuple(shapes)
