"""Text a database column can hold."""

from __future__ import annotations


def is_storable_text(text: str) -> bool:
    """False for a NUL character (PostgreSQL text cannot hold one) or an unpaired surrogate
    (not encodable as UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
