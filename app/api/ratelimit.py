"""Rate limiting per token: a fixed-window counter in the database.

`API_RATE_LIMIT` ("120/minute"; units second, minute, hour, day; empty or "0" disables it) is
how many requests one token may make per window. Each request costs one UPSERT that adds 1 to
the token's counter for the current window and returns the new count, so several app servers
share one limit. The first request of a window also deletes the token's older windows.

A fixed window lets a client send up to twice the limit around a window boundary; that is
the documented price of one statement per request.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import ApiRateCounter

DEFAULT_LIMIT = "120/minute"
PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
LIMIT_PATTERN = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Limit:
    requests: int
    seconds: int


@dataclass(frozen=True)
class Usage:
    limit: Limit
    count: int
    reset_after: int  # seconds until the window ends

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit.requests

    @property
    def remaining(self) -> int:
        return max(0, self.limit.requests - self.count)

    def headers(self) -> dict[str, str]:
        """The IETF RateLimit header fields (draft) and their widespread X- forms."""
        values = {
            "Limit": str(self.limit.requests),
            "Remaining": str(self.remaining),
            "Reset": str(self.reset_after),
        }
        headers = {f"RateLimit-{name}": value for name, value in values.items()}
        headers |= {f"X-RateLimit-{name}": value for name, value in values.items()}
        return headers


def parse_limit(text: str | None) -> Limit | None:
    """ "120/minute" -> Limit(120, 60); empty, "0" or "off" -> None (no limit)."""
    if text is None or str(text).strip().lower() in ("", "0", "off", "none"):
        return None
    match = LIMIT_PATTERN.fullmatch(str(text))
    if match is None:
        raise ValueError(f"API_RATE_LIMIT must look like '120/minute', not {text!r}")
    requests = int(match.group(1))
    if requests == 0:
        return None
    return Limit(requests, PERIODS[match.group(2).lower()])


def configured_limit() -> Limit | None:
    raw = current_app.config.get("API_RATE_LIMIT", os.environ.get("API_RATE_LIMIT", DEFAULT_LIMIT))
    return parse_limit(raw)


_UPSERTS: dict = {}


def _upsert(dialect: str):
    """The counter's UPSERT for this dialect, built once per process (the token and window
    are bound per request: building it cost about as much as running it)."""
    statement = _UPSERTS.get(dialect)
    if statement is None:
        table = ApiRateCounter.__table__
        module = postgresql if dialect == "postgresql" else sqlite
        statement = (
            module.insert(table)
            .values(token_id=bindparam("token_id"), window_start=bindparam("window_start"), count=1)
            .on_conflict_do_update(
                index_elements=[table.c.token_id, table.c.window_start],
                set_={"count": table.c.count + 1},
            )
            .returning(table.c.count)
        )
        _UPSERTS[dialect] = statement
    return statement


def hit(token_id: int, now: datetime, limit: Limit) -> Usage:
    """Count one request of `token_id` at `now` (in the caller's transaction)."""
    epoch = now.timestamp()
    window_start = int(epoch // limit.seconds) * limit.seconds
    dialect = db.session.get_bind().dialect.name
    count = db.session.execute(
        _upsert(dialect), {"token_id": token_id, "window_start": window_start}
    ).scalar_one()
    if count == 1:
        db.session.execute(
            delete(ApiRateCounter).where(
                ApiRateCounter.token_id == token_id, ApiRateCounter.window_start < window_start
            )
        )
    reset_after = max(1, math.ceil(window_start + limit.seconds - epoch))
    return Usage(limit=limit, count=count, reset_after=reset_after)
