"""PDF builder (reportlab platypus).

A title block (title, subtitle, generated at in Europe/Rome and by whom, the filters used),
then on the same page each section: key figures, charts (reportlab.graphics drawings), notes
and tables. Tables are LongTables with the header row repeated on every page they run over;
no column is narrower than its longest word (a table too wide for the page is split into
parts, the first column repeated in each); a table with a preview limit shows its first rows
and says that the XLSX and CSV exports hold them all. A table named like its section is not
headed twice. Every page has a footer "page X of Y" (a canvas that counts pages first).
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from app.reports.charts import drawing_for
from app.reports.model import (
    NUMERIC_KINDS,
    BarChart,
    KeyFigures,
    LineChart,
    Note,
    Report,
    Table,
)

MARGIN = 15 * mm
FONT, FONT_BOLD = "ReportSans", "ReportSans-Bold"
HEADER_BACKGROUND = colors.HexColor("#dde5f0")
STRIPE = colors.HexColor("#f5f7fa")
GRID = colors.HexColor("#b8c2cc")
CELL_FONT_SIZE = 7.5


SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)


def _register_fonts() -> None:
    """DejaVu Sans where the system has it (wide Unicode coverage), else Bitstream Vera, which
    ships with reportlab: either way Unicode text, unlike the 14 standard PDF fonts."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    regular, bold = SYSTEM_FONTS
    if not (regular.exists() and bold.exists()):
        fonts = Path(reportlab.__file__).parent / "fonts"
        regular, bold = fonts / "Vera.ttf", fonts / "VeraBd.ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=FONT, fontSize=9, leading=12)
    return {
        "title": ParagraphStyle(
            "title", parent=base["Title"], fontName=FONT_BOLD, fontSize=22, leading=28, alignment=0
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=12, leading=16),
        "h1": ParagraphStyle(
            "h1",
            parent=base["Heading1"],
            fontName=FONT_BOLD,
            fontSize=14,
            leading=18,
            spaceBefore=6,
            spaceAfter=6,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            fontName=FONT_BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
        ),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9),
        "cell_right": ParagraphStyle(
            "cell_right", parent=body, fontSize=7.5, leading=9, alignment=TA_RIGHT
        ),
        "mono": ParagraphStyle("mono", parent=body, fontName="Courier", fontSize=6, leading=8),
        "head": ParagraphStyle("head", parent=body, fontName=FONT_BOLD, fontSize=7.5, leading=9),
        "head_right": ParagraphStyle(
            "head_right",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=7.5,
            leading=9,
            alignment=TA_RIGHT,
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _numbered_canvas(report: Report):
    template = report.text("page_of", "Page %(page)s of %(pages)s")
    footer_left = report.title
    footer_right = report.format(report.generated_at, "datetime")

    class NumberedCanvas(Canvas):
        """Holds the pages until the end, then writes each with "page X of Y"."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            width, _ = self._pagesize
            self.setFont(FONT, 7.5)
            self.setFillColor(colors.grey)
            self.drawString(MARGIN, 8 * mm, footer_left[:120])
            self.drawCentredString(
                width / 2, 8 * mm, template % {"page": self._pageNumber, "pages": total}
            )
            self.drawRightString(width - MARGIN, 8 * mm, footer_right)

    return NumberedCanvas


def _title_page(report: Report, styles) -> list:
    story = [_p(report.title, styles["title"])]
    if report.subtitle:
        story.append(_p(report.subtitle, styles["subtitle"]))
    story.append(Spacer(1, 10 * mm))
    rows = [
        (
            report.text("generated_at", "Generated at"),
            report.format(report.generated_at, "datetime"),
        ),
        (report.text("generated_by", "Generated by"), report.generated_by),
    ]
    story.append(_pairs_table(rows, styles, (60 * mm, 120 * mm)))
    story.append(Spacer(1, 6 * mm))
    if report.show_filters:
        story.append(_p(report.text("filters", "Filters"), styles["h2"]))
        filters = list(report.filters) or [(report.text("no_filters", "None"), "")]
        story.append(_pairs_table(filters, styles, (60 * mm, 120 * mm)))
    if report.empty:
        story += [Spacer(1, 8 * mm), _p(report.empty_message, styles["h2"])]
    return story


def _pairs_table(rows, styles, widths) -> LongTable:
    data = [[_p(label, styles["head"]), _p(value, styles["cell"])] for label, value in rows]
    table = LongTable(data, colWidths=widths, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _key_figures(report: Report, block: KeyFigures, styles, section_title="") -> list:
    rows = [(label, report.format(value, kind)) for label, value, kind in block.items]
    title = [] if block.title == section_title else [_p(block.title, styles["h2"])]
    return [*title, _pairs_table(rows, styles, (90 * mm, 60 * mm))]


PADDING = 6  # left + right cell padding, points


def _longest_word(text: str, font: str, size: float) -> float:
    """The width of the longest word of `text`: a column narrower than that would have to
    break the word in the middle."""
    return max((stringWidth(word, font, size) for word in text.split()), default=0.0)


def _minimum_widths(header: list[str], body: list[list[str]], mono: list[bool]) -> list[float]:
    """Per column, the narrowest width that breaks no word of its header or of its cells
    (identifiers set in the monospaced font may break: a hash has no words)."""
    minimum = []
    for index, label in enumerate(header):
        widest = _longest_word(label, FONT_BOLD, CELL_FONT_SIZE)
        if not mono[index]:
            for row in body:
                widest = max(widest, _longest_word(row[index], FONT, CELL_FONT_SIZE))
        minimum.append(widest + PADDING + 1)
    return minimum


def _column_parts(minimum: list[float], width: float) -> list[list[int]]:
    """The columns in parts that each fit the page without breaking a word: one part when
    they all fit; else the first column (what the row is about) repeated in every part."""
    if sum(minimum) <= width or len(minimum) < 2:
        return [list(range(len(minimum)))]
    parts: list[list[int]] = []
    current, used = [0], minimum[0]
    for index in range(1, len(minimum)):
        if used + minimum[index] > width and len(current) > 1:
            parts.append(current)
            current, used = [0], minimum[0]
        current.append(index)
        used += minimum[index]
    parts.append(current)
    return parts


def _fit_widths(preferred: list[float], minimum: list[float], width: float) -> list[float]:
    """The preferred widths scaled to `width`, each at least its minimum: the columns above
    their minimum give up what the narrow ones need."""
    scale = width / sum(preferred)
    widths = [max(p * scale, m) for p, m in zip(preferred, minimum, strict=True)]
    excess = sum(widths) - width
    if excess > 0:
        slack = [w - m for w, m in zip(widths, minimum, strict=True)]
        room = sum(slack)
        if room > 0:
            widths = [w - excess * s / room for w, s in zip(widths, slack, strict=True)]
    return widths


def _data_table(report: Report, table: Table, styles, width: float, section_title="") -> list:
    # The section's heading already names a table of the same title: not printed twice.
    title = [] if table.title == section_title else [_p(table.title, styles["h2"])]
    story = [CondPageBreak(40 * mm), *title]
    rows, more = table.preview()
    if not rows:
        story.append(_p(table.empty_text or report.text("no_rows", "No rows."), styles["body"]))
        return story
    labels = [str(c.label) for c in table.columns]
    texts = [
        [report.format(value, c.kind) for value, c in zip(row, table.columns, strict=True)]
        for row in rows
    ]
    minimum = _minimum_widths(labels, texts, [c.mono for c in table.columns])
    parts = _column_parts(minimum, width)
    for number, part in enumerate(parts, start=1):
        if len(parts) > 1:
            story.append(
                _p(
                    report.text("table_part", "Part %(part)s of %(parts)s")
                    % {"part": number, "parts": len(parts)},
                    styles["small"],
                )
            )
        story.append(_grid(table, part, labels, texts, minimum, styles, width))
    if table.note:
        story.append(_p(table.note, styles["small"]))
    if more:
        story.append(
            _p(
                report.text(
                    "preview_note", "First %(count)s rows; the XLSX and CSV exports hold them all."
                )
                % {"count": table.preview_limit},
                styles["small"],
            )
        )
    return story


def _grid(table: Table, part, labels, texts, minimum, styles, width: float) -> LongTable:
    """The LongTable of the columns `part` (indexes), header repeated on every page."""
    columns = [table.columns[i] for i in part]
    numeric = [c.kind in NUMERIC_KINDS for c in columns]
    header = [
        _p(labels[i], styles["head_right" if n else "head"])
        for i, n in zip(part, numeric, strict=True)
    ]
    widths = _fit_widths([c.width for c in columns], [minimum[i] for i in part], width)
    # Plain strings are drawn far faster than Paragraphs: only text that may need wrapping
    # (wider than its column) becomes a Paragraph.
    cell_styles = [styles["mono"] if c.mono else styles["cell"] for c in columns]
    body = []
    for row in texts:
        cells = []
        for i, column, room, style in zip(part, columns, widths, cell_styles, strict=True):
            text = row[i]
            wrap = (
                column.mono
                or "\n" in text
                or stringWidth(text, FONT, CELL_FONT_SIZE) > room - PADDING
            )
            cells.append(_p(text, style) if wrap else text)
        body.append(cells)
    grid = LongTable([header, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    commands = [
        ("FONTNAME", (0, 1), (-1, -1), FONT),
        ("FONTSIZE", (0, 1), (-1, -1), CELL_FONT_SIZE),
        ("LEADING", (0, 1), (-1, -1), CELL_FONT_SIZE + 1.5),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BACKGROUND),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("ALIGN", (i, 1), (i, -1), "RIGHT") for i, n in enumerate(numeric) if n]
    grid.setStyle(TableStyle(commands))
    return grid


def _section(report: Report, section, styles, width: float) -> list:
    story = [CondPageBreak(60 * mm), _p(section.title, styles["h1"])]
    for block in section.blocks:
        if isinstance(block, KeyFigures):
            story += _key_figures(report, block, styles, section.title)
        elif isinstance(block, BarChart | LineChart):
            drawing = drawing_for(block, width, report.text("no_data", "No data"))
            story += [Spacer(1, 3 * mm), KeepTogether([drawing]), Spacer(1, 3 * mm)]
        elif isinstance(block, Note):
            story.append(_p(block.text, styles["body"]))
        elif isinstance(block, Table) and block.in_pdf:
            story += _data_table(report, block, styles, width, section.title)
    return story


def render_pdf(report: Report) -> bytes:
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    pagesize = landscape(A4) if report.landscape else A4
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 5 * mm,
        title=report.title,
        author=report.generated_by,
        creator="HTA Tracker",
    )
    width = pagesize[0] - 2 * MARGIN
    # The title block opens the first page and the first section follows it: no page holding
    # a title alone.
    story = _title_page(report, styles)
    for section in report.sections:
        story.append(Spacer(1, 4 * mm))
        story += _section(report, section, styles, width)
    document.build(story, canvasmaker=_numbered_canvas(report))
    return buffer.getvalue()
