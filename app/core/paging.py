"""Pagination of a SELECT in at most two statements (a count and one page of rows).

`paginate_select` reads a page of ORM objects, `paginate` a `Page` of tuples (two statements
each); `paginate_rows` a page of plain columns (what a list shows, without building an ORM
object per row) with its count in the same statement.

The count is bounded: it counts at most COUNT_LOOKAHEAD rows past the start of the page shown,
so that a list of 100,000 requests does not scan them all on every view. Beyond that the total
is a lower bound (`total_exact` False) and the pages say "more than N"; filters narrow a list
to an exact count. Flask-SQLAlchemy's pagination gets the same bound (`BoundedPagination`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import lazyload

from app.extensions import db

# Rows counted past the first row of the page shown (40 pages of 25).
COUNT_LOOKAHEAD = 1000


def _count_bound(offset: int, per_page: int) -> int:
    """How many rows a bounded count counts at most (see `bounded_count`)."""
    return max(0, offset) + max(COUNT_LOOKAHEAD, per_page)


def _count_statement(query: Select, bound: int) -> Select:
    return select(func.count()).select_from(query.order_by(None).limit(bound + 1).subquery())


def _counted_page_statement(
    query: Select, counted: Select, limit: int, offset: int, bound: int
) -> Select:
    """One page of `query` with, on each row, the bounded count of `counted` (a subquery run
    once: PostgreSQL and SQLite evaluate an uncorrelated scalar subquery a single time)."""
    total = _count_statement(counted, bound).scalar_subquery()
    return query.add_columns(total).limit(limit).offset(offset)


# The same statements, kept for queries that are themselves built once and kept (a list's
# query per set of filters): SQLAlchemy keeps a statement's cache key on the statement, so a
# kept statement is not walked again on every execution (about 0.1-0.2 ms for the register's).
# Never for queries built per request: they would only fill the cache.
_kept_count_statement = lru_cache(maxsize=256)(_count_statement)
_kept_counted_page_statement = lru_cache(maxsize=256)(_counted_page_statement)


def plain_rows(statement: Select, parameters: dict | None = None):
    """The result of a SELECT of plain columns (no ORM entity), executed through the
    session's connection, after the session's autoflush (as `Session.execute` would do):
    rows of columns need none of the ORM's result machinery, which cost a page of 25 rows
    about a sixth of a millisecond more."""
    session = db.session()
    if session.autoflush:
        session.flush()  # (returns at once when nothing is pending)
    return session.connection().execute(statement, parameters)


def bounded_count(
    query: Select, offset: int = 0, per_page: int = 0, *, kept: bool = False
) -> tuple[int, bool]:
    """(count, exact) of `query`'s rows, counting at most `offset` + COUNT_LOOKAHEAD of them
    (and at least a page's worth; PostgreSQL stops reading once it has them); past that the
    count is a lower bound. `kept`: `query` is built once and kept, so is its count."""
    bound = _count_bound(offset, per_page)
    statement = (_kept_count_statement if kept else _count_statement)(query, bound)
    return bounded_total(db.session.scalar(statement) or 0, bound)


def bounded_count_select(query: Select, offset: int = 0, per_page: int = 0) -> tuple:
    """(SELECT of `bounded_count`'s count, its bound): for a caller that reads the count
    within a statement of its own (`bounded_total` then makes the same pair of it)."""
    bound = _count_bound(offset, per_page)
    return _count_statement(query, bound), bound


def bounded_total(total: int, bound: int) -> tuple[int, bool]:
    return (total, True) if total <= bound else (bound, False)


class BoundedPagination(SelectPagination):
    """Flask-SQLAlchemy's pagination with a bounded count (`total_exact` says which)."""

    total_exact: bool = True

    def _query_count(self) -> int:
        query = self._query_args["select"].options(lazyload("*"))
        total, self.total_exact = bounded_count(query, self._query_offset, self.per_page)
        return total


def paginate_select(query: Select, page: int, per_page: int) -> BoundedPagination:
    """`db.paginate(query, page=page, per_page=per_page, error_out=False)` with the bound."""
    return BoundedPagination(
        select=query, session=db.session(), page=max(page, 1), per_page=per_page, error_out=False
    )


class RowsPagination(BoundedPagination):
    """BoundedPagination over plain rows: the page read by the SELECT of columns as given (no
    ORM object per row), its rows turned into the page's items by `convert`; the bounded
    count over `count_select` (the same rows, fewest columns and joins; else the SELECT) read
    with the page, in the same statement, or alone only when the page is empty. `kept`: both
    queries are built once and kept, and so is the page's statement."""

    def __init__(
        self,
        *,
        convert: Callable[[list], list],
        count_select: Select | None,
        kept: bool = False,
        **kw,
    ):
        # (Set first: Flask-SQLAlchemy's __init__ reads the page and then the count.)
        self._convert, self._count_select, self._kept = convert, count_select, kept
        self._counted: int | None = None
        super().__init__(**kw)

    def _counted_select(self) -> Select:
        counted = self._count_select
        return counted if counted is not None else self._query_args["select"]

    def _query_items(self) -> list:
        bound = _count_bound(self._query_offset, self.per_page)
        build = _kept_counted_page_statement if self._kept else _counted_page_statement
        statement = build(
            self._query_args["select"],
            self._counted_select(),
            self.per_page,
            self._query_offset,
            bound,
        )
        rows = plain_rows(statement).all()
        if rows:
            self._counted = rows[0][-1]
        return self._convert([row[:-1] for row in rows])

    def _query_count(self) -> int:
        bound = _count_bound(self._query_offset, self.per_page)
        if self._counted is None:  # (an empty page: past the end, or no rows at all)
            total, self.total_exact = bounded_count(
                self._counted_select(), self._query_offset, self.per_page, kept=self._kept
            )
            return total
        total, self.total_exact = bounded_total(self._counted, bound)
        return total


def paginate_rows(
    query: Select,
    page: int,
    per_page: int,
    *,
    convert: Callable[[list], list] = list,
    count_query: Select | None = None,
    kept: bool = False,
) -> RowsPagination:
    """`paginate_select`'s pages, counts and bound over a SELECT of plain columns; `convert`
    makes the page's items of its rows, `count_query` (optional) counts the same rows; `kept`
    says both queries are built once and kept (not per request)."""
    return RowsPagination(
        convert=convert,
        count_select=count_query,
        kept=kept,
        select=query,
        session=db.session(),
        page=max(page, 1),
        per_page=per_page,
        error_out=False,
    )


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int
    total_exact: bool = True  # False: `total` is a lower bound (more rows than counted)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first item shown (0 when empty)."""
        return 0 if not self.items else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return 0 if not self.items else self.first_index + len(self.items) - 1


def paginate(
    query: Select,
    page: int,
    per_page: int,
    *,
    scalars: bool = False,
    count_query: Select | None = None,
) -> Page:
    """One page of `query` (ordered by the caller); a page past the end shows the last one
    (when the count is exact). `count_query`, when given, selects the same rows more cheaply
    (one row each) for the count."""
    per_page = max(1, per_page)
    page = max(1, page)
    counted = count_query if count_query is not None else query
    total, exact = bounded_count(counted, (page - 1) * per_page, per_page)
    if exact:
        page = min(page, max(1, -(-total // per_page)))
    result = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = list(result.scalars()) if scalars else [tuple(row) for row in result]
    return Page(items=items, page=page, per_page=per_page, total=total, total_exact=exact)


class CountedPages:
    """`paginate` (rows as tuples) in one statement rather than two, for a SELECT ordered by
    the caller: the page's rows with the bounded count riding along each of them as a last
    column (an uncorrelated scalar subquery, which both databases run once). The same
    count, the same rows in the same order. Built once per query and kept by the caller:
    the page's limit and offset and the count's bound are parameters, so every view runs
    the same statement objects (SQLAlchemy works out a statement's cache key once per
    object: about a tenth of a millisecond for the work queue's, on every view when the
    statement was built afresh). An empty page gives no count: it is then counted apart
    (an empty list: two statements, as `paginate`), and a page past the end read again as
    the last page, as `paginate` shows it."""

    def __init__(self, query: Select, count_query: Select | None = None):
        counted = count_query if count_query is not None else query
        bound = bindparam("count_limit", type_=Integer)
        self.count = select(func.count()).select_from(
            counted.order_by(None).limit(bound).subquery()
        )
        limit = bindparam("page_limit", type_=Integer)
        offset = bindparam("page_offset", type_=Integer)
        self.rows = query.limit(limit).offset(offset)
        self.counted_rows = (
            query.add_columns(self.count.scalar_subquery()).limit(limit).offset(offset)
        )

    def page(self, page: int, per_page: int) -> Page:
        per_page = max(1, per_page)
        page = max(1, page)
        offset = (page - 1) * per_page
        bound = _count_bound(offset, per_page)
        parameters = {"count_limit": bound + 1, "page_limit": per_page, "page_offset": offset}
        rows = db.session.execute(self.counted_rows, parameters).all()
        if rows:
            total, exact = bounded_total(rows[0][-1] or 0, bound)
            items = [tuple(row)[:-1] for row in rows]
            return Page(items=items, page=page, per_page=per_page, total=total, total_exact=exact)
        total, exact = bounded_total(db.session.scalar(self.count, parameters) or 0, bound)
        shown = min(page, max(1, -(-total // per_page))) if exact else page
        items = []
        if shown != page and total:  # past the end: the last page, with this count
            parameters["page_offset"] = (shown - 1) * per_page
            items = [tuple(row) for row in db.session.execute(self.rows, parameters)]
        return Page(items=items, page=shown, per_page=per_page, total=total, total_exact=exact)
