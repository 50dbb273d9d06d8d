"""The pure report builders: statistics, neutralisation, CSV, XLSX, PDF and SVG charts."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import UTC, date, datetime

import openpyxl
import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reports import stats
from app.reports.cells import csv_value, neutralise
from app.reports.charts import drawing_for, nice_maximum, to_svg
from app.reports.csv import render_csv
from app.reports.model import (
    DATE,
    DATETIME,
    DAYS,
    INTEGER,
    MONEY,
    PERCENT,
    TEXT,
    BarChart,
    Column,
    KeyFigures,
    LineChart,
    Note,
    ReferenceLine,
    Report,
    Section,
    Table,
)
from app.reports.pdf import render_pdf
from app.reports.xlsx import render_xlsx

GENERATED = datetime(2025, 3, 31, 10, 0, tzinfo=UTC)  # 12:00 in Rome
FORMULAS = ["=1+2", "+39 02 1234", "-5 units", "@SUM(A1)", "\tTab", "\rCR", "=cmd|' /C calc'!A0"]


# --- Statistics ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [[5.0], [1.0, 2.0], [10, 5, 20, 10], [3.5, 1.25, 9, 9, 9, 0, 14, 2.75], list(range(101))],
)
def test_percentiles_are_linear_interpolation_like_percentile_cont(values):
    ordered = sorted(values)
    if len(values) > 1:
        quartiles = statistics.quantiles(values, n=4, method="inclusive")
        deciles = statistics.quantiles(values, n=10, method="inclusive")
        assert stats.percentile(ordered, 0.5) == pytest.approx(quartiles[1])
        assert stats.percentile(ordered, 0.75) == pytest.approx(quartiles[2])
        assert stats.percentile(ordered, 0.9) == pytest.approx(deciles[8])
    assert stats.percentile(ordered, 0.5) == pytest.approx(statistics.median(values))


@given(st.lists(st.floats(min_value=0, max_value=5000, allow_nan=False), min_size=2, max_size=60))
def test_percentiles_match_the_inclusive_quantiles_for_any_data(values):
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    quartiles = statistics.quantiles(values, n=4, method="inclusive")
    ordered = sorted(values)
    assert stats.percentile(ordered, 0.9) == pytest.approx(deciles[8], abs=1e-6)
    assert stats.percentile(ordered, 0.75) == pytest.approx(quartiles[2], abs=1e-6)
    low, _weight = stats.rank_position(len(values), 0.9)
    needed = {low: ordered[low], low + 1: ordered[min(low + 1, len(values) - 1)]}
    assert stats.percentile_from_ranks(needed, len(values), 0.9) == pytest.approx(
        deciles[8], abs=1e-6
    )


def test_distribution_from_ranks_needs_only_the_neighbouring_values():
    values = [5, 10, 10, 20]
    d = stats.distribution(values)
    assert (d.count, d.mean, d.median, d.p75, d.p90) == (4, 11.25, 10, 12.5, 17)
    low, weight = stats.rank_position(4, 0.9)
    assert (low, weight) == (2, pytest.approx(0.7))
    assert stats.percentile_from_ranks({2: 10, 3: 20}, 4, 0.9) == pytest.approx(17)


def test_empty_distributions_and_shares():
    assert stats.distribution([]) == stats.Distribution()
    assert stats.percentile([], 0.5) is None
    assert stats.share(1, 0) is None and stats.share(1, 4) == 0.25
    assert stats.Distribution(2, 3.0, 3.0, 4.0, 5.0).scaled(0).p90 == 0


# --- Neutralisation ---------------------------------------------------------------------


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_looking_text_is_neutralised(text):
    assert neutralise(text) == "'" + text


def test_ordinary_values_are_left_alone():
    assert neutralise("CardioValve") == "CardioValve"
    assert neutralise(-5) == -5
    assert csv_value(-5, INTEGER) == -5
    assert csv_value(0.125, PERCENT) == 12.5
    assert csv_value(12.345, DAYS) == 12.3
    assert csv_value(GENERATED, DATETIME) == "2025-03-31 12:00"
    assert csv_value(GENERATED, DATE) == "2025-03-31"
    assert csv_value(None, TEXT) == ""


# --- A sample report -------------------------------------------------------------------


def sample_report(rows=None, empty=False) -> Report:
    columns = [
        Column("stage", "Stage", TEXT, 20),
        Column("visits", "Visits", INTEGER, 8),
        Column("median", "Median days", DAYS, 10),
        Column("share", "Share over deadline", PERCENT, 10),
        Column("spend", "Spend", MONEY, 12),
        Column("since", "Since", DATETIME, 16),
        Column("day", "Day", DATE, 11),
    ]
    if rows is None:
        rows = [
            ["Intake review", 4, 10.0, 0.25, 1234.5, GENERATED, GENERATED],
            ["Assessment", 4, 76.0, 0.25, None, None, date(2025, 1, 11)],
            *[[text, 1, 1.5, 0.0, 0.0, GENERATED, GENERATED] for text in FORMULAS],
        ]
    table = Table("stages", "Days per stage", columns, rows, note="A note.", empty_text="Nothing.")
    chart = BarChart(
        "medians",
        "Median days",
        ["Intake review", "Assessment"],
        [("Median gross days", [10.0, 76.0])],
        value_label="days",
        markers=[15.0, 90.0],
        marker_label="Deadline",
        reference_lines=[ReferenceLine("G-BA: 90 days", 90)],
    )
    curve = LineChart(
        "curve",
        "Adoption",
        [("All", [(0, 0.0), (1, 0.0), (2, 0.4), (3, None)])],
        x_label="months",
        vertical_lines=[ReferenceLine("6 months", 6)],
    )
    figures = KeyFigures(
        "Key figures", [("Submitted requests", 3, INTEGER), ("Median", 311.0, DAYS)]
    )
    return Report(
        key="timing",
        title="Timing report",
        generated_at=GENERATED,
        generated_by="Agency user (Agenzia)",
        filters=[("Region", "Lombardia")],
        sections=[
            Section("Overview", [figures, chart, curve, Note("Read me.")]),
            Section("Stages", [table]),
        ],
        empty=empty,
        empty_message="Nothing to measure yet.",
    )


# --- CSV -------------------------------------------------------------------------------


def parse_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_parses_back_with_the_same_figures():
    lines = parse_csv(render_csv(sample_report()))
    assert lines[0] == ["Timing report"]
    assert ["Region", "Lombardia"] in lines
    header = lines.index(
        ["Stage", "Visits", "Median days", "Share over deadline (%)", "Spend", "Since", "Day"]
    )
    assert lines[header + 1] == [
        "Intake review",
        "4",
        "10.0",
        "25.0",
        "1234.50",
        "2025-03-31 12:00",
        "2025-03-31",
    ]
    assert lines[header + 2][4:] == ["", "", "2025-01-11"]
    texts = [line[0] for line in lines[header + 3 : header + 3 + len(FORMULAS)]]
    assert texts == ["'" + text for text in FORMULAS]
    assert ["Submitted requests", "3"] in lines


def test_csv_of_one_table_is_a_plain_table():
    lines = parse_csv(render_csv(sample_report(), table="stages"))
    assert lines[0][0] == "Stage" and len(lines) == 1 + 2 + len(FORMULAS)


def test_csv_of_an_empty_report_says_so():
    lines = parse_csv(render_csv(sample_report(rows=[], empty=True)))
    assert ["Nothing to measure yet."] in lines
    assert lines[-1][0] == "Stage"  # the header, no rows


# --- XLSX ------------------------------------------------------------------------------


def load_xlsx(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_has_a_summary_and_a_sheet_per_table_with_typed_cells():
    book = load_xlsx(render_xlsx(sample_report()))
    assert book.sheetnames == ["Summary", "Days per stage"]
    summary = book["Summary"]
    assert summary["A1"].value == "Timing report"
    assert summary["B2"].value == datetime(2025, 3, 31, 12, 0)  # Rome local time
    assert summary["B2"].is_date
    sheet = book["Days per stage"]
    assert [c.value for c in sheet[1]] == [
        "Stage",
        "Visits",
        "Median days",
        "Share over deadline",
        "Spend",
        "Since",
        "Day",
    ]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:G{2 + 2 + len(FORMULAS) - 1}"
    stage, visits, median, share, spend, since, day = sheet[2]
    assert stage.value == "Intake review" and stage.data_type == "s"
    assert visits.value == 4 and visits.data_type == "n"
    assert median.value == 10.0 and median.number_format == "0.0"
    assert share.value == 0.25 and share.number_format == "0.0%"
    assert spend.value == 1234.5 and "#,##0.00" in spend.number_format
    assert since.is_date and since.value == datetime(2025, 3, 31, 12, 0)
    assert day.is_date and day.value == datetime(2025, 3, 31, 0, 0)
    assert sheet.column_dimensions["A"].width == 20


def test_xlsx_never_turns_text_into_a_formula():
    book = load_xlsx(render_xlsx(sample_report()))
    sheet = book["Days per stage"]
    cells = [sheet.cell(row=4 + i, column=1) for i in range(len(FORMULAS))]
    # XML turns a carriage return into a line feed on reading; the text stays text.
    assert [c.value for c in cells] == [text.replace("\r", "\n") for text in FORMULAS]
    assert all(c.data_type == "s" for c in cells)


def test_xlsx_of_an_empty_report():
    book = load_xlsx(render_xlsx(sample_report(rows=[], empty=True)))
    values = [row[0] for row in book["Summary"].iter_rows(values_only=True)]
    assert "Nothing to measure yet." in values
    assert book["Days per stage"].max_row == 1


# --- PDF -------------------------------------------------------------------------------


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_pdf_has_a_title_page_numbered_pages_and_the_figures():
    pages = pdf_pages(render_pdf(sample_report()))
    assert "Timing report" in pages[0] and "Lombardia" in pages[0]
    assert "2025-03-31 12:00" in pages[0]  # generated at, Europe/Rome
    assert "Agency user (Agenzia)" in pages[0]
    for number, text in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in text
    body = "\n".join(pages)
    assert "76.0" in body and "25.0%" in body and "311.0" in body
    assert "=cmd|' /C calc'!A0" in body  # text is text in a PDF


def test_pdf_tables_split_across_pages_with_the_header_repeated():
    rows = [[f"Stage {i}", i, i / 3, 0.5, 1.0, GENERATED, GENERATED] for i in range(150)]
    pages = pdf_pages(render_pdf(sample_report(rows=rows)))
    with_rows = [p for p in pages if "Stage 1" in p or "Stage 14" in p]
    assert len([p for p in pages if "Median days" in p and "Stage " in p]) >= 3
    assert "Stage 149" in pages[-1]
    assert with_rows


def test_pdf_of_an_empty_report():
    pages = pdf_pages(render_pdf(sample_report(rows=[], empty=True)))
    assert "Nothing to measure yet." in pages[0]
    assert "Nothing." in "\n".join(pages)


# --- Charts ----------------------------------------------------------------------------


def test_charts_render_to_inline_svg_with_reference_lines():
    report = sample_report()
    bar, curve = report.sections[0].blocks[1:3]
    svg = to_svg(drawing_for(bar))
    assert svg.startswith("<svg") and 'role="img"' in svg
    # The Content-Security-Policy blocks style attributes: presentation attributes instead.
    assert 'style="' not in svg and 'font-family="Helvetica, Arial, sans-serif"' in svg
    assert "G-BA: 90 days" in svg and "Deadline" in svg and "Intake review" in svg
    assert "6 months" in to_svg(drawing_for(curve))


def test_empty_charts_say_there_is_no_data():
    empty = BarChart("x", "Nothing", [], [("Median", [])])
    assert "No data here" in to_svg(drawing_for(empty, no_data="No data here"))
    flat = LineChart("y", "Flat", [("All", [(0, None)])])
    assert "No data" in to_svg(drawing_for(flat))


def test_axis_maximum_is_round():
    assert nice_maximum(76) == (100, 20)
    assert nice_maximum(0) == (1.25, 0.25)
    horizontal = BarChart(
        "r",
        "Regions",
        ["Lazio", "Toscana"],
        [("Share", [0.5, None])],
        horizontal=True,
        percent=True,
    )
    assert "Toscana" in to_svg(drawing_for(horizontal))
