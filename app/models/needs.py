"""IRCCS needs: an unmet clinical need posted by an IRCCS or a regional HTA body, the
endorsements of other IRCCS and the links manufacturers make from their requests to it.

- ClinicalNeed: condition, population and patients per year, current standard of care, what
  is missing; posted by one organisation (an IRCCS or a regional body).
- NeedEndorsement: one IRCCS endorses a need (once per IRCCS), optionally with a comment.
- NeedLink: a request linked to a need by its manufacturer (once per pair).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.needs import PATIENTS_MAX
from app.extensions import db
from app.models.organisations import Organisation, User
from app.models.requests import DeviceRequest
from app.models.types import UTCDateTime, utcnow

_NEED_FK = "clinical_needs.id"


class ClinicalNeed(db.Model):
    __tablename__ = "clinical_needs"
    __table_args__ = (
        CheckConstraint(
            f"patients_per_year BETWEEN 1 AND {PATIENTS_MAX}", name="patients_per_year_range"
        ),
        CheckConstraint("condition != ''", name="condition_required"),
        CheckConstraint("gap != ''", name="gap_required"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    condition: Mapped[str] = mapped_column(Text)
    population: Mapped[str] = mapped_column(Text)
    patients_per_year: Mapped[int] = mapped_column(Integer)
    standard_of_care: Mapped[str] = mapped_column(Text)
    gap: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    organisation: Mapped[Organisation] = relationship()
    posted_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ClinicalNeed {self.id} {self.title!r}>"


class NeedEndorsement(db.Model):
    __tablename__ = "need_endorsements"
    __table_args__ = (UniqueConstraint("need_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey(_NEED_FK, ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    endorsed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, default="")
    endorsed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class NeedLink(db.Model):
    __tablename__ = "need_links"
    __table_args__ = (UniqueConstraint("request_id", "need_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    need_id: Mapped[int] = mapped_column(ForeignKey(_NEED_FK, ondelete="CASCADE"), index=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[DeviceRequest] = relationship()
    need: Mapped[ClinicalNeed] = relationship()
