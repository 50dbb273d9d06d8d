"""Posting, endorsing and linking needs, and what they declare for prioritisation.

Every change is audit-logged: a posted need and an endorsement under the need
(entity "clinical_need"), a link or unlink under the request it concerns (so that the
request's trail shows it). Never commits: the view or API owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from app.core.audit import record_audit
from app.domain import permissions
from app.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.domain.needs import NeedFigures, check_need, declared_need_score, figures
from app.extensions import db
from app.models import ClinicalNeed, DeviceRequest, NeedEndorsement, NeedLink, Organisation

NEED_ENTITY = "clinical_need"
NEED_POSTED = "need_posted"
NEED_ENDORSED = "need_endorsed"
NEED_LINKED = "need_linked"
NEED_UNLINKED = "need_unlinked"
TITLE_MAX = 200


def get_need(actor, need_id: int) -> ClinicalNeed:
    if not permissions.can_read_needs(actor):
        raise NotFound("no such need")
    need = db.session.get(ClinicalNeed, need_id)
    if need is None:
        raise NotFound("no such need")
    return need


def post_need(actor, values: dict, now: datetime, ip: str | None = None) -> ClinicalNeed:
    """Post a need for the actor's organisation. `values`: title, condition, population,
    patients_per_year (int), standard_of_care, gap."""
    if not permissions.can_post_need(actor):
        raise PermissionDenied("only an IRCCS or a regional body posts needs")
    errors = check_need(values)
    title = (values.get("title") or "").strip() or (values.get("condition") or "").strip()
    if len(title) > TITLE_MAX:
        errors["title"] = "too_long"
    if errors:
        raise ValidationFailed("invalid need", fields=errors)
    need = ClinicalNeed(
        organisation_id=actor.organisation_id,
        posted_by_id=actor.id,
        title=title[:TITLE_MAX],
        condition=values["condition"].strip(),
        population=values["population"].strip(),
        patients_per_year=values["patients_per_year"],
        standard_of_care=values["standard_of_care"].strip(),
        gap=values["gap"].strip(),
        posted_at=now,
    )
    db.session.add(need)
    db.session.flush()
    record_audit(
        actor,
        entity_type=NEED_ENTITY,
        entity_id=need.id,
        action=NEED_POSTED,
        now=now,
        data={"organisation_id": need.organisation_id, "patients_per_year": need.patients_per_year},
        ip=ip,
    )
    return need


def endorse_need(
    actor, need: ClinicalNeed, now: datetime, comment: str = "", ip: str | None = None
) -> NeedEndorsement:
    """Another IRCCS endorses the need, once."""
    if not permissions.can_endorse_need(actor, need):
        raise PermissionDenied("only another IRCCS endorses a need")
    exists = db.session.scalar(
        select(NeedEndorsement.id).where(
            NeedEndorsement.need_id == need.id,
            NeedEndorsement.organisation_id == actor.organisation_id,
        )
    )
    if exists is not None:
        raise Conflict("your IRCCS endorsed this need already")
    endorsement = NeedEndorsement(
        need_id=need.id,
        organisation_id=actor.organisation_id,
        endorsed_by_id=actor.id,
        comment=(comment or "").strip(),
        endorsed_at=now,
    )
    db.session.add(endorsement)
    db.session.flush()
    record_audit(
        actor,
        entity_type=NEED_ENTITY,
        entity_id=need.id,
        action=NEED_ENDORSED,
        now=now,
        data={"organisation_id": actor.organisation_id},
        ip=ip,
    )
    return endorsement


def link_need(
    actor, request: DeviceRequest, need: ClinicalNeed, now: datetime, ip: str | None = None
) -> NeedLink:
    """The manufacturer links its request to a need (before appraisal)."""
    if not permissions.can_link_need(actor, request):
        raise PermissionDenied("only the manufacturer links its request, before appraisal")
    exists = db.session.scalar(
        select(NeedLink.id).where(NeedLink.request_id == request.id, NeedLink.need_id == need.id)
    )
    if exists is not None:
        raise Conflict("the request is linked to this need already")
    link = NeedLink(request_id=request.id, need_id=need.id, linked_by_id=actor.id, linked_at=now)
    db.session.add(link)
    db.session.flush()
    _audit_link(actor, request, need, NEED_LINKED, now, ip)
    return link


def unlink_need(
    actor, request: DeviceRequest, need: ClinicalNeed, now: datetime, ip: str | None = None
) -> None:
    if not permissions.can_link_need(actor, request):
        raise PermissionDenied("only the manufacturer unlinks its request, before appraisal")
    link = db.session.scalar(
        select(NeedLink).where(NeedLink.request_id == request.id, NeedLink.need_id == need.id)
    )
    if link is None:
        raise NotFound("the request is not linked to this need")
    db.session.delete(link)
    db.session.flush()
    _audit_link(actor, request, need, NEED_UNLINKED, now, ip)


def _audit_link(actor, request, need, action, now, ip) -> None:
    record_audit(
        actor,
        entity_type="request",
        entity_id=request.id,
        request_id=request.id,
        action=action,
        now=now,
        data={"need_id": need.id, "need_title": need.title},
        ip=ip,
    )


# --- What the needs declare, for prioritisation ---------------------------------------------


def need_figures(request_ids: Iterable[int]) -> dict[int, NeedFigures]:
    """{request id: NeedFigures} for these requests, in two statements whatever their number."""
    ids = list(set(request_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            NeedLink.request_id,
            ClinicalNeed.id,
            ClinicalNeed.patients_per_year,
            Organisation.id,
            Organisation.kind,
        )
        .join(ClinicalNeed, ClinicalNeed.id == NeedLink.need_id)
        .join(Organisation, Organisation.id == ClinicalNeed.organisation_id)
        .where(NeedLink.request_id.in_(ids))
    ).all()
    need_ids = {row[1] for row in rows}
    endorsers: dict[int, set[int]] = defaultdict(set)
    if need_ids:
        for need_id, org_id in db.session.execute(
            select(NeedEndorsement.need_id, NeedEndorsement.organisation_id).where(
                NeedEndorsement.need_id.in_(need_ids)
            )
        ):
            endorsers[need_id].add(org_id)
    per_request: dict[int, list] = defaultdict(list)
    for request_id, need_id, patients, org_id, kind in rows:
        poster = org_id if kind == "irccs" else None
        per_request[request_id].append((poster, endorsers[need_id], patients))
    return {request_id: figures(per_request.get(request_id, ())) for request_id in ids}


def derived_scores(request_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """{request id: {derived criterion: score}} (see `app.domain.needs.declared_need_score`)."""
    return {
        request_id: {"declared_need": declared_need_score(f.irccs, f.patients)}
        for request_id, f in need_figures(request_ids).items()
    }
