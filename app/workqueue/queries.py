"""Work queues: "what needs my action", per role (the states come from the queue facts of
the workflow table, `app.workflow.facts`):

agency        intake_review, awaiting_prioritisation, prioritisation, assignment, appraisal,
              consultation, reassessment_due, suspended
assessor      its body's requests in assignment and assessment, and in factual accuracy check
              once the manufacturer has returned its comments
manufacturer  its own requests in draft, incomplete, information_requested, and in factual
              accuracy check until it has returned its comments
irccs         its own adoption records not in a final state

Request rows come from one SELECT joining the open StageRecord (due date and entry time) with
the manufacturer's and the assigned body's names, sorted by due date (none last), an IRCCS's
records from one SELECT of their columns; either reads a page with its bounded count in one
statement whatever its size (`core.paging.CountedPages`; an empty page is counted apart).
What the page shows beside (barriers, comments to moderate, tariff cases) and what its rows
need from other tables (the agency's duplicate flags, an IRCCS's tariff waits) is read in one
more statement (`app.workqueue.panels`).

At scale: the agency's queue is every open stage visit in its states (a non-draft request has
exactly one open visit, in the request's state), so its rows and its home-page counts are read
from a partial index of those visits in due-date order (`ix_stage_records_agency_queue`)
instead of joining every request; the other queues are a body's or a manufacturer's own
requests, found through their indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import aliased, joinedload

from app.core.paging import CountedPages, Page
from app.domain.deadlines import NEAR_DUE_SHARE
from app.extensions import db
from app.models import Adoption, AuditEntry, DeviceRequest, Organisation, StageRecord
from app.models.types import UTCDateTime
from app.requests.list_rows import request_title
from app.requests.queries import search_filter, visible_requests
from app.workflow.facts import ADOPTION, REQUEST, facts, states_where

# The IRCCS's queue: its adoption records not in a final state.
OPEN_ADOPTION_STATES = states_where(workflow=ADOPTION, open=True)
# The agency's queue: these states' open stage visits (the partial index's condition).
AGENCY_QUEUE_STATES = states_where(workflow=REQUEST, queue="agency")


@dataclass(frozen=True)
class QueueFilters:
    state: str | None = None
    overdue_only: bool = False
    text: str = ""
    page: int = 1


@dataclass
class QueueRow:
    """A request (or adoption record) waiting for the user, with its deadline status: the
    values the queue shows, read as plain columns (no ORM object per row)."""

    link_id: int  # the request's id, or the adoption record's for an IRCCS
    request_id: int
    title: str
    receipt_number: str | None
    manufacturer: str | None
    body: str | None  # the assigned regional body's name
    state: str
    entered_at: datetime | None
    due_at: datetime | None
    status: str | None  # "overdue", "near_due", "on_time" or None (no deadline)
    duplicates: int = 0  # for the agency: other requests for the same device
    # For an IRCCS: its record waits for its region's tariff, asked on that day.
    waiting_for_tariff_since: datetime | None = None

    @property
    def row_class(self) -> str:
        return {"overdue": "table-overdue", "near_due": "table-neardue"}.get(self.status, "")


def deadline_status(
    entered_at: datetime | None, due_at: datetime | None, now: datetime
) -> str | None:
    """overdue past the due date; near_due in the last NEAR_DUE_SHARE of the allowed time
    (the rule of `app.domain.deadlines.stage_timing`, for one open stage)."""
    if due_at is None:
        return None
    if now > due_at:
        return "overdue"
    if entered_at is not None and due_at > entered_at:
        allowed = due_at - entered_at
        if now >= due_at - allowed * NEAR_DUE_SHARE:
            return "near_due"
    return "on_time"


def fixed(values) -> list:
    """`values` as one bound parameter each, for IN (as the register's statements): a list of
    plain values is one "expanding" parameter, whose SQL SQLAlchemy renders again on every
    execution; these are compiled once with the statement, and the database sees the same
    query."""
    return [literal(value) for value in values]


def queue_states(role: str) -> tuple[str, ...]:
    """The states in `role`'s queue (the table's queue facts), in workflow order; a state
    handed over within one visit (the factual accuracy check) is in the first role's queue
    until the hand-over trigger fires, then in the next role's (`_role_condition`)."""
    return states_where(workflow=ADOPTION if role == "irccs" else REQUEST, queue=role)


def _handed_over(trigger: str):
    """True when `trigger` (an internal transition) was fired during the open stage."""
    return exists().where(
        AuditEntry.request_id == DeviceRequest.id,
        AuditEntry.action == trigger,
        AuditEntry.occurred_at >= StageRecord.entered_at,
    )


def _role_condition(role: str):
    """SQL condition: a request in `role`'s queue."""
    states = states_where(workflow=REQUEST, queue=role)
    handed = [state for state in states if facts(state).hand_over is not None]
    condition = DeviceRequest.state.in_(fixed(state for state in states if state not in handed))
    for state in handed:
        hand_over = facts(state).hand_over
        done = _handed_over(hand_over.trigger)
        condition = or_(
            condition,
            and_(DeviceRequest.state == state, done if role == hand_over.to_role else ~done),
        )
    if handed:
        # The same rows: every branch is in one of the states. Said apart, the states can
        # bound an index read (a body's requests by state, ix_device_requests_body_state)
        # instead of filtering all of the body's requests through the OR.
        condition = and_(DeviceRequest.state.in_(fixed(states)), condition)
    return condition


def request_queue_query(actor, now: datetime, filters: QueueFilters):
    """SELECT (DeviceRequest, StageRecord | None) rows needing `actor`, soonest due first."""
    query = (
        visible_requests(actor)
        .add_columns(StageRecord)
        .outerjoin(
            StageRecord,
            and_(StageRecord.request_id == DeviceRequest.id, StageRecord.left_at.is_(None)),
        )
        .where(_role_condition(actor.role))
        .options(
            joinedload(DeviceRequest.manufacturer),
            joinedload(DeviceRequest.assigned_body),
        )
    )
    if actor.role == "agency":
        # The same rows (the open visit's state is the request's): lets the database walk
        # the agency queue's partial index in due-date order and stop after one page.
        query = query.where(StageRecord.state.in_(fixed(AGENCY_QUEUE_STATES)))
    if filters.state in queue_states(actor.role):
        query = query.where(DeviceRequest.state == filters.state)
    if filters.overdue_only:
        query = query.where(StageRecord.due_at < now)
    query = search_filter(query, filters.text)
    return query.order_by(
        StageRecord.due_at.asc().nulls_last(),
        StageRecord.entered_at,
        DeviceRequest.id,
    )


def adoption_queue_query(actor, filters: QueueFilters):
    """SELECT of the IRCCS's own open adoption records, longest waiting first: the columns
    the queue shows (the record, its request and the request's manufacturer, by the joins
    the records' eager loads used; no ORM object per row)."""
    query = (
        select(
            Adoption.id,
            DeviceRequest.id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.receipt_number,
            _MANUFACTURER.name,
            Adoption.state,
            Adoption.state_changed_at,
        )
        .select_from(Adoption)
        .join(DeviceRequest, DeviceRequest.id == Adoption.request_id)
        .outerjoin(_MANUFACTURER, _MANUFACTURER.id == DeviceRequest.manufacturer_id)
        .where(
            Adoption.irccs_id == actor.organisation_id,
            Adoption.state.in_(fixed(OPEN_ADOPTION_STATES)),
        )
    )
    if filters.state in OPEN_ADOPTION_STATES:
        query = query.where(Adoption.state == filters.state)
    query = search_filter(query, filters.text)
    return query.order_by(Adoption.state_changed_at, Adoption.id)


def queue_rows_page(actor, now: datetime, filters: QueueFilters, per_page: int) -> tuple:
    """(one page of the actor's queue, its rows' device identifiers): the page's items are
    QueueRow, without the agency's duplicate flags or an IRCCS's tariff waits, which are
    read with the page's panels (`app.workqueue.panels.queue_page`); the identifiers are
    (id, basic UDI-DI, UDI-DI, EMDN code, manufacturer id) per row, for the agency's. One
    statement for the rows and their count (an empty page is counted apart)."""
    if actor.role == "irccs":
        if filters.overdue_only:  # adoption records carry no due date
            return Page(items=[], page=1, per_page=per_page, total=0), []
        page = _kept_adoption_pages(actor.organisation_id, *_kept(filters)).page(
            filters.page, per_page
        )
        page.items = [_adoption_row(row) for row in page.items]
        return page, []
    if not queue_states(actor.role):
        return Page(items=[], page=1, per_page=per_page, total=0), []
    page = _queue_pages(actor, now, filters).page(filters.page, per_page)
    rows = page.items
    page.items = [_request_row(row, now) for row in rows]
    identifiers = [(row[0], *row[_IDENTIFIERS]) for row in rows] if actor.role == "agency" else []
    return page, identifiers


def work_queue(actor, now: datetime, filters: QueueFilters, per_page: int) -> Page:
    """One page of the actor's queue; items are QueueRow, with the agency's duplicate flags
    (other requests for the same device) and an IRCCS's tariff waits."""
    from app.workqueue.panels import queue_page

    return queue_page(actor, now, filters, per_page)[0]


@lru_cache(maxsize=256)
def _kept_adoption_pages(organisation_id: int, *filters) -> CountedPages:
    """An IRCCS's queue pages, built once per IRCCS and filters (as `_kept_queue_pages`):
    the SELECT reads only the organisation and the state and text filters."""
    state, text = filters
    actor = SimpleNamespace(organisation_id=organisation_id)
    return CountedPages(adoption_queue_query(actor, QueueFilters(state=state, text=text)))


def _adoption_row(row) -> QueueRow:
    adoption_id, request_id, trade_name, model, receipt, manufacturer, state, changed_at = row
    return QueueRow(
        link_id=adoption_id,
        request_id=request_id,
        title=request_title(trade_name, model, request_id),
        receipt_number=receipt,
        manufacturer=manufacturer,
        body=None,
        state=state,
        entered_at=changed_at,
        due_at=None,
        status=None,
    )


def _queue_pages(actor, now: datetime, filters: QueueFilters) -> CountedPages:
    """The queue's pages (rows and count) as SELECTs. Without the overdue filter they read
    no moment, so they are built once per reader and filters (`_kept_queue_pages`)."""
    if filters.overdue_only:  # the moment is in the SQL: built for this view
        return _late_pages(actor, now, filters)
    return _kept_queue_pages(actor.role, actor.organisation_id, actor.id, *_kept(filters))


def _kept(filters: QueueFilters) -> tuple:
    return (filters.state, filters.text)


@lru_cache(maxsize=256)
def _kept_queue_pages(role: str, organisation_id: int | None, user_id: int, *filters):
    """`_build_queue_statements` built once per reader and filters: building them took about
    as long as PostgreSQL answering them. Exact: a SELECT is immutable, and these depend only
    on the reader's role, organisation and id (`visible_requests`, `_role_condition`, as
    `_summary_statement` says) and on the state and text filters (the page and the count's
    bound are parameters, `CountedPages`); the overdue filter, which reads the moment, is
    never kept."""
    actor = SimpleNamespace(role=role, organisation_id=organisation_id, id=user_id)
    state, text = filters
    return _late_pages(actor, None, QueueFilters(state=state, text=text))


def _build_queue_statements(actor, now: datetime | None, filters: QueueFilters):
    query = request_queue_query(actor, now, filters)
    # The same count as before: the agency's from its open visits, else the rows' query.
    count_query = _agency_queue_count_query(actor, now, filters)
    return _queue_row_columns(query), count_query if count_query is not None else query


class LatePages(CountedPages):
    """`CountedPages` of the queue's rows read late: the page is chosen among the queued
    requests by their keys alone (id and the open visit's times, read from indexes), and
    only its rows are then joined to their requests and names. The same rows in the same
    order (sorted again by the same keys, the same NULL order), and the same count; at
    scale a body's queue read every queued request's row to sort them (about 400 heap rows
    for a page of 25 at 100,000 requests)."""

    def __init__(self, keys: Select, count_query: Select):
        super().__init__(keys, count_query)
        limit = bindparam("page_limit", type_=Integer)
        offset = bindparam("page_offset", type_=Integer)
        page = keys.limit(limit).offset(offset).subquery("queue_page")
        self.rows = _late_row_columns(page)
        self.counted_rows = self.rows.add_columns(self.count.scalar_subquery())


def _late_pages(actor, now: datetime | None, filters: QueueFilters) -> LatePages:
    query = request_queue_query(actor, now, filters)
    count_query = _agency_queue_count_query(actor, now, filters)
    keys = query.with_only_columns(DeviceRequest.id, StageRecord.entered_at, StageRecord.due_at)
    return LatePages(keys, count_query if count_query is not None else query)


def _late_row_columns(page) -> Select:
    """The page's rows (`_queue_row_columns`' columns) from its keys, in the queue's order."""
    return (
        select(
            DeviceRequest.id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.receipt_number,
            DeviceRequest.state,
            _MANUFACTURER.name,
            _BODY.name,
            page.c.entered_at,
            page.c.due_at,
            DeviceRequest.basic_udi_di,
            DeviceRequest.udi_di,
            DeviceRequest.emdn_code,
            DeviceRequest.manufacturer_id,
        )
        .select_from(page)
        .join(DeviceRequest, DeviceRequest.id == page.c.id)
        .outerjoin(_MANUFACTURER, _MANUFACTURER.id == DeviceRequest.manufacturer_id)
        .outerjoin(_BODY, _BODY.id == DeviceRequest.assigned_body_id)
        .order_by(page.c.due_at.asc().nulls_last(), page.c.entered_at, page.c.id)
    )


_MANUFACTURER = aliased(Organisation, name="queue_manufacturer")
_BODY = aliased(Organisation, name="queue_body")
# The row's columns: what the queue shows, then the device identifiers (duplicate flags).
_IDENTIFIERS = slice(9, 13)


def _queue_row_columns(query):
    """The queue's rows as plain columns: the manufacturer and the assigned body by the same
    LEFT OUTER JOINs their joinedloads used."""
    return (
        query.with_only_columns(
            DeviceRequest.id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.receipt_number,
            DeviceRequest.state,
            _MANUFACTURER.name,
            _BODY.name,
            StageRecord.entered_at,
            StageRecord.due_at,
            DeviceRequest.basic_udi_di,
            DeviceRequest.udi_di,
            DeviceRequest.emdn_code,
            DeviceRequest.manufacturer_id,
        )
        .outerjoin(_MANUFACTURER, _MANUFACTURER.id == DeviceRequest.manufacturer_id)
        .outerjoin(_BODY, _BODY.id == DeviceRequest.assigned_body_id)
    )


@dataclass(frozen=True)
class QueueSummary:
    """The home page's glance at the queue: how much waits, how much is late or due soon."""

    waiting: int
    overdue: int
    due_soon: int


DUE_SOON_DAYS = 7


def queue_summary(actor, now: datetime) -> QueueSummary:
    """Counts over the actor's whole queue, in one statement (two for a region's user)."""
    counts = summary_select(actor)
    if counts is None:
        return QueueSummary(0, 0, 0)
    soon = now + timedelta(days=DUE_SOON_DAYS)
    waiting, overdue, due_soon = db.session.execute(counts, {"now": now, "soon": soon}).one()
    summary = QueueSummary(waiting, overdue, due_soon)
    if actor.role == "assessor":
        return _with_tariff_cases(actor, now, soon, summary)
    return summary


def _with_tariff_cases(actor, now: datetime, soon: datetime, summary: QueueSummary):
    """A region's users also act on their region's open tariff cases (one statement)."""
    from app.reimbursement.queries import region_counts

    waiting, overdue, due_soon = region_counts(actor, now, soon)
    return QueueSummary(
        summary.waiting + waiting, summary.overdue + overdue, summary.due_soon + due_soon
    )


def summary_select(actor):
    """The SELECT of `queue_summary`'s counts over the actor's queue: one row (waiting,
    overdue, due soon), the moments bound as :now and :soon; None for a role without a queue.
    A region's tariff cases are not in it (`region_counts_select`)."""
    return _summary_statement(actor.role, actor.organisation_id, actor.id)


@lru_cache(maxsize=1024)
def _summary_statement(role: str, organisation_id: int | None, user_id: int):
    """`summary_select`, built once per reader (the queue's SELECT took longer to build than
    to run). The queue depends only on the reader's role, organisation and id
    (`visible_requests`, `_role_condition`) with the default filters, which read no moment."""
    if role == "irccs":
        # Its own open records (every one has its request): counted from the index alone;
        # adoption records carry no due date.
        none = literal_column("0")
        return select(
            func.count().label("waiting"), none.label("overdue"), none.label("due_soon")
        ).where(
            Adoption.irccs_id == organisation_id, Adoption.state.in_(fixed(OPEN_ADOPTION_STATES))
        )
    if not queue_states(role):
        return None
    now, soon = bindparam("now", type_=UTCDateTime), bindparam("soon", type_=UTCDateTime)
    soon_only = and_(StageRecord.due_at >= now, StageRecord.due_at < soon)
    # (named: the home page joins this row to others, `app.main.glance`)
    counts = (
        func.count().label("waiting"),
        func.count(case((StageRecord.due_at < now, 1))).label("overdue"),
        func.count(case((soon_only, 1))).label("due_soon"),
    )
    if role == "agency":
        # From the open stage visits alone (an index-only count, `_agency_queue_count_query`).
        return select(*counts).where(
            StageRecord.left_at.is_(None), StageRecord.state.in_(fixed(AGENCY_QUEUE_STATES))
        )
    actor = SimpleNamespace(role=role, organisation_id=organisation_id, id=user_id)
    return (
        request_queue_query(actor, None, QueueFilters())
        .order_by(None)
        .with_only_columns(func.count(DeviceRequest.id).label("waiting"), *counts[1:])
        .options()
    )


def _agency_queue_count_query(actor, now: datetime, filters: QueueFilters):
    """The agency queue's rows counted from its open stage visits alone (the partial index),
    when no text search needs the requests; None otherwise (the rows' query is counted)."""
    if actor.role != "agency" or filters.text:
        return None
    query = select(StageRecord.id).where(
        StageRecord.left_at.is_(None), StageRecord.state.in_(fixed(AGENCY_QUEUE_STATES))
    )
    if filters.state in AGENCY_QUEUE_STATES:
        query = query.where(StageRecord.state == filters.state)
    if filters.overdue_only:
        query = query.where(StageRecord.due_at < now)
    return query


def _request_row(row, now: datetime) -> QueueRow:
    request_id, trade_name, model, receipt, state, manufacturer, body, entered_at, due_at = row[:9]
    return QueueRow(
        link_id=request_id,
        request_id=request_id,
        title=request_title(trade_name, model, request_id),
        receipt_number=receipt,
        manufacturer=manufacturer,
        body=body,
        state=state,
        entered_at=entered_at,
        due_at=due_at,
        status=deadline_status(entered_at, due_at, now),
    )
