"""Stage timing and deadline configuration of the request workflow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime
from app.workflow.states import REQUEST_STATES, sql_in_list


class StageRecord(db.Model):
    """One visit of a request to a state: when it entered, left, and when it was due."""

    __tablename__ = "stage_records"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_in_list(REQUEST_STATES)})", name="state"),
        Index("ix_stage_records_request_entered", "request_id", "entered_at"),
        Index("ix_stage_records_open_due", "left_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("device_requests.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(30))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when `flask deadlines check` first reported the stage overdue (idempotency).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeadlineSetting(db.Model):
    """The configurable deadline of a state (admin-editable; defaults from DOMAIN.md)."""

    __tablename__ = "deadline_settings"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_in_list(REQUEST_STATES)})", name="state"),
        CheckConstraint("days IS NULL OR days > 0", name="days_positive"),
    )

    state: Mapped[str] = mapped_column(String(30), primary_key=True)
    days: Mapped[int | None] = mapped_column(Integer)
    working_days: Mapped[bool] = mapped_column(Boolean, default=False)
