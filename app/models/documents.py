"""Documents attached to a request, each with its versions.

A `Document` is one named piece of the dossier (a type and a title, e.g. the instructions for
use); uploading a file with the same type and title adds a `DocumentVersion`. Every version
stays downloadable. The bytes live on disk under the instance folder, stored once per content
(named by their SHA-256), see `app.documents.operations`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.document_rules import DOCUMENT_TYPES
from app.extensions import db
from app.models.organisations import User
from app.models.requests import DeviceRequest
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import sql_in_list


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(f"doc_type IN ({sql_in_list(DOCUMENT_TYPES)})", name="doc_type"),
        # What is on the public register is never confidential.
        CheckConstraint("NOT (public AND confidential)", name="public_not_confidential"),
        CheckConstraint("title != ''", name="title_not_empty"),
        # One document per type and title (whatever the case): same again = a new version.
        Index(
            "uq_documents_request_type_title",
            "request_id",
            "doc_type",
            func.lower(text("title")),
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("device_requests.id", ondelete="CASCADE"), index=True
    )
    doc_type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[DeviceRequest] = relationship()
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document",
        order_by="DocumentVersion.version",
        cascade="all, delete-orphan",
    )

    @property
    def latest(self) -> DocumentVersion | None:
        return self.versions[-1] if self.versions else None

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.doc_type} {self.title!r}>"


class DocumentVersion(db.Model):
    __tablename__ = "document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "version"),
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint("size > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    original_filename: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
    uploaded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DocumentVersion {self.document_id} v{self.version} {self.sha256[:12]}>"
