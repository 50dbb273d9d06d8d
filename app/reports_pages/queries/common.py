"""What every report query shares: the dialect differences (`Sql`), the reader's scope, the
filtered set of submitted requests (`requests_cte`), small value helpers and the per-process
cache of the aggregate figures.
"""

from __future__ import annotations

import threading
import time as _time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from flask import has_request_context, request
from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    String,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    literal_column,
    select,
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
from app.reports.filters import NO_OUTCOME, ReportFilters
from app.reports_pages.queries import shared_cache
from app.requests.queries import visible_requests

SECONDS_PER_DAY = 86_400


STREAM_BATCH = 2_000
PG_SORT_MEMORY = "64MB"


# --- A short-lived cache of the aggregate figures -----------------------------------------
#
# Exact percentiles over every stage visit need a sort of all of them: with a million stage
# records that takes seconds on either database. The aggregates do not depend on who reads
# them (only the per-request tables do), so each process keeps the last figures per filter set
# for REPORT_CACHE_SECONDS (0 disables it), and drops them as soon as the data changes: the key
# includes the audit chain head's data position (`data_seq`: every audited change but an
# account's own sign-ins, passwords and tokens) and the highest ids of the tables they read.

_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_ENTRIES = 256  # figures per filter set, previews per reader too: small objects


def data_version() -> tuple:
    """Changes whenever anything the reports read changes (one cheap statement)."""
    return tuple(db.session.execute(select(*data_version_columns())).one())


def data_version_columns() -> list:
    """`data_version()`'s values as scalar subqueries, for a page that reads them in a
    statement it runs anyway (the home page: `keep_data_version`)."""
    from app.models import AuditChainHead

    def highest(column):
        return select(func.max(column)).scalar_subquery()

    return [
        select(AuditChainHead.data_seq).where(AuditChainHead.id == 1).scalar_subquery(),
        highest(DeviceRequest.id),
        highest(StageRecord.id),
        highest(Recommendation.id),
        highest(Adoption.id),
        highest(UsageReport.id),
    ]


def cached(
    kind: str, key: tuple, compute: Callable[[], object], seconds: float, *, shared: bool = False
):
    """compute() or a copy kept from less than `seconds` ago for the same data. `shared`:
    the figures are expensive, so on PostgreSQL they are also shared with the other processes
    through the database (`shared_cache`): computed once per data version, not once per
    worker."""
    if seconds <= 0:
        return compute()
    version = _request_data_version()
    full_key = (kind, key, version)
    moment = _time.monotonic()
    with _CACHE_LOCK:
        hit = _CACHE.get(full_key)
        if hit is not None and moment - hit[0] < seconds:
            _CACHE.move_to_end(full_key)
            return hit[1]
    share = shared and shared_cache.available()
    value = shared_cache.read(kind, key, version, seconds) if share else shared_cache.MISSING
    if value is shared_cache.MISSING:
        value = compute()
        if share:
            shared_cache.write(kind, key, version, value)
    with _CACHE_LOCK:
        _CACHE[full_key] = (moment, value)
        while len(_CACHE) > CACHE_ENTRIES:
            _CACHE.popitem(last=False)
    return value


REQUEST_DATA_VERSION = "hta.report_data_version"


def _request_data_version() -> tuple:
    """`data_version()`, read once per HTTP request (a report page looks up several cached
    parts; a GET changes nothing meanwhile), on every call outside one."""
    if not has_request_context():
        return data_version()
    environ = request.environ
    if REQUEST_DATA_VERSION not in environ:
        environ[REQUEST_DATA_VERSION] = data_version()
    return environ[REQUEST_DATA_VERSION]


def keep_data_version(version: tuple) -> None:
    """This request's data version, read by the caller with `data_version_columns()` in one
    of its own statements: `cached` then uses it instead of asking again."""
    if has_request_context():
        request.environ[REQUEST_DATA_VERSION] = tuple(version)


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


# --- Dialect helpers ---------------------------------------------------------------------


class Sql:
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

    def open_visit(self, left_at):
        """`left_at IS NULL`, for SQLite with its likelihood: open visits are about a tenth
        of them all, not the one row its statistics suggest for a NULL, so that it reads them
        from their partial index (ix_stage_records_open_state_entered) rather than from
        ix_stage_records_open_due and the table."""
        condition = left_at.is_(None)
        return condition if self.postgres else func.likelihood(condition, literal_column("0.1"))

    def whole(self, value):
        """Floor of any number, as an integer: the rule of `StageRecord.gross_whole_days`
        (SQLite's CAST truncates towards zero, so a negative fraction takes one off)."""
        if self.postgres:
            return cast(func.floor(value), Integer)
        truncated = cast(value, Integer)
        return truncated - case((value < truncated, 1), else_=0)


def current_sql() -> Sql:
    return Sql(db.session.get_bind().dialect.name)


def moment_literal(value: datetime):
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


def requests_cte(filters: ReportFilters, sql: Sql, name: str = "req"):
    """Submitted requests matching the filters, with the breakdown dimensions as columns."""
    return filtered_requests(filters, sql).cte(name)


def filtered_requests(filters: ReportFilters, sql: Sql):
    """The SELECT of `requests_cte`: as a subquery (not a CTE computed once) the database can
    also look a request up in it by id."""
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
    return query


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


def raise_sort_memory(sql: Sql) -> None:
    """PostgreSQL, for this transaction (one statement): sorts may use more memory than the
    4 MB default (by breakdown, the percentiles sort every stage visit; in memory that is
    about a quarter faster), and no JIT compilation: the figures read from indexes are
    many small scans that the planner prices high, and compiling them took longer (about a
    quarter of a second) than running them."""
    if sql.postgres:
        db.session.execute(
            select(
                func.set_config("work_mem", PG_SORT_MEMORY, true()),
                func.set_config("jit", "off", true()),
            )
        )


def none_last(key: tuple) -> tuple:
    return tuple((value is None, value or "") for value in key)


def aware(value):
    """Timestamps from raw (non-ORM) columns or subqueries: aware UTC datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def plain_time(column):
    """A timestamp read with the dialect's plain DateTime processing (naive UTC on SQLite,
    aware on PostgreSQL) rather than the model type's per-value hook: faster on long streams."""
    return type_coerce(column, DateTime()).label(column.name)


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def optional_float(value) -> float | None:
    return None if value is None else float(value)


def run_union(parts: list, nothing: tuple) -> list:
    """The rows of the UNION ALL of `parts`: one statement, even when there are no parts (it
    then selects one row shaped like `nothing` and keeps none), so that the number of
    statements never depends on the data."""
    if not parts:
        parts = [select(*[literal(value) for value in nothing]).where(false())]
    statement = union_all(*parts) if len(parts) > 1 else parts[0]
    return db.session.execute(statement).all()


def run_limited(query, limit: int | None):
    query = query.limit(limit) if limit else query
    return db.session.execute(query.execution_options(yield_per=STREAM_BATCH))


def request_keys(filters: ReportFilters, sql: Sql, dimensions, name: str):
    """CTE of the filtered requests' ids and breakdown columns, as the breakdowns' histograms
    join it to every stage visit: only the columns asked for. SQLite: computed once (AS
    MATERIALIZED), or a request's columns (its year, ...) are worked out again for each of
    its visits. PostgreSQL: inlined (NOT MATERIALIZED), so that it hashes the requests, not
    the visits."""
    chosen = filtered_requests(filters, sql).subquery(f"{name}_chosen")
    keys = select(chosen.c.request_id, *[chosen.c[d] for d in dimensions]).cte(name)
    return keys.prefix_with("NOT MATERIALIZED" if sql.postgres else "MATERIALIZED")
