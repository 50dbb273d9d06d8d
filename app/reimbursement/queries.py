"""Loading reimbursement cases as each reader may see them (one statement each).

- `get_case_for`: one case, NotFound when the actor may not see it (another region's too);
- `region_queue`: the open cases of the actor's region (its regional HTA body's users), by
  due date, each flagged overdue / near due like the other queues;
- `request_cases`: the cases of one request on its page (agency and manufacturer: every
  region; an IRCCS: its own region's, when it has an adoption record; a region's user: its
  region's);
- `tariff_waits`: for adoption records, the open case of their IRCCS's region they wait for
  (the record is ready as far as the IRCCS is concerned: approved or in procurement).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Integer, and_, bindparam, exists, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import contains_eager, joinedload

from app.core.fire import can_see_reimbursement
from app.domain.errors import NotFound
from app.extensions import db
from app.models import Adoption, DeviceRequest, Organisation, Reimbursement
from app.models.types import UTCDateTime
from app.workflow.facts import ADOPTION, REIMBURSEMENT, states_where
from app.workqueue.queries import deadline_status

OPEN_STATES = states_where(workflow=REIMBURSEMENT, open=True)
# Adoption states in which the IRCCS, ready on its side, waits for a tariff still pending.
READY_STATES = states_where(workflow=ADOPTION, ready_for_tariff=True)


def get_case_for(actor, case_id: int) -> Reimbursement:
    """The case if `actor` may see it; NotFound otherwise (also when it does not exist)."""
    case = db.session.get(Reimbursement, case_id)
    if case is None:
        raise NotFound("reimbursement case not found")
    if not can_see_reimbursement(actor, case):
        raise NotFound("reimbursement case not found", denied=("reimbursement", case.id))
    return case


def actor_region(actor) -> str | None:
    organisation = actor.organisation
    return organisation.region if organisation is not None else None


@dataclass(frozen=True)
class CaseRow:
    """A case in a list, with its deadline status."""

    case: Reimbursement
    status: str | None  # "overdue", "near_due", "on_time" or None

    @property
    def row_class(self) -> str:
        return {"overdue": "table-overdue", "near_due": "table-neardue"}.get(self.status, "")


def region_queue(actor, now: datetime) -> list[CaseRow]:
    """The open cases of the region the actor acts for (none for anybody else), soonest due
    first (one statement, with the request and its manufacturer)."""
    if actor.role != "assessor":
        return []
    region = actor_region(actor)
    if region is None:
        return []
    cases = db.session.scalars(
        select(Reimbursement)
        .join(Reimbursement.request)
        .where(Reimbursement.region == region, Reimbursement.state.in_(OPEN_STATES))
        .options(contains_eager(Reimbursement.request).joinedload(DeviceRequest.manufacturer))
        .order_by(Reimbursement.due_at.asc().nulls_last(), Reimbursement.id)
    ).all()
    return [CaseRow(case, deadline_status(case.requested_at, case.due_at, now)) for case in cases]


def region_counts(actor, now: datetime, soon: datetime) -> tuple[int, int, int]:
    """The region's open cases: how many, how many overdue, how many due before `soon` (one
    statement; zeros for an actor acting for no region)."""
    region = actor_region(actor) if actor.role == "assessor" else None
    if region is None:
        return 0, 0, 0
    parameters = {"region": region, "now": now, "soon": soon}
    waiting, overdue, due_soon = db.session.execute(region_counts_select(), parameters).one()
    return waiting, overdue, due_soon


@lru_cache(maxsize=1)
def region_counts_select():
    """`region_counts`' SELECT (one row), built once; the region and moments are bound as
    :region, :now and :soon (the home page reads it within its own statement)."""
    due, now = Reimbursement.due_at, bindparam("now", type_=UTCDateTime)
    soon = bindparam("soon", type_=UTCDateTime)
    return select(
        func.count().label("waiting"),
        func.count(sql_case((due < now, 1))).label("overdue"),
        func.count(sql_case((and_(due >= now, due < soon), 1))).label("due_soon"),
    ).where(Reimbursement.region == bindparam("region"), Reimbursement.state.in_(OPEN_STATES))


def request_cases(actor, request) -> list[Reimbursement]:
    """The cases of `request` its page shows to `actor`, by region (one statement)."""
    values = request_cases_values(actor, request)
    if values is None:
        return []
    return list(db.session.scalars(_cases_statement(actor.role), values))


def request_cases_values(actor, request) -> dict | None:
    """What `request_cases`' statement binds for `actor` (None: no case is theirs to see)."""
    values = {"request_id": request.id}
    if actor.role == "irccs":
        values |= {"region": actor_region(actor), "irccs_id": actor.organisation_id}
    elif actor.role == "assessor":
        values["region"] = actor_region(actor)
    elif actor.role != "agency" and not (
        actor.role == "manufacturer" and actor.organisation_id == request.manufacturer_id
    ):
        return None
    return values


@lru_cache(maxsize=8)
def _cases_statement(role: str):
    """`request_cases`' SELECT for a reader in `role`, built once (the request, the reader's
    region and organisation bound at each execution)."""
    return _cases_where(select(Reimbursement), role).order_by(Reimbursement.region)


@lru_cache(maxsize=8)
def request_cases_columns(role: str):
    """`request_cases`' rows as the request page's table reads them (the columns it shows,
    by region; no record loaded), for a reader in `role`, built once."""
    query = select(
        Reimbursement.id,
        Reimbursement.region,
        Reimbursement.state,
        Reimbursement.requested_at,
        Reimbursement.tariff_code,
        Reimbursement.tariff_amount,
    )
    return _cases_where(query, role).order_by(Reimbursement.region)


def _cases_where(query, role: str):
    request_id = bindparam("request_id", type_=Integer)
    query = query.where(Reimbursement.request_id == request_id)
    if role == "irccs":
        has_record = exists().where(
            Adoption.request_id == request_id, Adoption.irccs_id == bindparam("irccs_id")
        )
        query = query.where(Reimbursement.region == bindparam("region"), has_record)
    elif role == "assessor":
        query = query.where(Reimbursement.region == bindparam("region"))
    return query


def tariff_waits(adoptions: Iterable[Adoption]) -> dict[int, Reimbursement]:
    """Adoption id -> the open case of its region, for the records ready on the IRCCS's side
    (one statement; none when no record is ready)."""
    ready = [a.id for a in adoptions if a.state in READY_STATES]
    if not ready:
        return {}
    rows = db.session.execute(
        select(Adoption.id, Reimbursement)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
        .join(
            Reimbursement,
            and_(
                Reimbursement.request_id == Adoption.request_id,
                Reimbursement.region == Organisation.region,
            ),
        )
        .where(Adoption.id.in_(ready), Reimbursement.state.in_(OPEN_STATES))
    ).all()
    return {row[0]: row[1] for row in rows}


def case_of_adoption(adoption: Adoption) -> Reimbursement | None:
    """The case of the adoption record's region for its request, whatever its state."""
    return db.session.scalars(
        select(Reimbursement)
        .join(Organisation, Organisation.region == Reimbursement.region)
        .where(
            Reimbursement.request_id == adoption.request_id, Organisation.id == adoption.irccs_id
        )
        .options(joinedload(Reimbursement.request))
    ).one_or_none()


def waits_for(adoption: Adoption, case: Reimbursement | None) -> bool:
    """The record waits for its region's tariff: it is ready on the IRCCS's side (approved,
    or buying) and the tariff it asked for is not decided."""
    return case is not None and adoption.state in READY_STATES and case.state in OPEN_STATES
