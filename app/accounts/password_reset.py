"""Password reset by an emailed, single-use, expiring link.

Asking (`request_reset`) answers the same whether or not the email belongs to an account: an
active account gets a `password_reset` notification, which the notification worker (`flask
notify run`) emails at once; nothing else differs. The link is made when the mail is composed
(`reset_link`), so no secret is ever stored: its token is signed with the app's secret key
(itsdangerous), carries the time it was made (it expires after `PASSWORD_RESET_MINUTES`) and a
fragment of a digest of the user's current password hash and session token. Setting a new
password changes the hash, so a link works once; so does an older link once the password has
changed any other way.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from app.accounts import lockout
from app.accounts.operations import (
    _audit_self,
    check_password,
    end_sessions,
    find_user_by_email,
    normalise_email,
)
from app.accounts.passwords import hash_password
from app.extensions import db
from app.models import User
from app.notifications.outbox import notify
from app.notifications.recipients import Recipient

SALT = "hta.password-reset"
KIND = "password_reset"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fragment(user: User) -> str:
    """Changes whenever the password hash changes (and when every session is ended)."""
    material = f"{user.id}:{user.password_hash}:{user.session_token}".encode()
    return hashlib.sha256(material).hexdigest()[:24]


def make_token(user: User, now: datetime) -> str:
    # The time is the app's clock (not itsdangerous's wall clock), like every other expiry.
    return _serializer().dumps({"u": user.id, "h": _fragment(user), "t": int(now.timestamp())})


def reset_link(user: User, now: datetime) -> str:
    """The absolute link the mail carries (built from BASE_URL, never from a request's Host)."""
    path = url_for("auth.reset_password", token=make_token(user, now))
    return current_app.config["BASE_URL"].rstrip("/") + path


def request_reset(email: str, *, now: datetime, ip: str | None = None) -> None:
    """Queue the reset mail for an active account with this email; nothing otherwise.
    The caller answers the same either way. Flushes."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    notify(KIND, [Recipient(user, None)], now)
    _audit_self(user, "password_reset_requested", now, ip)
    db.session.flush()


def user_for_token(token: str, now: datetime) -> User | None:
    """The user a valid, unexpired, unused link belongs to, or None."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not all(
        isinstance(payload.get(key), int) for key in ("u", "t")
    ):
        return None
    age = now.timestamp() - payload["t"]
    if not 0 <= age <= current_app.config["PASSWORD_RESET_MINUTES"] * 60:
        return None
    user = db.session.get(User, payload["u"])
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(str(payload.get("h", "")), _fragment(user)):
        return None
    return user


def reset_password(user: User, new_password: str, *, now: datetime, ip: str | None = None):
    """Set the new password (policy checked: ValidationFailed on `new_password`), end every
    session (the link is used up with the old hash), end a lockout (the owner proved they
    read the mail). Audited; flushes."""
    check_password(new_password, field="new_password", email=user.email, full_name=user.full_name)
    user.password_hash = hash_password(new_password)
    end_sessions(user, now)
    lockout.clear(user, normalise_email(user.email))
    _audit_self(user, "password_reset", now, ip)
    db.session.flush()
