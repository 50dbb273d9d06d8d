"""Designated centres after publication (issue 13, item 1): an IRCCS the recommendation does
not designate asks to be added; the agency designates it (it gets an adoption record at once
and counts in the adoption rates) or refuses. Each step is a transition of the request fired
through `fire` (`ask_designation`, `designate_centre`, `refuse_designation`: internal, the
request stays in adoption monitoring), so it is audited with its reason; this module holds
their guards and writes the designation rows after them.

Queries for the pages: `designation_summary` (the designated centres and the pending asks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, literal, select, union_all

from app.core.guards import GuardFailure, data_guard, state_guard
from app.core.transition_hooks import after
from app.extensions import db
from app.labels import region_label
from app.models import Adoption, DesignatedCentre, DesignationRequest, Organisation


def _designated(request_id: int, irccs_id: int | None) -> bool:
    return irccs_id is not None and (
        db.session.scalar(
            select(DesignatedCentre.id).where(
                DesignatedCentre.request_id == request_id, DesignatedCentre.irccs_id == irccs_id
            )
        )
        is not None
    )


def _names_centres(request_id: int) -> bool:
    return (
        db.session.scalar(
            select(DesignatedCentre.id).where(DesignatedCentre.request_id == request_id).limit(1)
        )
        is not None
    )


def _ask_of(request_id: int, irccs_id: int | None) -> DesignationRequest | None:
    if irccs_id is None:
        return None
    return db.session.scalars(
        select(DesignationRequest).where(
            DesignationRequest.request_id == request_id, DesignationRequest.irccs_id == irccs_id
        )
    ).one_or_none()


# --- Guards --------------------------------------------------------------------------------


@state_guard("designation_askable")
def designation_askable(request, actor) -> GuardFailure | None:
    """The recommendation names designated centres; the asking IRCCS is not one of them and
    has no request pending (other actors pass: only an IRCCS may ask)."""
    if actor is None or actor.role != "irccs":
        return None
    irccs_id = actor.organisation_id
    if not _names_centres(request.id):
        return GuardFailure(
            "designation_askable",
            "no_designated_centres",
            _l("This recommendation designates no centre: every IRCCS may adopt the device."),
        )
    if _designated(request.id, irccs_id):
        return GuardFailure(
            "designation_askable",
            "already_designated",
            _l("Your IRCCS is already a designated centre for this device."),
        )
    ask = _ask_of(request.id, irccs_id)
    if ask is not None and ask.status == "pending":
        return GuardFailure(
            "designation_askable",
            "designation_pending",
            _l("Your request to be designated is waiting for the agency's decision."),
        )
    return None


@data_guard("centre_not_designated")
def centre_not_designated(request, actor, data) -> GuardFailure | None:
    if not _designated(request.id, data.get("irccs")):
        return None
    return GuardFailure(
        "centre_not_designated",
        "already_designated",
        _l("This IRCCS is already a designated centre for this device."),
        field="irccs",
    )


@data_guard("designation_pending")
def designation_pending(request, actor, data) -> GuardFailure | None:
    ask = _ask_of(request.id, data.get("irccs"))
    if ask is not None and ask.status == "pending":
        return None
    return GuardFailure(
        "designation_pending",
        "no_pending_request",
        _l("This IRCCS has no pending request to be designated."),
        field="irccs",
    )


# --- After the transitions -----------------------------------------------------------------


@after("request", "ask_designation")
def record_ask(request, spec, actor, now: datetime, data, entry) -> None:
    """The ask, pending (again, after a refusal)."""
    ask = _ask_of(request.id, actor.organisation_id)
    if ask is None:
        ask = DesignationRequest(request_id=request.id, irccs_id=actor.organisation_id)
        db.session.add(ask)
    ask.status, ask.asked_at, ask.decided_at = "pending", now, None
    db.session.flush()


@after("request", "designate_centre")
def designate(request, spec, actor, now: datetime, data, entry) -> None:
    """The IRCCS becomes a designated centre, with its adoption record (not started)."""
    irccs_id = data["irccs"]
    db.session.add(DesignatedCentre(request_id=request.id, irccs_id=irccs_id, created_at=now))
    ask = _ask_of(request.id, irccs_id)
    if ask is not None and ask.status == "pending":
        ask.status, ask.decided_at = "accepted", now
    has_record = db.session.scalar(
        select(Adoption.id).where(Adoption.request_id == request.id, Adoption.irccs_id == irccs_id)
    )
    if has_record is None:
        db.session.add(
            Adoption(
                request_id=request.id,
                irccs_id=irccs_id,
                state="not_started",
                created_at=now,
                state_changed_at=now,
            )
        )
    db.session.flush()


@after("request", "refuse_designation")
def refuse(request, spec, actor, now: datetime, data, entry) -> None:
    ask = _ask_of(request.id, data["irccs"])
    ask.status, ask.decided_at = "refused", now
    db.session.flush()


# --- What the pages show ---------------------------------------------------------------------


@dataclass
class DesignationSummary:
    """The designated centres ("Name (Region)") and the IRCCS asking to be added."""

    centres: list[str] = field(default_factory=list)
    criteria: str = ""
    pending: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


# Marks the designated centres' rows in `designation_summary`'s one statement (a designation
# request's status is "pending", "accepted" or "refused").
_CENTRE = "designated"


@lru_cache(maxsize=2)
def summary_statement(with_asks: bool):
    """`designation_summary`'s SELECT (name, region, status), by name, built once per
    `with_asks` (the request id bound at each execution: building it each view cost as much
    as running it). The request page runs it among its other reads (`summary_of` its rows)."""
    request_id = bindparam("request_id", type_=Integer)
    centres = (
        select(Organisation.name, Organisation.region, literal(_CENTRE).label("status"))
        .join(DesignatedCentre, DesignatedCentre.irccs_id == Organisation.id)
        .where(DesignatedCentre.request_id == request_id)
    )
    query = centres
    if with_asks:
        asks = (
            select(Organisation.name, Organisation.region, DesignationRequest.status)
            .join(DesignationRequest, DesignationRequest.irccs_id == Organisation.id)
            .where(DesignationRequest.request_id == request_id)
        )
        query = union_all(centres, asks)
    return query.order_by(query.selected_columns.name)


def designation_summary(
    request_id: int, criteria: str = "", *, with_asks: bool = True
) -> DesignationSummary:
    """One statement, whatever the number of centres: the centres and (`with_asks`, the
    agency's view) the designation requests, each list by name."""
    rows = db.session.execute(summary_statement(with_asks), {"request_id": request_id}).all()
    return summary_of(rows, criteria)


def summary_of(rows, criteria: str = "") -> DesignationSummary:
    """The summary of `summary_statement`'s rows (name, region, status), in their order."""

    def label(name, region):
        return f"{name} ({region_label(region)})"

    return DesignationSummary(
        centres=[label(n, r) for n, r, status in rows if status == _CENTRE],
        criteria=criteria,
        pending=[label(n, r) for n, r, status in rows if status == "pending"],
        refused=[label(n, r) for n, r, status in rows if status == "refused"],
    )
