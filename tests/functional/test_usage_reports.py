"""Quarterly usage reports of an IRCCS: reporting, corrections as new versions (audited, with a
reason), history, totals on the request page from the latest versions against the volumes the
dossier expected, and who may see what."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, UsageReport
from tests.assessment_support import (  # noqa: F401 (fixtures)
    assessment_hooks_only,
    declare,
    published_with_adoptions,
)


def usage_url(adoption) -> str:
    return f"/requests/{adoption.request_id}/adoptions/{adoption.id}/usage"


def figures(year=2025, quarter=1, units=10, procedures=8, spend="185000.00", events=0, **extra):
    return {
        "year": str(year),
        "quarter": str(quarter),
        "units": str(units),
        "procedures": str(procedures),
        "spend": spend,
        "adverse_events": str(events),
    } | extra


def versions() -> list[tuple]:
    return [
        (r.year, r.quarter, r.version, r.units)
        for r in db.session.scalars(
            select(UsageReport).order_by(UsageReport.year, UsageReport.quarter, UsageReport.version)
        )
    ]


@pytest.fixture
def in_use(make, cast):
    """(request, own adoption in use, the other IRCCS's adoption in use)."""
    req, (own, other) = published_with_adoptions(make, cast, expected_volume_per_year=120)
    return req, own, other


def test_the_irccs_reports_a_quarter(cast, in_use, as_user):
    _, own, _ = in_use
    client = as_user(cast.irccs)
    page = client.get(usage_url(own)).get_data(as_text=True)
    assert 'name="units"' in page
    assert "The dossier expected 30 per quarter" in page
    response = client.post(usage_url(own), data=figures())
    assert response.status_code == 302
    assert versions() == [(2025, 1, 1, 10)]
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "usage_reported")
    ).one()
    assert (entry.entity_type, entry.entity_id) == ("adoption", own.id)
    assert entry.request_id == own.request_id
    assert entry.data["period"] == "2025-Q1"


def test_a_correction_is_a_new_version_and_never_overwrites(cast, in_use, as_user):
    _, own, _ = in_use
    client = as_user(cast.irccs)
    client.post(usage_url(own), data=figures(units=10))
    refused = client.post(usage_url(own), data=figures(units=12))
    assert refused.status_code == 422
    assert "Say what was wrong" in refused.get_data(as_text=True)
    assert versions() == [(2025, 1, 1, 10)]

    response = client.post(
        usage_url(own), data=figures(units=12, reason="Two units were missed in March.")
    )
    assert response.status_code == 302
    assert versions() == [(2025, 1, 1, 10), (2025, 1, 2, 12)]
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "usage_corrected")
    ).one()
    assert entry.reason == "Two units were missed in March."
    assert entry.changes == {"units": ["10", "12"]}

    page = client.get(usage_url(own)).get_data(as_text=True)
    latest = page.split('class="usage-latest"')[1].split("</tr>")[0]
    assert 'data-version="2"' in latest
    assert "superseded" in page  # the history stays visible


def test_the_correct_link_starts_from_the_latest_figures(cast, in_use, as_user):
    _, own, _ = in_use
    client = as_user(cast.irccs)
    client.post(usage_url(own), data=figures(quarter=2, units=7, procedures=6))
    page = client.get(usage_url(own) + "?year=2025&quarter=2").get_data(as_text=True)
    assert re.search(r'name="units"[^>]*value="7"', page)
    assert re.search(r'<option selected value="2">|<option value="2" selected>', page)


def test_totals_on_the_request_page_use_the_latest_versions(cast, in_use, as_user):
    req, own, other = in_use
    mine, theirs = as_user(cast.irccs), as_user(cast.other_irccs)
    mine.post(usage_url(own), data=figures(units=10, procedures=8, spend="1000.00"))
    mine.post(
        usage_url(own),
        data=figures(units=12, procedures=9, spend="1200.00", reason="Corrected count."),
    )
    theirs.post(usage_url(other), data=figures(units=5, procedures=5, spend="500.00", events=1))
    mine.post(usage_url(own), data=figures(quarter=2, units=3, procedures=3, spend="300.00"))

    agency_page = as_user(cast.agency).get(f"/requests/{req.id}").get_data(as_text=True)
    q1 = agency_page.split('data-period="2025-Q1"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="text-end">([^<]*)</td>', q1)
    assert cells[:3] == ["17", "14", "30"]  # units 12 + 5, procedures 9 + 5, expected 120 / 4
    total = agency_page.split('class="fw-semibold usage-total"')[1].split("</tr>")[0]
    assert re.search(r'total-units">20<', total)  # 12 + 5 + 3 (never the superseded 10)
    assert re.search(r'total-procedures">17<', total)
    assert re.search(r'total-expected">60<', total)  # two quarters
    assert re.search(r'total-adverse-events">1<', total)

    own_page = mine.get(f"/requests/{req.id}").get_data(as_text=True)
    own_total = own_page.split('class="fw-semibold usage-total"')[1].split("</tr>")[0]
    assert re.search(r'total-units">15<', own_total)  # its own figures only


def test_no_totals_for_the_manufacturer(cast, in_use, as_user):
    req, own, _ = in_use
    as_user(cast.irccs).post(usage_url(own), data=figures())
    page = as_user(cast.manufacturer).get(f"/requests/{req.id}").get_data(as_text=True)
    assert "usage-totals" not in page


def test_figures_the_manufacturer_marked_confidential_stay_hidden_from_an_irccs(
    cast, make, as_user
):
    req, (own, _) = published_with_adoptions(
        make,
        cast,
        budget_impact_3y=Decimal("7654321.00"),
        expected_volume_per_year=4444,
        confidential_fields=["budget_impact_3y", "expected_volume_per_year"],
    )
    irccs = as_user(cast.irccs)
    irccs.post(usage_url(own), data=figures())
    page = irccs.get(f"/requests/{req.id}").get_data(as_text=True)
    usage = page.split('id="usage"')[1].split("</section>")[0]
    assert "Budget impact over 3 years in the dossier" not in usage
    assert "7,654,321" not in page
    assert 'total-expected">—<' in usage  # not 1,111 per quarter
    assert "1,111" not in irccs.get(usage_url(own)).get_data(as_text=True)

    agency_page = as_user(cast.agency).get(f"/requests/{req.id}").get_data(as_text=True)
    assert "Budget impact over 3 years in the dossier: €7,654,321.00" in agency_page


def test_a_future_quarter_and_negative_figures_are_refused(cast, in_use, as_user):
    _, own, _ = in_use
    client = as_user(cast.irccs)
    future = client.post(usage_url(own), data=figures(year=2099, quarter=4))
    assert future.status_code == 422
    assert "This quarter has not started yet." in future.get_data(as_text=True)
    negative = client.post(usage_url(own), data=figures(units=-1))
    assert negative.status_code == 422
    assert versions() == []


@pytest.mark.parametrize("typed", ["185.000,00", "185000", "185,000.00"])
def test_spend_is_read_as_people_write_amounts(cast, in_use, as_user, typed):
    _, own, _ = in_use
    response = as_user(cast.irccs).post(usage_url(own), data=figures(spend=typed))
    assert response.status_code == 302
    report = db.session.scalars(select(UsageReport)).one()
    assert report.spend == 185000


def test_a_missing_or_negative_spend_is_refused_and_what_was_typed_stays(cast, in_use, as_user):
    _, own, _ = in_use
    client = as_user(cast.irccs)
    missing = client.post(usage_url(own), data=figures(spend=""))
    assert missing.status_code == 422
    assert "This field is required." in missing.get_data(as_text=True)
    negative = client.post(usage_url(own), data=figures(spend="-12,50", units=17))
    assert negative.status_code == 422
    page = negative.get_data(as_text=True)
    assert 'value="-12,50"' in page and 'value="17"' in page
    assert versions() == []


def test_usage_is_reported_only_once_the_device_is_in_use(cast, make, as_user):
    _, (own, _) = published_with_adoptions(make, cast, states=("procurement", "in_use"))
    client = as_user(cast.irccs)
    page = client.get(usage_url(own)).get_data(as_text=True)
    assert 'name="units"' not in page
    assert client.post(usage_url(own), data=figures()).status_code == 403
    assert versions() == []


def test_a_discontinued_device_still_reports_its_past_use(cast, make, as_user):
    _, (own, _) = published_with_adoptions(make, cast, states=("discontinued", "in_use"))
    response = as_user(cast.irccs).post(usage_url(own), data=figures())
    assert response.status_code == 302
    assert versions() == [(2025, 1, 1, 10)]


def test_the_adoption_page_links_to_the_usage_reports(cast, in_use, as_user):
    _, own, _ = in_use
    page = as_user(cast.irccs).get(f"/adoptions/{own.id}").get_data(as_text=True)
    assert f'href="{usage_url(own)}"' in page


@pytest.mark.parametrize(
    ("who", "get_status", "post_status"),
    [
        ("agency", 200, 403),
        ("other_irccs", 404, 404),
        ("manufacturer", 404, 404),
        ("other_manufacturer", 404, 404),
        ("assessor", 404, 404),  # cleared assessor of the body: adoption is not theirs
        ("other_assessor", 404, 404),
        ("admin", 404, 404),
    ],
)
def test_usage_reports_by_role(cast, in_use, as_user, who, get_status, post_status):
    req, own, _ = in_use
    declare(req, cast.assessor)
    client = as_user(getattr(cast, who))
    assert client.get(usage_url(own)).status_code == get_status
    assert client.post(usage_url(own), data=figures()).status_code == post_status
    assert versions() == []


def test_an_adoption_under_another_request_is_404(cast, in_use, make, as_user):
    _, own, _ = in_use
    elsewhere, _ = published_with_adoptions(make, cast)
    url = f"/requests/{elsewhere.id}/adoptions/{own.id}/usage"
    assert as_user(cast.irccs).get(url).status_code == 404
    assert as_user(cast.irccs).post(url, data=figures()).status_code == 404
    assert versions() == []
