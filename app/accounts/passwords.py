"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_production_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
# Tests only: same algorithm, minimal cost, so a suite with hundreds of logins stays fast.
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

# Verified against when the email is unknown, so a miss costs the same time as a hit.
_DUMMY_HASH = _production_hasher.hash("not-a-real-password")
_DUMMY_HASH_FAST = _fast_hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


def _hasher() -> PasswordHasher:
    return _fast_hasher if current_app.config.get("ARGON2_FAST") else _production_hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, burn the same time and say no."""
    hasher = _hasher()
    if password_hash is None:
        dummy = _DUMMY_HASH_FAST if hasher is _fast_hasher else _DUMMY_HASH
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(dummy, password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
