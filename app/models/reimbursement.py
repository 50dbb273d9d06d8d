"""The regional reimbursement (tariff) of a published recommendation: one case per region."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.vocab import REGIONS
from app.extensions import db
from app.models.organisations import Organisation
from app.models.requests import DeviceRequest
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import REIMBURSEMENT_STATES, TARIFF_KINDS, sql_in_list


class Reimbursement(db.Model):
    """One region's decision on the tariff (or procedure code) of a recommended device.

    Opened (state "requested") when an IRCCS of the region, or the agency for it, fires
    `request_tariff` on an adoption record; moved only by `fire` (reimbursement workflow),
    by the users of the region's regional HTA body. `requested_at` starts the region's clock,
    `decided_at` stops it; `due_at` is the deadline ("regional_tariff"). The tariff is public
    (regional tariff decrees), so it is no confidential figure.
    """

    __tablename__ = "reimbursements"
    __table_args__ = (
        UniqueConstraint("request_id", "region"),
        CheckConstraint(f"state IN ({sql_in_list(REIMBURSEMENT_STATES)})", name="state"),
        CheckConstraint(f"region IN ({sql_in_list(REGIONS)})", name="region"),
        CheckConstraint(
            f"tariff_kind IS NULL OR tariff_kind IN ({sql_in_list(TARIFF_KINDS)})",
            name="tariff_kind",
        ),
        # A region's work queue: its open cases, by due date.
        Index("ix_reimbursements_region_state", "region", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    region: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(30), default="requested")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The IRCCS whose adoption record asked (or for which the agency asked).
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tariff_kind: Mapped[str | None] = mapped_column(String(20))
    tariff_code: Mapped[str | None] = mapped_column(String(40))
    tariff_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    effective_date: Mapped[date | None] = mapped_column(Date)

    request: Mapped[DeviceRequest] = relationship()
    requested_by: Mapped[Organisation | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
