"""Passwords: hashing with argon2id (argon2-cffi) and the policy a new password must meet.

The policy (OWASP ASVS 5.0 V6.2): at least 12 characters; not one of the common passwords
shipped with the app (`common_passwords.txt`, no network); not made of the user's own email or
name; not a run of a few repeated characters. The argon2 parameters are part of each hash, so a
login with a hash made with other parameters rehashes the password (`needs_rehash`).
"""

from __future__ import annotations

import contextlib
import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_production_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
# Tests only: same algorithm, minimal cost, so a suite with hundreds of logins stays fast.
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

# Verified against when the email is unknown, so a miss costs the same time as a hit.
_DUMMY_HASH = _production_hasher.hash("not-a-real-password")
_DUMMY_HASH_FAST = _fast_hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 12
# Fewer distinct characters than this ("aaaaaaaaaaaa", "121212121212") is no password.
MIN_DISTINCT_CHARACTERS = 5
# Parts of a name or email shorter than this are too common to forbid ("de", "bio").
MIN_PERSONAL_PART = 4
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

TOO_SHORT = "too_short"
TOO_COMMON = "too_common"
PERSONAL = "personal"
TOO_FEW_CHARACTERS = "too_few_characters"


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


def needs_rehash(password_hash: str) -> bool:
    """True when `password_hash` was made with other argon2 parameters than today's."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def _personal_parts(*texts: str | None) -> set[str]:
    parts: set[str] = set()
    for text in texts:
        lowered = (text or "").strip().lower()
        if not lowered:
            continue
        parts.add(lowered)
        parts.update(
            part for part in re.split(r"[^a-z0-9]+", lowered) if len(part) >= MIN_PERSONAL_PART
        )
    return parts


def password_problem(password: str, *, email: str = "", full_name: str = "") -> str | None:
    """Why `password` may not be used (one of the constants above), or None when it may."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return TOO_SHORT
    lowered = password.lower()
    if len(set(lowered)) < MIN_DISTINCT_CHARACTERS:
        return TOO_FEW_CHARACTERS
    if lowered in common_passwords() or re.sub(r"[^a-z]", "", lowered) in common_passwords():
        return TOO_COMMON
    local_part = (email or "").partition("@")[0]
    if any(part in lowered for part in _personal_parts(email, local_part, full_name)):
        return PERSONAL
    return None
