"""Each role's home shows its charts (app/main/dashboard.py): what they say, their text
alternative, and a constant number of SQL statements however many requests there are."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest

from app.core.fire import fire
from app.extensions import db
from app.models.types import utcnow
from tests.assessment_support import statements_for
from tests.workflow_support import (  # noqa: F401 (no_area_hooks is a fixture)
    adoption_of,
    make_cast,
    no_area_hooks,
    walk_to,
)

pytestmark = pytest.mark.usefixtures("no_area_hooks")


def _published_in_use(make, cast) -> None:
    """A published request (months ago) whose adoption record at the cast's IRCCS is in use,
    with no usage reported yet."""
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    start = utcnow() - timedelta(days=300)
    moment = walk_to(request, "adoption_monitoring", cast, start=start)
    adoption = adoption_of(request, cast.irccs_org)
    for trigger in ("start_evaluation", "approve_for_use", "start_use"):
        moment += timedelta(days=3)
        fire(adoption, trigger, cast.irccs, moment)


def _late_assessment(make, cast) -> None:
    """A request in assessment well past its 90-day deadline."""
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "assessment", cast, start=utcnow() - timedelta(days=200))


def _data(make, cast, count: int) -> None:
    for _ in range(count):
        _published_in_use(make, cast)
        _late_assessment(make, cast)
    db.session.commit()


def _reattach(cast) -> None:
    """Counting statements starts from a fresh session: bring the cast's rows back into it."""
    for member in fields(cast):
        setattr(cast, member.name, db.session.merge(getattr(cast, member.name)))


def _home(client) -> str:
    return client.get("/").get_data(as_text=True)


def _chart(page: str, chart_id: str) -> str:
    """The chart's card: its SVG and its table."""
    start = page.index(f'aria-labelledby="{chart_id}-heading"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize("who", ["agency", "assessor", "irccs", "manufacturer"])
def test_the_home_charts_cost_the_same_for_1_or_4_requests_of_each_kind(make, as_user, who):
    cast = make_cast(make)
    client = as_user(getattr(cast, who))
    _data(make, cast, 1)
    few = statements_for(client, "/")
    _reattach(cast)
    _data(make, cast, 3)
    assert statements_for(client, "/") == few


def test_the_agency_sees_requests_by_stage_with_the_late_ones_in_words(make, as_user):
    cast = make_cast(make)
    _data(make, cast, 2)
    page = _home(as_user(cast.agency))
    stages = _chart(page, "chart-stages")
    assert 'role="img"' in stages
    assert "2 requests, 2 late" in stages  # the two assessments past their deadline
    assert '<th scope="row">Assessment</th><td>2</td><td>2</td>' in stages
    medians = _chart(page, "chart-medians")
    assert "Median days per stage in" in medians
    assert "deadline 15 days" in medians  # intake review's deadline, beside its median


def test_the_assessor_sees_its_assessments_and_how_late_they_are(make, as_user):
    cast = make_cast(make)
    _data(make, cast, 1)
    chart = _chart(_home(as_user(cast.assessor)), "chart-deadlines")
    assert "Our assessments and their deadlines" in chart
    assert "days late" in chart
    assert "Assessment" in chart


def test_the_irccs_sees_its_adoption_records_and_the_usage_due(make, as_user):
    cast = make_cast(make)
    _data(make, cast, 2)
    page = _home(as_user(cast.irccs))
    assert '<th scope="row">In use</th><td>2</td>' in _chart(page, "chart-adoptions")
    usage = _chart(page, "chart-usage")
    assert "quarters due" in usage or "quarter due" in usage


def test_the_manufacturer_sees_its_requests_on_a_timeline(make, as_user):
    cast = make_cast(make)
    _data(make, cast, 1)
    chart = _chart(_home(as_user(cast.manufacturer)), "chart-timeline")
    assert "My requests over time" in chart
    assert chart.count("<tr>") == 3  # the header and one row per request
    assert "Today" in chart


def test_other_parties_see_nothing_of_it(make, as_user):
    """The other manufacturer's chart is empty; the other IRCCS sees only its own record (not
    started), nothing of the cast's IRCCS's use."""
    cast = make_cast(make)
    _data(make, cast, 1)
    assert "No request yet." in _home(as_user(cast.other_manufacturer))
    page = _home(as_user(cast.other_irccs))
    assert '<th scope="row">Not started</th><td>1</td>' in _chart(page, "chart-adoptions")
    assert "In use" not in _chart(page, "chart-adoptions")
    assert "All usage is reported up to the last quarter." in _chart(page, "chart-usage")


def test_the_usage_due_card_shows_the_devices_due_longest_and_counts_the_rest(
    make, as_user, monkeypatch
):
    """At scale an IRCCS has thousands of devices in use: the card keeps to the few due
    longest and says how many more there are, in the user's language."""
    from app.main import dashboard

    cast = make_cast(make)
    _data(make, cast, 3)
    monkeypatch.setattr(dashboard, "USAGE_DUE_SHOWN", 1)
    page = _home(as_user(cast.irccs))
    usage = _chart(page, "chart-usage")
    assert usage.count('<th scope="row">') == 1
    assert "2 more devices in use have usage due" in usage
