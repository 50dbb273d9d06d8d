"""The safety loop: the adverse-event threshold the agency set for a device (no row: the
dossier's default) and the alerts raised to the agency (an adverse-event rate above it, a CE
certificate past its expiry), each open until the agency suspends or dismisses it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.safety import ALERT_KINDS, ALERT_STATUSES
from app.extensions import db
from app.models.requests import DeviceRequest
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import sql_in_list


class SafetyThreshold(db.Model):
    __tablename__ = "safety_thresholds"
    __table_args__ = (CheckConstraint("per_100 > 0", name="positive"),)

    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), primary_key=True
    )
    per_100: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SafetyAlert(db.Model):
    __tablename__ = "safety_alerts"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in_list(ALERT_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({sql_in_list(ALERT_STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    # One alert per cause: "usage:<report id>" or "ce:<expiry date>".
    cause_key: Mapped[str] = mapped_column(String(60), unique=True)
    adoption_id: Mapped[int | None] = mapped_column(ForeignKey("adoptions.id", ondelete="CASCADE"))
    usage_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("usage_reports.id", ondelete="CASCADE")
    )
    rate: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    request: Mapped[DeviceRequest] = relationship()
