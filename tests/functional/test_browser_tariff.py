"""From a restricted recommendation to the first patient at one designated IRCCS, through
procurement and the regional tariff (issue 13's journey), in a real browser:

the agency publishes a "recommended with restrictions" recommendation naming one designated
centre; that IRCCS evaluates, approves, buys (procurement, award) and asks its region for the
tariff; the region's assessor evaluates and assigns it; the IRCCS records its first patient.
Then the waterfall on the request page shows, for that IRCCS, the same days per holder as the
adoption report's CSV, the region's days included; and so does the public register, to an
anonymous visitor: the recommendation's page (per holder) and the adoption map (in total),
that one IRCCS's own days (time figures are public), without its name or its price.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Adoption
from app.reports.time_to_patient import HOLDERS
from tests.browser_support import (
    BROWSER,
    CLOCK_START,
    Person,
    act,
    seed,
    state_shown,
    submit,
    text_of,
)
from tests.cast_support import make_cast
from tests.workflow_support import keep_only_guards_of, walk_to

pytestmark = BROWSER


@pytest.fixture(scope="module")
def world(live_app):
    def build(make):
        cast = make_cast(make)  # IRCCS San Matteo and the Lombardy HTA Unit: Lombardia
        request = make.request(
            manufacturer=cast.manufacturer_org, complete=True, trade_name="TariffValve"
        )
        # Submitted about four months ago, in public consultation since then (the other
        # areas' guards, documents and conflicts, are walked past: other journeys test them).
        with pytest.MonkeyPatch.context() as patch:
            keep_only_guards_of(patch, ("app.core.guards",))
            walk_to(request, "consultation", cast, start=CLOCK_START - timedelta(days=120))
        return {
            "request": request.id,
            "agency": Person.of(cast.agency),
            "irccs": Person.of(cast.irccs),
            "region": Person.of(cast.assessor),
            "centre": cast.irccs_org.id,
        }

    return seed(live_app, build)


def _adoption_id(live_app, request_id: int) -> int:
    with live_app.app_context():
        adoption_id = db.session.scalar(
            select(Adoption.id).where(Adoption.request_id == request_id)
        )
        db.session.remove()
    return adoption_id


def _page_days(page) -> list[str]:
    row = page.locator('table.time-to-patient-table tr[data-irccs="IRCCS San Matteo"]')
    return [text_of(row.locator(f'td[data-holder="{holder}"]')) for holder in HOLDERS]


def _csv_path(page, request_id: int) -> tuple[list[str], str]:
    """The IRCCS's days per holder and its total days, in the adoption report's CSV."""
    answer = page.request.get("/reports/adoption.csv?table=time_to_patient&lang=en")
    assert answer.ok
    rows = list(csv.reader(io.StringIO(answer.body().decode("utf-8-sig"))))
    header = next(r for r in rows if "IRCCS" in r)
    start = header.index("Manufacturer (clock stops)")
    (row,) = [r for r in rows if r[:1] == [str(request_id)] and "IRCCS San Matteo" in r]
    return row[start : start + len(HOLDERS)], row[header.index("Total days")]


def _one_decimal(days: str) -> str:
    return f"{float(days):.1f}"


def _public_figures(page, request_id: int) -> tuple[list[str], str]:
    """What the anonymous register shows: the days per holder on the recommendation's page
    (after checking they say they are one IRCCS's), and the total on the adoption map; in
    Italian, as a visitor reads the register by default."""
    page.goto(f"/register/{request_id}")
    figures = page.locator("#adoption")
    assert "IRCCS San Matteo" not in text_of(figures)
    days = []
    for holder in HOLDERS:
        cell = figures.locator(f'tr[data-holder="{holder}"] td')
        assert text_of(cell.locator(".median-of")) == "(giorni di 1 IRCCS)"
        days.append(text_of(cell.locator(".median-days")))
    main = text_of(page.locator("main"))
    assert "48250" not in main.replace(",", "").replace(".", "")  # the awarded price
    page.goto("/register/adoption")
    row = page.locator(f'#adoption-map tr[data-request="{request_id}"]')
    assert "IRCCS San Matteo" not in text_of(page.locator("main"))
    total = text_of(row.locator('td[data-figure="from_submission"] .median-days'))
    return days, total


def test_a_restricted_recommendation_reaches_its_first_patient_through_the_tariff(
    live_app, people, page, world, clock
):
    request_url = f"/requests/{world['request']}"
    agency = people.page_for(world["agency"])
    agency.goto(request_url)
    submit(agency, agency.get_by_role("link", name="Appraisal and recommendation"))
    agency.select_option("#outcome", "recommended_restricted")
    agency.fill("#rationale", "Benefit in patients unfit for surgery.")
    agency.fill("#conditions", "Only in centres with cardiac surgery on site.")
    agency.select_option("#designated_centres", str(world["centre"]))
    submit(agency, agency.get_by_role("button", name="Publish the recommendation"))
    assert state_shown(agency) == "Adoption monitoring"
    record_url = f"/adoptions/{_adoption_id(live_app, world['request'])}"

    irccs = people.page_for(world["irccs"])
    steps = (
        (3, "start_evaluation", {}),
        (10, "approve_for_use", {}),
        (2, "start_procurement", {"procurement_route": "regional_aggregator"}),
        (
            20,
            "record_award",
            {"tender_cig": "9A1B2C3D4E", "awarded_price": "48250.00", "supplier": "MedTech"},
        ),
        (1, "request_tariff", {}),
    )
    for days, trigger, fields in steps:
        clock.advance(days)
        irccs.goto(record_url)
        act(irccs, trigger, "adoption-action", **fields)
    assert "Waiting for the regional tariff since" in text_of(irccs.locator("main"))
    irccs.goto("/work/")
    assert "Waiting for the regional tariff since" in text_of(irccs.locator("main"))

    # The region's assessor finds the case in the work queue and decides.
    region = people.page_for(world["region"])
    clock.advance(5)
    region.goto("/work/")
    queue = region.locator("table.tariff-queue")
    assert "TariffValve" in text_of(queue)
    queue.get_by_role("link", name="TariffValve").click()
    region.wait_for_url("**/reimbursements/*")
    act(region, "start_tariff_evaluation", "reimbursement-action")
    assert state_shown(region) == "Tariff under evaluation"
    clock.advance(30)
    act(
        region,
        "assign_tariff",
        "reimbursement-action",
        tariff_kind="drg",
        tariff_code="DRG 105",
        tariff_amount="21450.00",
        effective_date=clock.now().date().isoformat(),
    )
    assert state_shown(region) == "Tariff or code assigned"

    clock.advance(4)
    irccs.goto(record_url)
    assert "Waiting for the regional tariff" not in text_of(irccs.locator("main"))
    act(irccs, "start_use", "adoption-action")
    assert state_shown(irccs) == "In use"

    agency.goto(request_url)
    page_days = _page_days(agency)
    csv_days, csv_total = _csv_path(agency, world["request"])
    assert page_days == csv_days
    days = dict(zip(HOLDERS, (float(d) for d in page_days), strict=True))
    # Asked the day after the award, decided 35 days later: the region's 35 days.
    assert days["region"] == 35.0
    assert days["procurement"] > 20 and days["irccs"] > 13
    assert "DRG 105" in text_of(agency.locator("#regional-tariffs"))

    # The public register, to anybody: the same days, by holder and in total.
    public_days, public_total = _public_figures(page, world["request"])
    assert public_days == [_one_decimal(d) for d in csv_days]
    assert public_total == _one_decimal(csv_total)
