"""PDF builder (reportlab platypus).

A title page (title, subtitle, generated at in Europe/Rome and by whom, the filters used), then
each section: key figures, charts (reportlab.graphics drawings), notes and tables. Tables are
LongTables with the header row repeated on every page they run over; a table with a preview
limit shows its first rows and says that the XLSX and CSV exports hold them all. Every page has
a footer "page X of Y" (a canvas that counts pages before writing them).
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
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    LongTable,
    PageBreak,
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
    story = [Spacer(1, 30 * mm), _p(report.title, styles["title"])]
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


def _key_figures(report: Report, block: KeyFigures, styles) -> list:
    rows = [(label, report.format(value, kind)) for label, value, kind in block.items]
    return [_p(block.title, styles["h2"]), _pairs_table(rows, styles, (90 * mm, 60 * mm))]


def _data_table(report: Report, table: Table, styles, width: float) -> list:
    story = [CondPageBreak(40 * mm), _p(table.title, styles["h2"])]
    rows, more = table.preview()
    if not rows:
        story.append(_p(table.empty_text or report.text("no_rows", "No rows."), styles["body"]))
        return story
    numeric = [c.kind in NUMERIC_KINDS for c in table.columns]
    header = [
        _p(c.label, styles["head_right" if n else "head"])
        for c, n in zip(table.columns, numeric, strict=True)
    ]
    total = sum(c.width for c in table.columns)
    widths = [width * c.width / total for c in table.columns]
    # Plain strings are drawn far faster than Paragraphs: only text that may need wrapping
    # (longer than its column holds on one line) becomes a Paragraph.
    capacity = [int(w / (CELL_FONT_SIZE * 0.55)) for w in widths]
    styles_by_column = [styles["mono"] if c.mono else styles["cell"] for c in table.columns]
    body = []
    for row in rows:
        cells = []
        for value, column, room, style in zip(
            row, table.columns, capacity, styles_by_column, strict=True
        ):
            text = report.format(value, column.kind)
            wrap = column.mono or len(text) > room or "\n" in text
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
    story.append(grid)
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


def _section(report: Report, section, styles, width: float) -> list:
    story = [CondPageBreak(60 * mm), _p(section.title, styles["h1"])]
    for block in section.blocks:
        if isinstance(block, KeyFigures):
            story += _key_figures(report, block, styles)
        elif isinstance(block, BarChart | LineChart):
            drawing = drawing_for(block, width, report.text("no_data", "No data"))
            story += [Spacer(1, 3 * mm), KeepTogether([drawing]), Spacer(1, 3 * mm)]
        elif isinstance(block, Note):
            story.append(_p(block.text, styles["body"]))
        elif isinstance(block, Table) and block.in_pdf:
            story += _data_table(report, block, styles, width)
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
    story = _title_page(report, styles)
    for section in report.sections:
        story.append(PageBreak() if section is report.sections[0] else Spacer(1, 4 * mm))
        story += _section(report, section, styles, width)
    document.build(story, canvasmaker=_numbered_canvas(report))
    return buffer.getvalue()
