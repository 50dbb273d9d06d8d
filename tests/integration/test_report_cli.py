"""`flask report timing|adoption|request` writes the files, with the page's filters."""

from __future__ import annotations

import csv
import io

import openpyxl
import pypdf
import pytest

from app.reports_pages import queries as report_queries
from tests.report_history import NOW, SECRET_DEVICE


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr("app.reports_pages.cli.utcnow", lambda: NOW)
    report_queries.clear_cache()


def run(runner, *args):
    result = runner.invoke(args=["report", *args])
    return result


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv"])
def test_timing_report_in_each_format(runner, history, tmp_path, fmt):
    out = tmp_path / f"timing.{fmt}"
    result = run(runner, "timing", "--format", fmt, "--out", str(out), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    if fmt == "pdf":
        text = pdf_text(out)
        assert "Timing report" in text and "76.0" in text and "320.6" in text
    elif fmt == "xlsx":
        book = openpyxl.load_workbook(out)
        assert {"Stages by region", "End to end by risk class"} <= set(book.sheetnames)
        assert len(list(book["Requests"].iter_rows(min_row=2))) == 3
    else:
        lines = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
        assert next(line for line in lines if line[:1] == ["Assessment"])[2] == "76.0"


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv"])
def test_adoption_report_in_each_format(runner, history, tmp_path, fmt):
    out = tmp_path / f"adoption.{fmt}"
    result = run(runner, "adoption", "--format", fmt, "--out", str(out), "--lang", "en")
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert len(data) > 500
    if fmt == "csv":
        assert "IRCCS Firenze" in data.decode("utf-8-sig")


def test_filters_and_scope_as_a_user(runner, history, tmp_path):
    out = tmp_path / "mine.csv"
    result = run(
        runner,
        "timing",
        "--format",
        "csv",
        "--out",
        str(out),
        "--user",
        history.maker1.email,
        "--region",
        "lombardia",
        "--by",
        "none",
        "--lang",
        "en",
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    assert "HTA-2024-0003" in text and SECRET_DEVICE not in text
    assert "Lombardia" in text


def test_bad_filters_stop_with_a_message(runner, history, tmp_path):
    out = tmp_path / "x.pdf"
    result = run(
        runner, "timing", "--format", "pdf", "--out", str(out), "--emdn", "?", "--lang", "en"
    )
    assert result.exit_code == 2
    assert "--emdn" in result.output
    assert not out.exists()


def test_request_record(runner, history, tmp_path):
    out = tmp_path / "record.pdf"
    result = run(runner, "request", str(history.b.id), "--out", str(out), "--lang", "en")
    assert result.exit_code == 0, result.output
    text = pdf_text(out)
    assert "HTA-2024-0002" in text and "Hash chain verified" in text
    missing = run(runner, "request", "999999", "--out", str(tmp_path / "none.pdf"))
    assert missing.exit_code == 1 and "not found" in missing.output


def test_empty_database_still_writes_reports(runner, app, tmp_path):
    for kind in ("timing", "adoption"):
        out = tmp_path / f"{kind}.xlsx"
        result = run(runner, kind, "--format", "xlsx", "--out", str(out), "--lang", "en")
        assert result.exit_code == 0, result.output
        assert openpyxl.load_workbook(out).sheetnames[0] == "Summary"
