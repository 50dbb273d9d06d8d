"""Personal API tokens: issue, list, revoke, and find the token a request carries.

A token is "hta_" followed by 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored, so a leaked database does not leak usable tokens; a request's token is found by looking
its hash up (an indexed equality, no string comparison in Python to time). The plain token is
returned once, by `issue_token`, and never again.

    issue_token(actor, name, lifetime_days, now) -> (ApiToken, plain_token)
    revoke_token(actor, token_id, now) -> ApiToken
    tokens_of(actor) -> [ApiToken]          (newest first)
    authenticate(plain_token, now) -> TokenCheck (the token and its user, or why it failed)

Issuing and revoking are audit-logged. Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from app.core.audit import record_audit
from app.domain.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import ApiToken, User

TOKEN_PREFIX = "hta_"  # noqa: S105 (a marker, not a secret)
TOKEN_BYTES = 32
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
MAX_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS = 20
# Lifetimes offered on the token page (days; None: no expiry).
LIFETIME_CHOICES: tuple[int | None, ...] = (30, 90, 365, None)
# last_used_at is written at most this often per token (it costs a write).
LAST_USED_RESOLUTION = timedelta(minutes=1)

ENTITY_TYPE = "api_token"

# Why a token was refused (the 401 says which, in words).
MISSING = "missing"
INVALID = "invalid"
EXPIRED = "expired"
REVOKED = "revoked"
INACTIVE = "inactive"


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def new_plain_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(text: str) -> bool:
    return text.startswith(TOKEN_PREFIX) and 20 <= len(text) <= 200


# --- Issue, list, revoke ------------------------------------------------------------------------


def active_tokens(actor, now: datetime) -> int:
    return db.session.scalar(
        select(func.count(ApiToken.id)).where(
            ApiToken.user_id == actor.id,
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
        )
    )


def issue_token(
    actor, name: str, lifetime_days: int | None, now: datetime, *, ip: str | None = None
) -> tuple[ApiToken, str]:
    """A new token for `actor`; returns the row and the plain token (shown once)."""
    name = " ".join((name or "").split())
    errors = {}
    if not name:
        errors["name"] = "required"
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = "too_long"
    if lifetime_days not in LIFETIME_CHOICES:
        errors["lifetime"] = "invalid_choice"
    if not errors and active_tokens(actor, now) >= MAX_ACTIVE_TOKENS:
        errors["name"] = "too_many_tokens"
    if errors:
        raise ValidationFailed("the token cannot be created", fields=errors)
    plain = new_plain_token()
    token = ApiToken(
        user_id=actor.id,
        name=name,
        token_hash=hash_token(plain),
        prefix=plain[:SHOWN_PREFIX_LENGTH],
        created_at=now,
        expires_at=now + timedelta(days=lifetime_days) if lifetime_days else None,
    )
    db.session.add(token)
    db.session.flush()
    _audit(actor, token, "api_token_created", now, ip)
    return token, plain


def tokens_of(actor) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == actor.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(actor, token_id: int, now: datetime, *, ip: str | None = None) -> ApiToken:
    """Revoke one of the actor's own tokens (NotFound for anyone else's)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound("token not found")
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.flush()
        _audit(actor, token, "api_token_revoked", now, ip)
    return token


def _audit(actor, token: ApiToken, action: str, now: datetime, ip: str | None) -> None:
    record_audit(
        actor,
        entity_type=ENTITY_TYPE,
        entity_id=token.id,
        action=action,
        now=now,
        data={
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
        ip=ip,
    )


# --- Authentication -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenCheck:
    token: ApiToken | None
    user: User | None
    problem: str | None  # None when the token is good

    @property
    def ok(self) -> bool:
        return self.problem is None


def authenticate(plain: str | None, now: datetime) -> TokenCheck:
    """The token and its user, or the reason it is refused (MISSING, INVALID, EXPIRED, REVOKED,
    INACTIVE: the user or their organisation was deactivated). One query."""
    if not plain:
        return TokenCheck(None, None, MISSING)
    if not looks_like_token(plain):
        return TokenCheck(None, None, INVALID)
    token = db.session.scalars(_token_statement(), {"token_hash": hash_token(plain)}).one_or_none()
    if token is None:
        return TokenCheck(None, None, INVALID)
    if token.revoked_at is not None:
        return TokenCheck(token, None, REVOKED)
    if token.is_expired(now):
        return TokenCheck(token, None, EXPIRED)
    if not token.user.is_active:
        return TokenCheck(token, None, INACTIVE)
    return TokenCheck(token, token.user, None)


_TOKEN_STATEMENTS: list = []


def _token_statement():
    """The token by its hash, with its user and their organisation: built once per process
    (building the SELECT and its cache key cost about as much as running it), the hash bound
    per request."""
    if not _TOKEN_STATEMENTS:
        _TOKEN_STATEMENTS.append(
            select(ApiToken)
            .where(ApiToken.token_hash == bindparam("token_hash"))
            .options(joinedload(ApiToken.user).joinedload(User.organisation))
        )
    return _TOKEN_STATEMENTS[0]


def touch(token: ApiToken, now: datetime) -> None:
    """Record the token's use (at most once per LAST_USED_RESOLUTION)."""
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
