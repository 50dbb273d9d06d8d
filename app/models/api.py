"""The JSON API's own tables: personal access tokens, idempotency records, rate counters.

- ApiToken: a user's personal token. Only the SHA-256 of the token is stored (the token itself
  is shown once, when it is created); a request finds its token by that hash. A token acts as
  its user; it stops working when revoked, when it expires, or when the user or their
  organisation is deactivated.
- IdempotencyRecord: the first result of a POST sent with an `Idempotency-Key`, so that a
  retry returns it instead of acting twice. The row is inserted ("in_progress") and committed
  before the work starts; the unique (user, key) pair makes a concurrent duplicate fail.
- ApiRateCounter: requests per token per fixed time window, shared by every app server
  (one UPSERT per request; old windows are deleted as new ones start).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.organisations import User
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import sql_in_list

IDEMPOTENCY_STATUSES = ("in_progress", "done")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Hex SHA-256 of the whole token: what a request is matched against.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so its owner can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and not self.is_expired(now)

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… of user {self.user_id}>"


class IdempotencyRecord(db.Model):
    __tablename__ = "api_idempotency_records"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        CheckConstraint(f"status IN ({sql_in_list(IDEMPOTENCY_STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, the path and the body: the same key with another body is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="in_progress")
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"<IdempotencyRecord {self.user_id} {self.key!r} {self.status}>"


class ApiRateCounter(db.Model):
    __tablename__ = "api_rate_counters"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    # Start of the window, in seconds since the epoch.
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)
