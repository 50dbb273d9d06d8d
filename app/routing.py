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
