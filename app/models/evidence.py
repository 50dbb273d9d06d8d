"""Evidence milestones of a recommendation "with evidence generation" or "only in research":
what evidence, from which study or registry (its identifier), run by which IRCCS, due when;
open until delivered (with its document) or missed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.evidence import ID_KINDS, STATUSES
from app.extensions import db
from app.models.documents import Document
from app.models.organisations import Organisation
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import sql_in_list


class EvidenceMilestone(db.Model):
    __tablename__ = "evidence_milestones"
    __table_args__ = (
        CheckConstraint(f"id_kind IN ({sql_in_list(ID_KINDS)})", name="id_kind"),
        CheckConstraint(f"status IN ({sql_in_list(STATUSES)})", name="status"),
        CheckConstraint("evidence != ''", name="evidence_required"),
        # A delivered milestone carries its document.
        CheckConstraint("status != 'delivered' OR document_id IS NOT NULL", name="delivered_doc"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    evidence: Mapped[str] = mapped_column(Text)
    id_kind: Mapped[str] = mapped_column(String(12))
    study_id: Mapped[str] = mapped_column(String(200))
    irccs_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    irccs: Mapped[Organisation] = relationship()
    document: Mapped[Document | None] = relationship()
