"""Reuse of existing assessments.

- PriorAssessment: an existing assessment of the device recorded on a request: one of ours (an
  earlier request), an EU joint clinical assessment or another region's report, with its
  reference, date and a link (or the earlier request).
- DomainReuse: what is done with one HTA Core Model domain of the request's assessment given
  a prior assessment: adopted, adapted or redone (one row per request and domain).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.core_model import DOMAINS
from app.domain.reuse import CHOICES, SOURCES
from app.extensions import db
from app.models.organisations import User
from app.models.requests import DeviceRequest
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import sql_in_list

_REQUEST_FK = "device_requests.id"


class PriorAssessment(db.Model):
    __tablename__ = "prior_assessments"
    __table_args__ = (
        CheckConstraint(f"source IN ({sql_in_list(SOURCES)})", name="source"),
        CheckConstraint("reference != ''", name="reference_required"),
        # One of ours names the earlier request; any other gives a link.
        CheckConstraint(
            "(source = 'ours' AND source_request_id IS NOT NULL)"
            " OR (source != 'ours' AND url != '')",
            name="located",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(300))
    issued_on: Mapped[date] = mapped_column(Date)
    url: Mapped[str] = mapped_column(String(500), default="")
    source_request_id: Mapped[int | None] = mapped_column(
        ForeignKey(_REQUEST_FK, ondelete="RESTRICT")
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source_request: Mapped[DeviceRequest | None] = relationship(foreign_keys=[source_request_id])
    recorded_by: Mapped[User | None] = relationship()


class DomainReuse(db.Model):
    __tablename__ = "domain_reuses"
    __table_args__ = (
        UniqueConstraint("request_id", "domain"),
        CheckConstraint(f"domain IN ({sql_in_list(DOMAINS)})", name="domain"),
        CheckConstraint(f"choice IN ({sql_in_list(CHOICES)})", name="choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(40))
    choice: Mapped[str] = mapped_column(String(10))
    prior_assessment_id: Mapped[int] = mapped_column(
        ForeignKey("prior_assessments.id", ondelete="CASCADE"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    prior_assessment: Mapped[PriorAssessment] = relationship()
