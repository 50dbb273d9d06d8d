"""Loading requests the actor may see: one scoped query, mirroring `domain.permissions`.

Conflicts of interest: an assessor who declared a conflict for a request (not overridden by the
agency) no longer sees it anywhere; one who has not declared yet still finds it in lists, but
`get_request_for` refuses to open it (CoiDeclarationRequired, a NotFound) until they declare.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Select, bindparam, false, or_, select

from app.domain import permissions
from app.domain.errors import CoiDeclarationRequired, NotFound
from app.extensions import db
from app.models import CoiDeclaration, DeviceRequest, Recommendation
from app.workflow.states import POSITIVE_OUTCOMES


def visible_requests(actor) -> Select:
    """SELECT of the requests `actor` may see (the SQL twin of `can_view_request`)."""
    query = select(DeviceRequest)
    if actor.role == "manufacturer":
        return query.where(DeviceRequest.manufacturer_id == actor.organisation_id)
    if actor.role == "agency":
        return query.where(DeviceRequest.state != "draft")
    if actor.role == "assessor":
        excluded = select(CoiDeclaration.request_id).where(
            CoiDeclaration.user_id == actor.id,
            CoiDeclaration.has_conflict.is_(True),
            CoiDeclaration.overridden_at.is_(None),
        )
        return query.where(
            DeviceRequest.assigned_body_id == actor.organisation_id,
            DeviceRequest.id.not_in(excluded),
        )
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


def coi_status_for(actor, request: DeviceRequest) -> str | None:
    """The assessor's conflict-of-interest status for `request` (permissions.COI_*); None for
    anyone who is not an assessor of its assigned body."""
    if not permissions.is_assessor_of(actor, request):
        return None
    declaration = db.session.scalars(
        select(CoiDeclaration).where(
            CoiDeclaration.request_id == request.id, CoiDeclaration.user_id == actor.id
        )
    ).one_or_none()
    return permissions.coi_status(declaration)


def get_request_for(
    actor, request_id: int, *, for_update: bool = False, options: tuple = ()
) -> DeviceRequest:
    """The request if `actor` may see it; NotFound otherwise (also when it does not exist).

    An assessor must be cleared of conflicts of interest: CoiDeclarationRequired before they
    declared, NotFound after declaring a conflict the agency has not overridden. `options`:
    loader options for what the caller reads next (the request page's relationships)."""
    if for_update:
        # Locked, and read again even if this request already loaded it: the checks
        # that follow must see the row as it is now, not as it was (app.core.locking).
        query = (
            _request_statement(options).with_for_update().execution_options(populate_existing=True)
        )
    else:
        query = _request_statement(options)
    # (unique(): `options` may join a collection, one row per item.)
    request = db.session.scalars(query, {"request_id": request_id}).unique().one_or_none()
    if request is None:
        raise NotFound("request not found")
    status = coi_status_for(actor, request)
    if status == permissions.COI_MISSING:
        raise CoiDeclarationRequired("declare conflicts of interest first", request_id=request.id)
    cleared = None if status is None else status == permissions.COI_CLEARED
    if not permissions.can_view_request(actor, request, outcome_of(request), cleared):
        raise NotFound("request not found", denied=("request", request.id))
    return request


@lru_cache(maxsize=32)
def _request_statement(options: tuple) -> Select:
    """SELECT of one request (its id bound at execution) with these loader options, built
    once per options (callers pass the same tuple each time: e.g. the request page's
    `page_loading()`)."""
    query = select(DeviceRequest).where(DeviceRequest.id == bindparam("request_id"))
    return query.options(*options) if options else query


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
