"""The report values' formatters (app.formatting.FixedDecimals, app.reports.texts
.value_formatter) give exactly Babel's text: one-decimal numbers and days, percentages, whole
numbers and euros, over negative, zero, halves, large, float and Decimal values, in both
languages; and the reports' date and time exactly as Flask-Babel wrote it."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_currency, format_decimal, format_percent
from flask_babel import force_locale
from flask_babel import format_datetime as babel_datetime

from app.formatting import formats_for
from app.reports.model import DATE, DATETIME, DAYS, INTEGER, MONEY, NUMBER, PERCENT, TEXT
from app.reports.texts import format_value, value_formatter

ZONE = "Europe/Rome"
LANGUAGES = ("en", "it")


def _values() -> list:
    rng = random.Random(17)
    values: list = [0, 0.0, -0.0, 1, -1, 7, 999, 1000, -1000, 123456789, -987654321, 10**15]
    # Halves and near-halves at every decimal the patterns round to (half-even in Babel).
    for whole in (0, 1, 2, 3, 10, 99, 1234):
        for tail in ("5", "05", "15", "25", "35", "45", "55", "95", "005", "0049", "0051"):
            values += [float(f"{whole}.{tail}"), -float(f"{whole}.{tail}")]
            values += [Decimal(f"{whole}.{tail}"), Decimal(f"-{whole}.{tail}")]
    values += [0.1 + 0.2, 2.675, 1.005, 0.125, 0.375, 1e-9, -1e-9, 0.04, -0.04, 0.0005]
    values += [1e6, 1.5e7, 123456.789, 99999.95, 999.95, -999.95]
    values += [Decimal("987654.32"), Decimal("0.00"), Decimal("-0.00"), Decimal("1E+3")]
    values += [rng.uniform(-1e6, 1e6) for _ in range(300)]
    values += [rng.uniform(-2, 2) for _ in range(300)]
    values += [round(rng.uniform(0, 500), 2) for _ in range(200)]
    values += [rng.randint(-(10**9), 10**9) for _ in range(100)]
    values += [Decimal(rng.randint(-(10**8), 10**8)) / 100 for _ in range(100)]
    return values


VALUES = _values()


@pytest.mark.parametrize("language", LANGUAGES)
def test_fixed_decimals_match_babel(language):
    formats = formats_for(language, ZONE)
    for value in VALUES:
        assert formats.decimal_1(value) == format_decimal(value, "#,##0.0", locale=language)
        assert formats.percent_1(value) == format_percent(value, "#,##0.0%", locale=language)
        assert formats.whole(value) == format_decimal(value, "#,##0", locale=language)
        assert formats.euros(value) == format_currency(value, "EUR", locale=language)
        assert formats.euros(value) == formats.money(value)


@pytest.mark.parametrize("language", LANGUAGES)
def test_values_babel_leaves_to_itself_still_match(language):
    formats = formats_for(language, ZONE)
    for value in (float("inf"), float("-inf"), Decimal("Infinity")):
        assert formats.decimal_1(value) == format_decimal(value, "#,##0.0", locale=language)
        assert formats.euros(value) == format_currency(value, "EUR", locale=language)


def _babel_value(value, kind: str, language: str) -> str:
    """app.reports.texts.format_value as it was, through Babel on every call."""
    if value is None or value == "":
        return "\u2013"
    if kind in (DAYS, NUMBER):
        return format_decimal(value, format="#,##0.0", locale=language)
    if kind == PERCENT:
        return format_percent(value, format="#,##0.0%", locale=language)
    if kind == MONEY:
        return format_currency(value, "EUR", locale=language)
    if kind == INTEGER and isinstance(value, int | float):
        return format_decimal(value, format="#,##0", locale=language)
    if kind == DATETIME and isinstance(value, datetime):
        return babel_datetime(value, "dd/MM/yyyy HH:mm")
    if kind == DATE and isinstance(value, datetime):
        return value.astimezone(ZoneInfo(ZONE)).date().strftime("%d/%m/%Y")
    if kind == DATE and isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _moments() -> list:
    rng = random.Random(5)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(seconds=rng.randint(0, 30 * 365 * 86400)) for _ in range(300)]
    change = datetime(2026, 10, 25, tzinfo=UTC)  # summer time ends in Rome
    moments += [change + timedelta(minutes=20 * n) for n in range(10)]
    moments += [datetime(2024, 3, 14, 15, 8), datetime(2024, 12, 31, 23, 30)]  # naive: UTC
    return moments


@pytest.mark.parametrize("language", LANGUAGES)
def test_report_values_match_what_babel_wrote(app, language):
    kinds = (DAYS, NUMBER, PERCENT, MONEY, INTEGER, TEXT, DATE, DATETIME)
    extra = [None, "", "text", date(2024, 3, 14), *_moments()]
    with app.test_request_context(), force_locale(language):
        formatted = value_formatter()
        for kind in kinds:
            for value in [*VALUES[:200], *extra]:
                if kind in (DAYS, NUMBER, PERCENT, MONEY) and isinstance(value, str | date):
                    continue  # Babel raises on these, as before
                expected = _babel_value(value, kind, language)
                assert formatted(value, kind) == expected, (value, kind)
                assert format_value(value, kind) == expected, (value, kind)
