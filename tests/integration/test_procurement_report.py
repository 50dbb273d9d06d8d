"""Time in procurement per IRCCS in the adoption report: the page and every export of
`flask report adoption` (PDF, XLSX, CSV) carry the same days, and no price."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pypdf
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Adoption, Procurement
from app.reports.time_to_patient import HOLDERS
from app.reports_pages import queries as report_queries
from tests.report_history import NOW

PRICE = Decimal("861357.00")


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr("app.reports_pages.cli.utcnow", lambda: NOW)
    report_queries.clear_cache()


@pytest.fixture
def procured(history):
    """IRCCS Milano bought A in 25 days and is still buying B; IRCCS Firenze bought B in 8."""

    def record(request, irccs, days_before_first_use, **extra):
        adoption = db.session.scalars(
            select(Adoption).where(Adoption.request_id == request.id, Adoption.irccs_id == irccs.id)
        ).one()
        started = (adoption.first_use_at or NOW) - timedelta(days=days_before_first_use)
        db.session.add(Procurement(adoption=adoption, route="direct", started_at=started, **extra))
        return adoption

    record(history.a, history.i1, 25, awarded_price=PRICE)
    record(history.b, history.i3, 8, awarded_price=PRICE)
    ongoing = record(history.b, history.i1, 12)
    ongoing.state = "procurement"
    db.session.commit()
    return history


def _csv_rows(data: bytes) -> dict[str, list[str]]:
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    title = lines.index(["Time in procurement per IRCCS"])
    rows = {}
    for line in lines[title + 2 :]:
        if not line:
            break
        rows[line[0]] = line
    return rows


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_each_export_carries_the_days_in_procurement_per_irccs(runner, procured, tmp_path, fmt):
    out = tmp_path / f"adoption.{fmt}"
    args = ["report", "adoption", "--format", fmt, "--out", str(out), "--lang", "en"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        rows = _csv_rows(out.read_bytes())
        assert rows["IRCCS Milano"][1:] == ["Lombardia", "1", "1", "25.0", "25.0"]
        assert rows["IRCCS Firenze"][1:] == ["Toscana", "1", "0", "8.0", "8.0"]
        text = out.read_bytes().decode("utf-8-sig")
    elif fmt == "xlsx":
        book = openpyxl.load_workbook(out)
        sheet = book["Procurement"]
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert ["IRCCS Milano", "Lombardia", 1, 1, 25.0, 25.0] in values
        text = "\n".join(
            str(c) for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r
        )
    else:
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(out).pages)
        assert "Time in procurement per IRCCS" in text and "25.0" in text
    assert "861357" not in text.replace(",", "").replace(".", "")  # never a price


def test_an_irccs_reads_only_its_own_procurement_time(client, login, procured):
    login(procured.irccs1)
    page = client.get("/reports/adoption?lang=en").get_data(as_text=True)
    section = page.split("Time in procurement per IRCCS")[1]
    assert "IRCCS Milano" in section and "IRCCS Firenze" not in section


def _csv_table(data: bytes, title: str) -> list[list[str]]:
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    start = lines.index([title]) + 2
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


def test_the_waterfall_on_the_request_page_shows_the_csvs_days(
    runner, client, login, procured, tmp_path
):
    out = tmp_path / "adoption.csv"
    args = ["report", "adoption", "--format", "csv", "--out", str(out), "--lang", "en"]
    assert runner.invoke(args=args).exit_code == 0
    rows = _csv_table(out.read_bytes(), "Time to patient per request and IRCCS")
    (row,) = [r for r in rows if r[0] == str(procured.a.id) and r[2] == "IRCCS Milano"]
    assert row[4] == "yes"
    csv_days = row[5 : 5 + len(HOLDERS)]

    login(procured.agency)
    page = client.get(f"/requests/{procured.a.id}?lang=en").get_data(as_text=True)
    table = page.split("time-to-patient-table")[1].split("</table>")[0]
    milano = table.split('<tr data-irccs="IRCCS Milano">')[1].split("</tr>")[0]
    page_days = re.findall(r'data-holder="[a-z_]+">([0-9.]+)</td>', milano)
    assert page_days == csv_days
    assert float(csv_days[5]) == 25.0  # procurement
    assert sum(float(d) for d in csv_days) > 25.0
    assert 'class="ttp-procurement"' in page  # the waterfall's bar

    # The summary by holder counts the two IRCCS that reached their first patient.
    holders = _csv_table(out.read_bytes(), "Time to patient by stage holder")
    (procurement,) = [h for h in holders if h[0] == "Procurement"]
    assert procurement[1:] == ["2", "16.5", "23.3"]
