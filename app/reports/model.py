"""The report model: plain dataclasses that every format is rendered from.

A `Report` is a title page (title, generated at/by, the filters used) and sections; a section
holds blocks: key figures, tables, bar charts, line charts and notes. Tables either carry their
rows or a *row factory* (`rows(limit)` returns a fresh iterator), so exports stream rows that
the page and the PDF only preview. Values stay raw (floats, ints, aware datetimes); each format
decides how to show them, guided by the column kind, and `Report.format` gives the one textual
form the page and the PDF share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")

# Column kinds: how a value is typed and shown.
TEXT = "text"
INTEGER = "int"
DAYS = "days"  # a float number of days, shown with one decimal
NUMBER = "number"  # a float, one decimal
PERCENT = "percent"  # a fraction 0..1, shown as a percentage
MONEY = "money"  # EUR
DATE = "date"
DATETIME = "datetime"
KINDS = (TEXT, INTEGER, DAYS, NUMBER, PERCENT, MONEY, DATE, DATETIME)
NUMERIC_KINDS = (INTEGER, DAYS, NUMBER, PERCENT, MONEY)
EMPTY_VALUE = "\u2013"  # an en dash: "no value"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = TEXT
    width: int = 14  # characters, for the spreadsheet
    mono: bool = False  # identifiers such as hashes: a fixed-width font in the PDF


RowSource = Sequence[Sequence] | Callable[[int | None], Iterable[Sequence]]


@dataclass
class Table:
    key: str
    title: str
    columns: Sequence[Column]
    rows: RowSource = ()
    note: str = ""
    empty_text: str = ""
    # The page and the PDF show at most this many rows (None: all); exports always show all.
    preview_limit: int | None = None
    in_pdf: bool = True
    in_page: bool = True
    sheet: str = ""  # a short spreadsheet tab name (31 characters at most); default the title
    # For lists of requests held in memory: the request of each row (pages link to it).
    row_request_ids: Sequence[int] = ()

    def iter_rows(self, limit: int | None = None) -> Iterator[Sequence]:
        if callable(self.rows):
            return iter(self.rows(limit))
        rows = self.rows if limit is None else self.rows[:limit]
        return iter(rows)

    def preview(self) -> tuple[list[Sequence], bool]:
        """Rows for the page and the PDF, and whether more exist than are shown."""
        if self.preview_limit is None:
            return list(self.iter_rows()), False
        rows = list(islice(self.iter_rows(self.preview_limit + 1), self.preview_limit + 1))
        return rows[: self.preview_limit], len(rows) > self.preview_limit


@dataclass(frozen=True)
class KeyFigures:
    """A short list of labelled values (kind decides the format)."""

    title: str
    items: Sequence[tuple[str, object, str]]  # (label, value, kind)


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class ReferenceLine:
    label: str
    value: float


@dataclass(frozen=True)
class BarChart:
    key: str
    title: str
    categories: Sequence[str]
    series: Sequence[tuple[str, Sequence[float | None]]]
    value_label: str = ""
    markers: Sequence[float | None] = ()  # one tick per category (e.g. its deadline)
    marker_label: str = ""
    reference_lines: Sequence[ReferenceLine] = ()
    horizontal: bool = False
    percent: bool = False


@dataclass(frozen=True)
class LineChart:
    key: str
    title: str
    series: Sequence[tuple[str, Sequence[tuple[float, float | None]]]]
    x_label: str = ""
    y_label: str = ""
    vertical_lines: Sequence[ReferenceLine] = ()
    percent: bool = True


Block = Table | KeyFigures | Note | BarChart | LineChart


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


def _plain_format(value, kind: str) -> str:
    """Locale-free formatting (the assemblers pass a localised one)."""
    if value is None or value == "":
        return EMPTY_VALUE
    if kind in (DAYS, NUMBER):
        return f"{value:,.1f}"
    if kind == PERCENT:
        return f"{value * 100:.1f}%"
    if kind == MONEY:
        return f"€ {value:,.2f}"
    if kind == INTEGER:
        return f"{value:,}"
    if kind == DATETIME and isinstance(value, datetime):
        return value.astimezone(ROME).strftime("%Y-%m-%d %H:%M")
    if kind == DATE and isinstance(value, datetime):
        return value.astimezone(ROME).strftime("%Y-%m-%d")
    if kind == DATE and isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class Report:
    key: str
    title: str
    generated_at: datetime
    generated_by: str
    filters: Sequence[tuple[str, str]] = ()
    sections: list[Section] = field(default_factory=list)
    subtitle: str = ""
    empty: bool = False
    empty_message: str = ""
    landscape: bool = True
    show_filters: bool = True  # a single request's record has none
    # Fixed words of the title page and footers, already translated.
    texts: dict[str, str] = field(default_factory=dict)
    format: Callable[[object, str], str] = _plain_format

    def text(self, key: str, default: str) -> str:
        return self.texts.get(key, default)

    def tables(self) -> list[Table]:
        return [table for section in self.sections for table in section.tables()]

    def key_figures(self) -> list[KeyFigures]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, KeyFigures)]


def local_datetime(value: datetime | None) -> datetime | None:
    """Aware UTC to naive Europe/Rome (spreadsheets have no time zones)."""
    if value is None:
        return None
    return value.astimezone(ROME).replace(tzinfo=None)
