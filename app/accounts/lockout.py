"""Temporary lockout after repeated failed logins, alike for known and unknown emails.

Failed logins are counted per email typed (normalised), in the rate limiter's storage (so the
count holds across app servers). When an existing account reaches `LOGIN_LOCKOUT_THRESHOLD`
failures within `LOGIN_LOCKOUT_MINUTES`, it is locked until then (`users.locked_until`, read
with the app's clock), its owner is told at once (an `account_locked` notification: in the
inbox, and by email through the notification worker) and again at the next login, and an
administrator may unlock it.
An email that belongs to no account gets the same answers: after as many failures it is "locked"
too (by the counter alone), so the answers never tell whether an account exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from app.models import User
from app.security import FailureCounter, failure_counter


def _failures() -> FailureCounter:
    config = current_app.config
    return failure_counter(
        "login-failures",
        f"{config['LOGIN_LOCKOUT_THRESHOLD']}/{config['LOGIN_LOCKOUT_MINUTES']}minutes",
    )


def is_locked(user: User | None, email_key: str, now: datetime) -> bool:
    if user is None:
        return _failures().exhausted(email_key)
    return user.locked_until is not None and user.locked_until > now


def record_failure(user: User | None, email_key: str, now: datetime) -> bool:
    """Count one failed login; True when this failure locked the account."""
    if not _failures().record(email_key):
        return False
    if user is not None:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        user.lockout_notice_at = now
        _tell_the_owner(user, now)
        _failures().clear(email_key)  # from now on the account's lock decides
    return True


def _tell_the_owner(user: User, now: datetime) -> None:
    from app.notifications.outbox import notify
    from app.notifications.recipients import Recipient

    notify("account_locked", [Recipient(user, None)], now)


def clear(user: User | None, email_key: str) -> None:
    """Forget the failures (a successful login, an administrator's unlock)."""
    _failures().clear(email_key)
    if user is not None:
        user.locked_until = None
