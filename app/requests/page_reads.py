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
from operator import itemgetter

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
    # (Through the session, as each read ran before: pending changes are flushed first.)
    for row in db.session.execute(statement, values):
        name, pick, shape = shapes[row[0]]
        found[name].append(shape._make(pick(row)))
    return found


@lru_cache(maxsize=64)
def _statement(reads: tuple[Read, ...]):
    """The UNION ALL of `reads` and, per read's number, (name, a function picking its
    columns out of a row, row type); built once per combination of reads (a page has few)."""
    subqueries = [read.query.subquery(f"read_{read.name}") for read in reads]
    slots, placed = _slots(subqueries)
    shapes = []
    for read, sub, positions in zip(reads, subqueries, placed, strict=True):
        names = [column.key for column in sub.c]
        # (An unnamed column, such as an aggregate, gets a positional name: `_<index>`.)
        shape = namedtuple(f"Row_{read.name}", names, rename=True)
        shapes.append((read.name, _picker(positions), shape))
    branches = []
    for number, (read, sub, positions) in enumerate(zip(reads, subqueries, placed, strict=True)):
        order = [
            sub.c[name[1:]].desc() if name.startswith("-") else sub.c[name] for name in read.order
        ]
        own = {position - 2: column for position, column in zip(positions, sub.c, strict=True)}
        columns = [
            literal_column(str(number), Integer).label("read"),
            func.row_number().over(order_by=order).label("row_number"),
        ]
        columns += [
            own.get(index, cast(null(), slot_type)).label(f"c{index}")
            for index, slot_type in enumerate(slots)
        ]
        branches.append(select(*columns).select_from(sub))
    union = union_all(*branches)
    columns = union.selected_columns
    return union.order_by(columns.read, columns.row_number), tuple(shapes)


def _slots(subqueries) -> tuple[list, list[tuple[int, ...]]]:
    """The union's value columns (each a type) and, per read, the row positions of its
    columns. Reads share a column where their columns have the same type (its repr: class
    and arguments, so each value is converted as its own statement converts it): a read's
    n-th column of a type goes to that type's n-th column, so the union is as wide as the
    widest read per type, not as all reads together."""
    slots: list = []
    by_type: dict[str, list[int]] = {}
    placed = []
    for sub in subqueries:
        used: dict[str, int] = {}
        positions = []
        for column in sub.c:
            key = repr(column.type)
            n = used.get(key, 0)
            used[key] = n + 1
            indexes = by_type.setdefault(key, [])
            if n == len(indexes):
                indexes.append(len(slots))
                slots.append(column.type)
            positions.append(indexes[n] + 2)  # after the read's number and its row number
        placed.append(tuple(positions))
    return slots, placed


def _picker(positions: tuple[int, ...]):
    """A function giving a row's values at `positions`, as a tuple."""
    if len(positions) == 1:
        (position,) = positions
        return lambda row: (row[position],)
    return itemgetter(*positions)
