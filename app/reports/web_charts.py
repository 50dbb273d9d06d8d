"""The home pages' charts as inline SVG, built from plain figures: no JavaScript, nothing the
Content-Security-Policy blocks (no style attribute: colours are presentation attributes and
classes of app.css), and each one with its text alternative (`Chart.table`, shown beside it).

- `bar_chart`: one horizontal bar per row, made of coloured segments (e.g. on time / late),
  the figures written at the end of the bar (colour is never the only signal), and an optional
  marker per row (e.g. the stage's deadline) drawn as a dark tick with its own legend entry.
- `timeline_chart`: one row per item, spans on a time axis (e.g. a request's stages), ticks
  at the start of months, "today" as a vertical line.

Sizes are in the viewBox's units: the <svg> takes the width of its container (app.css), so
the text stays at body size on a desktop page and scales with the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from markupsafe import Markup, escape

WIDTH = 1000
LABEL_WIDTH = 280
NOTE_WIDTH = 340
ROW = 34
BAR = 22
FONT = 16
TOP = 12
LEGEND_ROW = 30
LABEL_CHARS = 30

# Colour of each segment kind: readable against white and apart from each other for the
# common colour-vision deficiencies (Okabe-Ito); the kind is also written in the legend and the
# figures at the end of each bar.
COLOURS = {
    "on_time": "#0066cc",
    "late": "#b5361b",
    "median": "#0066cc",
    "agency": "#0066cc",
    "manufacturer": "#d9a400",
    "assessment": "#009e73",
    "published": "#5d7083",
    "closed": "#a0a8b0",
    "adoption": "#0066cc",
    "usage_due": "#b5361b",
    "count": "#0066cc",
    "days_left": "#0066cc",
    "marker": "#1a1a1a",
}


@dataclass(frozen=True)
class Segment:
    value: float
    kind: str


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[Segment, ...]
    note: str  # the figures in words, written after the bar
    marker: float | None = None


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    kind: str
    label: str  # what the span is, for its tooltip


@dataclass(frozen=True)
class TimelineRow:
    label: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Chart:
    """An SVG chart and its text alternative (a table with the same figures)."""

    id: str
    title: str
    svg: Markup
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty_text: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.rows

    @cached_property
    def rows_html(self) -> Markup:
        """The table's body rows as HTML, built once per chart: the chart is kept with its
        figures (`app.main.dashboard`), and an IRCCS's "usage due" table has a row per device
        in use, a few thousand at scale, which the template re-rendered on every view."""
        return Markup("\n").join(
            Markup("<tr>{}{}</tr>").format(
                Markup('<th scope="row">{}</th>').format(row[0]) if row else "",
                Markup("").join(Markup("<td>{}</td>").format(cell) for cell in row[1:]),
            )
            for row in self.rows
        )


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def _svg(chart_id: str, title: str, description: str, height: float, body: list[str]) -> Markup:
    # Our own drawing: every text in it went through escape().
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'class="dash-chart-svg" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-size="{FONT}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def _legend(entries: Sequence[tuple[str, str]], y: float) -> list[str]:
    """Legend entries (kind, label) on one line from the left, at body size."""
    parts, x = [], 0.0
    for kind, label in entries:
        shape = (
            f'<rect x="{x:.1f}" y="{y - 6:.1f}" width="4" height="20" fill="{COLOURS["marker"]}"/>'
            if kind == "marker"
            else f'<rect x="{x:.1f}" y="{y - 2:.1f}" width="16" height="16" '
            f'fill="{COLOURS[kind]}" class="chart-{kind}"/>'
        )
        parts.append(
            f'<g class="chart-legend">{shape}<text x="{x + 22:.1f}" y="{y + 11:.1f}">'
            f"{escape(label)}</text></g>"
        )
        x += 22 + 9 * len(label) + 28
    return parts


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    legend: Sequence[tuple[str, str]],
) -> Markup:
    """Horizontal bars, one per row, scaled to the largest total (or marker)."""
    plot = WIDTH - LABEL_WIDTH - NOTE_WIDTH
    largest = max(
        [sum(s.value for s in bar.segments) for bar in bars]
        + [bar.marker or 0 for bar in bars]
        + [1]
    )
    body: list[str] = []
    for index, bar in enumerate(bars):
        y = TOP + index * ROW
        body.append(
            f'<text x="{LABEL_WIDTH - 10}" y="{y + BAR - 5}" text-anchor="end">'
            f"<title>{escape(bar.label)}</title>{escape(_short(bar.label))}</text>"
        )
        x = float(LABEL_WIDTH)
        for segment in bar.segments:
            width = plot * segment.value / largest
            if width > 0:
                body.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR}" '
                    f'fill="{COLOURS[segment.kind]}" class="chart-{segment.kind}"/>'
                )
            x += width
        if bar.marker is not None:
            mx = LABEL_WIDTH + plot * bar.marker / largest
            body.append(
                f'<rect x="{mx - 2:.1f}" y="{y - 4}" width="4" height="{BAR + 8}" '
                f'fill="{COLOURS["marker"]}" class="chart-marker"/>'
            )
        body.append(
            f'<text x="{WIDTH - NOTE_WIDTH + 12}" y="{y + BAR - 5}">{escape(bar.note)}</text>'
        )
    y_legend = TOP + len(bars) * ROW + 10
    body += _legend(legend, y_legend)
    return _svg(chart_id, title, description, y_legend + LEGEND_ROW, body)


def _month_starts(start: datetime, end: datetime) -> list[datetime]:
    moment = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    while moment <= end:
        if moment >= start:
            months.append(moment)
        moment = moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)
    step = max(1, math.ceil(len(months) / 6))  # at most six ticks, whatever the span
    return months[::step]


def timeline_chart(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[TimelineRow],
    legend: Sequence[tuple[str, str]],
    now: datetime,
    tick_label: Callable[[datetime], str],
    today_label: str,
) -> Markup:
    """Spans on a time axis, one row per item, from the earliest start to `now`."""
    plot = WIDTH - LABEL_WIDTH - 20
    starts = [span.start for row in rows for span in row.spans] or [now]
    first = min(starts)
    total = max((now - first).total_seconds(), 1.0)

    def x_of(moment: datetime) -> float:
        return LABEL_WIDTH + plot * max(0.0, (moment - first).total_seconds()) / total

    body: list[str] = []
    axis_y = TOP + len(rows) * ROW
    for tick in _month_starts(first, now):
        x = x_of(tick)
        body.append(
            f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="#c5c7c9"/>'
            f'<text x="{x:.1f}" y="{axis_y + 20}" text-anchor="middle">'
            f"{escape(tick_label(tick))}</text>"
        )
    for index, row in enumerate(rows):
        y = TOP + index * ROW
        body.append(
            f'<text x="{LABEL_WIDTH - 10}" y="{y + BAR - 5}" text-anchor="end">'
            f"<title>{escape(row.label)}</title>{escape(_short(row.label))}</text>"
        )
        for span in row.spans:
            x1, x2 = x_of(span.start), x_of(min(span.end, now))
            body.append(
                f'<rect x="{x1:.1f}" y="{y}" width="{max(x2 - x1, 2):.1f}" height="{BAR}" '
                f'fill="{COLOURS[span.kind]}" class="chart-{span.kind}">'
                f"<title>{escape(span.label)}</title></rect>"
            )
    x_now = x_of(now)
    body.append(
        f'<line x1="{x_now:.1f}" y1="{TOP - 8}" x2="{x_now:.1f}" y2="{axis_y + 4}" '
        f'stroke="{COLOURS["marker"]}" stroke-width="2"/>'
        f'<text x="{x_now - 4:.1f}" y="{TOP - 10 if TOP > 20 else axis_y + 40}" '
        f'text-anchor="end">{escape(today_label)}</text>'
    )
    y_legend = axis_y + 50
    body += _legend(legend, y_legend)
    return _svg(chart_id, title, description, y_legend + LEGEND_ROW, body)
