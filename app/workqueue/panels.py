"""What the work queue shows beside its rows, read in one statement after them.

Besides its rows the queue page showed up to four small reads, a statement each: the
adoption barriers waiting for the reader (`app.adoption.barriers.queue_barriers`), the
agency's comments waiting for moderation (`app.public.consultation.pending_comments`), a
region's open tariff cases (`app.reimbursement.queries.region_queue`), and, for the rows of
the page, the agency's duplicate candidates (`app.workqueue.duplicates`) or the IRCCS's
records' tariff waits (`app.reimbursement.queries.tariff_waits`). Here they are the parts of
one UNION ALL (`app.workqueue.union`): the same SELECTs (the barriers' and the comments' are
those functions' own), so the same rows in the same order, made into what the page shows as
those functions did. Those functions keep their other callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.orm import aliased

from app.adoption.barriers import QUEUE_LIMIT, RESOLVED, QueueBarrier
from app.adoption.barriers import _queue_statement as barriers_statement
from app.domain.deadlines import rome_date
from app.models import (
    Adoption,
    AdoptionBarrier,
    ConsultationComment,
    DeviceRequest,
    Organisation,
    Reimbursement,
)
from app.public.consultation import _pending_statement as pending_statement
from app.public.consultation import can_moderate_consultation
from app.reimbursement.queries import OPEN_STATES, READY_STATES, CaseRow, actor_region
from app.requests.list_rows import request_title
from app.workqueue.duplicates import candidates_read, counts_among
from app.workqueue.queries import (
    QueueFilters,
    QueueRow,
    deadline_status,
    fixed,
    queue_rows_page,
)
from app.workqueue.union import Part, read_parts


@dataclass
class Panels:
    """The queue page's side panels, as the template reads them."""

    barriers: list[QueueBarrier] = field(default_factory=list)
    pending_comments: list[dict] = field(default_factory=list)
    tariff_cases: list[CaseRow] = field(default_factory=list)


def queue_page(actor, now: datetime, filters: QueueFilters, per_page: int) -> tuple:
    """(one page of `actor`'s queue, its Panels): two statements at most, the rows with
    their count (`queue_rows_page`) and everything else (`read_panels`)."""
    page, identifiers = queue_rows_page(actor, now, filters, per_page)
    return page, read_panels(actor, now, page.items, identifiers)


def read_panels(actor, now: datetime, rows: list[QueueRow], identifiers: list[tuple]) -> Panels:
    """The panels of `actor`'s queue page, and on the page's `rows` their duplicate counts
    (the agency; `identifiers`: each row's (id, basic UDI-DI, UDI-DI, EMDN code,
    manufacturer id)) or their tariff waits (an IRCCS): one statement, none when the reader
    has nothing to read."""
    key, builders, parameters = [], [], {}
    barriers = _barriers_part(actor)
    if barriers is not None:
        key.append(("barriers", barriers))
        builders.append(lambda: Part("barriers", barriers, _BARRIER_ORDER))
    if can_moderate_consultation(actor):
        key.append("pending")
        builders.append(lambda: Part("pending", pending_statement(), _PENDING_ORDER))
    region = actor_region(actor) if actor.role == "assessor" else None
    if region is not None:
        key.append("cases")
        builders.append(lambda: Part("cases", _cases_statement(), _CASES_ORDER))
        parameters["region"] = region
    duplicates = candidates_read(identifiers) if actor.role == "agency" and identifiers else None
    if duplicates is not None:
        statement, values = duplicates
        key.append(("duplicates", statement))
        builders.append(lambda: Part("duplicates", statement))
        parameters |= values
    ready = [row.link_id for row in rows if actor.role == "irccs" and row.state in READY_STATES]
    if ready:
        key.append("waits")
        builders.append(lambda: Part("waits", _waits_statement()))
        parameters["ready"] = ready
    if not builders:
        return Panels()
    found = read_parts(tuple(key), lambda: [build() for build in builders], parameters)
    _mark_rows(rows, identifiers, found)
    return Panels(
        barriers=_barriers(found.get("barriers", ()), now),
        pending_comments=[
            dict(zip(_PENDING_NAMES, row, strict=True)) for row in found.get("pending", ())
        ],
        tariff_cases=_cases(found.get("cases", ()), now),
    )


def _mark_rows(rows: list[QueueRow], identifiers: list[tuple], found: dict) -> None:
    if "duplicates" in found:
        flags = counts_among(identifiers, found["duplicates"])
        for row in rows:
            row.duplicates = flags.get(row.request_id, 0)
    if "waits" in found:
        waits = dict(found["waits"])  # (adoption id, the day its case was asked for)
        for row in rows:
            row.waiting_for_tariff_since = waits.get(row.link_id)


# --- Barriers: `queue_barriers`' own SELECT, read back as it does ---------------------------


def _barriers_part(actor):
    """`queue_barriers`' SELECT for `actor` (None: the role has no barrier queue)."""
    organisation = getattr(actor, "organisation", None) if actor.role == "assessor" else None
    return barriers_statement(
        actor.role,
        actor.organisation_id,
        getattr(organisation, "kind", None),
        getattr(organisation, "region", None),
        QUEUE_LIMIT,
    )


_BARRIER_ORDER = (AdoptionBarrier.due_date, AdoptionBarrier.id)  # (its ORDER BY)


def _barriers(rows, now: datetime) -> list[QueueBarrier]:
    today = rome_date(now)
    # is_overdue's rule on the columns, as queue_barriers: not resolved, and past due.
    return [QueueBarrier(*row, overdue=row[2] != RESOLVED and row[3] < today) for row in rows]


# --- Comments waiting for moderation: `pending_comments`' own SELECT ------------------------


# (its ORDER BY: the oldest comment first, then the request)
_PENDING_ORDER = (func.min(ConsultationComment.created_at), DeviceRequest.id)


_PENDING_NAMES = ("id", "trade_name", "model", "receipt_number", "pending", "oldest")


# --- A region's open tariff cases: `region_queue`'s rows, as plain columns ------------------

_CASE_MANUFACTURER = aliased(Organisation, name="case_manufacturer")
_CASES_ORDER = (Reimbursement.due_at.asc().nulls_last(), Reimbursement.id)


@lru_cache(maxsize=1)
def _cases_statement():
    """`region_queue`'s cases (the region bound as :region) as the columns the queue shows:
    the request and its manufacturer by the joins its eager loads used."""
    return (
        select(
            Reimbursement.id,
            Reimbursement.state,
            Reimbursement.requested_at,
            Reimbursement.due_at,
            DeviceRequest.id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.receipt_number,
            _CASE_MANUFACTURER.name,
        )
        .join(DeviceRequest, DeviceRequest.id == Reimbursement.request_id)
        .outerjoin(_CASE_MANUFACTURER, _CASE_MANUFACTURER.id == DeviceRequest.manufacturer_id)
        .where(
            Reimbursement.region == bindparam("region"), Reimbursement.state.in_(fixed(OPEN_STATES))
        )
        .order_by(*_CASES_ORDER)
    )


def _cases(rows, now: datetime) -> list[CaseRow]:
    """`region_queue`'s CaseRows, each case the attributes the page reads of it."""
    cases = []
    for case_id, state, requested_at, due_at, request_id, trade, model, receipt, maker in rows:
        request = SimpleNamespace(
            title=request_title(trade, model, request_id),
            receipt_number=receipt,
            manufacturer=SimpleNamespace(name=maker) if maker is not None else None,
        )
        case = SimpleNamespace(
            id=case_id, state=state, requested_at=requested_at, due_at=due_at, request=request
        )
        cases.append(CaseRow(case, deadline_status(requested_at, due_at, now)))
    return cases


# --- An IRCCS's records waiting for their region's tariff: `tariff_waits` -------------------


@lru_cache(maxsize=1)
def _waits_statement():
    """`tariff_waits`' SELECT, the day each open case was asked for, of the records whose
    ids are bound as :ready (the page's records ready on the IRCCS's side)."""
    return (
        select(Adoption.id, Reimbursement.requested_at)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
        .join(
            Reimbursement,
            (Reimbursement.request_id == Adoption.request_id)
            & (Reimbursement.region == Organisation.region),
        )
        .where(
            Adoption.id.in_(bindparam("ready", type_=Integer, expanding=True)),
            Reimbursement.state.in_(fixed(OPEN_STATES)),
        )
    )
