"""Loading IRCCS adoption records the actor may see: the SQL twin of `can_view_adoption`."""

from __future__ import annotations

from sqlalchemy import Select, false, select
from sqlalchemy.orm import joinedload

from app.domain import permissions
from app.domain.errors import NotFound
from app.extensions import db
from app.models import Adoption, Organisation
from app.workflow.definitions import ADOPTION_WORKFLOW


def visible_adoptions(actor) -> Select:
    """SELECT of the adoption records `actor` may see (agency: all; IRCCS: its own).

    The request and the IRCCS are eager-loaded, so list pages make one query.
    """
    query = select(Adoption).options(joinedload(Adoption.request), joinedload(Adoption.irccs))
    if actor.role == "agency":
        return query
    if actor.role == "irccs":
        return query.where(Adoption.irccs_id == actor.organisation_id)
    return query.where(false())


def get_adoption_for(
    actor, adoption_id: int, *, for_update: bool = False, trigger: str | None = None
) -> Adoption:
    """The adoption record if `actor` may see it; NotFound otherwise (also when it does not
    exist: never reveal which). With a `trigger`, the record to take that action on, by the
    rule `fire` applies (`permissions.can_reach_adoption`: the region's users reach it to
    resolve a barrier the region owns, and for nothing else)."""
    query = select(Adoption).where(Adoption.id == adoption_id)
    if for_update:
        # Locked, and read again even if this request already loaded it: the checks
        # that follow must see the row as it is now, not as it was (app.core.locking).
        query = query.with_for_update().execution_options(populate_existing=True)
    adoption = db.session.scalars(query).one_or_none()
    if adoption is None:
        raise NotFound("adoption record not found")
    if not _reaches(actor, adoption, trigger):
        raise NotFound("adoption record not found", denied=("adoption", adoption.id))
    return adoption


def _reaches(actor, adoption: Adoption, trigger: str | None) -> bool:
    if trigger is None:
        return permissions.can_view_adoption(actor, adoption)
    specs = ADOPTION_WORKFLOW.by_trigger(trigger)
    roles = frozenset().union(*(spec.roles for spec in specs))
    return permissions.can_reach_adoption(actor, adoption, roles)


def adoptions_of_request(actor, request_id: int) -> list[Adoption]:
    """The adoption records of one request that `actor` may see, by IRCCS name."""
    query = (
        visible_adoptions(actor)
        .join(Organisation, Adoption.irccs_id == Organisation.id)
        .where(Adoption.request_id == request_id)
        .order_by(Organisation.name)
    )
    return list(db.session.scalars(query).unique())
