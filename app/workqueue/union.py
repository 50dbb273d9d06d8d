"""Several small SELECTs read in one statement: a UNION ALL of parts (`read_parts`).

A statement costs a page about a third of a millisecond of its own work whatever it reads
(SQLAlchemy, the driver, the round trip), so the work queue reads its side panels together
(`app.workqueue.panels`). Each part is the SELECT it would have run alone, its rows tagged
with the part's number and numbered in the part's order (row_number() over its ORDER BY),
its columns in columns of their own (in the other parts' rows NULL: in the first member
cast to the column's type, which says how the database and SQLAlchemy read the column; in
the others plain, which keeps the SQL under psycopg's 4096 characters, beyond which it
parses a statement's text again on every execution); the whole sorted by part and number.
Each part gets back the rows its SELECT gives, in the same order. The statement of a list
of parts is built once per process (`_union`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    Integer,
    Select,
    cast,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)

from app.extensions import db


@dataclass(frozen=True)
class Part:
    """One read of the union: `query` (its columns, in the order they are read back) and
    `order`, the expressions its rows are numbered by (its own ORDER BY, if it has one)."""

    name: str
    query: Select
    order: tuple = ()


def read_parts(
    key: tuple, build: Callable[[], list[Part]], parameters: dict
) -> dict[str, list[tuple]]:
    """{part name: its rows (tuples of the part's own columns), in the part's order} for the
    parts `build()` makes, read in one statement. `key` names that list of parts (their
    names and every value their SELECTs are built from): the statement is built once per
    key. `parameters` are the parts' bound values, as each SELECT names them."""
    statement, layout = _union(key, build)
    found: dict[str, list[tuple]] = {name: [] for name, _start, _width in layout}
    for row in db.session.execute(statement, parameters):
        name, start, width = layout[row[0]]
        found[name].append(tuple(row[start : start + width]))
    return found


_UNIONS: dict = {}
_UNIONS_LIMIT = 1024  # (per reader kind and shape: a few dozen in practice; then afresh)


def _union(key: tuple, build: Callable[[], list[Part]]):
    """(the UNION ALL statement, [(part name, first column, width)]) for `key`, built once:
    a SELECT is immutable, and `key` names all it is built from."""
    kept = _UNIONS.get(key)
    if kept is None:
        if len(_UNIONS) >= _UNIONS_LIMIT:
            _UNIONS.clear()
        kept = _UNIONS[key] = _build_union(build())
    return kept


def _build_union(parts: list[Part]):
    columns = [list(part.query.selected_columns) for part in parts]
    layout, start = [], 2  # (columns 0 and 1: the part's number and the row's in the part)
    for part, own in zip(parts, columns, strict=True):
        layout.append((part.name, start, len(own)))
        start += len(own)
    members = []
    for index, part in enumerate(parts):
        numbered = part.query.add_columns(
            func.row_number().over(order_by=part.order or None).label("position")
        ).subquery()
        inner = list(numbered.c)
        values = [literal_column(str(index), Integer).label("part"), inner[-1]]
        for other, others in enumerate(columns):
            if other == index:
                values += inner[:-1]
            else:
                # (PostgreSQL types a UNION's column from its members two by two, left to
                # right: the first member's NULLs say the type, the others' are plain)
                pad = cast if index == 0 else type_coerce
                values += [pad(null(), column.type) for column in others]
        members.append(select(*(value.label(f"c{n}") for n, value in enumerate(values))))
    if len(members) == 1:
        statement = members[0].order_by(literal_column("c1"))
    else:
        union = union_all(*members)
        statement = union.order_by(union.selected_columns.c0, union.selected_columns.c1)
    return statement, layout
