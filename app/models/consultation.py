"""Public consultation on a draft recommendation: the comments anyone may send.

A comment starts `pending`; the agency publishes it (and answers it) or rejects it with a
reason. The author's email is private: it is kept for the agency to reply and is never shown
on a public page, in the CSV or in the feed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.organisations import User
from app.models.requests import DeviceRequest
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import sql_in_list

COMMENT_STATUSES: tuple[str, ...] = ("pending", "published", "rejected")


class ConsultationComment(db.Model):
    __tablename__ = "consultation_comments"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in_list(COMMENT_STATUSES)})", name="status"),
        # A rejection always says why.
        CheckConstraint("status != 'rejected' OR moderation_reason != ''", name="rejection_reason"),
        Index("ix_consultation_comments_request_status", "request_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("device_requests.id", ondelete="CASCADE"))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    # Private: never shown publicly.
    author_email: Mapped[str] = mapped_column(String(254), default="")
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    request: Mapped[DeviceRequest] = relationship()
    moderated_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ConsultationComment {self.id} {self.status} request={self.request_id}>"
