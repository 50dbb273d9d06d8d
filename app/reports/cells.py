"""Cell values for spreadsheets and CSV: formula neutralisation and plain typed values.

Text a user typed (a device name, an organisation) must never run as a formula when a CSV or a
spreadsheet is opened. A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage
return is a formula (or a DDE payload) to Excel and LibreOffice; `neutralise` prefixes it with
an apostrophe, the usual "treat as text" marker (OWASP CSV injection guidance). The XLSX
builder instead writes such text as an explicit string cell, which is never evaluated.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from app.reports.model import DATE, DATETIME, DAYS, MONEY, NUMBER, PERCENT, ROME

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 (and so XLSX) cannot carry.
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def neutralise(value):
    """Text that a spreadsheet would evaluate gets a leading apostrophe; anything else as is."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def xml_safe(text: str) -> str:
    return ILLEGAL_XML.sub("", text)


def csv_value(value, kind: str):
    """The CSV form of a value: numbers rounded as shown on screen, dates in ISO (Rome time),
    percentages as numbers of percent, text neutralised."""
    if value is None:
        return ""
    if kind in (DAYS, NUMBER) and isinstance(value, int | float):
        return round(float(value), 1)
    if kind == PERCENT and isinstance(value, int | float):
        return round(float(value) * 100, 1)
    if kind == MONEY and isinstance(value, int | float):
        return f"{float(value):.2f}"
    if isinstance(value, datetime):
        local = value.astimezone(ROME)
        return local.strftime("%Y-%m-%d") if kind == DATE else local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if kind == DATETIME and isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool | int | float):
        return value
    return neutralise(str(value))
