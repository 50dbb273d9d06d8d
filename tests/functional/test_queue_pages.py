"""The work queue read and rendered with less: its rows and count in one statement
(`core.paging.CountedPages`, kept per reader and filters) give exactly `paginate`'s pages,
and its kept fixed parts (the filters' choices, headings) follow the language, the role and
the chosen filters."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from app.core import paging
from app.core.paging import CountedPages, paginate
from app.extensions import db
from app.models import StageRecord
from app.templating import LAYOUT_FRAGMENTS
from app.workqueue.queries import (
    QueueFilters,
    _build_queue_statements,
    _late_pages,
    work_queue,
)
from tests.workflow_support import make_cast

NOW = datetime.now(UTC)


@pytest.fixture
def cast(make):
    people = make_cast(make)
    db.session.commit()
    return people


def _queued(make, cast, count: int, state: str = "intake_review") -> None:
    for n in range(count):
        request = make.request(manufacturer=cast.manufacturer_org, trade_name=f"Queued {n}")
        request.state = state
        db.session.add(
            StageRecord(
                request_id=request.id,
                state=state,
                entered_at=NOW - timedelta(days=10),
                due_at=NOW + timedelta(days=n - 2),  # two overdue
            )
        )
    db.session.commit()


@pytest.mark.parametrize("filters", [QueueFilters(), QueueFilters(overdue_only=True)])
def test_counted_pages_are_paginate_s_pages(make, cast, monkeypatch, filters):
    _queued(make, cast, 7)
    rows, count = _build_queue_statements(cast.agency, NOW, filters)
    pages = CountedPages(rows, count)
    for bound in (1000, 3):  # exact counts, then "more than 3" past the bound
        monkeypatch.setattr(paging, "COUNT_LOOKAHEAD", bound)
        for number in (1, 2, 3, 4, 99):
            expected = paginate(rows, number, 2, count_query=count)
            assert asdict(pages.page(number, 2)) == asdict(expected), (bound, number)


@pytest.mark.parametrize(
    "filters",
    [QueueFilters(), QueueFilters(overdue_only=True), QueueFilters(text="Queued 1")],
)
def test_the_late_rows_are_the_rows_statement_s_pages(make, cast, monkeypatch, filters):
    """`LatePages` (the page chosen by its keys, then its rows joined) gives exactly the
    pages of the rows' own statement, for the agency and a body's assessor (whose queue
    also holds requests without an open visit: no due date, sorted last)."""
    _queued(make, cast, 7)
    assigned = make.request(manufacturer=cast.manufacturer_org, trade_name="Queued 9")
    assigned.state, assigned.assigned_body_id = "assessment", cast.assessor.organisation_id
    db.session.commit()
    for reader in (cast.agency, cast.assessor):
        rows, count = _build_queue_statements(reader, NOW, filters)
        late = _late_pages(reader, NOW, filters)
        if filters == QueueFilters():
            assert late.page(1, 2).items, reader  # (each reader has a queue)
        for bound in (1000, 3):
            monkeypatch.setattr(paging, "COUNT_LOOKAHEAD", bound)
            for number in (1, 2, 3, 4, 99):
                expected = paginate(rows, number, 2, count_query=count)
                assert asdict(late.page(number, 2)) == asdict(expected), (reader, number)


def test_an_empty_queue_and_a_page_past_its_end(make, cast):
    empty = work_queue(cast.agency, NOW, QueueFilters(page=5), 2)
    assert (empty.items, empty.page, empty.total, empty.total_exact) == ([], 1, 0, True)
    _queued(make, cast, 3)
    last = work_queue(cast.agency, NOW, QueueFilters(page=5), 2)
    assert (last.page, last.total, [row.title for row in last.items]) == (2, 3, ["Queued 2"])


def _form(page: str) -> str:
    start = page.index('<form method="get"')
    return page[start : page.index("</form>", start)]


def test_the_kept_filters_follow_the_chosen_filters_and_the_language(app, make, cast, as_user):
    _queued(make, cast, 3)
    agency = as_user(cast.agency)
    app.extensions.pop(LAYOUT_FRAGMENTS, None)
    for language in ("en", "it", "en"):
        with agency.session_transaction() as session:
            session["lang"] = language
        chosen = _form(agency.get("/work/?state=intake_review&overdue=1").get_data(as_text=True))
        plain = _form(agency.get("/work/").get_data(as_text=True))
        other = _form(agency.get("/work/?state=not-a-state").get_data(as_text=True))
        assert re.search(r'value="intake_review" selected', chosen)
        assert 'name="overdue" value="1" checked' in chosen
        assert " selected" not in plain and " checked" not in plain
        assert other == plain
        assert ("Overdue only" in plain) == (language == "en")
        assert ("Solo scadute" in plain) == (language == "it")


def test_the_irccs_queue_keeps_its_own_heading_and_columns(app, make, cast, as_user):
    app.extensions.pop(LAYOUT_FRAGMENTS, None)
    agency_page = as_user(cast.agency).get("/work/").get_data(as_text=True)
    irccs_page = as_user(cast.irccs).get("/work/").get_data(as_text=True)
    assert "Sorted by due date" in agency_page and "Sorted by due date" not in irccs_page
    assert "waiting longest first" in irccs_page
    assert 'id="filter-overdue"' in agency_page and 'id="filter-overdue"' not in irccs_page
