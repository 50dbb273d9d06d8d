"""The public register's adoption figures (issue 13, items 5 and 6): on a recommendation's
page and on the adoption map (page and CSV), for anybody: counts of designated IRCCS and of
those with a first patient, by region, and the median days to the first patient, overall and
by stage holder. Never a price, a usage figure or an IRCCS's name. Time figures are not
confidential: every median says over how many IRCCS it is taken and is shown whatever their
number, so a single IRCCS's days are shown (REPORT_MIN_GROUP applies to usage figures, never
published here). The days are the request page's waterfall and the adoption report CSV's."""

from __future__ import annotations

import csv
import io
import re
import statistics
from datetime import timedelta
from decimal import Decimal

import pytest

from app.adoption.path_store import rebuild_patient_paths
from app.extensions import db
from app.models import Adoption, Procurement, Recommendation, UsageReport
from app.models.types import utcnow
from app.reports.time_to_patient import HOLDERS
from app.reports_pages import queries as report_queries
from tests.functional.test_public_register import (
    MAIN_PATH,
    STAGE_DAYS,
    csv_rows,
    page,
    public_request,
    set_language,
)

SECRET_PRICE = Decimal("737373.00")
SECRET_UNITS = 919
IRCCS_NAME = "IRCCS Segreto"


@pytest.fixture(autouse=True)
def english(client):
    set_language(client, "en")
    report_queries.clear_cache()


def _publish(request, outcome="recommended_restricted"):
    """Published when its last stage (adoption monitoring) was entered, 5 days ago."""
    published = utcnow() - timedelta(days=5)
    db.session.add(
        Recommendation(request=request, outcome=outcome, rationale="Good.", published_at=published)
    )
    db.session.flush()
    return published


def _adopt(make, request, published, region, first_use_days=None, procurement_days=None):
    irccs = make.org(
        "irccs", name=f"{IRCCS_NAME} {region} {request.id} {first_use_days}", region=region
    )
    first_use = published + timedelta(days=first_use_days) if first_use_days else None
    adoption = Adoption(
        request_id=request.id,
        irccs_id=irccs.id,
        state="in_use" if first_use else "not_started",
        decided_at=first_use,
        first_use_at=first_use,
    )
    db.session.add(adoption)
    db.session.flush()
    if procurement_days is not None:
        started = first_use - timedelta(days=procurement_days)
        db.session.add(
            Procurement(
                adoption=adoption, route="direct", started_at=started, awarded_price=SECRET_PRICE
            )
        )
    if first_use is not None:
        db.session.add(
            UsageReport(
                adoption_id=adoption.id,
                year=first_use.year,
                quarter=(first_use.month - 1) // 3 + 1,
                version=1,
                units=SECRET_UNITS,
                procedures=SECRET_UNITS,
            )
        )
    # Written directly, not through the workflow: the stored paths rebuilt (as after a load).
    rebuild_patient_paths()
    return adoption


@pytest.fixture
def adopted(make):
    """A restricted recommendation: 3 IRCCS in Lombardy treated a first patient (1, 2 and 4
    days after publication, the last after 1 day of procurement), 1 in Lazio (3 days), 1 in
    Tuscany has not started; another recommendation with one IRCCS only."""
    request = public_request(
        make, "adoption_monitoring", path=MAIN_PATH, trade_name="MapValve", model="M1"
    )
    published = _publish(request)
    _adopt(make, request, published, "lombardia", 1)
    _adopt(make, request, published, "lombardia", 2)
    _adopt(make, request, published, "lombardia", 4, procurement_days=1)
    _adopt(make, request, published, "lazio", 3)
    _adopt(make, request, published, "toscana")
    lone = public_request(make, "adoption_monitoring", path=MAIN_PATH, trade_name="LoneStent")
    _adopt(make, lone, _publish(lone, "recommended"), "lazio", 6)
    db.session.commit()
    return request, lone


def _figure(html: str, name: str) -> str:
    cell = html.split(f'data-figure="{name}">')[1].split("</dd>")[0].split("</td>")[0]
    return re.sub(r"<[^>]+>", "", cell).strip()


def _row(html: str, attribute: str, value: str) -> list[str]:
    row = html.split(f'<tr {attribute}="{value}">')[1].split("</tr>")[0]
    return [
        " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    ]


def _median(days: float, irccs: int) -> str:
    """A median cell as a reader sees it: its days, and over how many IRCCS."""
    if irccs == 1:
        return f"{days:.1f} (days of 1 IRCCS)"
    return f"{days:.1f} (median of {irccs} IRCCS)"


def _days(cell: str) -> str:
    return cell.split(" (")[0]


BEFORE = (len(MAIN_PATH) - 1) * STAGE_DAYS  # 8 stages of 10 days before the publication


def _no_secrets(text: str) -> None:
    assert "737373" not in text.replace(",", "").replace(".", "")
    assert str(SECRET_UNITS) not in text
    assert IRCCS_NAME not in text


def test_the_recommendation_page_shows_adoption_and_time_to_patient(client, adopted):
    request, _lone = adopted
    html = page(client, f"/register/{request.id}")
    assert "Adoption and time to the first patient" in html
    assert _figure(html, "designated") == "5"
    assert _figure(html, "using") == "4"
    # Four paths of 80 days before the publication plus 1, 2, 3, 4.
    assert _figure(html, "from_submission") == _median(BEFORE + 2.5, 4)
    assert _figure(html, "from_publication") == _median(2.5, 4)
    assert _row(html, "data-region", "lombardia") == ["Lombardia", "3", "3", _median(82, 3)]
    # One IRCCS in Lazio: its own days, said as such; the region is named, the IRCCS is not.
    assert _row(html, "data-region", "lazio") == ["Lazio", "1", "1", _median(BEFORE + 3, 1)]
    assert _row(html, "data-region", "toscana") == ["Toscana", "1", "0", "No first patient yet"]
    assert _row(html, "data-holder", "procurement") == ["Procurement", _median(0, 4)]
    _no_secrets(html)


def test_a_single_irccs_days_are_shown_and_are_its_report_csv_row(
    client, adopted, runner, tmp_path
):
    """Time figures are not confidential: a device adopted by one IRCCS shows that IRCCS's
    days, overall and per holder, the same as its row in the adoption report's CSV."""
    _request, lone = adopted
    html = page(client, f"/register/{lone.id}")
    assert _figure(html, "designated") == "1" and _figure(html, "using") == "1"
    assert _figure(html, "from_submission") == _median(BEFORE + 6, 1)
    assert _figure(html, "from_publication") == _median(6, 1)
    assert "fewer than" not in html

    out = tmp_path / "adoption.csv"
    args = ["report", "adoption", "--format", "csv", "--out", str(out), "--lang", "en"]
    assert runner.invoke(args=args).exit_code == 0
    _header, rows = _report_csv(out.read_bytes(), "Time to patient per request and IRCCS")
    (row,) = [r for r in rows if r[0] == str(lone.id)]
    for i, holder in enumerate(HOLDERS):
        assert _row(html, "data-holder", holder)[1] == _median(float(row[5 + i]), 1), holder
    _no_secrets(html)


def test_the_adoption_map_lists_every_device_by_region(client, adopted):
    request, lone = adopted
    html = page(client, "/register/adoption")
    assert 'href="/register/adoption"' in page(client, "/register/")  # in the register's tabs
    device = _row(html, "data-request", str(request.id))
    # Columns: device, then Lazio, Lombardia, Toscana, all regions, median from submission.
    assert device[1:5] == ["1 / 1", "3 / 3", "0 / 1", "4 / 5"]
    assert device[5] == _median(BEFORE + 2.5, 4)
    lone_row = _row(html, "data-request", str(lone.id))
    assert lone_row[1:6] == ["1 / 1", "—", "—", "1 / 1", _median(BEFORE + 6, 1)]
    # Per region: Lazio's 2 IRCCS (one per device, 83 and 86 days), Lombardy's 3.
    regions = html.split('id="adoption-regions"')[1]
    assert _row(regions, "data-region", "lombardia") == ["Lombardia", "3", "3", _median(82, 3)]
    assert _row(regions, "data-region", "lazio") == ["Lazio", "2", "2", _median(84.5, 2)]
    # The chart of the same figures, with its words.
    chart = html.split('id="adoption-regions-chart-title"')[1].split("</svg>")[0]
    assert "IRCCS with a first patient, by region" in chart
    assert "3 of 3 IRCCS" in chart and "0 of 1 IRCCS" in chart
    _no_secrets(html)


def test_the_adoption_map_pages_its_devices_and_keeps_the_regions_whole(app, client, adopted):
    """A page of devices at a time (newest recommendation first), whatever their number; the
    per-region figures stay over every device, and the CSV lists them all."""
    request, lone = adopted
    app.config["PAGE_SIZE"] = 1
    first, second = page(client, "/register/adoption"), page(client, "/register/adoption?page=2")
    shown = [
        {int(i) for i in re.findall(r'<tr data-request="(\d+)"', html)} for html in (first, second)
    ]
    assert shown[0] | shown[1] == {request.id, lone.id} and len(shown[0]) == len(shown[1]) == 1
    assert "Page 1 of 2" in first and 'rel="next"' in first
    for html in (first, second):
        regions = html.split('id="adoption-regions"')[1]
        assert _row(regions, "data-region", "lazio") == ["Lazio", "2", "2", _median(84.5, 2)]
    beyond = page(client, "/register/adoption?page=9")  # the last page
    assert "Page 2 of 2" in beyond
    rows = csv_rows(client.get("/register/adoption.csv"))
    assert {int(r[0]) for r in rows[1:]} == {request.id, lone.id}


def test_the_adoption_csv_carries_the_pages_figures(client, adopted):
    request, lone = adopted
    rows = csv_rows(client.get("/register/adoption.csv"))
    header = rows[0]
    assert not any("Too few" in h for h in header)

    def cell(request_id, region, column):
        row = next(r for r in rows[1:] if r[0] == str(request_id) and r[1 + 3] == region)
        return row[header.index(column)]

    using = "IRCCS that have treated a first patient"
    from_submission = "Median days from submission to the first patient"
    assert cell(request.id, "All regions", "Designated IRCCS") == "5"
    assert cell(request.id, "All regions", using) == "4"
    assert cell(request.id, "All regions", "Median days from publication to the first patient") == (
        "2.5"
    )
    # One IRCCS's days (the row says over how many IRCCS), as on the pages.
    assert cell(request.id, "Lazio", using) == "1"
    assert cell(request.id, "Lazio", from_submission) == f"{BEFORE + 3:.1f}"
    assert cell(lone.id, "All regions", from_submission) == f"{BEFORE + 6:.1f}"
    assert cell(request.id, "Toscana", from_submission) == ""
    _no_secrets("\n".join(",".join(r) for r in rows))


def _report_csv(data: bytes, title: str) -> tuple[list[str], list[list[str]]]:
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    start = lines.index([title]) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start], lines[start + 1 : end]


def test_register_medians_are_those_of_the_waterfall_and_the_report_csv(
    client, as_user, cast, adopted, runner, tmp_path
):
    """The adoption report's CSV gives each IRCCS's days per holder (the request page's
    waterfall shows the same); the register shows their medians."""
    request, _lone = adopted
    out = tmp_path / "adoption.csv"
    args = ["report", "adoption", "--format", "csv", "--out", str(out), "--lang", "en"]
    assert runner.invoke(args=args).exit_code == 0
    _header, rows = _report_csv(out.read_bytes(), "Time to patient per request and IRCCS")
    reached = [r for r in rows if r[0] == str(request.id) and r[4] == "yes"]
    assert len(reached) == 4
    csv_medians = [statistics.median(float(r[5 + i]) for r in reached) for i in range(len(HOLDERS))]

    agency = as_user(cast.agency)
    waterfall = agency.get(f"/requests/{request.id}?lang=en").get_data(as_text=True)
    table = waterfall.split("time-to-patient-table")[1].split("</table>")[0]
    page_days = {
        irccs: re.findall(r'data-holder="[a-z_]+">([0-9.]+)</td>', row)
        for irccs, row in re.findall(r'<tr data-irccs="([^"]+)">(.*?)</tr>', table, re.S)
    }
    assert {r[2]: r[5 : 5 + len(HOLDERS)] for r in reached} == {
        irccs: days for irccs, days in page_days.items() if not irccs.endswith("None")
    }

    public = page(client, f"/register/{request.id}")
    for holder, median in zip(HOLDERS, csv_medians, strict=True):
        assert _row(public, "data-holder", holder)[1] == _median(median, 4), holder


def test_the_pages_are_in_italian_too(client, adopted):
    request, _lone = adopted
    set_language(client, "it")
    html = page(client, f"/register/{request.id}")
    assert "Adozione e tempo al primo paziente" in html
    assert "(mediana di 4 IRCCS)" in html
    assert "(giorni di 1 IRCCS)" in html
    assert "Adozione dei dispositivi raccomandati" in page(client, "/register/adoption")
