"""The second factor: TOTP codes (RFC 6238, pyotp), recovery codes and remembered devices.

- Enrolment: a new secret is shown as a QR code (segno, inline SVG: no external service) and as
  text; it is stored once the user has typed a code it makes. Ten single-use recovery codes are
  then shown once and stored hashed.
- A code is accepted for the current 30-second step or the one before or after (clock drift),
  and only for a step later than the last accepted one, so a code works once.
- A remembered device is a signed cookie naming the user, the expiry (at most 30 days, read with
  the app's clock) and the user's `remembered_devices_generation`: bumping the generation
  (the user's "forget my devices", an administrator's reset) revokes every remembered device.

Every "now" is passed in (the app's clock), so the codes follow it too.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from app.accounts.passwords import hash_password, verify_password
from app.core.audit import record_audit
from app.domain.errors import ValidationFailed
from app.extensions import db
from app.models import RecoveryCode, User

ISSUER = "HTA Tracker"
STEP_SECONDS = 30
ACCEPTED_DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
MAX_REMEMBER_DAYS = 30
REMEMBERED_DEVICE_COOKIE = "hta_remembered_device"
WRONG_CODE = _l("This code is not correct, or it has been used already.")


def is_required_for(user: User) -> bool:
    return user.role in current_app.config["SECOND_FACTOR_REQUIRED_ROLES"]


# --- TOTP ----------------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at `now` (the demo's `flask totp code`, tests)."""
    return pyotp.TOTP(secret).at(now)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (no script, no style attribute)."""
    return segno.make(uri, error="m").svg_inline(scale=5, title=ISSUER, dark="#000", light="#fff")


def _matching_step(secret: str, code: str, now: datetime, after_step: int | None) -> int | None:
    code = "".join((code or "").split())
    if not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = time_step(now)
    for step in range(current - ACCEPTED_DRIFT_STEPS, current + ACCEPTED_DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


# --- recovery codes ------------------------------------------------------------------------


def _new_recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _normalise_recovery_code(code: str) -> str:
    raw = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else ""


def replace_recovery_codes(user: User, now: datetime) -> list[str]:
    """Ten new recovery codes (the old ones stop working); returns them in plain text, once."""
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    plain = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_password(code), created_at=now)
        for code in plain
    )
    db.session.flush()
    return plain


def unused_recovery_codes(user: User) -> int:
    return sum(1 for code in user.recovery_codes if code.used_at is None)


def _use_recovery_code(user: User, code: str, now: datetime) -> bool:
    normalised = _normalise_recovery_code(code)
    if not normalised:
        return False
    for stored in user.recovery_codes:
        if stored.used_at is None and verify_password(stored.code_hash, normalised):
            stored.used_at = now
            return True
    return False


# --- enrolment and verification ------------------------------------------------------------


def enrol(user: User, secret: str, code: str, *, now: datetime, ip: str | None = None) -> list[str]:
    """Store `secret` as the user's second factor once `code` proves the app has it; returns
    the ten recovery codes to show once."""
    step = _matching_step(secret, code, now, after_step=None)
    if step is None:
        raise ValidationFailed("wrong code", fields={"code": WRONG_CODE})
    user.totp_secret = secret
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = replace_recovery_codes(user, now)
    record_audit(
        user, entity_type="user", entity_id=user.id, action="second_factor_enrolled", now=now, ip=ip
    )
    return codes


def verify(user: User, code: str, *, now: datetime, ip: str | None = None) -> bool:
    """True when `code` is the user's current TOTP code (not used before) or one of their unused
    recovery codes (then spent). Both outcomes are audited."""
    if not user.has_second_factor:
        return False
    step = _matching_step(user.totp_secret, code, now, after_step=user.totp_last_step)
    used_recovery_code = step is None and _use_recovery_code(user, code, now)
    if step is not None:
        user.totp_last_step = step
    ok = step is not None or used_recovery_code
    action = "second_factor_passed" if ok else "second_factor_failed"
    data = {"recovery_code": True} if used_recovery_code else None
    record_audit(
        user, entity_type="user", entity_id=user.id, action=action, now=now, ip=ip, data=data
    )
    db.session.flush()
    return ok


def turn_off(user: User, *, now: datetime, ip: str | None = None) -> None:
    """The user's own choice, for roles that may do without a second factor."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.remembered_devices_generation += 1
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    record_audit(
        user, entity_type="user", entity_id=user.id, action="second_factor_removed", now=now, ip=ip
    )
    db.session.flush()


# --- remembered devices --------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="remembered-device")


def remember_days() -> int:
    return min(int(current_app.config["REMEMBER_DEVICE_DAYS"]), MAX_REMEMBER_DAYS)


def remembered_device_token(user: User, now: datetime) -> str:
    expires = now + timedelta(days=remember_days())
    return _serializer().dumps(
        {
            "user": user.id,
            "generation": user.remembered_devices_generation,
            "until": int(expires.timestamp()),
        }
    )


def is_remembered_device(user: User, token: str | None, now: datetime) -> bool:
    if not token:
        return False
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return False
    return (
        isinstance(data, dict)
        and data.get("user") == user.id
        and data.get("generation") == user.remembered_devices_generation
        and isinstance(data.get("until"), int)
        and now.timestamp() < data["until"]
    )


def forget_devices(user: User, *, now: datetime, ip: str | None = None) -> None:
    user.remembered_devices_generation += 1
    record_audit(
        user,
        entity_type="user",
        entity_id=user.id,
        action="remembered_devices_forgotten",
        now=now,
        ip=ip,
    )
    db.session.flush()
