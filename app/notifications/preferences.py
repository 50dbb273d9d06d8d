"""Each user's choice, per kind of notification, of email at once, in a daily digest or not
at all. Urgent kinds are always emailed at once: they cannot be turned off or delayed."""

from __future__ import annotations

from sqlalchemy import delete, select

from app.extensions import db
from app.models import NotificationPreference
from app.models.notifications import EMAIL_MODES
from app.notifications.messages import KINDS

IMMEDIATE = "immediate"
DIGEST = "digest"
OFF = "off"
DEFAULT_MODE = IMMEDIATE


def configurable_kinds() -> list[str]:
    """The kinds a user may choose for (every kind but the urgent ones)."""
    return [code for code, kind in KINDS.items() if not kind.urgent]


def modes_of(user_id: int) -> dict[str, str]:
    """kind -> mode for every configurable kind (the default where nothing was chosen)."""
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.mode).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {kind: chosen.get(kind, DEFAULT_MODE) for kind in configurable_kinds()}


def effective_mode(kind: str, chosen: str | None) -> str:
    """The mode applied to a notification: urgent kinds are always immediate."""
    if KINDS.get(kind) is not None and KINDS[kind].urgent:
        return IMMEDIATE
    return chosen if chosen in EMAIL_MODES else DEFAULT_MODE


def save_modes(user_id: int, modes: dict[str, str]) -> None:
    """Store the user's choices (unknown kinds and modes are ignored; flushes)."""
    kinds = configurable_kinds()
    db.session.execute(
        delete(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    for kind in kinds:
        mode = modes.get(kind, DEFAULT_MODE)
        if mode in EMAIL_MODES and mode != DEFAULT_MODE:
            db.session.add(NotificationPreference(user_id=user_id, kind=kind, mode=mode))
    db.session.flush()
