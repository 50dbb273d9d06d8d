"""What `flask deadlines check` does, as use cases that flush and never commit.

- `lapse_candidates(now)`: open stages past their due date in a state with a lapse transition
  (incomplete -> inadmissible, information_requested -> discontinued, adoption_monitoring ->
  reassessment_due when the review date has passed);
- `lapse(candidate, now)`: fires that transition as the system (one request, one audit entry);
- `overdue_stages(now)`: the other open stages past their due date, for the agency to chase;
- `mark_reported(rows, now)`: claims the stages reported for the first time (idempotency):
  of two concurrent runs, only one reports a stage as new.

The command commits after each request, so one failure does not block the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from app.core.fire import fire
from app.domain.deadlines import days_between
from app.extensions import db
from app.models import AuditEntry, DeviceRequest, StageRecord
from app.workflow.definitions import REQUEST_WORKFLOW

# State -> the transition the system fires when that state's deadline passes.
LAPSE_TRIGGERS: dict[str, str] = {
    source: spec.trigger
    for spec in REQUEST_WORKFLOW.transitions
    if spec.lapse and "system" in spec.roles
    for source in spec.sources
}


@dataclass(frozen=True)
class LapseCandidate:
    request_id: int
    receipt_number: str | None
    state: str
    version: int
    due_at: datetime

    @property
    def trigger(self) -> str:
        return LAPSE_TRIGGERS[self.state]


@dataclass(frozen=True)
class OverdueStage:
    stage_id: int
    request_id: int
    receipt_number: str | None
    state: str
    due_at: datetime
    days_late: float
    already_reported: bool


def _open_and_past_due(now: datetime):
    """Open stages due before `now` whose request is still in that state."""
    return (
        select(StageRecord, DeviceRequest.receipt_number, DeviceRequest.version)
        .join(DeviceRequest, DeviceRequest.id == StageRecord.request_id)
        .where(
            StageRecord.left_at.is_(None),
            StageRecord.due_at.is_not(None),
            StageRecord.due_at < now,
            DeviceRequest.state == StageRecord.state,
        )
        .order_by(StageRecord.due_at, StageRecord.id)
    )


def lapse_candidates(now: datetime) -> list[LapseCandidate]:
    query = _open_and_past_due(now).where(StageRecord.state.in_(LAPSE_TRIGGERS))
    return [
        LapseCandidate(stage.request_id, receipt, stage.state, version, stage.due_at)
        for stage, receipt, version in db.session.execute(query)
    ]


def lapse(candidate: LapseCandidate, now: datetime) -> AuditEntry:
    """Fire the lapse as the system; Conflict if the request changed since it was listed."""
    request = db.session.get(DeviceRequest, candidate.request_id)
    return fire(request, candidate.trigger, None, now, expected_version=candidate.version)


def overdue_stages(now: datetime) -> list[OverdueStage]:
    """Open stages past their due date that the system does not lapse (someone must act)."""
    query = _open_and_past_due(now).where(StageRecord.state.not_in(LAPSE_TRIGGERS))
    return [
        OverdueStage(
            stage_id=stage.id,
            request_id=stage.request_id,
            receipt_number=receipt,
            state=stage.state,
            due_at=stage.due_at,
            days_late=round(days_between(stage.due_at, now), 1),
            already_reported=stage.overdue_notified_at is not None,
        )
        for stage, receipt, _ in db.session.execute(query)
    ]


def mark_reported(rows: list[OverdueStage], now: datetime) -> set[int]:
    """Set `overdue_notified_at` on the stages not reported yet; returns the ids this call
    claimed. One UPDATE ... WHERE overdue_notified_at IS NULL claims them: a concurrent run
    waits for the row locks (PostgreSQL; SQLite runs one writer at a time), then finds them
    claimed and reports them as already known, never as new twice."""
    fresh = [row.stage_id for row in rows if not row.already_reported]
    if not fresh:
        return set()
    claimed = db.session.scalars(
        update(StageRecord)
        .where(StageRecord.id.in_(fresh), StageRecord.overdue_notified_at.is_(None))
        .values(overdue_notified_at=now)
        .returning(StageRecord.id)
        .execution_options(synchronize_session=False)
    )
    return set(claimed)
