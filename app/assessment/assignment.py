"""Choosing the regional HTA body for a request: each body's region, its open assessments and
how many of them are late, in one query; the choice itself fires `assign_body`.

An assessment is "open" for a body while a request assigned to it is in assignment,
assessment, information_requested or factual_accuracy_check; it is "late" when the stage it is
in now is past its due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, distinct, func, select

from app.core.fire import fire
from app.domain.errors import PermissionDenied
from app.extensions import db
from app.models import AuditEntry, DeviceRequest, Organisation, StageRecord
from app.workflow.facts import REQUEST, states_where

# The states in which the assigned body holds the file: its workload.
OPEN_ASSESSMENT_STATES: tuple[str, ...] = states_where(workflow=REQUEST, body_engaged=True)


@dataclass(frozen=True)
class BodyLoad:
    id: int
    name: str
    region: str
    open_assessments: int
    late_assessments: int


def body_workload(now: datetime) -> list[BodyLoad]:
    """Every active regional body with its open and late assessments: ONE statement."""
    late = case((StageRecord.due_at < now, DeviceRequest.id), else_=None)
    query = (
        select(
            Organisation.id,
            Organisation.name,
            Organisation.region,
            func.count(distinct(DeviceRequest.id)).label("open_assessments"),
            func.count(distinct(late)).label("late_assessments"),
        )
        .outerjoin(
            DeviceRequest,
            and_(
                DeviceRequest.assigned_body_id == Organisation.id,
                DeviceRequest.state.in_(OPEN_ASSESSMENT_STATES),
            ),
        )
        .outerjoin(
            StageRecord,
            and_(StageRecord.request_id == DeviceRequest.id, StageRecord.left_at.is_(None)),
        )
        .where(Organisation.kind == "regional_body", Organisation.active.is_(True))
        .group_by(Organisation.id, Organisation.name, Organisation.region)
        .order_by(Organisation.region, Organisation.name)
    )
    return [BodyLoad(*row) for row in db.session.execute(query)]


def declined_bodies(request_id: int) -> set[int]:
    """The bodies that declined this request's assignment (from the audit trail)."""
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.request_id == request_id,
            AuditEntry.entity_type == "request",
            AuditEntry.action == "decline_assignment",
        )
    )
    return {
        entry.data.get("declined_body")
        for entry in entries
        if isinstance((entry.data or {}).get("declined_body"), int)
    }


def assign(
    actor,
    request: DeviceRequest,
    body_id: int,
    now: datetime,
    *,
    expected_version: int | str | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Assign the regional body (the agency, while the request is in assignment)."""
    if actor.role != "agency":
        raise PermissionDenied("only the agency assigns a regional body")
    return fire(
        request,
        "assign_body",
        actor,
        now,
        expected_version=expected_version,
        ip=ip,
        regional_body=body_id,
    )
