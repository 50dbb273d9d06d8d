"""Adoption barriers (issue 13, item 4): an IRCCS that declines, or whose record stalls,
records what stands in the way (no budget, awaiting a regional tariff, infrastructure ...),
who must remove it (the IRCCS, the region, the agency) and by when; the barrier is then
resolved, or escalated to the agency and resolved there.

Every change is an internal transition of the adoption record fired through `fire`
(`record_barrier`, `resolve_barrier`, `escalate_barrier`, declared in
`app.workflow.definitions`), so it is audited with the record's version; this module holds
their guards, writes the `AdoptionBarrier` rows after them, and reads the barriers for the
record page (`barrier_panel`) and the work queues (`queue_barriers`).

Declining and barriers: the decline stays one decision (its reason), and the barriers panel
then offers the barrier the reason points to (kind and usual owner pre-filled,
`DECLINE_BARRIERS`). Recording it in the decline's own transaction would need the owner, the
due date and a description the decline form does not ask for; a barrier without them is a
label, not something anyone can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.core.guards import GuardFailure, data_guard, state_guard
from app.core.transition_hooks import after, audit_data
from app.domain import permissions
from app.domain.deadlines import days_between, rome_date
from app.extensions import db
from app.models import Adoption, AdoptionBarrier, DeviceRequest, Organisation, User
from app.notifications.messages import request_ref
from app.notifications.outbox import notify
from app.notifications.recipients import Recipient
from app.workflow.facts import ADOPTION, facts
from app.workflow.states import DECLINE_BARRIERS

OPEN = "open"
ESCALATED = "escalated"
RESOLVED = "resolved"
UNRESOLVED = (OPEN, ESCALATED)


def barrier_after_days(state: str) -> int | None:
    """Days an adoption record stays in `state` before a barrier may be recorded (None:
    never)."""
    return facts(state, ADOPTION).barrier_after_days


def is_overdue(barrier: AdoptionBarrier, today: date) -> bool:
    """Not resolved, and its due date has passed (Europe/Rome days)."""
    return barrier.status != RESOLVED and barrier.due_date < today


def _barrier_of(adoption: Adoption, barrier_id) -> AdoptionBarrier | None:
    if not isinstance(barrier_id, int):
        return None
    return db.session.scalars(
        select(AdoptionBarrier).where(
            AdoptionBarrier.id == barrier_id, AdoptionBarrier.adoption_id == adoption.id
        )
    ).one_or_none()


# --- Guards --------------------------------------------------------------------------------


@state_guard("barrier_recordable", needs_now=True)
def barrier_recordable(adoption: Adoption, actor, now: datetime) -> GuardFailure | None:
    """Declined, or stalled: in its state for at least the state's `barrier_after_days`."""
    days = barrier_after_days(adoption.state)
    if days is None:
        return None  # the transition is not declared from this state: fire refuses it
    stayed = days_between(adoption.state_changed_at, now)
    if stayed >= days:
        return None
    return GuardFailure(
        "barrier_recordable",
        "not_stalled",
        _l(
            "A barrier is recorded when the IRCCS declines, or when the record has stayed "
            "%(days)d days in this state without moving (it has been %(stayed)d days).",
            days=days,
            stayed=int(stayed),
        ),
        details={"after_days": days, "stayed_days": int(stayed)},
    )


def _unknown_barrier() -> GuardFailure:
    return GuardFailure(
        "barrier_resolvable",
        "unknown_barrier",
        _l("This adoption record has no such barrier."),
        field="barrier",
    )


@data_guard("barrier_resolvable")
def barrier_resolvable(adoption: Adoption, actor, data) -> GuardFailure | None:
    barrier = _barrier_of(adoption, data.get("barrier"))
    if barrier is None:
        return _unknown_barrier()
    if barrier.status == RESOLVED:
        return GuardFailure(
            "barrier_resolvable",
            "already_resolved",
            _l("This barrier is already resolved."),
            field="barrier",
        )
    if actor is not None and not permissions.can_resolve_barrier(actor, adoption, barrier):
        return GuardFailure(
            "barrier_resolvable",
            "not_owner",
            _l("The region's users resolve only the barriers the region owns."),
            field="barrier",
        )
    return None


@data_guard("barrier_escalatable")
def barrier_escalatable(adoption: Adoption, actor, data) -> GuardFailure | None:
    barrier = _barrier_of(adoption, data.get("barrier"))
    if barrier is None:
        return GuardFailure(
            "barrier_escalatable",
            "unknown_barrier",
            _l("This adoption record has no such barrier."),
            field="barrier",
        )
    if barrier.status != OPEN:
        return GuardFailure(
            "barrier_escalatable",
            "not_open",
            _l("Only an open barrier can be escalated (this one is escalated or resolved)."),
            field="barrier",
        )
    return None


# --- After the transitions -----------------------------------------------------------------


@audit_data("adoption", "record_barrier")
def record(adoption: Adoption, spec, actor, now: datetime, data) -> dict:
    """Write the barrier before the audit entry, so that the entry names it (its history can
    then be followed in the trail) and the audit chain hashes what it says."""
    barrier = AdoptionBarrier(
        adoption_id=adoption.id,
        kind=data["barrier_kind"],
        description=data["barrier_description"],
        owner=data["barrier_owner"],
        due_date=data["barrier_due_date"],
        status=OPEN,
        recorded_at=now,
    )
    db.session.add(barrier)
    db.session.flush()
    return {"barrier": barrier.id}


@after("adoption", "resolve_barrier")
def resolve(adoption: Adoption, spec, actor, now: datetime, data, entry) -> None:
    barrier = _barrier_of(adoption, data["barrier"])
    barrier.status, barrier.resolved_at = RESOLVED, now
    barrier.resolution_note = data["resolution_note"]
    db.session.flush()


@after("adoption", "escalate_barrier")
def escalate(adoption: Adoption, spec, actor, now: datetime, data, entry) -> None:
    barrier = _barrier_of(adoption, data["barrier"])
    barrier.status, barrier.escalated_at = ESCALATED, now
    barrier.escalation_reason = entry.reason or ""
    db.session.flush()


# --- Notifications -------------------------------------------------------------------------


def owner_recipients(adoption: Adoption, owner: str) -> list:
    """The active users who hold a barrier owned by `owner`: the IRCCS's users, the regional
    body's users of the IRCCS's region, or the agency's (one query)."""
    users = select(User).join(Organisation, Organisation.id == User.organisation_id)
    users = users.where(User.active.is_(True), Organisation.active.is_(True))
    if owner == "irccs":
        users = users.where(User.role == "irccs", User.organisation_id == adoption.irccs_id)
    elif owner == "region":
        users = users.where(
            User.role == "assessor",
            Organisation.kind == "regional_body",
            Organisation.region == adoption.irccs.region,
        )
    else:
        users = users.where(User.role == "agency")
    return [
        # The region's users do not open the record: the link is the barrier's page.
        Recipient(user, adoption.request_id, None if owner == "region" else adoption.id)
        for user in db.session.scalars(users.order_by(User.id))
    ]


def _tell(
    kind: str,
    adoption: Adoption,
    barrier: AdoptionBarrier,
    holder: str,
    now: datetime,
    *,
    due: date | None = None,
    dedup_key: str | None = None,
) -> int:
    """Notify the barrier's `holder`: codes and ids only, never what was typed."""
    request = adoption.request
    params = {
        "ref": request_ref(request.receipt_number, request.id),
        "barrier_kind": barrier.kind,
        "barrier": barrier.id,
        "due": due,
    }
    recipients = owner_recipients(adoption, holder)
    return notify(kind, recipients, now, params=params, dedup_key=dedup_key)


@after("adoption", "record_barrier")
def tell_the_owner(adoption: Adoption, spec, actor, now: datetime, data, entry) -> None:
    """The owner is told (the IRCCS that recorded it too: its colleagues must act)."""
    barrier = _barrier_of(adoption, entry.data["barrier"])
    _tell("barrier_recorded", adoption, barrier, barrier.owner, now)


@after("adoption", "escalate_barrier")
def tell_the_agency(adoption: Adoption, spec, actor, now: datetime, data, entry) -> None:
    _tell("barrier_escalated", adoption, _barrier_of(adoption, data["barrier"]), "agency", now)


def remind_overdue(now: datetime) -> int:
    """Tell the holder of each unresolved barrier past its due date, once per barrier (the
    agency for an escalated one); `flask deadlines check` calls it with the reminders."""
    today = rome_date(now)
    rows = db.session.scalars(
        select(AdoptionBarrier)
        .where(AdoptionBarrier.status.in_(UNRESOLVED), AdoptionBarrier.due_date < today)
        .options(
            joinedload(AdoptionBarrier.adoption).joinedload(Adoption.request),
            joinedload(AdoptionBarrier.adoption).joinedload(Adoption.irccs),
        )
        .order_by(AdoptionBarrier.id)
    ).all()
    written = 0
    for barrier in rows:
        holder = "agency" if barrier.status == ESCALATED else barrier.owner
        written += _tell(
            "barrier_overdue",
            barrier.adoption,
            barrier,
            holder,
            now,
            due=barrier.due_date,
            dedup_key=f"barrier-overdue:{barrier.id}:{holder}",
        )
    return written


# --- What the pages show ---------------------------------------------------------------------


@dataclass
class BarrierRow:
    """One barrier as the record page and the work queues show it."""

    barrier: AdoptionBarrier
    overdue: bool
    days_open: float
    can_resolve: bool = False
    can_escalate: bool = False
    forms: dict = field(default_factory=dict)  # trigger -> ActionForm (the record page)
    # Why an action just posted on it was refused when its form is no longer offered (the
    # barrier was resolved or escalated meanwhile): the reason must show all the same.
    refusals: list[str] = field(default_factory=list)


def barrier_rows(actor, adoption: Adoption, now: datetime) -> list[BarrierRow]:
    """The record's barriers the actor may see, unresolved first then newest (one query)."""
    barriers = db.session.scalars(
        select(AdoptionBarrier)
        .where(AdoptionBarrier.adoption_id == adoption.id)
        .order_by(AdoptionBarrier.resolved_at.is_not(None), AdoptionBarrier.recorded_at.desc())
    ).all()
    return [
        barrier_row(actor, adoption, barrier, now)
        for barrier in barriers
        if permissions.can_view_barrier(actor, adoption, barrier)
    ]


def barrier_row(actor, adoption: Adoption, barrier: AdoptionBarrier, now: datetime) -> BarrierRow:
    return BarrierRow(
        barrier=barrier,
        overdue=is_overdue(barrier, rome_date(now)),
        days_open=days_between(barrier.recorded_at, barrier.resolved_at or now),
        can_resolve=permissions.can_resolve_barrier(actor, adoption, barrier),
        can_escalate=permissions.can_escalate_barrier(actor, adoption, barrier),
    )


def suggested_barrier(adoption: Adoption) -> tuple[str, str] | None:
    """(kind, owner) the record's decline reason points to, when it has one."""
    return DECLINE_BARRIERS.get(adoption.decline_reason or "")


# --- Work queues ---------------------------------------------------------------------------


def _queue_condition(actor):
    """The unresolved barriers in `actor`'s queue (SQL), or None when the role has none:
    the IRCCS those it owns on its records; the region's users those the region owns in
    their region; the agency those it owns and every escalated one."""
    owner, status = AdoptionBarrier.owner, AdoptionBarrier.status
    if actor.role == "irccs":
        return (Adoption.irccs_id == actor.organisation_id) & (owner == "irccs") & (status == OPEN)
    if actor.role == "agency":
        return or_(status == ESCALATED, (owner == "agency") & (status == OPEN))
    organisation = getattr(actor, "organisation", None)
    if actor.role == "assessor" and organisation is not None and organisation.region:
        if organisation.kind != "regional_body":
            return None
        return (owner == "region") & (status == OPEN) & (Organisation.region == organisation.region)
    return None


# The queue's barrier panel shows at most this many (soonest due first): no paging yet.
QUEUE_LIMIT = 200


class QueueBarrier(NamedTuple):
    """One barrier of a work queue as its table shows it, read as plain columns."""

    id: int
    kind: str
    status: str
    due_date: date
    request_id: int
    trade_name: str | None
    model: str | None
    irccs_name: str
    irccs_region: str | None
    overdue: bool

    @property
    def title(self) -> str:
        """The request's title (`DeviceRequest.title`)."""
        return " ".join(p for p in (self.trade_name, self.model) if p) or f"#{self.request_id}"


def queue_barriers(actor, now: datetime, limit: int = QUEUE_LIMIT) -> list[QueueBarrier]:
    """The unresolved barriers waiting for `actor`, soonest due first: one statement reading
    only the columns the queue shows (no barrier, record, request or IRCCS object: up to
    200 of each were loaded whole for a few cells)."""
    # Only an assessor's condition reads the organisation (no load for the others).
    organisation = getattr(actor, "organisation", None) if actor.role == "assessor" else None
    query = _queue_statement(
        actor.role,
        actor.organisation_id,
        getattr(organisation, "kind", None),
        getattr(organisation, "region", None),
        limit,
    )
    if query is None:
        return []
    today = rome_date(now)
    # is_overdue's rule on the columns: not resolved, and its due date has passed.
    return [
        QueueBarrier(*row, overdue=row[2] != RESOLVED and row[3] < today)
        for row in db.session.execute(query)
    ]


@lru_cache(maxsize=256)
def _queue_statement(role, organisation_id, kind, region, limit: int):
    """queue_barriers' SELECT (None: the role has no barrier queue), built once per reader
    kind: `_queue_condition` reads only the role, the organisation's id, kind and region,
    and a SELECT is immutable."""
    organisation = SimpleNamespace(kind=kind, region=region) if kind is not None else None
    actor = SimpleNamespace(role=role, organisation_id=organisation_id, organisation=organisation)
    condition = _queue_condition(actor)
    if condition is None:
        return None
    return (
        select(
            AdoptionBarrier.id,
            AdoptionBarrier.kind,
            AdoptionBarrier.status,
            AdoptionBarrier.due_date,
            DeviceRequest.id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            Organisation.name,
            Organisation.region,
        )
        .join(Adoption, Adoption.id == AdoptionBarrier.adoption_id)
        .join(Organisation, Organisation.id == Adoption.irccs_id)  # the region's condition
        .join(DeviceRequest, DeviceRequest.id == Adoption.request_id)
        .where(condition)
        .order_by(AdoptionBarrier.due_date, AdoptionBarrier.id)
        .limit(limit)
    )


def load_barrier_for(actor, barrier_id: int) -> AdoptionBarrier | None:
    """The barrier if `actor` may see it (None otherwise, and when it does not exist)."""
    barrier = db.session.get(AdoptionBarrier, barrier_id)
    if barrier is None or not permissions.can_view_barrier(actor, barrier.adoption, barrier):
        return None
    return barrier
