"""Cursor pagination: newest first by id; the cursor is the last id seen, encoded.

A cursor never skips or repeats a row when rows are added meanwhile (unlike page numbers).
The response holds `next_cursor` (null on the last page) and a `Link: <...>; rel="next"` header.
"""

from __future__ import annotations

import base64
import binascii

from flask import request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select

from app.api.problems import ApiError
from app.api.registry import Param
from app.extensions import db

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
CURSOR_PREFIX = "id:"

LIMIT = Param(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "How many items per page.",
)
CURSOR = Param(
    "cursor", {"type": "string", "maxLength": 64}, "The `next_cursor` of the previous page."
)


def _invalid(name: str, message: str) -> ApiError:
    return ApiError(422, "validation", errors={name: [message]}, error_codes={name: ["invalid"]})


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text.removeprefix(CURSOR_PREFIX)
    if not text.startswith(CURSOR_PREFIX) or not number.isdigit() or len(number) > 10:
        raise _invalid("cursor", _("This cursor is not valid: use the next_cursor of a page."))
    return int(number)


def read_limit() -> int:
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise _invalid("limit", _("Enter a whole number from 1 to %(max)s.", max=MAX_LIMIT))
    return int(raw)


def page(query: Select, id_column, endpoint: str, **url_values) -> tuple[list, str | None, dict]:
    """(items, next_cursor, headers) of the page the request asks for."""
    limit = read_limit()
    after = decode_cursor(request.args.get("cursor"))
    if after is not None:
        query = query.where(id_column < after)
    rows = list(db.session.scalars(query.order_by(id_column.desc()).limit(limit + 1)).unique())
    items = rows[:limit]
    if len(rows) <= limit or not items:
        return items, None, {}
    cursor = encode_cursor(items[-1].id)
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    link = url_for(endpoint, **url_values, **args, cursor=cursor)
    return items, cursor, {"Link": f'<{link}>; rel="next"'}
