"""The request to introduce an innovation: the device dossier and what it owns.

Every field of "What a request holds" (DOMAIN.md). The state column is constrained to the
known states; `version` is the optimistic lock used by the workflow (SQLAlchemy raises
StaleDataError when a concurrent writer already moved the row on).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
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

from app.domain.vocab import RISK_CLASSES, Regulation
from app.extensions import db
from app.models.organisations import Organisation, User
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import REQUEST_STATES, sql_in_list

Money = Numeric(14, 2)


class DeviceRequest(db.Model):
    __tablename__ = "device_requests"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_in_list(REQUEST_STATES)})", name="state"),
        CheckConstraint(
            f"suspended_from IS NULL OR suspended_from IN ({sql_in_list(REQUEST_STATES)})",
            name="suspended_from",
        ),
        CheckConstraint(
            f"regulation IS NULL OR regulation IN ({sql_in_list(Regulation)})", name="regulation"
        ),
        CheckConstraint(
            f"risk_class IS NULL OR risk_class IN ({sql_in_list(RISK_CLASSES)})", name="risk_class"
        ),
        # The lists and the home page: latest changed first, per reader (the agency's all,
        # a manufacturer's own, a body's assigned), read from the index, not sorted.
        Index("ix_device_requests_updated", "updated_at", "id"),
        Index("ix_device_requests_manufacturer_updated", "manufacturer_id", "updated_at", "id"),
        Index("ix_device_requests_body_updated", "assigned_body_id", "updated_at", "id"),
        # A body's work queue and its counts, from the index alone.
        Index("ix_device_requests_body_state", "assigned_body_id", "state", "id"),
        # The public register: newest submission first.
        Index("ix_device_requests_submitted_id", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    receipt_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Where `resume` returns to after a suspension.
    suspended_from: Mapped[str | None] = mapped_column(String(30))
    assigned_body_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )

    # --- Device
    trade_name: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    intended_purpose: Mapped[str] = mapped_column(Text, default="")
    regulation: Mapped[str | None] = mapped_column(String(10))
    risk_class: Mapped[str | None] = mapped_column(String(4))
    basic_udi_di: Mapped[str] = mapped_column(String(40), default="")
    udi_di: Mapped[str] = mapped_column(String(40), default="")
    emdn_code: Mapped[str] = mapped_column(String(20), default="", index=True)
    repertorio_number: Mapped[str] = mapped_column(String(12), default="")
    notified_body_number: Mapped[str] = mapped_column(String(4), default="")
    ce_certificate_number: Mapped[str] = mapped_column(String(60), default="")
    ce_certificate_issued_on: Mapped[date | None] = mapped_column(Date)
    ce_certificate_expires_on: Mapped[date | None] = mapped_column(Date)
    is_software: Mapped[bool] = mapped_column(Boolean, default=False)
    uses_ai: Mapped[bool] = mapped_column(Boolean, default=False)
    is_implantable: Mapped[bool] = mapped_column(Boolean, default=False)

    # --- Clinical question (PICO)
    condition: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20), default="")
    population: Mapped[str] = mapped_column(Text, default="")
    eligible_patients_per_year: Mapped[int | None] = mapped_column(Integer)
    intervention: Mapped[str] = mapped_column(Text, default="")
    care_setting: Mapped[str] = mapped_column(String(20), default="")
    outcomes: Mapped[str] = mapped_column(Text, default="")
    claimed_benefits: Mapped[str] = mapped_column(Text, default="")
    unmet_need: Mapped[str] = mapped_column(Text, default="")

    # --- Economics (EUR)
    list_price: Mapped[Decimal | None] = mapped_column(Money)
    acquisition_cost: Mapped[Decimal | None] = mapped_column(Money)
    running_costs_per_year: Mapped[Decimal | None] = mapped_column(Money)
    budget_impact_3y: Mapped[Decimal | None] = mapped_column(Money)
    expected_volume_per_year: Mapped[int | None] = mapped_column(Integer)

    # --- Administration
    # None until the manufacturer answers (yes or no); unanswered blocks the submission.
    consent_to_publication: Mapped[bool | None] = mapped_column(Boolean, default=None)
    confidential_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    coi_declaration: Mapped[str] = mapped_column(Text, default="")
    coi_declared: Mapped[bool] = mapped_column(Boolean, default=False)

    manufacturer: Mapped[Organisation] = relationship(foreign_keys=[manufacturer_id])
    assigned_body: Mapped[Organisation | None] = relationship(foreign_keys=[assigned_body_id])
    created_by: Mapped[User | None] = relationship()
    comparators: Mapped[list[Comparator]] = relationship(
        back_populates="request",
        order_by="Comparator.position",
        cascade="all, delete-orphan",
    )
    evidence: Mapped[list[EvidenceItem]] = relationship(
        back_populates="request",
        order_by="EvidenceItem.position",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def title(self) -> str:
        return " ".join(p for p in (self.trade_name, self.model) if p) or f"#{self.id}"

    def __repr__(self) -> str:
        return f"<DeviceRequest {self.id} {self.state} {self.trade_name!r}>"


class Comparator(db.Model):
    """A comparator of the clinical question (current standard of care)."""

    __tablename__ = "comparators"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)

    request: Mapped[DeviceRequest] = relationship(back_populates="comparators")


class EvidenceItem(db.Model):
    """One study in the evidence list: design, patients, follow-up, reference."""

    __tablename__ = "evidence_items"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    design: Mapped[str] = mapped_column(String(30))
    patients: Mapped[int | None] = mapped_column(Integer)
    follow_up_months: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(Text)
    published_on: Mapped[date | None] = mapped_column(Date)

    request: Mapped[DeviceRequest] = relationship(back_populates="evidence")
