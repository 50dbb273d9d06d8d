"""Who is told: audiences of an event, narrowed by the same permission rules as the pages.

An event names audiences (`AGENCY`, `MANUFACTURER`, `ASSESSORS`, `IRCCS_USING` ...). The
candidates of each audience come from one query (active users of the right role and
organisation); then `may_be_told` keeps only those whom `app.domain.permissions` lets open
the object the notification links to: the request (`can_view_request`, with the assessor's
conflict-of-interest clearance) or, for an IRCCS, its own adoption record
(`can_view_adoption`). So nobody is told about what they may not open.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from app.domain import permissions
from app.extensions import db
from app.models import Adoption, CoiDeclaration, DeviceRequest, Organisation, User
from app.requests.queries import outcome_of
from app.workflow.facts import states_where

AGENCY = "agency"
MANUFACTURER = "manufacturer"
ASSESSORS = "assessors"
# IRCCS with an adoption record for the request: all of them, or those buying or using it.
IRCCS_ALL = "irccs_all"
IRCCS_USING = "irccs_using"
AUDIENCES = (AGENCY, MANUFACTURER, ASSESSORS, IRCCS_ALL, IRCCS_USING)

# Adoption states in which a suspension or resumption concerns the IRCCS at once.
PROCUREMENT_OR_USE = states_where(workflow="adoption", device_at_hand=True)


@dataclass(frozen=True)
class Recipient:
    """A user to notify and the object the notification links to."""

    user: User
    request_id: int | None
    adoption_id: int | None = None


def may_be_told(
    user,
    request,
    *,
    outcome: str | None = None,
    coi_status: str | None = None,
    adoption=None,
) -> bool:
    """Whether `user` may open what the notification links to (pure: plain attributes).

    With an adoption record: the adoption rule. Otherwise the request rule, an assessor's
    conflict of interest counting as on the request pages (an excluded assessor is never
    told; one who has not declared yet is, as the request is in their lists)."""
    if adoption is not None:
        return permissions.can_view_adoption(user, adoption)
    cleared = None
    if coi_status == permissions.COI_EXCLUDED:
        cleared = False
    elif coi_status == permissions.COI_CLEARED:
        cleared = True
    return permissions.can_view_request(user, request, outcome, cleared)


def active_users():
    return (
        select(User)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(User.active.is_(True), or_(Organisation.id.is_(None), Organisation.active))
    )


def _audience_condition(audience: str, request):
    if audience == AGENCY:
        return User.role == "agency"
    if audience == MANUFACTURER:
        return and_(User.role == "manufacturer", User.organisation_id == request.manufacturer_id)
    if audience == ASSESSORS and request.assigned_body_id is not None:
        return and_(User.role == "assessor", User.organisation_id == request.assigned_body_id)
    return None


def recipients_for(
    request: DeviceRequest, audiences, *, exclude_user_id: int | None = None
) -> list[Recipient]:
    """The users of `audiences` who may open `request` (or their adoption record for the
    IRCCS audiences), without the user who caused the event."""
    audiences = set(audiences)
    recipients: list[Recipient] = []
    conditions = [
        condition
        for condition in (_audience_condition(a, request) for a in sorted(audiences))
        if condition is not None
    ]
    if conditions:
        query = (
            active_users()
            .add_columns(CoiDeclaration)
            .outerjoin(
                CoiDeclaration,
                and_(
                    CoiDeclaration.user_id == User.id,
                    CoiDeclaration.request_id == request.id,
                    User.role == "assessor",
                ),
            )
            .where(or_(*conditions))
            .order_by(User.id)
        )
        outcome = outcome_of(request)
        for user, declaration in db.session.execute(query):
            coi = permissions.coi_status(declaration) if user.role == "assessor" else None
            if may_be_told(user, request, outcome=outcome, coi_status=coi):
                recipients.append(Recipient(user, request.id))
    if audiences & {IRCCS_ALL, IRCCS_USING}:
        recipients += _irccs_recipients(request, using_only=IRCCS_ALL not in audiences)
    return [r for r in recipients if r.user.id != exclude_user_id]


def _irccs_recipients(request: DeviceRequest, *, using_only: bool) -> list[Recipient]:
    query = (
        active_users()
        .add_columns(Adoption)
        .join(
            Adoption,
            and_(Adoption.irccs_id == User.organisation_id, Adoption.request_id == request.id),
        )
        .where(User.role == "irccs")
        .order_by(User.id)
    )
    if using_only:
        query = query.where(Adoption.state.in_(PROCUREMENT_OR_USE))
    return [
        Recipient(user, request.id, adoption.id)
        for user, adoption in db.session.execute(query)
        if may_be_told(user, request, adoption=adoption)
    ]


def users_of_organisation(organisation_id: int, role: str) -> list[User]:
    """Active users of one organisation in one role (reminders to an IRCCS)."""
    return list(
        db.session.scalars(
            active_users()
            .where(User.role == role, User.organisation_id == organisation_id)
            .order_by(User.id)
        )
    )
