"""What the adoption pages show: the list (per role) and one adoption record.

IRCCS: the published positive recommendations, each with this IRCCS's own adoption record
(or none yet). Agency: every adoption record, filterable by IRCCS and state. Both lists cost
two statements per page (count + rows, with the request, manufacturer, IRCCS and
recommendation eager-loaded). Single records are loaded with the scoped loader
`app.adoption.queries.get_adoption_for` (NotFound for another IRCCS's record).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from sqlalchemy import and_, select
from sqlalchemy.orm import contains_eager, joinedload

from app.adoption.queries import get_adoption_for, visible_adoptions
from app.core import fire as workflow_service
from app.core.paging import Page, paginate
from app.extensions import db
from app.labels import region_label
from app.models import (
    Adoption,
    AuditEntry,
    DesignatedCentre,
    DeviceRequest,
    Organisation,
    Recommendation,
    Reimbursement,
)
from app.reimbursement.queries import case_of_adoption, waits_for
from app.requests.action_panel import (
    ActionView,
    AuditRow,
    action_views,
    audit_rows,
    failed_action_for,
)
from app.requests.queries import search_filter, visible_requests
from app.workflow.states import ADOPTION_STATES

ADOPTION_ENTITY_TYPE = "adoption"
NO_RECORD = "none"


@dataclass(frozen=True)
class AdoptionFilters:
    state: str | None = None
    irccs_id: int | None = None
    text: str = ""
    page: int = 1


def irccs_recommendations(actor, filters: AdoptionFilters, per_page: int) -> Page:
    """Page of (DeviceRequest, Adoption | None): published positive recommendations with
    the actor's own adoption record, most recently published first."""
    query = (
        visible_requests(actor)
        .add_columns(Adoption)
        .outerjoin(
            Adoption,
            and_(
                Adoption.request_id == DeviceRequest.id,
                Adoption.irccs_id == actor.organisation_id,
            ),
        )
        .outerjoin(Recommendation, Recommendation.request_id == DeviceRequest.id)
        .options(
            joinedload(DeviceRequest.manufacturer),
            contains_eager(DeviceRequest.recommendation),
        )
    )
    if filters.state == NO_RECORD:
        query = query.where(Adoption.id.is_(None))
    elif filters.state in ADOPTION_STATES:
        query = query.where(Adoption.state == filters.state)
    query = search_filter(query, filters.text)
    query = query.order_by(Recommendation.published_at.desc(), DeviceRequest.id.desc())
    return paginate(query, filters.page, per_page)


def agency_adoptions(actor, filters: AdoptionFilters, per_page: int) -> Page:
    """Page of Adoption records (all IRCCS), filterable by IRCCS and state."""
    # visible_adoptions eager-loads the request and the IRCCS; the join is for the filters.
    query = (
        visible_adoptions(actor)
        .join(DeviceRequest, DeviceRequest.id == Adoption.request_id)
        .options(joinedload(Adoption.request).joinedload(DeviceRequest.manufacturer))
    )
    if filters.state in ADOPTION_STATES:
        query = query.where(Adoption.state == filters.state)
    if filters.irccs_id:
        query = query.where(Adoption.irccs_id == filters.irccs_id)
    query = search_filter(query, filters.text)
    query = query.order_by(Adoption.state_changed_at.desc(), Adoption.id.desc())
    return paginate(query, filters.page, per_page, scalars=True)


def irccs_choices(active_only: bool = False) -> list[tuple[int, str]]:
    query = select(Organisation.id, Organisation.name).where(Organisation.kind == "irccs")
    if active_only:
        query = query.where(Organisation.active.is_(True))
    rows = db.session.execute(query.order_by(Organisation.name))
    return [(row.id, row.name) for row in rows]


def designated_centre_ids(request_id: int) -> list[int]:
    """The IRCCS the request's recommendation designates (none: every IRCCS)."""
    return list(
        db.session.scalars(
            select(DesignatedCentre.irccs_id)
            .where(DesignatedCentre.request_id == request_id)
            .order_by(DesignatedCentre.irccs_id)
        )
    )


def designated_centre_names(request_id: int) -> list[str]:
    """The designated IRCCS, "Name (Region)", by name (one query)."""
    rows = db.session.execute(
        select(Organisation.name, Organisation.region)
        .join(DesignatedCentre, DesignatedCentre.irccs_id == Organisation.id)
        .where(DesignatedCentre.request_id == request_id)
        .order_by(Organisation.name)
    )
    return [f"{name} ({region_label(region)})" for name, region in rows]


@dataclass
class AdoptionPage:
    adoption: Adoption
    recommendation: Recommendation | None
    actions: list[ActionView] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)
    # The regional tariff case of this IRCCS's region for the request (None: not requested),
    # and whether the record waits for it (ready on the IRCCS's side, the case still open).
    tariff: Reimbursement | None = None
    waiting_for_tariff: bool = False


def load_adoption(actor, adoption_id: int) -> Adoption:
    """The record if `actor` may see it (NotFound otherwise: another IRCCS's record too)."""
    return get_adoption_for(actor, adoption_id)


def adoption_page(actor, adoption: Adoption) -> AdoptionPage:
    actions = action_views(
        workflow_service.action_availability(actor, adoption),
        version=adoption.version,
        url_for_trigger=lambda trigger: url_for(
            "adoptions.adoption_action", adoption_id=adoption.id, trigger=trigger
        ),
        failure=failed_action_for("adoption", adoption.id),
        kind="adoption",
        obj=adoption,
    )
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == ADOPTION_ENTITY_TYPE,
            AuditEntry.entity_id == adoption.id,
        )
        .order_by(AuditEntry.seq)
    ).all()
    tariff = case_of_adoption(adoption)
    return AdoptionPage(
        adoption=adoption,
        recommendation=adoption.request.recommendation,
        actions=actions,
        audit=audit_rows(entries, role=actor.role),
        tariff=tariff,
        waiting_for_tariff=waits_for(adoption, tariff),
    )
