"""The home page's figures read in one statement (app/main/glance.py): each reader sees its
own figures however many readers filled the kept statements, a change shows at once, the
charts kept per data version follow a change on the next view (the version is read in that
same statement), and the page costs three statements."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import StageRecord
from app.models.types import utcnow
from app.reports_pages import queries as report_queries
from app.workflow.states import CLOCK_STOP_STATES
from tests.assessment_support import statements_for
from tests.workflow_support import make_cast, no_area_hooks  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("no_area_hooks")


def _glance(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<div class="display-6[^"]*">(\d+)</div>', page)]


def _total(page: str) -> str:
    found = re.search(r'<span class="badge text-bg-secondary">\s*([^<]+?)\s*</span>\s*</h2>', page)
    return found.group(1) if found else ""


def _in(make, cast, state: str, *, maker=None, body=None, name: str = "Device"):
    """A request in `state` with its open stage visit, due in 30 days (set-up: no action)."""
    request = make.request(manufacturer=maker or cast.manufacturer_org, trade_name=name)
    request.state = state
    if body is not None:
        request.assigned_body_id = body.id
    now = utcnow()
    db.session.add(
        StageRecord(
            request_id=request.id,
            state=state,
            entered_at=now - timedelta(days=10),
            due_at=now + timedelta(days=30),
            clock_stopped=state in CLOCK_STOP_STATES,
        )
    )
    db.session.commit()
    return request


@pytest.fixture
def kept_charts(app):
    app.config["REPORT_CACHE_SECONDS"] = 300
    report_queries.clear_cache()
    yield
    app.config["REPORT_CACHE_SECONDS"] = 0
    report_queries.clear_cache()


@pytest.mark.parametrize("who", ["agency", "assessor", "irccs", "manufacturer", "admin"])
def test_the_home_page_costs_at_most_three_statements(make, as_user, who, kept_charts):
    """With its charts kept: the user with its session row (1), the figures (1), the latest
    requests (1); an administrator's home shows links only and reads nothing more."""
    cast = make_cast(make)
    _in(make, cast, "assessment")
    _in(make, cast, "adoption_monitoring")
    db.session.commit()
    user = make.user("admin") if who == "admin" else getattr(cast, who)
    db.session.commit()
    client = as_user(user)
    client.get("/")  # the charts computed and kept
    assert statements_for(client, "/") <= (1 if who == "admin" else 3)


def test_each_reader_sees_its_own_figures_and_a_change_at_once(make, as_user):
    cast = make_cast(make)
    rival_org = make.org("manufacturer")
    rival = make.user("manufacturer", organisation=rival_org)
    other_body = make.org("regional_body")
    other_assessor = make.user("assessor", organisation=other_body)
    _in(make, cast, "incomplete", name="Mine")
    _in(make, cast, "incomplete", maker=rival_org, name="Theirs")
    _in(make, cast, "incomplete", maker=rival_org, name="Theirs too")
    _in(make, cast, "assessment", body=cast.body, name="Our body")
    _in(make, cast, "assessment", body=other_body, name="Other body")
    _in(make, cast, "assessment", body=other_body, name="Other body too")
    db.session.commit()
    # (waiting for the reader, requests it may see: the cast's manufacturer made the
    # assessments too)
    readers = {
        "maker": (as_user(cast.manufacturer), 1, 4),
        "rival": (as_user(rival), 2, 2),
        "assessor": (as_user(cast.assessor), 1, 1),
        "other": (as_user(other_assessor), 2, 2),
    }
    for _round in range(2):  # the second round reads the kept statements
        for client, waiting, total in readers.values():
            page = client.get("/").get_data(as_text=True)
            assert _glance(page)[0] == waiting
            assert _total(page) == str(total)
    _in(make, cast, "incomplete", name="Mine too")
    page = readers["maker"][0].get("/").get_data(as_text=True)
    assert (_glance(page)[0], _total(page)) == (2, "5")
    assert "Mine too" in page
    rival_page = readers["rival"][0].get("/").get_data(as_text=True)
    assert (_glance(rival_page)[0], _total(rival_page)) == (2, "2")


def _stages_row(page: str, stage: str) -> str:
    start = page.index('aria-labelledby="chart-stages-heading"')
    card = page[start : page.index("</section>", start)]
    found = re.search(rf'<th scope="row">{stage}</th><td>(\d+)</td>', card)
    return found.group(1) if found else ""


def test_kept_charts_follow_a_change_on_the_next_view(make, as_user, kept_charts):
    """The charts are kept per data version, which the figures' statement reads: a new
    request shows in the agency's chart at once, in either language."""
    cast = make_cast(make)
    _in(make, cast, "assessment")
    db.session.commit()
    agency = as_user(cast.agency)
    assert _stages_row(agency.get("/").get_data(as_text=True), "Assessment") == "1"
    assert _stages_row(agency.get("/").get_data(as_text=True), "Assessment") == "1"  # kept
    _in(make, cast, "assessment")
    db.session.commit()
    assert _stages_row(agency.get("/").get_data(as_text=True), "Assessment") == "2"
    with agency.session_transaction() as session:
        session["lang"] = "it"
    assert _stages_row(agency.get("/").get_data(as_text=True), "Valutazione") == "2"
