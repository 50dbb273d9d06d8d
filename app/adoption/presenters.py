"""What the adoption pages show: the list (per role) and one adoption record.

IRCCS: the published positive recommendations, each with this IRCCS's own adoption record
(or none yet). Agency: every adoption record, filterable by IRCCS and state. Both lists cost
two statements per page (count + rows, with the request, manufacturer, IRCCS and
recommendation eager-loaded). Single records are loaded with the scoped loader
`app.adoption.queries.get_adoption_for` (NotFound for another IRCCS's record).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from sqlalchemy import and_, select
from sqlalchemy.orm import contains_eager, joinedload

from app.adoption.barriers import BarrierRow, barrier_row, barrier_rows, suggested_barrier
from app.adoption.queries import get_adoption_for, visible_adoptions
from app.core import fire as workflow_service
from app.core.paging import Page, paginate
from app.domain import permissions
from app.extensions import db
from app.forms.actions import build_action_form
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
from app.models.types import utcnow
from app.reimbursement.queries import case_of_adoption, waits_for
from app.requests.action_panel import (
    ActionView,
    AuditRow,
    action_views,
    audit_rows,
    failed_action_for,
)
from app.requests.perform import spec_for
from app.requests.queries import search_filter, visible_requests
from app.workflow.definitions import ADOPTION_WORKFLOW
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
    barriers: list[BarrierRow] = field(default_factory=list)
    # The actor may record a barrier here (its form is among `actions`), or why not yet.
    can_record_barrier: bool = False
    barrier_not_yet: list[str] = field(default_factory=list)
    # The regional tariff case of this IRCCS's region for the request (None: not requested),
    # and whether the record waits for it (ready on the IRCCS's side, the case still open).
    tariff: Reimbursement | None = None
    waiting_for_tariff: bool = False


def load_adoption(actor, adoption_id: int) -> Adoption:
    """The record if `actor` may see it (NotFound otherwise: another IRCCS's record too)."""
    return get_adoption_for(actor, adoption_id)


# Actions taken on one barrier: drawn in the barriers panel, one form per barrier.
BARRIER_ROW_TRIGGERS = ("resolve_barrier", "escalate_barrier")


def adoption_page(actor, adoption: Adoption, now: datetime | None = None) -> AdoptionPage:
    now = now or utcnow()
    available = workflow_service.action_availability(actor, adoption, now)
    failure = failed_action_for("adoption", adoption.id)
    record = next((a for a in available if a.spec.trigger == "record_barrier"), None)
    actions = action_views(
        [a for a in available if _in_action_list(a, failure)],
        version=adoption.version,
        url_for_trigger=lambda trigger: url_for(
            "adoptions.adoption_action", adoption_id=adoption.id, trigger=trigger
        ),
        failure=failure,
        kind="adoption",
        obj=adoption,
    )
    _suggest_barrier(actions, adoption, failure)
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == ADOPTION_ENTITY_TYPE,
            AuditEntry.entity_id == adoption.id,
        )
        .order_by(AuditEntry.seq)
    ).all()
    # What the template reads of the record's relations, loaded here: no template queries.
    _ = (adoption.irccs, adoption.request.manufacturer, adoption.procurement)
    tariff = case_of_adoption(adoption)
    return AdoptionPage(
        adoption=adoption,
        recommendation=adoption.request.recommendation,
        actions=actions,
        audit=audit_rows(entries, role=actor.role),
        barriers=_barrier_panel(actor, adoption, now, failure),
        can_record_barrier=record is not None and not record.blocked,
        barrier_not_yet=[str(f.message) for f in record.blocked_by] if record else [],
        tariff=tariff,
        waiting_for_tariff=waits_for(adoption, tariff),
    )


def _in_action_list(action, failure) -> bool:
    """The generic action list leaves out the per-barrier actions (drawn with each barrier)
    and a barrier that cannot be recorded yet (the panel says when it can)."""
    trigger = action.spec.trigger
    if trigger in BARRIER_ROW_TRIGGERS:
        return False
    failed = failure is not None and failure.trigger == trigger
    return not (trigger == "record_barrier" and action.blocked and not failed)


def _suggest_barrier(actions: list[ActionView], adoption: Adoption, failure) -> None:
    """After a decline, the record form offers the barrier its reason points to."""
    suggestion = suggested_barrier(adoption)
    for action in actions:
        if action.trigger != "record_barrier" or action.form is None or suggestion is None:
            continue
        if failure is not None and failure.trigger == "record_barrier":
            continue  # keep what the user typed
        action.form.barrier_kind.data, action.form.barrier_owner.data = suggestion


@dataclass
class BarrierPage:
    """One barrier on its own page: the region's users resolve theirs here."""

    adoption: Adoption
    row: BarrierRow
    # The reader may open the adoption record itself (its IRCCS, the agency).
    record_url: str | None = None


def barrier_page(actor, barrier, now: datetime | None = None) -> BarrierPage:
    now = now or utcnow()
    adoption = barrier.adoption
    _ = (adoption.irccs, adoption.request)  # what the template reads, loaded here
    row = barrier_row(actor, adoption, barrier, now)
    _add_barrier_forms(
        [row], adoption, failed_action_for("adoption", adoption.id), "adoptions.barrier_action"
    )
    return BarrierPage(
        adoption=adoption,
        row=row,
        record_url=(
            url_for("adoptions.detail", adoption_id=adoption.id)
            if permissions.can_view_adoption(actor, adoption)
            else None
        ),
    )


def _barrier_panel(actor, adoption: Adoption, now: datetime, failure) -> list[BarrierRow]:
    """The record's barriers, each with the resolve and escalate forms the actor may use
    (the one that just failed keeps what was typed and its errors)."""
    rows = barrier_rows(actor, adoption, now)
    _add_barrier_forms(rows, adoption, failure, "adoptions.adoption_action")
    return rows


def _add_barrier_forms(rows: list[BarrierRow], adoption: Adoption, failure, endpoint) -> None:
    for row in rows:
        allowed = {"resolve_barrier": row.can_resolve, "escalate_barrier": row.can_escalate}
        for trigger, may in allowed.items():
            failed = (
                failure is not None
                and failure.trigger == trigger
                and str(failure.form.barrier.data) == str(row.barrier.id)
            )
            if not may:
                if failed:
                    row.refusals = _refusals(failure)
                continue
            form = failure.form if failed else _barrier_form(trigger, adoption, row)
            _unique_ids(form, row.barrier.id)
            row.forms[trigger] = BarrierAction(
                trigger=trigger,
                form=form,
                url=_action_url(endpoint, adoption, row, trigger),
                is_open=failed,
                message=failure.message if failed else "",
            )


def _refusals(failure) -> list[str]:
    """What the refused form says (its fields' errors: a failed guard names the barrier)."""
    messages = [str(m) for errors in failure.form.errors.values() for m in errors]
    return messages or [str(failure.message)]


def _action_url(endpoint: str, adoption: Adoption, row: BarrierRow, trigger: str) -> str:
    if endpoint == "adoptions.barrier_action":
        return url_for(endpoint, barrier_id=row.barrier.id, trigger=trigger)
    return url_for(endpoint, adoption_id=adoption.id, trigger=trigger)


@dataclass
class BarrierAction:
    trigger: str
    form: object
    url: str
    is_open: bool = False
    message: str = ""


def _barrier_form(trigger: str, adoption: Adoption, row: BarrierRow):
    spec = spec_for(ADOPTION_WORKFLOW, trigger, adoption.state)
    form = build_action_form(spec, version=adoption.version)
    form.barrier.data = str(row.barrier.id)
    return form


def _unique_ids(form, barrier_id: int) -> None:
    """Several forms of the same action on one page: each field's id names its barrier
    (the names stay what the action reads)."""
    for bound in form:
        bound.id = f"{bound.name}-{barrier_id}"
        bound.label.field_id = bound.id
