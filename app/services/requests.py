"""Loading requests the actor may see: one scoped query, mirroring `domain.permissions`."""

from __future__ import annotations

from sqlalchemy import Select, false, or_, select

from app.domain import permissions
from app.domain.errors import NotFound
from app.extensions import db
from app.models import DeviceRequest, Recommendation
from app.workflow.states import POSITIVE_OUTCOMES


def visible_requests(actor) -> Select:
    """SELECT of the requests `actor` may see (the SQL twin of `can_view_request`)."""
    query = select(DeviceRequest)
    if actor.role == "manufacturer":
        return query.where(DeviceRequest.manufacturer_id == actor.organisation_id)
    if actor.role == "agency":
        return query.where(DeviceRequest.state != "draft")
    if actor.role == "assessor":
        return query.where(DeviceRequest.assigned_body_id == actor.organisation_id)
    if actor.role == "irccs":
        return query.where(
            DeviceRequest.state.in_(permissions.PUBLISHED_STATES),
            DeviceRequest.id.in_(
                select(Recommendation.request_id).where(
                    Recommendation.outcome.in_(POSITIVE_OUTCOMES)
                )
            ),
        )
    return query.where(false())


def outcome_of(request: DeviceRequest) -> str | None:
    recommendation = getattr(request, "recommendation", None)
    return recommendation.outcome if recommendation is not None else None


def get_request_for(actor, request_id: int, *, for_update: bool = False) -> DeviceRequest:
    """The request if `actor` may see it; NotFound otherwise (also when it does not exist)."""
    query = select(DeviceRequest).where(DeviceRequest.id == request_id)
    if for_update:
        query = query.with_for_update()
    request = db.session.scalars(query).one_or_none()
    if request is None or not permissions.can_view_request(actor, request, outcome_of(request)):
        raise NotFound("request not found")
    return request


def search_filter(query: Select, text: str | None) -> Select:
    """Narrow a request query by free text over the device's names and receipt number."""
    if not text:
        return query
    like = f"%{text.strip()}%"
    return query.where(
        or_(
            DeviceRequest.trade_name.ilike(like),
            DeviceRequest.model.ilike(like),
            DeviceRequest.receipt_number.ilike(like),
            DeviceRequest.emdn_code.ilike(like),
        )
    )
