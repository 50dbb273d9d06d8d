"""Charts drawn with reportlab.graphics: the same Drawing goes into the PDF and, through
renderSVG, inline into the report pages (no JavaScript, no CDN).

- `bar_chart`: vertical bars per category (e.g. median days per stage), an optional tick per
  category (its deadline) and horizontal reference lines (published anchors); horizontal
  percentage bars for regional variation.
- `line_chart`: cumulative curves (share of IRCCS adopting by months since publication) with
  vertical reference lines at the milestones.
"""

from __future__ import annotations

import math
import re

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors

from app.reports.model import BarChart, LineChart

PALETTE = (
    colors.HexColor("#1f5aa6"),
    colors.HexColor("#7fa7d9"),
    colors.HexColor("#2e8b57"),
    colors.HexColor("#c77c02"),
)
MARKER_COLOUR = colors.HexColor("#c0392b")
REFERENCE_COLOURS = (
    colors.HexColor("#6c3483"),
    colors.HexColor("#117864"),
    colors.HexColor("#7b7d7d"),
)
FONT = "Helvetica"


def nice_maximum(value: float) -> tuple[float, float]:
    """An axis maximum a little above `value`, and a round step for about five ticks."""
    value = max(value, 1.0)
    raw_step = value * 1.1 / 5
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    return step * math.ceil(value * 1.1 / step), step


def _title(drawing: Drawing, text: str, width: float, height: float) -> None:
    drawing.add(
        String(
            width / 2, height - 14, text, fontName=FONT + "-Bold", fontSize=10, textAnchor="middle"
        )
    )


def _no_data(drawing: Drawing, width: float, height: float, text: str) -> Drawing:
    drawing.add(
        String(
            width / 2,
            height / 2,
            text,
            fontName=FONT,
            fontSize=9,
            textAnchor="middle",
            fillColor=colors.grey,
        )
    )
    return drawing


def _legend(drawing: Drawing, items: list, x: float, y: float) -> None:
    if not items:
        return
    legend = Legend()
    legend.x, legend.y = x, y
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 120
    legend.dx = legend.dy = 7
    legend.fontName = FONT
    legend.fontSize = 7
    legend.colorNamePairs = items
    legend.boxAnchor = "nw"
    drawing.add(legend)


def bar_chart(
    chart: BarChart, width: float = 720, height: float = 300, no_data: str = "No data"
) -> Drawing:
    drawing = Drawing(width, height)
    _title(drawing, chart.title, width, height)
    values = [v for _, series in chart.series for v in series if v is not None]
    if not chart.categories or not values:
        return _no_data(drawing, width, height, no_data)
    if chart.horizontal:
        return _horizontal_bars(drawing, chart, width, height)
    top = max(
        values
        + [m for m in chart.markers if m is not None]
        + [r.value for r in chart.reference_lines]
    )
    maximum, step = nice_maximum(top)
    bars = VerticalBarChart()
    bars.x, bars.y = 50, 80
    bars.width, bars.height = width - 90, height - 130
    bars.data = [tuple(v or 0 for v in series) for _, series in chart.series]
    bars.categoryAxis.categoryNames = list(chart.categories)
    bars.categoryAxis.labels.angle = 30
    bars.categoryAxis.labels.boxAnchor = "ne"
    bars.categoryAxis.labels.fontName = FONT
    bars.categoryAxis.labels.fontSize = 7
    bars.valueAxis.valueMin, bars.valueAxis.valueMax, bars.valueAxis.valueStep = 0, maximum, step
    bars.valueAxis.labels.fontName = FONT
    bars.valueAxis.labels.fontSize = 7
    bars.groupSpacing = 6
    for index in range(len(chart.series)):
        bars.bars[index].fillColor = PALETTE[index % len(PALETTE)]
        bars.bars[index].strokeColor = None
    drawing.add(bars)
    drawing.add(
        String(bars.x, bars.y + bars.height + 4, chart.value_label, fontName=FONT, fontSize=7)
    )
    slot = bars.width / len(chart.categories)

    def y_of(value: float) -> float:
        return bars.y + value / maximum * bars.height

    for index, marker in enumerate(chart.markers):
        if marker is None:
            continue
        centre = bars.x + (index + 0.5) * slot
        drawing.add(
            Line(
                centre - slot * 0.42,
                y_of(marker),
                centre + slot * 0.42,
                y_of(marker),
                strokeColor=MARKER_COLOUR,
                strokeWidth=2,
            )
        )
    legend = [(PALETTE[i % len(PALETTE)], label) for i, (label, _) in enumerate(chart.series)]
    if any(m is not None for m in chart.markers):
        legend.append((MARKER_COLOUR, chart.marker_label))
    for index, reference in enumerate(chart.reference_lines):
        colour = REFERENCE_COLOURS[index % len(REFERENCE_COLOURS)]
        y = y_of(reference.value)
        drawing.add(
            Line(
                bars.x,
                y,
                bars.x + bars.width,
                y,
                strokeColor=colour,
                strokeWidth=1,
                strokeDashArray=(4, 3),
            )
        )
        drawing.add(
            String(
                bars.x + bars.width,
                y + 2,
                reference.label,
                fontName=FONT,
                fontSize=7,
                textAnchor="end",
                fillColor=colour,
            )
        )
        legend.append((colour, reference.label))
    _legend(drawing, legend, 50, height - 24)
    return drawing


def _horizontal_bars(drawing: Drawing, chart: BarChart, width: float, height: float) -> Drawing:
    scale = 100.0 if chart.percent else 1.0
    values = [v for _, series in chart.series for v in series if v is not None]
    maximum, step = (100.0, 20.0) if chart.percent else nice_maximum(max(values))
    bars = HorizontalBarChart()
    bars.x, bars.y = 130, 30
    bars.width, bars.height = width - 170, height - 70
    bars.data = [tuple((v or 0) * scale for v in series) for _, series in chart.series]
    bars.categoryAxis.categoryNames = list(chart.categories)
    bars.categoryAxis.labels.fontName = FONT
    bars.categoryAxis.labels.fontSize = 7
    bars.categoryAxis.reverseDirection = True
    bars.valueAxis.valueMin, bars.valueAxis.valueMax, bars.valueAxis.valueStep = 0, maximum, step
    bars.valueAxis.labels.fontName = FONT
    bars.valueAxis.labels.fontSize = 7
    if chart.percent:
        bars.valueAxis.labelTextFormat = "%d%%"
    for index in range(len(chart.series)):
        bars.bars[index].fillColor = PALETTE[index % len(PALETTE)]
        bars.bars[index].strokeColor = None
    drawing.add(bars)
    for index, reference in enumerate(chart.reference_lines):
        colour = REFERENCE_COLOURS[index % len(REFERENCE_COLOURS)]
        x = bars.x + reference.value * scale / maximum * bars.width
        drawing.add(
            Line(x, bars.y, x, bars.y + bars.height, strokeColor=colour, strokeDashArray=(4, 3))
        )
        drawing.add(
            String(
                x + 2,
                bars.y + bars.height + 3,
                reference.label,
                fontName=FONT,
                fontSize=7,
                fillColor=colour,
            )
        )
    return drawing


def line_chart(
    chart: LineChart, width: float = 720, height: float = 280, no_data: str = "No data"
) -> Drawing:
    drawing = Drawing(width, height)
    _title(drawing, chart.title, width, height)
    scale = 100.0 if chart.percent else 1.0
    data = [[(x, y * scale) for x, y in points if y is not None] for _, points in chart.series]
    data = [points for points in data if points]
    if not data:
        return _no_data(drawing, width, height, no_data)
    plot = LinePlot()
    plot.x, plot.y = 50, 45
    plot.width, plot.height = width - 90, height - 95
    plot.data = data
    x_max = max(max(x for x, _ in points) for points in data)
    x_max = max(x_max, max((r.value for r in chart.vertical_lines), default=0), 1)
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, x_max
    plot.xValueAxis.valueStep = 6 if x_max > 12 else 1
    plot.yValueAxis.valueMin = 0
    if chart.percent:
        plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 100, 20
        plot.yValueAxis.labelTextFormat = "%d%%"
    else:
        plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = nice_maximum(
            max(y for points in data for _, y in points)
        )
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName = FONT
        axis.labels.fontSize = 7
    for index in range(len(data)):
        plot.lines[index].strokeColor = PALETTE[index % len(PALETTE)]
        plot.lines[index].strokeWidth = 2
    drawing.add(plot)
    for index, reference in enumerate(chart.vertical_lines):
        colour = REFERENCE_COLOURS[index % len(REFERENCE_COLOURS)]
        x = plot.x + reference.value / x_max * plot.width
        drawing.add(
            Line(x, plot.y, x, plot.y + plot.height, strokeColor=colour, strokeDashArray=(4, 3))
        )
        drawing.add(
            String(
                x + 2,
                plot.y + plot.height - 10,
                reference.label,
                fontName=FONT,
                fontSize=7,
                fillColor=colour,
            )
        )
    drawing.add(
        String(
            plot.x + plot.width / 2,
            12,
            chart.x_label,
            fontName=FONT,
            fontSize=7,
            textAnchor="middle",
        )
    )
    legend = [
        (PALETTE[i % len(PALETTE)], label)
        for i, (label, points) in enumerate(chart.series)
        if any(y is not None for _, y in points)
    ]
    _legend(drawing, legend, 50, height - 24)
    return drawing


def drawing_for(block, width: float = 720, no_data: str = "No data") -> Drawing:
    if isinstance(block, LineChart):
        return line_chart(block, width, no_data=no_data)
    height = 300 if not block.horizontal else max(120, 40 + 16 * len(block.categories))
    return bar_chart(block, width, height, no_data=no_data)


SVG_FONTS = "Helvetica, Arial, sans-serif"
XML_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def to_svg(drawing: Drawing) -> str:
    """The drawing as an inline <svg> element (no XML prologue). reportlab names its PDF fonts
    ("Helvetica-Bold"); browsers want a family and a weight. reportlab writes its styles in
    style attributes, which the Content-Security-Policy blocks (no inline style): each becomes
    the SVG presentation attributes of the same names."""
    svg = XML_PROLOGUE.sub("", renderSVG.drawToString(drawing))
    svg = svg.replace("font-family: Helvetica-Bold", f"font-family: {SVG_FONTS}; font-weight: bold")
    svg = svg.replace("font-family: Helvetica;", f"font-family: {SVG_FONTS};")
    svg = STYLED_TAG.sub(_presentation_attributes, svg)
    return svg.replace("<svg ", '<svg role="img" ', 1)


STYLED_TAG = re.compile(r'<[a-zA-Z][^<>]*?\sstyle="([^"]*)"[^<>]*>')
ATTRIBUTE_NAME = re.compile(r"\s([a-zA-Z:-]+)=")


def _presentation_attributes(match: re.Match) -> str:
    """One tag with its style="a: b; c: d" written as a="b" c="d" (an attribute the tag
    already has wins)."""
    tag = match.group(0).replace(f' style="{match.group(1)}"', "", 1)
    present = set(ATTRIBUTE_NAME.findall(tag))
    added = []
    for declaration in match.group(1).split(";"):
        name, _colon, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name and value and name not in present:
            added.append(f'{name}="{value}"')
            present.add(name)
    end = -2 if tag.endswith("/>") else -1
    return f"{tag[:end]} {' '.join(added)}{tag[end:]}" if added else tag
