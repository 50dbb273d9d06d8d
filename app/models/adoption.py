"""The recommendation of a request and the IRCCS adoption records it leads to."""

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.organisations import Organisation
from app.models.requests import DeviceRequest
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import (
    ADOPTION_STATES,
    DECLINE_REASONS,
    OUTCOMES,
    PROCUREMENT_ROUTES,
    sql_in_list,
)


class Recommendation(db.Model):
    __tablename__ = "recommendations"
    __table_args__ = (CheckConstraint(f"outcome IN ({sql_in_list(OUTCOMES)})", name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), unique=True
    )
    outcome: Mapped[str] = mapped_column(String(40))
    rationale: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    evidence_requirements: Mapped[str] = mapped_column(Text, default="")
    review_date: Mapped[date | None] = mapped_column(Date)
    # How the designated centres were chosen (e.g. "IRCCS with cardiac surgery on site"), for a
    # recommendation with restrictions or with evidence generation.
    designation_criteria: Mapped[str] = mapped_column(Text, default="", server_default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[DeviceRequest] = relationship(
        backref=db.backref("recommendation", uselist=False)
    )


class Adoption(db.Model):
    """One IRCCS's adoption of one published recommendation."""

    __tablename__ = "adoptions"
    __table_args__ = (
        UniqueConstraint("request_id", "irccs_id"),
        CheckConstraint(f"state IN ({sql_in_list(ADOPTION_STATES)})", name="state"),
        CheckConstraint(
            f"decline_reason IS NULL OR decline_reason IN ({sql_in_list(DECLINE_REASONS)})",
            name="decline_reason",
        ),
        # An IRCCS's work queue: its open records counted from the index alone, and listed
        # longest waiting first.
        Index("ix_adoptions_irccs_state", "irccs_id", "state"),
        Index("ix_adoptions_irccs_changed", "irccs_id", "state_changed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    irccs_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[str] = mapped_column(String(30), default="not_started", index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    decline_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Timing anchors for the adoption report.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_use_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[DeviceRequest] = relationship()
    irccs: Mapped[Organisation] = relationship()

    __mapper_args__ = {"version_id_col": version}


class DesignatedCentre(db.Model):
    """An IRCCS a recommendation with restrictions or with evidence generation names as a
    centre where the device may be used. When a recommendation names any, only they get
    adoption records (and count in the adoption rates); rewritten with the recommendation
    until it is published."""

    __tablename__ = "designated_centres"
    __table_args__ = (UniqueConstraint("request_id", "irccs_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    irccs_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    irccs: Mapped[Organisation] = relationship()


DESIGNATION_STATUSES = ("pending", "accepted", "refused")


class DesignationRequest(db.Model):
    """A non-designated IRCCS asking to be added to a recommendation's designated centres;
    the agency accepts (the IRCCS becomes a designated centre with an adoption record) or
    refuses. Asked and decided through `fire` (`ask_designation`, `designate_centre`,
    `refuse_designation`): the reasons are in the audit trail."""

    __tablename__ = "designation_requests"
    __table_args__ = (
        UniqueConstraint("request_id", "irccs_id"),
        CheckConstraint(f"status IN ({sql_in_list(DESIGNATION_STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    irccs_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    irccs: Mapped[Organisation] = relationship()


class Procurement(db.Model):
    """How one IRCCS buys the device it approved: opened by `start_procurement` (route, CIG
    and call date when known) and completed by `record_award` (CIG, award date, awarded price,
    supplier), both through `fire`, so the audit trail holds every value. The awarded price is
    the IRCCS's confidential figure (the agency and that IRCCS read it, nobody else).
    `started_at` and the adoption's `first_use_at` bound the time in procurement."""

    __tablename__ = "procurements"
    __table_args__ = (
        CheckConstraint(f"route IN ({sql_in_list(PROCUREMENT_ROUTES)})", name="route"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    adoption_id: Mapped[int] = mapped_column(
        ForeignKey("adoptions.id", ondelete="CASCADE"), unique=True
    )
    route: Mapped[str] = mapped_column(String(40))
    cig: Mapped[str | None] = mapped_column(String(10))
    call_date: Mapped[date | None] = mapped_column(Date)
    award_date: Mapped[date | None] = mapped_column(Date)
    awarded_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    supplier: Mapped[str] = mapped_column(String(500), default="", server_default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)

    adoption: Mapped[Adoption] = relationship(
        backref=db.backref("procurement", uselist=False, passive_deletes=True)
    )
