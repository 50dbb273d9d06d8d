"""Adoption barriers in the adoption report: per region and kind, the page and every export
of `flask report adoption` (CSV, XLSX, PDF) carry the same figures; an IRCCS reads only its
own barriers."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import openpyxl
import pypdf
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Adoption, AdoptionBarrier
from app.reports_pages import queries as report_queries
from tests.report_history import NOW

TITLE = "Adoption barriers by region and kind"
# Region, kind, recorded, open, escalated, resolved, overdue, median days open, to resolution.
EXPECTED = [
    ["Lazio", "No budget", "1", "0", "0", "1", "0", "", "30.0"],
    ["Lazio", "Awaiting a regional tariff", "1", "1", "0", "0", "1", "20.0", ""],
    ["Lombardia", "No budget", "2", "2", "0", "0", "1", "5.0", ""],
    ["Toscana", "Training", "1", "0", "1", "0", "0", "10.0", ""],
]


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr("app.reports_pages.cli.utcnow", lambda: NOW)
    monkeypatch.setattr("app.reports_pages.views.utcnow", lambda: NOW, raising=False)
    report_queries.clear_cache()


@pytest.fixture
def barriers(history):
    """Lazio's IRCCS declined A for lack of budget (resolved in 30 days) and waits for a
    tariff (overdue); Firenze escalated a training barrier on A; Milano has two budget
    barriers on B, one overdue."""

    def add(request, irccs, kind, status, recorded_days_ago, due_in_days, resolved_days_ago=None):
        adoption = db.session.scalars(
            select(Adoption).where(Adoption.request_id == request.id, Adoption.irccs_id == irccs.id)
        ).one()
        db.session.add(
            AdoptionBarrier(
                adoption_id=adoption.id,
                kind=kind,
                description="",
                owner="irccs",
                due_date=(NOW + timedelta(days=due_in_days)).date(),
                status=status,
                recorded_at=NOW - timedelta(days=recorded_days_ago),
                resolved_at=(
                    None if resolved_days_ago is None else NOW - timedelta(days=resolved_days_ago)
                ),
            )
        )

    add(history.a, history.i2, "no_budget", "resolved", 40, -20, resolved_days_ago=10)
    add(history.a, history.i2, "awaiting_tariff", "open", 20, -5)
    add(history.a, history.i3, "training", "escalated", 10, 30)
    add(history.b, history.i1, "no_budget", "open", 6, 10)
    add(history.b, history.i1, "no_budget", "open", 4, -1)
    db.session.commit()
    return history


def _csv_table(data: bytes, title: str) -> list[list[str]]:
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    start = lines.index([title]) + 2
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


def _export(runner, tmp_path, fmt: str):
    out = tmp_path / f"adoption.{fmt}"
    args = ["report", "adoption", "--format", fmt, "--out", str(out), "--lang", "en"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return out


def test_the_csv_carries_the_barriers_by_region_and_kind(runner, barriers, tmp_path):
    rows = _csv_table(_export(runner, tmp_path, "csv").read_bytes(), TITLE)
    assert rows == EXPECTED


def test_the_spreadsheet_and_the_pdf_carry_the_same_figures(runner, barriers, tmp_path):
    book = openpyxl.load_workbook(_export(runner, tmp_path, "xlsx"))
    values = [list(row) for row in book["Barriers"].iter_rows(values_only=True)]
    assert ["Lazio", "Awaiting a regional tariff", 1, 1, 0, 0, 1, 20.0, None] in values
    assert ["Lazio", "No budget", 1, 0, 0, 1, 0, None, 30.0] in values
    pdf = _export(runner, tmp_path, "pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert TITLE in text and "Awaiting a regional tariff" in text


def _page_rows(page: str) -> list[list[str]]:
    table = page.split(TITLE, 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody", 1)[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def test_the_page_shows_the_csv_figures(runner, client, login, barriers, tmp_path):
    csv_rows = _csv_table(_export(runner, tmp_path, "csv").read_bytes(), TITLE)
    login(barriers.agency)
    page = client.get("/reports/adoption?lang=en").get_data(as_text=True)
    page_rows = _page_rows(page)
    # The page shows a dash where the CSV leaves the cell empty (no figure).
    no_figure = {"\u2014", "\u2013", ""}
    assert [[c if c not in no_figure else "" for c in row] for row in page_rows] == csv_rows


def test_an_irccs_reads_only_its_own_barriers(client, login, barriers):
    login(barriers.irccs1)  # IRCCS Milano, Lombardia
    page = client.get("/reports/adoption?lang=en").get_data(as_text=True)
    assert [row[:2] for row in _page_rows(page)] == [["Lombardia", "No budget"]]
