"""Information requests (clock stops): rounds of questions, and the manufacturer's answers.

A round opens with the transition that stops the clock (`mark_incomplete` at intake: the
missing items; `request_information` during the assessment: the assessor's questions) and
closes when the manufacturer sends the answers (`resubmit` / `answer_information`) or when the
request lapses or is withdrawn. Answers are drafts (only the manufacturer sees them) until
sent; attachments are document versions of the request.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.information_rules import ROUND_KINDS
from app.extensions import db
from app.models.documents import DocumentVersion
from app.models.organisations import User
from app.models.requests import DeviceRequest
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import sql_in_list


class InformationRound(db.Model):
    __tablename__ = "information_rounds"
    __table_args__ = (
        UniqueConstraint("request_id", "number"),
        CheckConstraint(f"kind IN ({sql_in_list(ROUND_KINDS)})", name="kind"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    # 1, 2, 3 ... per request, whatever the kind.
    number: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The transition that closed it: resubmit / answer_information (answers sent), or
    # lapse_incomplete / lapse_information / withdraw (ended without answers).
    closed_by_action: Mapped[str | None] = mapped_column(String(30))
    # The audit entry of the transition that opened the round.
    audit_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_entries.id", ondelete="RESTRICT")
    )

    request: Mapped[DeviceRequest] = relationship()
    opened_by: Mapped[User | None] = relationship()
    questions: Mapped[list[Question]] = relationship(
        back_populates="round", order_by="Question.number", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def __repr__(self) -> str:
        return f"<InformationRound {self.request_id}#{self.number} {self.kind}>"


class Question(db.Model):
    __tablename__ = "information_questions"
    __table_args__ = (
        UniqueConstraint("round_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("information_rounds.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)

    round: Mapped[InformationRound] = relationship(back_populates="questions")
    answer: Mapped[Answer | None] = relationship(
        back_populates="question", cascade="all, delete-orphan", uselist=False
    )


class Answer(db.Model):
    """The manufacturer's answer to one question: a draft until `sent_at`."""

    __tablename__ = "information_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("information_questions.id", ondelete="CASCADE"), unique=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    # When the text was last saved, and by whom.
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    question: Mapped[Question] = relationship(back_populates="answer")
    answered_by: Mapped[User | None] = relationship()
    attachments: Mapped[list[AnswerAttachment]] = relationship(
        back_populates="answer", order_by="AnswerAttachment.id", cascade="all, delete-orphan"
    )

    @property
    def is_draft(self) -> bool:
        return self.sent_at is None


class AnswerAttachment(db.Model):
    """A document version attached to an answer (the file itself is one of the request's
    documents, so it is versioned and downloadable like any other)."""

    __tablename__ = "information_answer_attachments"
    __table_args__ = (UniqueConstraint("answer_id", "document_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("information_answers.id", ondelete="CASCADE"), index=True
    )
    document_version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answer: Mapped[Answer] = relationship(back_populates="attachments")
    document_version: Mapped[DocumentVersion] = relationship()
