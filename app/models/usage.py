"""Quarterly usage reports of an IRCCS for one adoption record.

Each IRCCS reports, per calendar quarter, the units used, the procedures performed, the spend in
EUR and the adverse events. A correction never overwrites a figure: it is a new row with the next
`version` for the same (adoption, year, quarter), and reports read only the latest version.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.adoption import Adoption
from app.models.organisations import User
from app.models.types import UTCDateTime, utcnow


class UsageReport(db.Model):
    __tablename__ = "usage_reports"
    __table_args__ = (
        UniqueConstraint("adoption_id", "year", "quarter", "version"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "units >= 0 AND procedures >= 0 AND spend >= 0 AND adverse_events >= 0",
            name="figures_not_negative",
        ),
        Index("ix_usage_reports_adoption_period", "adoption_id", "year", "quarter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    adoption_id: Mapped[int] = mapped_column(ForeignKey("adoptions.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer, default=0)
    procedures: Mapped[int] = mapped_column(Integer, default=0)
    spend: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    adverse_events: Mapped[int] = mapped_column(Integer, default=0)
    # Vigilance references of the quarter's adverse events (the safety loop): the
    # manufacturer's field safety notice number and the competent authority's reference.
    fsn_number: Mapped[str] = mapped_column(String(100), default="", server_default="")
    authority_reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # 1 for the first report of the quarter; each correction adds a row with the next version.
    version: Mapped[int] = mapped_column(Integer, default=1)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    adoption: Mapped[Adoption] = relationship()
    reported_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<UsageReport {self.adoption_id} {self.year}Q{self.quarter} v{self.version}>"
