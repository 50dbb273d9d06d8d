"""The home page's figures read in one statement: how many requests the user may see (the
bounded count of the list below them), their work queue's counts (with a region's open
tariff cases for its users) and the reports' data version that keys the cached charts.

Each figure was a statement of its own (three to four per view, each a round trip and about
as much Python building and reading it as PostgreSQL answering it). Each part is a SELECT
that returns exactly one row (an aggregate without GROUP BY), so they are joined ON true into
one row; the SQL of each part is the one the page ran before (`bounded_count_select`,
`summary_select`, `region_counts_select`, `data_version_columns`), so the figures are the
same, read in one statement. The statement is built once per reader: it depends only on
the reader's role, organisation and id and on whether it acts for a region; the moments and
the region are bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import select, true

from app.core import paging
from app.core.paging import bounded_count_select, bounded_total
from app.extensions import db
from app.models import DeviceRequest
from app.reimbursement.queries import actor_region, region_counts_select
from app.reports_pages.queries.common import data_version_columns, keep_data_version
from app.requests.queries import visible_requests
from app.workqueue.queries import DUE_SOON_DAYS, QueueSummary, summary_select

VERSION_COLUMNS = len(data_version_columns())


@dataclass(frozen=True)
class Glance:
    total: int  # the requests the user may see, up to the bound
    total_exact: bool  # False: more than `total`
    queue: QueueSummary


def read_glance(user, now: datetime) -> Glance:
    """The figures, and the data version kept for this request (`keep_data_version`)."""
    region = actor_region(user) if user.role == "assessor" else None
    statement, bound = _glance_statement(
        user.role, user.organisation_id, user.id, region is not None, paging.COUNT_LOOKAHEAD
    )
    parameters = {"now": now, "soon": now + timedelta(days=DUE_SOON_DAYS), "region": region}
    row = tuple(db.session.execute(statement, parameters).one())
    keep_data_version(row[-VERSION_COLUMNS:])
    total, counts = row[0], row[1:-VERSION_COLUMNS]
    # The queue's three counts, plus the region's three when it has them.
    waiting, overdue, due_soon = (sum(counts[i::3]) for i in range(3))
    total, exact = bounded_total(total or 0, bound)
    return Glance(total, exact, QueueSummary(waiting, overdue, due_soon))


@lru_cache(maxsize=1024)
def _glance_statement(
    role: str, organisation_id: int | None, user_id: int, region: bool, lookahead: int
):
    """(the one-row SELECT: total, the counts, the data version; the total's bound). The
    bound is in the SQL, so the statement is also keyed by the count's lookahead (a constant,
    which tests lower)."""
    actor = SimpleNamespace(role=role, organisation_id=organisation_id, id=user_id)
    visible = visible_requests(actor).with_only_columns(DeviceRequest.id)
    total, bound = bounded_count_select(visible)
    parts = [part for part in (summary_select(actor),) if part is not None]
    if region:
        parts.append(region_counts_select())
    columns = [total.scalar_subquery()]
    joined = None
    for number, part in enumerate(parts):
        subquery = part.subquery(f"glance_{number}")
        columns.extend(subquery.c)
        joined = subquery if joined is None else joined.join(subquery, true())
    statement = select(*columns, *data_version_columns())
    if joined is not None:
        statement = statement.select_from(joined)
    return statement, bound
