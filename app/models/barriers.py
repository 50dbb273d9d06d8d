"""Adoption barriers: what keeps one IRCCS from using a recommended device (issue 13, item 4).

Each barrier belongs to one adoption record and is written only by the record's internal
transitions (`record_barrier`, `resolve_barrier`, `escalate_barrier`, through `fire`), so the
audit trail holds who did what and why; this row is the current picture the pages, the work
queues and the adoption report read.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.adoption import Adoption
from app.models.types import UTCDateTime
from app.workflow.states import BARRIER_KINDS, BARRIER_OWNERS, BARRIER_STATUSES, sql_in_list


class AdoptionBarrier(db.Model):
    """kind, description, owner (irccs, region, agency) and due date, as recorded; status
    open -> resolved (with a resolution note) or escalated (to the agency, with a reason)
    -> resolved."""

    __tablename__ = "adoption_barriers"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in_list(BARRIER_KINDS)})", name="kind"),
        CheckConstraint(f"owner IN ({sql_in_list(BARRIER_OWNERS)})", name="owner"),
        CheckConstraint(f"status IN ({sql_in_list(BARRIER_STATUSES)})", name="status"),
        # The work queues list the barriers not resolved, by owner, most urgent first.
        Index("ix_adoption_barriers_status_owner_due", "status", "owner", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    adoption_id: Mapped[int] = mapped_column(
        ForeignKey("adoptions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(10))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # When the owner was last reminded of the barrier being overdue (once per barrier).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    adoption: Mapped[Adoption] = relationship()
