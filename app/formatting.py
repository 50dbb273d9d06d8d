"""Dates, numbers and money as the screens show them, without Babel's per-call cost.

Flask-Babel's `format_datetime` resolves the locale, the time zone and the pattern on every
call (a few hundred microseconds each): a request page with a long history spent most of its
time there. `formats_for(locale, zone)` builds, once per locale and zone, formatters that give
exactly Babel's text (tests/unit/test_formatting.py compares them over many values):

- dates and times: Babel's own pattern for the locale ("short" date-time, "medium" date) is
  compiled into a table of field functions (day, month, month name, year, hour, minute, AM/PM);
  a pattern with any other field falls back to Babel;
- numbers: integers grouped with the locale's separator directly, anything else through the
  locale's cached decimal pattern; money through the cached currency pattern (EUR).

`current_formats()` is the one for the current request (Flask-Babel's locale and zone).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    get_date_format,
    get_datetime_format,
    get_time_format,
    parse_pattern,
)

from app.i18n import DATE_PATTERNS, DATETIME_PATTERNS

CURRENCY = "EUR"


def _field_functions(locale: Locale) -> dict[str, Callable[[datetime], str]]:
    months = locale.months["format"]
    periods = locale.day_periods["format"]["abbreviated"]
    return {
        "d": lambda t: str(t.day),
        "dd": lambda t: f"{t.day:02d}",
        "M": lambda t: str(t.month),
        "MM": lambda t: f"{t.month:02d}",
        "MMM": lambda t: months["abbreviated"][t.month],
        "MMMM": lambda t: months["wide"][t.month],
        "y": lambda t: str(t.year),
        "yyyy": lambda t: f"{t.year:04d}",
        "yy": lambda t: f"{t.year % 100:02d}",
        "H": lambda t: str(t.hour),
        "HH": lambda t: f"{t.hour:02d}",
        "h": lambda t: str(t.hour % 12 or 12),
        "hh": lambda t: f"{t.hour % 12 or 12:02d}",
        "mm": lambda t: f"{t.minute:02d}",
        "ss": lambda t: f"{t.second:02d}",
        "a": lambda t: periods["pm" if t.hour >= 12 else "am"],
    }


def _compile(pattern_text: str, locale: Locale) -> Callable[[datetime], str] | None:
    """A Babel date/time pattern as a function of a (local) datetime; None if a field is
    not one the table knows (the caller then uses Babel)."""
    pattern = parse_pattern(pattern_text)
    known = _field_functions(locale)
    fields = {}
    for name in _pattern_fields(pattern.format):
        if name not in known:
            return None
        fields[name] = known[name]
    template = pattern.format

    def apply(moment: datetime) -> str:
        return template % {name: field(moment) for name, field in fields.items()}

    return apply


def _pattern_fields(template: str) -> list[str]:
    names, rest = [], template
    while "%(" in rest:
        rest = rest[rest.index("%(") + 2 :]
        names.append(rest[: rest.index(")")])
    return names


class Formats:
    """The formatters of one locale and display zone (built once, shared by every request)."""

    def __init__(self, locale_name: str, zone_name: str):
        self.locale = Locale.parse(locale_name)
        self.zone = ZoneInfo(zone_name)
        locale = self.locale
        # European order in every language (app.i18n: English gets explicit patterns).
        self._date_pattern = DATE_PATTERNS.get(locale.language, "medium")
        self._datetime_pattern = DATETIME_PATTERNS.get(locale.language, "short")
        self._whole_datetime = None
        self._datetime_parts = None
        if locale.language in DATETIME_PATTERNS:
            self._whole_datetime = _compile(self._datetime_pattern, locale)
        else:
            time_part = _compile(get_time_format("short", locale).pattern, locale)
            date_part = _compile(get_date_format("short", locale).pattern, locale)
            joined = str(get_datetime_format("short", locale)).replace("'", "")
            if time_part and date_part:
                self._datetime_parts = (joined, date_part, time_part)
        date_pattern = (
            DATE_PATTERNS.get(locale.language) or get_date_format("medium", locale).pattern
        )
        self._medium_date = _compile(date_pattern, locale)
        self._decimal = locale.decimal_formats[None]
        self._currency = locale.currency_formats["standard"]
        self._group = locale.number_symbols["latn"]["group"]
        self._minus = locale.number_symbols["latn"]["minusSign"]

    def datetime(self, value: datetime | None) -> str:
        """The date and time in the display zone ("" for None): Babel's "short", or the
        European pattern of app.i18n."""
        if not value:
            return ""
        local = value.astimezone(self.zone)
        if self._whole_datetime is not None:
            return self._whole_datetime(local)
        if self._datetime_parts is None:
            return format_datetime(
                value, self._datetime_pattern, tzinfo=self.zone, locale=self.locale
            )
        joined, date_part, time_part = self._datetime_parts
        return joined.replace("{0}", time_part(local)).replace("{1}", date_part(local))

    def date(self, value: date | datetime | None) -> str:
        """Babel's "medium" date or app.i18n's European pattern (a datetime first moved to the
        display zone)."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(self.zone)
        if self._medium_date is None:
            return format_date(value, self._date_pattern, locale=self.locale)
        return self._medium_date(value)

    def number(self, value: int | float | Decimal | None) -> str:
        if value is None:
            return ""
        if type(value) is int:
            text = f"{abs(value):,}".replace(",", self._group)
            return self._minus + text if value < 0 else text
        return self._decimal.apply(
            value, self.locale, decimal_quantization=True, group_separator=True
        )

    def money(self, value: Decimal | float | None) -> str:
        if value is None:
            return ""
        return self._currency.apply(
            value,
            self.locale,
            currency=CURRENCY,
            currency_digits=True,
            decimal_quantization=True,
            group_separator=True,
        )

    # --- The report values (app.reports.texts.value_formatter): Babel's fixed-decimal
    # patterns applied as Babel applies them (`FixedDecimals`), and the reports' own
    # numeric date and time. Built on first use, kept with these formats.

    def decimal_1(self, value) -> str:
        """`format_decimal(value, "#,##0.0", locale)`: one decimal, grouped."""
        return self._fixed("#,##0.0").apply(value)

    def percent_1(self, value) -> str:
        """`format_percent(value, "#,##0.0%", locale)`: a fraction as a percentage."""
        return self._fixed("#,##0.0%").apply(value)

    def whole(self, value) -> str:
        """`format_decimal(value, "#,##0", locale)`: rounded to a whole number, grouped."""
        return self._fixed("#,##0").apply(value)

    def euros(self, value) -> str:
        """`format_currency(value, "EUR", locale=locale)` (the same text as `money`)."""
        return self._fixed(None, CURRENCY).apply(value)

    def day_and_time(self, value: datetime) -> str:
        """Flask-Babel's `format_datetime(value, "dd/MM/yyyy HH:mm")` in this zone (a naive
        datetime taken as UTC, as Flask-Babel takes it)."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        numeric = self.__dict__.get("_day_and_time")
        if numeric is None:
            numeric = self.__dict__["_day_and_time"] = _compile(REPORT_DATETIME, self.locale)
        return numeric(value.astimezone(self.zone))

    def _fixed(self, pattern: str | None, currency: str | None = None) -> FixedDecimals:
        patterns = self.__dict__.setdefault("_fixed_patterns", {})
        fixed = patterns.get((pattern, currency))
        if fixed is None:
            fixed = patterns[(pattern, currency)] = FixedDecimals(self.locale, pattern, currency)
        return fixed


@lru_cache(maxsize=16)
def formats_for(locale_name: str, zone_name: str) -> Formats:
    return Formats(locale_name, zone_name)


def current_formats() -> Formats:
    """The formatters for this request's language and the configured display zone."""
    from flask_babel import get_locale, get_timezone

    return formats_for(str(get_locale()), str(get_timezone()))


# The reports' date and time (app.reports.texts): day, month, year in both languages.
REPORT_DATETIME = "dd/MM/yyyy HH:mm"


class FixedDecimals:
    """A Babel number pattern with as many decimals at least as at most (or a currency's
    digits), applied as `NumberPattern.apply` applies it, without its per-call lookups
    (the locale's symbols, the pattern, the currency's symbol and digits):

    - the value becomes `Decimal(str(value))` (a Decimal stays), is scaled (a percentage:
      times 100), its sign kept (so -0.04 shows as "-0.0", as in Babel), then
      `abs(value).normalize().quantize(10 ** -decimals)`: the same Decimal operations in the
      same context (half-even rounding), so the same digits;
    - the integer digits are grouped by the pattern's grouping with the locale's separator,
      the decimals follow the locale's decimal sign, between the pattern's prefix and suffix
      (the currency sign and quoted text resolved once).

    A pattern this does not cover (scientific, significant digits, a range of decimals, the
    currency's name) and any value that is not finite go to Babel itself; and the built
    formatter checks itself against Babel on a few values, and gives way to Babel if it
    ever differed. tests/unit/test_report_numbers.py compares the two over many values.
    """

    PROBES = ("0", "1", "-1", "0.05", "-0.05", "0.25", "2.5", "1234.5", "-1234567.891", "1e7")

    def __init__(self, locale: Locale, pattern: str | None, currency: str | None = None):
        from babel.numbers import get_currency_precision, get_currency_symbol, parse_pattern

        self.locale = locale
        self.currency = currency
        self.pattern = (
            parse_pattern(pattern) if pattern is not None else locale.currency_formats["standard"]
        )
        number = self.pattern
        digits = (get_currency_precision(currency),) * 2 if currency else number.frac_prec
        symbols = locale.number_symbols["latn"]
        self.group, self.decimal = symbols["group"], symbols["decimal"]
        self.decimals = digits[1]
        self.quantum = Decimal(10) ** -digits[1]
        self.scale = number.scale
        self.grouping = number.grouping
        self.minimum_digits = number.int_prec[0]

        def resolved(text: str) -> str:
            if currency is not None and "\xa4" in text:
                text = text.replace("\xa4\xa4", currency.upper())
                text = text.replace("\xa4", get_currency_symbol(currency, locale))
            return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", text)

        self.prefix = tuple(resolved(text) for text in number.prefix)
        self.suffix = tuple(resolved(text) for text in number.suffix)
        self.fast = (
            digits[0] == digits[1]
            and not number.exp_prec
            and "@" not in number.pattern
            and "\xa4\xa4\xa4" not in number.pattern
        )
        if self.fast:
            self.fast = all(
                self.apply(Decimal(probe)) == self.babel(Decimal(probe)) for probe in self.PROBES
            )

    def babel(self, value) -> str:
        return self.pattern.apply(
            value,
            self.locale,
            currency=self.currency,
            currency_digits=True,
            decimal_quantization=True,
            group_separator=True,
        )

    def apply(self, value) -> str:
        if not self.fast:
            return self.babel(value)
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        if self.scale:
            number = number.scaleb(self.scale)
        if not number.is_finite():
            return self.babel(value)
        negative = int(number.is_signed())
        rounded = abs(number).normalize().quantize(self.quantum)
        whole, _point, fraction = f"{rounded:f}".partition(".")
        if len(whole) < self.minimum_digits:
            whole = "0" * (self.minimum_digits - len(whole)) + whole
        size, grouped = self.grouping[0], ""
        while len(whole) > size:
            grouped = self.group + whole[-size:] + grouped
            whole = whole[:-size]
            size = self.grouping[1]
        text = whole + grouped
        if self.decimals:
            text += self.decimal + (fraction or "0")
        return self.prefix[negative] + text + self.suffix[negative]
