"""What the reimbursement case page shows: the case, the request's public facts, the
actions the reader may take now (the shared action panel) and the case's audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from sqlalchemy import select

from app.core import fire as workflow_service
from app.extensions import db
from app.models import AuditEntry, DeviceRequest, Reimbursement
from app.requests.action_panel import (
    ActionView,
    AuditRow,
    action_views,
    audit_rows,
    failed_action_for,
)
from app.requests.queries import visible_requests

ENTITY_TYPE = "reimbursement"


@dataclass
class CasePage:
    case: Reimbursement
    # The request page, when the reader may open it (a region's users may not, unless their
    # body assessed the device).
    request_url: str | None
    # Which IRCCS asked is adoption business: not for the manufacturer (who reads the status
    # and the tariff, both public).
    shows_requester: bool = False
    actions: list[ActionView] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)


def case_page(actor, case: Reimbursement) -> CasePage:
    actions = action_views(
        workflow_service.action_availability(actor, case),
        version=case.version,
        url_for_trigger=lambda trigger: url_for(
            "reimbursements.case_action", case_id=case.id, trigger=trigger
        ),
        failure=failed_action_for("reimbursement", case.id),
        kind="reimbursement",
        obj=case,
    )
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == ENTITY_TYPE, AuditEntry.entity_id == case.id)
        .order_by(AuditEntry.seq)
    ).all()
    return CasePage(
        case=case,
        request_url=_request_url(actor, case),
        shows_requester=actor.role != "manufacturer",
        actions=actions,
        audit=audit_rows(entries, role=actor.role),
    )


def _request_url(actor, case: Reimbursement) -> str | None:
    visible = db.session.scalar(
        visible_requests(actor)
        .where(DeviceRequest.id == case.request_id)
        .with_only_columns(DeviceRequest.id)
        .limit(1)
    )
    return url_for("requests.detail", request_id=case.request_id) if visible else None
