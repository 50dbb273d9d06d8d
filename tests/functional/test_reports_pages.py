"""The report pages and downloads as each role sees them (tests/report_history.py data)."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime

import openpyxl
import pypdf
import pytest
from flask_babel import force_locale
from sqlalchemy import update as sa_update

from app.extensions import db
from app.reports_pages import queries as report_queries
from tests.report_history import M2_NAME, NOW, SECRET_DEVICE
from tests.statement_support import counting_statements

# Figures of the known history, as the English locale shows them.
TIMING_FIGURES = (
    "12.5",  # intake review P75 (5, 10, 10, 20 days)
    "17.0",  # ... P90
    "76.0",  # assessment median (40, 73, 79 open, 90)
    "81.8",  # ... P75 81.75
    "86.7",  # ... P90
    "70.5",  # ... mean
    "311.0",  # end to end, median gross (299, 323)
    "320.6",  # ... P90 gross
    "271.5",  # ... median net (265, 278)
    "25.0%",  # share over deadline (intake review, assessment)
)
SECRETS = (SECRET_DEVICE, M2_NAME, "987654", "987,654")


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch, app):
    monkeypatch.setattr("app.reports_pages.views.utcnow", lambda: NOW)
    app.config["REPORT_CACHE_SECONDS"] = 0
    report_queries.clear_cache()
    yield
    report_queries.clear_cache()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def csv_lines(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def all_xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


# --- Figures on screen and in every format ---------------------------------------------


def test_timing_page_shows_the_figures_and_charts(client, login, history):
    login(history.agency)
    page = client.get("/reports/timing?by=region").get_data(as_text=True)
    for figure in TIMING_FIGURES:
        assert figure in page
    assert page.count("<svg") >= 2
    assert "G-BA §137h: 90 days" in page
    assert "HTA-2024-0003" in page  # the slowest open request, 30 days late
    assert "30.0" in page
    assert f"/reports/requests/{history.c.id}.pdf" in page  # its record, one click away
    assert "Days per stage by region of the regional body" in page


def test_the_same_figures_in_pdf_xlsx_and_csv(client, login, history):
    login(history.agency)
    pdf = client.get("/reports/timing.pdf?by=region")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for figure in TIMING_FIGURES:
        assert figure in text
    assert "Page 1 of" in text

    xlsx = client.get("/reports/timing.xlsx?by=region")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert {"Summary", "Days per stage", "Requests"} <= set(book.sheetnames)
    stages = {row[0]: row for row in book["Days per stage"].iter_rows(min_row=2, values_only=True)}
    assessment = stages["Assessment"]
    assert assessment[1] == 4
    assert assessment[2:6] == pytest.approx((76, 81.75, 86.7, 70.5))
    assert stages["Intake review"][-1] == pytest.approx(0.25)
    requests = list(book["Requests"].iter_rows(min_row=2, values_only=True))
    assert len(requests) == 3

    lines = csv_lines(client.get("/reports/timing.csv?by=region").data)
    assessment_line = next(line for line in lines if line and line[0] == "Assessment")
    assert assessment_line[1:6] == ["4", "76.0", "81.8", "86.7", "70.5"]
    assert any(line[:1] == ["HTA-2024-0003"] for line in lines)


def test_adoption_page_and_downloads(client, login, history):
    login(history.agency)
    page = client.get("/reports/adoption").get_data(as_text=True)
    assert "IRCCS Firenze" in page  # not started
    assert "50.0" in page  # median days to first use
    assert "40.0%" in page  # two of five records in use at month 2
    assert page.count("<svg") >= 2
    assert "HTA-2024-0001" in page
    text = pdf_text(client.get("/reports/adoption.pdf").data)
    assert "IRCCS Firenze" in text and "50.0" in text
    book = openpyxl.load_workbook(io.BytesIO(client.get("/reports/adoption.xlsx").data))
    quarters = list(book["Use per quarter"].iter_rows(min_row=2, values_only=True))
    assert quarters == [("2024 Q4", 1, 5, 5, 9250, 0), ("2025 Q1", 2, 16, 13, 29600, 1)]
    lines = csv_lines(client.get("/reports/adoption.csv").data)
    assert ["2025 Q1", "2", "16", "13", "29600.00", "1"] in lines


def test_adoption_of_one_recommendation_shows_every_table(client, login, history):
    login(history.agency)
    page = client.get(f"/reports/adoption?request_id={history.a.id}").get_data(as_text=True)
    assert "Use per recommendation and quarter" in page
    assert "37.5" in page  # expected units per quarter: 150 / 4
    assert "in the XLSX and CSV downloads only" not in page


def test_formula_looking_names_stay_text_in_downloads(client, login, history, make):
    make.request(
        manufacturer=history.m1,
        trade_name='=HYPERLINK("http://x")',
        model="",
        state="intake_review",
        submitted_at=NOW,
    )
    db.session.commit()
    login(history.agency)
    lines = csv_lines(client.get("/reports/timing.csv?table=requests").data)
    devices = [line[2] for line in lines if "HYPERLINK" in line[2]]
    assert devices == ['\'=HYPERLINK("http://x")']
    book = openpyxl.load_workbook(io.BytesIO(client.get("/reports/timing.xlsx").data))
    [cell] = [c for row in book["Requests"].iter_rows() for c in row if "HYPERLINK" in str(c.value)]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x")'


# --- Who sees what ----------------------------------------------------------------------


def test_anonymous_readers_are_sent_to_log_in(client, history):
    response = client.get("/reports/timing")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "url",
    ["/reports/", "/reports/timing", "/reports/adoption.xlsx", "/reports/requests/1.pdf"],
)
def test_administrators_have_no_reports(client, login, history, url):
    login(history.admin)
    assert client.get(url).status_code == 403


def test_irccs_sees_adoption_not_timing(client, login, history):
    login(history.irccs1)
    assert client.get("/reports/timing").status_code == 403
    assert client.get("/reports/timing.csv").status_code == 403
    page = client.get("/reports/adoption").get_data(as_text=True)
    assert "My adoption records" in page
    assert "IRCCS Firenze" not in page  # another IRCCS's records are not named
    assert "Timing report" not in client.get("/reports/").get_data(as_text=True)


def test_manufacturer_never_sees_another_manufacturers_requests(client, login, history):
    login(history.maker1)
    outputs = []
    for kind in ("timing", "adoption"):
        outputs.append(client.get(f"/reports/{kind}?by=all").get_data(as_text=True))
        outputs.append(pdf_text(client.get(f"/reports/{kind}.pdf?by=all").data))
        outputs.append(all_xlsx_text(client.get(f"/reports/{kind}.xlsx?by=all").data))
        outputs.append(client.get(f"/reports/{kind}.csv?by=all").data.decode("utf-8-sig"))
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output
    # ...but its own requests are there, and the anonymous aggregates cover everyone.
    assert "HTA-2024-0003" in outputs[0]
    assert "311.0" in outputs[0]


def test_assessor_sees_its_bodys_requests_only(client, login, history):
    login(history.assessor_l)
    data = client.get("/reports/timing.csv").data.decode("utf-8-sig")
    assert "HTA-2024-0001" in data and "HTA-2024-0003" in data
    assert "HTA-2024-0002" not in data and SECRET_DEVICE not in data


# --- Filters ---------------------------------------------------------------------------


def test_filters_apply_and_downloads_keep_them(client, login, history):
    login(history.agency)
    page = client.get("/reports/timing?region=lombardia&by=year").get_data(as_text=True)
    assert "299.0" in page and "323.0" not in page
    assert "/reports/timing.pdf?region=lombardia&amp;by=year" in page
    assert "/reports/timing.xlsx?region=lombardia&amp;by=year" in page
    text = pdf_text(client.get("/reports/timing.pdf?region=lombardia").data)
    assert "Lombardia" in text and "323.0" not in text


def test_bad_filters_are_explained_and_kept(client, login, history):
    login(history.agency)
    response = client.get("/reports/timing?submitted_from=2024-31-12&region=atlantis")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter a date as YYYY-MM-DD." in page
    assert "Choose a value from the list." in page
    assert 'value="2024-31-12"' in page
    assert "311.0" in page  # the report ignores the bad filters


# --- Empty data ------------------------------------------------------------------------


def test_empty_data_gives_a_clear_empty_report(client, login, make):
    agency = make.user("agency", language="en")
    db.session.commit()
    login(agency)
    for kind, message in (
        ("timing", "No submitted request matches these filters"),
        ("adoption", "No published positive recommendation matches these filters"),
    ):
        page = client.get(f"/reports/{kind}")
        assert page.status_code == 200 and message in page.get_data(as_text=True)
        assert message in pdf_text(client.get(f"/reports/{kind}.pdf").data)
        assert message in all_xlsx_text(client.get(f"/reports/{kind}.xlsx").data)
        assert message in client.get(f"/reports/{kind}.csv").data.decode("utf-8-sig")


# --- Statements ------------------------------------------------------------------------


def test_report_pages_run_a_constant_number_of_statements(client, login, history, make):
    login(history.agency)
    client.get("/reports/timing")  # warm up (the session's first queries)

    def statements(url):
        db.session.commit()  # every request starts from a fresh transaction
        with counting_statements() as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    urls = (
        "/reports/timing",  # as it opens: the figures from the indexes
        "/reports/timing?by=all",
        "/reports/timing?region=lombardia",
        "/reports/adoption",
    )
    before = {url: statements(url) for url in urls}
    for i in range(5):
        request = make.request(
            manufacturer=history.m1, submitted_at=NOW, state="intake_review", trade_name=f"X{i}"
        )
        assert request.id
    db.session.commit()
    after = {url: statements(url) for url in before}
    assert after == before


def test_cached_page_answers_with_fewer_statements(client, login, history, app):
    app.config["REPORT_CACHE_SECONDS"] = 300
    login(history.agency)
    client.get("/reports/timing")
    with counting_statements() as cold_run:
        report_queries.clear_cache()
        client.get("/reports/timing")
    with counting_statements() as warm_run:
        client.get("/reports/timing")
    assert len(warm_run) < len(cold_run)


# --- The per-request record --------------------------------------------------------------


def test_request_record_has_timeline_recommendation_and_verified_audit_trail(
    client, login, history
):
    login(history.agency)
    response = client.get(f"/reports/requests/{history.b.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    compact = "".join(text.split())
    from app.core.audit import entries_for_request

    for entry in entries_for_request(history.b.id):
        assert entry.hash in compact
    assert "Hash chain verified" in text
    assert "Factual accuracy check" in text and "Recommended with restrictions" in text
    assert "987,654.32" in text  # the agency is a party


def test_request_record_hides_confidential_fields_from_non_parties(client, login, history):
    login(history.irccs1)  # may see a published positive recommendation, is not a party
    text = pdf_text(client.get(f"/reports/requests/{history.b.id}.pdf").data)
    assert "Confidential" in text
    assert "987,654.32" not in text and "987654.32" not in text


def test_request_record_of_an_invisible_request_is_not_found(client, login, history):
    login(history.maker1)
    assert client.get(f"/reports/requests/{history.b.id}.pdf").status_code == 404
    assert client.get(f"/reports/requests/{history.a.id}.pdf").status_code == 200
    assert client.get("/reports/requests/999999.pdf").status_code == 404


def test_italian_numbers(client, login, history):
    history.agency.language = "it"
    db.session.commit()
    login(history.agency)
    page = client.get("/reports/timing").get_data(as_text=True)
    assert "76,0" in page and "25,0%" in page


def test_downloads_say_their_type_once_and_are_named_in_rome_time(
    client, login, history, monkeypatch
):
    from app.reports_pages import views

    # 23:23 UTC on 17 May is 01:23 on 18 May in Rome (summer time).
    monkeypatch.setattr(views, "utcnow", lambda: datetime(2027, 5, 17, 23, 23, tzinfo=UTC))
    login(history.agency)
    response = client.get("/reports/timing.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="timing-report-20270518-0123.csv"' in response.headers["Content-Disposition"]


# --- PDFs that read well ---------------------------------------------------------------------


def _split_header_words(text: str, headers: set[str]) -> set[str]:
    """Header words the PDF breaks across two lines ("Appr" / "oved")."""
    words = {w.strip("()%,.:;") for label in headers for w in label.split()}
    words = {w for w in words if len(w) >= 4}
    lines = [line.strip() for line in text.split("\n")]
    broken = set()
    for above, below in itertools.pairwise(lines):
        if not above or not below:
            continue
        joined = above.split()[-1] + below.split()[0]
        broken |= {w for w in words if joined.strip("()%,.:;") in w and len(joined) >= 4}
    return broken


def _report_pdfs(client, history):
    """(name, PDF text, the column labels of its tables) of every PDF report."""
    from app.reports.filters import parse_filters
    from app.reports_pages.build import (
        build_adoption_report,
        build_request_record,
        build_timing_report,
    )

    filters, _errors = parse_filters({})
    one, _ = parse_filters({"request_id": str(history.a.id)})
    now = datetime(2025, 6, 30, 12, tzinfo=UTC)
    built = {
        "timing": (build_timing_report(history.agency, filters, now), "/reports/timing.pdf"),
        "adoption": (build_adoption_report(history.agency, filters, now), "/reports/adoption.pdf"),
        "adoption of one": (
            build_adoption_report(history.agency, one, now),
            f"/reports/adoption.pdf?request_id={history.a.id}",
        ),
        "record": (
            build_request_record(history.agency, history.b.id, now),
            f"/reports/requests/{history.b.id}.pdf",
        ),
    }
    for name, (report, url) in built.items():
        headers = {
            str(column.label)
            for section in report.sections
            for block in section.blocks
            if hasattr(block, "columns")
            for column in block.columns
        }
        titles = {section.title for section in report.sections} | {
            block.title
            for section in report.sections
            for block in section.blocks
            if getattr(block, "title", "")
        }
        yield name, client.get(url).data, headers, titles


@pytest.mark.parametrize("language", ["en", "it"])
def test_no_pdf_table_breaks_a_header_inside_a_word(client, login, history, language):
    history.agency.language = language
    db.session.commit()
    login(history.agency)
    with force_locale(language):
        for name, data, headers, _titles in _report_pdfs(client, history):
            assert headers, name
            assert _split_header_words(pdf_text(data), headers) == set(), name


def test_pdfs_start_with_content_and_say_no_heading_twice(client, login, history):
    login(history.agency)
    for name, data, headers, titles in _report_pdfs(client, history):
        reader = pypdf.PdfReader(io.BytesIO(data))
        first = reader.pages[0].extract_text()
        assert len(first) > 400, (name, first)  # not the title block alone
        lines = [line.strip() for page in reader.pages for line in page.extract_text().split("\n")]
        # A title printed twice in a row; a column label that merely reads like a section title
        # ("Requests" over the per-request table's "Requests" column group) is not one.
        repeated = [a for a, b in itertools.pairwise(lines) if a in titles - headers and a == b]
        assert repeated == [], (name, repeated)


def test_the_request_record_reads_as_a_document_linked_from_the_request_page(
    client, login, history
):
    history.agency.language = "it"
    db.session.commit()
    login(history.agency)
    url = f"/reports/requests/{history.b.id}.pdf"
    page = client.get(f"/requests/{history.b.id}").get_data(as_text=True)
    assert f'href="{url}"' in page
    text = pdf_text(client.get(url).data)
    # Sections, in Italian.
    for heading in (
        "Dossier",
        "Dispositivo",
        "Cronologia",
        "Domande e risposte",
        "Valutazione (HTA Core Model)",
        "Consultazione pubblica",
        "Raccomandazione",
        "Registro delle attività",
    ):
        assert heading in text, heading
    # Codes in words: no state, action, role or outcome code, no raw field name.
    compact = text.replace("\n", " ")
    for code in (
        "factual_accuracy_check",
        "adoption_monitoring",
        "recommended_restricted",
        "return_factual_comments",
        "agency)",
        "receipt_number",
        "None",
    ):
        assert code not in compact, code


def test_csv_for_italian_excel_uses_semicolons_and_decimal_commas(client, login, history):
    login(history.agency)
    page = client.get("/reports/adoption").get_data(as_text=True)
    assert 'href="/reports/adoption.csv?variant=excel-it"' in page
    response = client.get("/reports/adoption.csv?variant=excel-it")
    assert response.status_code == 200
    assert "excel-it.csv" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    # The same row as the standard CSV (["2025 Q1", "2", "16", "13", "29600.00", "1"]).
    assert ["2025 Q1", "2", "16", "13", "29600,00", "1"] in lines
    timing = client.get("/reports/timing.csv?variant=excel-it").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(timing), delimiter=";"))
    assessment = next(row for row in rows if row and row[0] == "Assessment")
    assert assessment[1:6] == ["4", "76,0", "81,8", "86,7", "70,5"]
    assert client.get("/reports/timing.csv?variant=other").status_code == 404


# --- Figures shared between processes (PostgreSQL) ------------------------------------------


def _count_summaries(monkeypatch) -> list:
    """Count the adoption summaries computed from here on (each a full aggregation)."""
    from app.reports_pages.queries import adoption

    calls = []
    compute = adoption.adoption_summary

    def counted(*args, **kwargs):
        calls.append(1)
        return compute(*args, **kwargs)

    monkeypatch.setattr(adoption, "adoption_summary", counted)
    return calls


@pytest.fixture
def shared_figures(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("figures are shared between processes on PostgreSQL only")
    app.config["REPORT_CACHE_SECONDS"] = 300


def test_figures_computed_in_one_process_serve_the_others(
    client, login, history, shared_figures, monkeypatch
):
    login(history.agency)
    calls = _count_summaries(monkeypatch)
    assert "50.0" in client.get("/reports/adoption").get_data(as_text=True)
    report_queries.clear_cache()  # another worker: nothing in its memory
    page = client.get("/reports/adoption").get_data(as_text=True)
    assert "50.0" in page and "40.0%" in page and "IRCCS Firenze" in page
    assert len(calls) == 1  # read from the database, not aggregated again


def test_a_change_shows_on_the_next_view_in_every_process(
    client, login, history, shared_figures, monkeypatch, make
):
    login(history.agency)
    calls = _count_summaries(monkeypatch)
    client.get("/reports/timing")
    client.get("/reports/adoption")
    make.request(manufacturer=history.m1, submitted_at=NOW, state="intake_review")
    db.session.commit()
    report_queries.clear_cache()  # another worker
    client.get("/reports/adoption")
    assert len(calls) == 2  # the stored figures were of the data before the change
    timing = client.get("/reports/timing").get_data(as_text=True)
    assert "HTA-2024-0003" in timing


def test_a_stored_row_not_signed_by_the_app_is_ignored(
    client, login, history, shared_figures, monkeypatch
):
    import pickle

    from app.models import ReportCacheEntry

    login(history.agency)
    client.get("/reports/adoption")
    forged = b"\0" * 32 + pickle.dumps("forged figures")
    # Written as another process would (the test's own session keeps its transaction open,
    # and the row lock with it, until the test ends).
    with db.engine.begin() as connection:
        connection.execute(sa_update(ReportCacheEntry).values(value=forged))
    report_queries.clear_cache()
    calls = _count_summaries(monkeypatch)
    page = client.get("/reports/adoption").get_data(as_text=True)
    assert "50.0" in page and len(calls) == 1


def test_figures_stored_by_another_release_of_the_code_are_not_served(
    client, login, history, shared_figures, monkeypatch
):
    from app.reports_pages.queries import shared_cache

    login(history.agency)
    calls = _count_summaries(monkeypatch)
    client.get("/reports/adoption")  # stored under this release
    report_queries.clear_cache()
    # A server of the next release, during a rolling deploy: the same data, other code.
    monkeypatch.setenv("HTA_RELEASE", "the-next-release")
    shared_cache.code_release.cache_clear()
    try:
        page = client.get("/reports/adoption").get_data(as_text=True)
    finally:
        shared_cache.code_release.cache_clear()
    assert "50.0" in page
    assert len(calls) == 2  # computed again, not read from the old release's row
