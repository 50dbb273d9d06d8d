"""Reading request bodies and writing JSON responses.

JSON bodies need `Content-Type: application/json` (415 otherwise), at most API_JSON_MAX_BYTES
(413), must parse (400) and be an object (422). Text anywhere in the input (body, multipart
fields, query string) may not hold NUL characters or unpaired surrogates: the databases cannot
store them, so they are refused up front with a clear 422 rather than failing later.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app, g, request
from flask_babel import gettext as _

from app.api.problems import ApiError
from app.domain.text import is_storable_text

JSON_MEDIA_TYPE = "application/json"
MULTIPART_MEDIA_TYPE = "multipart/form-data"
DEFAULT_JSON_MAX_BYTES = 1024 * 1024


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(payload: Any) -> str:
    return json.dumps(payload, default=json_default, ensure_ascii=False)


def is_json_media_type(mimetype: str) -> bool:
    return mimetype == JSON_MEDIA_TYPE or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _json_max_bytes() -> int:
    return int(current_app.config.get("API_JSON_MAX_BYTES", DEFAULT_JSON_MAX_BYTES))


def read_json_body(optional: bool = False) -> dict:
    """Parse the JSON object of the request into `g.api_json` (see the module docstring)."""
    if optional and not request.content_length and not request.mimetype:
        g.api_json = {}
        return g.api_json
    if not is_json_media_type(request.mimetype):
        raise ApiError(
            415, "unsupported-media-type", _("Send the body as JSON (application/json).")
        )
    if (request.content_length or 0) > _json_max_bytes():
        raise ApiError(413, "payload-too-large")
    raw = request.get_data(cache=True)
    if len(raw) > _json_max_bytes():
        raise ApiError(413, "payload-too-large")
    if optional and not raw.strip():
        g.api_json = {}
        return g.api_json
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad-request", _("The body is not valid JSON.")) from None
    if not isinstance(value, dict):
        raise ApiError(422, "validation", _("The body must be a JSON object."))
    refuse_unstorable_text(value)
    g.api_json = value
    return value


def require_multipart() -> None:
    if request.mimetype != MULTIPART_MEDIA_TYPE:
        raise ApiError(415, "unsupported-media-type", _("Send the upload as multipart/form-data."))
    # Reading the form enforces MAX_CONTENT_LENGTH (werkzeug raises 413).
    refuse_unstorable_text(request.form.to_dict(flat=False))


def json_body() -> dict:
    return g.get("api_json") or {}


def _bad_text(text: str) -> bool:
    return not is_storable_text(text)


def _bad_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path] if _bad_text(value) else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            name = str(key)
            found += [path or name] if _bad_text(name) else []
            found += _bad_paths(item, f"{path}-{name}" if path else name)
        return found
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _bad_paths(item, f"{path}-{index}")]
    return []


def refuse_unstorable_text(value: Any, where: str = "") -> None:
    paths = _bad_paths(value, where)
    if paths:
        message = _("Text may not contain NUL characters or unpaired surrogates.")
        raise ApiError(
            422,
            "validation",
            errors={path or "body": [message] for path in paths},
            error_codes={path or "body": ["invalid_text"] for path in paths},
        )
