"""What the needs pages show, each in a constant number of statements.

Linked requests are listed only when the viewer may see them (`visible_requests`); everyone
else sees how many requests are linked, never which.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.core.paging import Page, paginate
from app.domain import permissions
from app.extensions import db
from app.models import ClinicalNeed, DeviceRequest, NeedEndorsement, NeedLink, Organisation
from app.requests.queries import visible_requests


@dataclass(frozen=True)
class NeedRow:
    need: ClinicalNeed
    endorsements: int
    links: int


def _endorsement_count():
    return (
        select(func.count(NeedEndorsement.id))
        .where(NeedEndorsement.need_id == ClinicalNeed.id)
        .correlate(ClinicalNeed)
        .scalar_subquery()
    )


def _link_count():
    return (
        select(func.count(NeedLink.id))
        .where(NeedLink.need_id == ClinicalNeed.id)
        .correlate(ClinicalNeed)
        .scalar_subquery()
    )


def need_rows(text: str, page: int, per_page: int) -> Page:
    """The needs, newest first, with their endorsement and link counts; `text` filters the
    title, condition and posting organisation."""
    query = (
        select(ClinicalNeed, _endorsement_count(), _link_count())
        .join(Organisation, Organisation.id == ClinicalNeed.organisation_id)
        .options(joinedload(ClinicalNeed.organisation))
        .order_by(ClinicalNeed.posted_at.desc(), ClinicalNeed.id.desc())
    )
    if text:
        pattern = f"%{text}%"
        query = query.where(
            or_(
                ClinicalNeed.title.ilike(pattern),
                ClinicalNeed.condition.ilike(pattern),
                Organisation.name.ilike(pattern),
            )
        )
    result = paginate(query, page, per_page)
    result.items = [NeedRow(need, endorsed, linked) for need, endorsed, linked in result.items]
    return result


def endorsements_of(need_id: int) -> list[NeedEndorsement]:
    return list(
        db.session.scalars(
            select(NeedEndorsement)
            .where(NeedEndorsement.need_id == need_id)
            .options(joinedload(NeedEndorsement.organisation))
            .order_by(NeedEndorsement.endorsed_at, NeedEndorsement.id)
        )
    )


def linked_requests(actor, need_id: int) -> tuple[list[DeviceRequest], int]:
    """(the linked requests the actor may see, how many are linked in all)."""
    visible = list(
        db.session.scalars(
            visible_requests(actor)
            .join(NeedLink, NeedLink.request_id == DeviceRequest.id)
            .where(NeedLink.need_id == need_id)
            .order_by(DeviceRequest.id)
        )
    )
    total = db.session.scalar(select(func.count(NeedLink.id)).where(NeedLink.need_id == need_id))
    return visible, total or 0


def linkable_requests(actor) -> list[DeviceRequest]:
    """The manufacturer's requests it may still link to a need."""
    if actor.role != "manufacturer":
        return []
    return list(
        db.session.scalars(
            visible_requests(actor)
            .where(DeviceRequest.state.in_(permissions.NEED_LINKABLE_STATES))
            .order_by(DeviceRequest.id)
        )
    )


def needs_of_request(request_id: int) -> list[tuple[ClinicalNeed, int]]:
    """The needs a request is linked to, with their endorsement counts (one statement)."""
    rows = db.session.execute(
        select(ClinicalNeed, _endorsement_count())
        .join(NeedLink, NeedLink.need_id == ClinicalNeed.id)
        .where(NeedLink.request_id == request_id)
        .options(joinedload(ClinicalNeed.organisation))
        .order_by(ClinicalNeed.id)
    )
    return [(need, count) for need, count in rows]
