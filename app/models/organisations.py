"""Organisations (manufacturers, the agency, regional HTA bodies, IRCCS) and their users."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.vocab import LANGUAGES, REGIONS, OrgKind, Role
from app.extensions import db
from app.models.types import UTCDateTime, utcnow
from app.workflow.states import sql_in_list


class Organisation(db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in_list(OrgKind)})", name="kind"),
        CheckConstraint(f"region IS NULL OR region IN ({sql_in_list(REGIONS)})", name="region"),
        # Regional bodies and IRCCS are always somewhere.
        CheckConstraint(
            "kind NOT IN ('regional_body', 'irccs') OR region IS NOT NULL", name="region_required"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    region: Mapped[str | None] = mapped_column(String(30))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    eudamed_srn: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.kind} {self.name!r}>"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({sql_in_list(Role)})", name="role"),
        CheckConstraint(f"language IN ({sql_in_list(LANGUAGES)})", name="language"),
        # Emails are unique whatever their case.
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(2), default="it")
    # Part of the login session: rotating it ends every copy of every session cookie.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Second factor (TOTP, RFC 6238): the shared secret once enrolment is confirmed, and the
    # last time step a code was accepted for, so that a code works once only.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Remembered devices carry this number in their signed cookie: bumping it forgets them all.
    remembered_devices_generation: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )
    # Temporary lockout after repeated failed logins; the notice is shown at the next login.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lockout_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login: the session stores "<id>:<token>", so a stale token no longer loads a user.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active and (self.organisation is None or self.organisation.active)

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role} {self.email}>"


class RecoveryCode(db.Model):
    """One of a user's single-use second-factor recovery codes, stored hashed (argon2id)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")
