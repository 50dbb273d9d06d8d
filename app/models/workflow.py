"""Stage timing and deadline configuration of the request workflow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.domain.deadlines import left_stage
from app.extensions import db
from app.models.types import UTCDateTime
from app.workflow.facts import REQUEST, states_where
from app.workflow.states import CLOCK_STOP_STATES, DEADLINE_KEYS, REQUEST_STATES, sql_in_list

OPEN_STAGE = text("left_at IS NULL")
# The agency's work queue states (the migration of its index writes them out as of then).
AGENCY_QUEUE_STATES = states_where(workflow=REQUEST, queue="agency")
AGENCY_QUEUE = text(f"left_at IS NULL AND state IN ({sql_in_list(AGENCY_QUEUE_STATES)})")


def _clock_stopped_by_state(context) -> bool:
    """A visit written without saying whose time it is: its state's (a clock stop or not)."""
    return context.get_current_parameters().get("state") in CLOCK_STOP_STATES


class StageRecord(db.Model):
    """One visit of a request to a state: when it entered, left, and when it was due.

    Once left, the visit also keeps its duration and whether it was late (`left_stage`), kept
    in step by `_keep_left_stage` whenever a moment changes, so that the timing report reads
    them from an index instead of working them out for every visit.
    """

    __tablename__ = "stage_records"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_in_list(REQUEST_STATES)})", name="state"),
        CheckConstraint(
            "(left_at IS NULL AND gross_days IS NULL AND gross_whole_days IS NULL AND "
            "left_late IS NULL) OR (left_at IS NOT NULL AND gross_days IS NOT NULL AND "
            "gross_whole_days IS NOT NULL)",
            name="left_stage_timing",
        ),
        Index("ix_stage_records_request_entered", "request_id", "entered_at"),
        Index("ix_stage_records_open_due", "left_at", "due_at"),
        # The timing report: left visits by stage and duration (the histogram and the ranks
        # of the percentiles, read from the index alone) ...
        Index(
            "ix_stage_records_state_duration",
            "state",
            "gross_whole_days",
            "gross_days",
            "left_late",
            "request_id",
        ),
        # ... and the open ones by stage and entry time (left_at, always NULL here, makes it
        # covering for SQLite).
        Index(
            "ix_stage_records_open_state_entered",
            "state",
            "entered_at",
            "due_at",
            "request_id",
            "left_at",
            sqlite_where=OPEN_STAGE,
            postgresql_where=OPEN_STAGE,
        ),
        # The agency's work queue: its states' open visits in due-date order (app/workqueue);
        # a new agency queue state needs a migration of this index (a test compares them).
        Index(
            "ix_stage_records_agency_queue",
            "due_at",
            "entered_at",
            "request_id",
            sqlite_where=AGENCY_QUEUE,
            postgresql_where=AGENCY_QUEUE,
        ),
        # The timing report's net days: the parts of clock stops the manufacturer handed back
        # (clock_stopped false in a clock-stop state: few), found by state and clock.
        Index(
            "ix_stage_records_state_clock",
            "state",
            "clock_stopped",
            "request_id",
            "gross_days",
            "entered_at",
        ),
        # A request's open visit (work queue, home page counts), its due date from the index.
        Index(
            "ix_stage_records_open_request",
            "request_id",
            "due_at",
            "entered_at",
            sqlite_where=OPEN_STAGE,
            postgresql_where=OPEN_STAGE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("device_requests.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(30))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The visit is the manufacturer's time. Written by `fire` (False for the rest of a
    # clock-stop stage handed back to the agency side); by default, the state decides.
    clock_stopped: Mapped[bool] = mapped_column(Boolean, default=_clock_stopped_by_state)
    # Set when `flask deadlines check` first reported the stage overdue (idempotency).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Once left (app.domain.deadlines.left_stage): days from entering to leaving, the same
    # rounded down, and whether it was left after the due date (None without one).
    gross_days: Mapped[float | None] = mapped_column(Float)
    gross_whole_days: Mapped[int | None] = mapped_column(Integer)
    left_late: Mapped[bool | None] = mapped_column(Boolean)

    @validates("entered_at", "left_at", "due_at")
    def _keep_left_stage(self, key: str, value: datetime | None) -> datetime | None:
        moments = {"entered_at": self.entered_at, "left_at": self.left_at, "due_at": self.due_at}
        moments[key] = value
        timing = left_stage(moments["entered_at"], moments["left_at"], moments["due_at"])
        self.gross_days = timing.gross_days
        self.gross_whole_days = timing.whole_days
        self.left_late = timing.late
        return value


class RequestTiming(db.Model):
    """The spans of a submitted request that the timing report measures, one row per
    request, rewritten from its stage visits after every stage change
    (`app.core.request_timings`): a read model, so that the report ranks requests through
    an index instead of summing every request's visits on every reading.

    `e2e_gross_days` / `e2e_net_days`: submission to the published recommendation (net: the
    net days of the stages in between); `prioritisation_days`: submission to the last
    prioritisation decision; `assessment_days`: the days of every assessment visit, once the
    request went on to a later stage (None before). While an assessment visit is open again
    (a reassessment), its days grow with the clock: `assessment_open` is set and the report
    counts them itself.
    """

    __tablename__ = "request_timings"
    __table_args__ = (
        Index("ix_request_timings_e2e_gross_days", "e2e_gross_days"),
        Index("ix_request_timings_e2e_net_days", "e2e_net_days"),
        Index("ix_request_timings_prioritisation_days", "prioritisation_days"),
        Index("ix_request_timings_assessment_days", "assessment_days"),
    )

    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), primary_key=True
    )
    e2e_gross_days: Mapped[float | None] = mapped_column(Float)
    e2e_net_days: Mapped[float | None] = mapped_column(Float)
    prioritisation_days: Mapped[float | None] = mapped_column(Float)
    assessment_days: Mapped[float | None] = mapped_column(Float)
    assessment_open: Mapped[bool] = mapped_column(Boolean, default=False)


class DeadlineSetting(db.Model):
    """The configurable deadline of a state (admin-editable; defaults from DOMAIN.md)."""

    __tablename__ = "deadline_settings"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_in_list(DEADLINE_KEYS)})", name="state"),
        CheckConstraint("days IS NULL OR days > 0", name="days_positive"),
        CheckConstraint("minimum_days IS NULL OR minimum_days >= 0", name="minimum_days"),
    )

    state: Mapped[str] = mapped_column(String(30), primary_key=True)
    days: Mapped[int | None] = mapped_column(Integer)
    working_days: Mapped[bool] = mapped_column(Boolean, default=False)
    # The least time the stage must last (calendar days; 0: none; NULL: the default of
    # `app.domain.deadlines.DEFAULT_MINIMUM_DAYS`), for the states that have one.
    minimum_days: Mapped[int | None] = mapped_column(Integer)
