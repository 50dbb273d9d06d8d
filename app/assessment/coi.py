"""Conflicts of interest of the assessors of the assigned body, per request.

Before any assessor of the assigned body opens the dossier they declare, for this request,
"none" or a description of their conflict. No declaration is not "none": the scoped loader
(`app.requests.queries.get_request_for`) refuses them until they declare. A declared conflict
excludes the assessor until the agency overrides it with a reason. A "none" may later be
turned into a declared conflict (something came up); a declared conflict cannot be taken back
by the assessor. Every declaration and override is audit-logged.

The "assessor_cleared" guard below refuses the assessor's workflow actions (accept or decline
the assignment, and the assessment's own actions: the workflow table declares it on each) to
an assessor who is not cleared; the available-actions list shows them blocked.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.audit import record_audit
from app.core.guards import GuardFailure, state_guard
from app.domain import permissions
from app.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import CoiDeclaration, DeviceRequest
from app.notifications.hooks import conflict_overridden
from app.requests.queries import coi_status_for

DECLARED = "coi_declared"
AMENDED = "coi_amended"
OVERRIDDEN = "coi_overridden"


def declaration_of(request_id: int, user_id: int) -> CoiDeclaration | None:
    return db.session.scalars(
        select(CoiDeclaration).where(
            CoiDeclaration.request_id == request_id, CoiDeclaration.user_id == user_id
        )
    ).one_or_none()


def declarations_for(request_id: int) -> list[CoiDeclaration]:
    """Every declaration made for the request, with the declarant and the overrider."""
    return list(
        db.session.scalars(
            select(CoiDeclaration)
            .where(CoiDeclaration.request_id == request_id)
            .options(joinedload(CoiDeclaration.user), joinedload(CoiDeclaration.override_by))
            .order_by(CoiDeclaration.declared_at, CoiDeclaration.id)
        )
    )


def request_for_declaration(actor, request_id: int) -> DeviceRequest:
    """The request, for the declaration page: only assessors of its assigned body (whatever
    their clearance); NotFound for everyone else."""
    request = db.session.get(DeviceRequest, request_id)
    if request is None or not permissions.can_declare_coi(actor, request):
        raise NotFound("request not found")
    return request


def declare(
    actor,
    request: DeviceRequest,
    *,
    has_conflict: bool,
    description: str,
    now: datetime,
    ip: str | None = None,
) -> CoiDeclaration:
    """Record the actor's declaration for the request (see the module docstring)."""
    if not permissions.can_declare_coi(actor, request):
        raise NotFound("request not found")
    description = (description or "").strip() if has_conflict else ""
    if has_conflict and not description:
        raise ValidationFailed("describe the conflict", fields={"description": "required"})
    declaration = declaration_of(request.id, actor.id)
    if declaration is None:
        declaration = CoiDeclaration(request_id=request.id, user_id=actor.id)
        db.session.add(declaration)
        action, changes = DECLARED, {}
    elif declaration.has_conflict:
        raise Conflict("a declared conflict can only be overridden by the agency")
    elif not has_conflict:
        return declaration  # "none" again: nothing changes
    else:
        action = AMENDED
        changes = {"has_conflict": [False, True], "description": ["", description]}
    declaration.has_conflict = has_conflict
    declaration.description = description
    declaration.declared_at = now
    _audit(
        actor,
        declaration,
        action,
        now=now,
        ip=ip,
        data={"has_conflict": has_conflict, "description": description},
        changes=changes,
    )
    return declaration


def override(
    actor, declaration: CoiDeclaration, *, reason: str, now: datetime, ip: str | None = None
) -> CoiDeclaration:
    """The agency lets a conflicted assessor take part, saying why."""
    if not permissions.can_override_coi(actor):
        raise PermissionDenied("only the agency overrides a conflict of interest")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("an override needs its reason", fields={"reason": "required"})
    if not declaration.has_conflict or declaration.overridden_at is not None:
        raise Conflict("there is no conflict to override")
    declaration.override_by_id = actor.id
    declaration.override_reason = reason
    declaration.overridden_at = now
    _audit(
        actor,
        declaration,
        OVERRIDDEN,
        now=now,
        ip=ip,
        reason=reason,
        data={"assessor": declaration.user_id},
        changes={"overridden": [False, True]},
    )
    db.session.flush()
    conflict_overridden(declaration.request, declaration.user_id, now)
    return declaration


def _audit(actor, declaration: CoiDeclaration, action: str, *, now, ip, **details) -> None:
    """Flush `declaration` (a new one gets its id), then audit `action` on it; `details` are
    record_audit's data, changes and reason."""
    db.session.flush()
    record_audit(
        actor,
        entity_type="coi_declaration",
        entity_id=declaration.id,
        request_id=declaration.request_id,
        action=action,
        now=now,
        ip=ip,
        **details,
    )


def declaration_for_override(actor, request: DeviceRequest, declaration_id: int):
    declaration = db.session.get(CoiDeclaration, declaration_id)
    if declaration is None or declaration.request_id != request.id:
        raise NotFound("declaration not found")
    return declaration


def is_cleared(actor, request: DeviceRequest) -> bool:
    return coi_status_for(actor, request) == permissions.COI_CLEARED


@state_guard("assessor_cleared")
def assessor_cleared(request, actor) -> GuardFailure | None:
    """An assessor acts on the request only once cleared of conflicts of interest for it."""
    if actor is None or actor.role != "assessor" or is_cleared(actor, request):
        return None
    return GuardFailure(
        "assessor_cleared",
        "coi_not_cleared",
        _l(
            "Declare your conflicts of interest for this request first (a declared conflict "
            "needs the agency's override)."
        ),
    )
