"""Time to patient by stage holder in the timing report: the page, the page's CSV download
and every export of `flask report timing` (PDF, XLSX, CSV) carry the same figures, the
adoption report's, and the report's filters apply."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pypdf
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Adoption, Procurement
from app.reports_pages import queries as report_queries
from tests.report_history import NOW

TITLE = "Time to patient by stage holder"


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr("app.reports_pages.cli.utcnow", lambda: NOW)
    monkeypatch.setattr("app.reports_pages.views.utcnow", lambda: NOW)
    report_queries.clear_cache()


@pytest.fixture
def procured(history):
    """IRCCS Milano bought A in 25 days (first patient), IRCCS Firenze bought B in 8."""
    for request, irccs, days in ((history.a, history.i1, 25), (history.b, history.i3, 8)):
        adoption = db.session.scalars(
            select(Adoption).where(Adoption.request_id == request.id, Adoption.irccs_id == irccs.id)
        ).one()
        started = adoption.first_use_at - timedelta(days=days)
        db.session.add(Procurement(adoption=adoption, route="direct", started_at=started))
    db.session.commit()
    return history


def _csv_table(data: bytes, title: str) -> list[list[str]]:
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    start = lines.index([title]) + 2
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


def _page_table(page: str, key: str) -> list[list[str]]:
    table = page.split(f'aria-labelledby="table-{key}">')[2].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return [
        [
            re.sub(r"\s+", " ", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _cli(runner, tmp_path, fmt: str, *extra: str):
    out = tmp_path / f"timing.{fmt}"
    args = ["report", "timing", "--format", fmt, "--out", str(out), "--lang", "en", *extra]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return out


def test_page_csv_and_every_cli_export_carry_the_same_holder_figures(
    runner, client, login, procured, tmp_path
):
    cli_rows = _csv_table(_cli(runner, tmp_path, "csv").read_bytes(), TITLE)
    # Procurement: 25 and 8 days; both IRCCS reached their first patient.
    assert ["Procurement", "2", "16.5", "23.3"] in cli_rows
    assert [row[1] for row in cli_rows] == ["2"] * len(cli_rows)

    login(procured.agency)
    page = client.get("/reports/timing?lang=en").get_data(as_text=True)
    assert _page_table(page, "time_to_patient_holders") == cli_rows

    download = client.get("/reports/timing.csv?lang=en&table=time_to_patient_holders")
    lines = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert lines[0][0] == "Held by" and lines[1:] == cli_rows

    # The adoption report's figures: one computation for both reports.
    adoption = tmp_path / "adoption.csv"
    adoption_args = ["report", "adoption", "--format", "csv", "--out", str(adoption)]
    assert runner.invoke(args=[*adoption_args, "--lang", "en"]).exit_code == 0
    assert _csv_table(adoption.read_bytes(), TITLE) == cli_rows

    book = openpyxl.load_workbook(_cli(runner, tmp_path, "xlsx"))
    values = [list(r) for r in book["Time to patient"].iter_rows(values_only=True)]
    assert ["Procurement", 2, 16.5, 23.3] in [
        [v if not isinstance(v, float) else round(v, 1) for v in row] for row in values
    ]

    pdf = _cli(runner, tmp_path, "pdf")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    assert TITLE in text and "23.3" in text


def test_the_filters_apply_to_the_time_to_patient(runner, procured, tmp_path):
    """Filtered to body T's requests (B only): one IRCCS, 8 days of procurement."""
    out = _cli(runner, tmp_path, "csv", "--region", "toscana")
    rows = _csv_table(out.read_bytes(), TITLE)
    assert ["Procurement", "1", "8.0", "8.0"] in rows


def test_a_manufacturer_reads_the_figures_of_its_own_devices_only(client, login, procured):
    login(procured.maker1)
    page = client.get("/reports/timing?lang=en").get_data(as_text=True)
    rows = _page_table(page, "time_to_patient_holders")
    # M1's device A (IRCCS Milano, 25 days of procurement), not M2's device B.
    assert ["Procurement", "1", "25.0", "25.0"] in rows
