"""The cached formatters give exactly Babel's text, in both languages, with the European
date patterns of app.i18n (English "5 Feb 2007, 08:42", not "2/5/07, 8:42 AM")."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from app.formatting import formats_for
from app.i18n import DATE_PATTERNS, DATETIME_PATTERNS

ZONE = "Europe/Rome"


def _moments(count: int) -> list[datetime]:
    rng = random.Random(3)
    start = datetime(1999, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(seconds=rng.randint(0, 30 * 365 * 86400)) for _ in range(count)]
    # Midnight, noon and the hours around them, and both sides of a clock change.
    day = datetime(2026, 3, 29, tzinfo=UTC)
    return moments + [day + timedelta(minutes=30 * n) for n in range(48)]


@pytest.mark.parametrize("language", ["it", "en"])
def test_dates_and_times_match_babel(language):
    formats = formats_for(language, ZONE)
    zone = ZoneInfo(ZONE)
    moment_pattern = DATETIME_PATTERNS.get(language, "short")
    day_pattern = DATE_PATTERNS.get(language, "medium")
    for moment in _moments(400):
        assert formats.datetime(moment) == format_datetime(
            moment, moment_pattern, tzinfo=zone, locale=language
        )
        local = moment.astimezone(zone)
        assert formats.date(moment) == format_date(local, day_pattern, locale=language)
        assert formats.date(moment.date()) == format_date(
            moment.date(), day_pattern, locale=language
        )
    assert formats.datetime(None) == "" and formats.date(None) == ""
    assert formats.date(date(2026, 12, 31)) == format_date(
        date(2026, 12, 31), day_pattern, locale=language
    )
    if language == "en":
        assert formats.datetime(datetime(2007, 2, 5, 7, 42, tzinfo=UTC)) == "5 Feb 2007, 08:42"


@pytest.mark.parametrize("language", ["it", "en"])
def test_numbers_and_money_match_babel(language):
    formats = formats_for(language, ZONE)
    values = [
        0,
        7,
        -7,
        999,
        1000,
        -1234567,
        10**12,
        Decimal("0.5"),
        Decimal("-1234.5678"),
        Decimal("12.3"),
        3.25,
        Decimal("1234567.891"),
    ]
    for value in values:
        assert formats.number(value) == format_decimal(value, locale=language), value
        assert formats.money(value) == format_currency(value, "EUR", locale=language), value
    assert formats.number(None) == "" and formats.money(None) == ""


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_template_filters_give_flask_babels_text(app, language):
    from flask_babel import format_decimal as babel_decimal
    from flask_babel import refresh

    from app.i18n import display_date, display_datetime
    from app.templating import fmt_date, fmt_datetime, fmt_number

    with app.test_request_context(headers={"Accept-Language": language}):
        app.config["BABEL_DEFAULT_LOCALE"] = language
        refresh()
        for moment in _moments(50):
            assert fmt_datetime(moment) == display_datetime(moment)
            assert fmt_date(moment) == display_date(moment)
        assert fmt_number(1234567) == babel_decimal(1234567)
