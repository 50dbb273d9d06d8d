"""HeaderWriter (app/security.py) leaves a response's headers exactly as werkzeug's
`Headers.set` and `Headers.setdefault` would: same names, values and order, a header already
present replaced in place (duplicates dropped) or kept."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers

from app.security import HeaderWriter

STARTS = [
    [],
    [("Content-Type", "text/html")],
    [("Content-Type", "text/html"), ("cache-control", "max-age=60"), ("Vary", "Cookie")],
    [("X-Frame-Options", "SAMEORIGIN"), ("Referrer-Policy", "no-referrer")],
    [("Link", "<a>"), ("link", "<b>"), ("Content-Length", "3")],
]
STEPS = [
    ("set", "X-Frame-Options", "DENY"),
    ("setdefault", "Referrer-Policy", "same-origin"),
    ("set", "Cache-Control", "no-store"),
    ("setdefault", "Cache-Control", "private, no-store"),
    ("set", "LINK", "<c>"),
    ("setdefault", "Content-Type", "application/json"),
    ("set", "X-New", "1"),
    ("set", "X-New", "2"),
]


@pytest.mark.parametrize("start", STARTS)
def test_the_writer_gives_the_headers_werkzeug_would(start):
    expected, written = Headers(start), Headers(start)
    writer = HeaderWriter(written)
    for method, name, value in STEPS:
        getattr(expected, method)(name, value)
        getattr(writer, method)(name, value)
    assert list(written.items()) == list(expected.items())
    assert writer.has("x-new") and not writer.has("X-Absent")
