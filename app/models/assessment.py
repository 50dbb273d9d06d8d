"""Prioritisation, conflicts of interest and the assessment of a request.

- PriorityScore: the agency's 0-3 score of one criterion for one request, with its reasons.
- PriorityWeight: the administrator's weight of a criterion (no row: the default weight).
- CoiDeclaration: an assessor's conflict-of-interest declaration for one request ("none" or a
  description); no row means "not declared yet", which is not the same as "none". A declared
  conflict excludes the assessor unless the agency overrides it, with a reason.
- DomainAssessment: one HTA Core Model domain of the assessment (status, findings, conclusion).
- AssessmentReport: the text of the assessment report (its summary) for one request.
- FactualComment: the manufacturer's factual-accuracy comment on one section of the draft,
  and the assessor's response to it (accepted or not accepted, with a reply).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.core_model import DOMAINS, FACTUAL_RESPONSES, STATUSES
from app.domain.prioritisation import CRITERIA, SCORE_MAX, SCORE_MIN, WEIGHTED_CRITERIA
from app.extensions import db
from app.models.organisations import User
from app.models.requests import DeviceRequest
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import sql_in_list

_REQUEST_FK = "device_requests.id"
_USER_FK = "users.id"


class PriorityScore(db.Model):
    __tablename__ = "priority_scores"
    __table_args__ = (
        UniqueConstraint("request_id", "criterion"),
        CheckConstraint(f"criterion IN ({sql_in_list(CRITERIA)})", name="criterion"),
        CheckConstraint(f"score BETWEEN {SCORE_MIN} AND {SCORE_MAX}", name="score_range"),
        # Every score says why.
        CheckConstraint("justification != ''", name="justification_required"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"))
    criterion: Mapped[str] = mapped_column(String(30))
    score: Mapped[int] = mapped_column(Integer)
    justification: Mapped[str] = mapped_column(Text)
    scored_by_id: Mapped[int | None] = mapped_column(ForeignKey(_USER_FK, ondelete="SET NULL"))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[DeviceRequest] = relationship()
    scored_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<PriorityScore {self.request_id} {self.criterion}={self.score}>"


class PriorityWeight(db.Model):
    __tablename__ = "priority_weights"
    __table_args__ = (
        CheckConstraint(f"criterion IN ({sql_in_list(WEIGHTED_CRITERIA)})", name="criterion"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
    )

    criterion: Mapped[str] = mapped_column(String(30), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey(_USER_FK, ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CoiDeclaration(db.Model):
    __tablename__ = "coi_declarations"
    __table_args__ = (
        UniqueConstraint("request_id", "user_id"),
        # A conflict is always described; an override always says why.
        CheckConstraint("NOT has_conflict OR description != ''", name="conflict_described"),
        CheckConstraint(
            "overridden_at IS NULL OR override_reason != ''", name="override_reason_required"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey(_USER_FK, ondelete="CASCADE"), index=True)
    has_conflict: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey(_USER_FK, ondelete="SET NULL"))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[DeviceRequest] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    override_by: Mapped[User | None] = relationship(foreign_keys=[override_by_id])

    def __repr__(self) -> str:
        return f"<CoiDeclaration {self.request_id} user={self.user_id} {self.has_conflict}>"


class DomainAssessment(db.Model):
    __tablename__ = "domain_assessments"
    __table_args__ = (
        UniqueConstraint("request_id", "domain"),
        CheckConstraint(f"domain IN ({sql_in_list(DOMAINS)})", name="domain"),
        CheckConstraint(f"status IN ({sql_in_list(STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    findings: Mapped[str] = mapped_column(Text, default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey(_USER_FK, ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    updated_by: Mapped[User | None] = relationship()


class AssessmentReport(db.Model):
    """The assessment report's text (one per request); the signed document is an upload."""

    __tablename__ = "assessment_reports"

    request_id: Mapped[int] = mapped_column(
        ForeignKey(_REQUEST_FK, ondelete="CASCADE"), primary_key=True
    )
    summary: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey(_USER_FK, ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FactualComment(db.Model):
    """A factual-accuracy comment of the manufacturer on one section of the draft report
    (`domain` None: on the report's summary)."""

    __tablename__ = "factual_comments"
    __table_args__ = (
        CheckConstraint(f"domain IS NULL OR domain IN ({sql_in_list(DOMAINS)})", name="domain"),
        CheckConstraint("text != ''", name="text_required"),
        CheckConstraint(
            f"response IS NULL OR response IN ({sql_in_list(FACTUAL_RESPONSES)})",
            name="response",
        ),
        Index("ix_factual_comments_request_at", "request_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"))
    domain: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey(_USER_FK, ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The assessor's response: accepted / not accepted, and why (shown to the manufacturer).
    response: Mapped[str | None] = mapped_column(String(20))
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey(_USER_FK, ondelete="SET NULL"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    by: Mapped[User | None] = relationship(foreign_keys=[by_id])
    replied_by: Mapped[User | None] = relationship(foreign_keys=[replied_by_id])
