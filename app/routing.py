"""URL converters: `<int:...>` in every route stops at the largest id a column holds.

An id above 2**31 - 1 (an INTEGER column's largest value) names nothing: the route does not
match and the answer is 404, instead of a number PostgreSQL refuses (a server error).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

INT32_MAX = 2_147_483_647


class IdConverter(IntegerConverter):
    def __init__(self, url_map, fixed_digits=0, min=None, max=INT32_MAX, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_converters(app: Flask) -> None:
    """Before any blueprint: rules pick their converters when they are added."""
    app.url_map.converters["int"] = IdConverter


def external_url(endpoint: str, **values) -> str:
    """The absolute address of `endpoint` as users reach it: the scheme and host of the
    configured BASE_URL, never those of the request (its Host header is the client's to
    choose, so a feed or a CSV built from it could point readers at another site)."""
    from urllib.parse import urlsplit

    from flask import current_app, url_for

    base = urlsplit(current_app.config["BASE_URL"])
    return f"{base.scheme}://{base.netloc}{url_for(endpoint, **values)}"
