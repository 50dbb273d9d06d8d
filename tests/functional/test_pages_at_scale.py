"""Pages at scale (issue 17): lists count a bounded number of rows and say "more than N" past
it; report previews come from the figure cache until the data changes; PostgreSQL connections
run without JIT and, when configured, with a statement timeout.

The bound is lowered for the tests (COUNT_LOOKAHEAD) so that a handful of requests reach it.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.core import database_settings, paging
from app.extensions import db
from app.models.types import utcnow
from tests.statement_support import counting_statements
from tests.workflow_support import make_cast, no_area_hooks, walk_to  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("no_area_hooks")


@pytest.fixture
def small_bound(monkeypatch):
    monkeypatch.setattr(paging, "COUNT_LOOKAHEAD", 3)


def _submitted(make, cast, count: int, state: str = "intake_review") -> list:
    requests = []
    for i in range(count):
        request = make.request(manufacturer=cast.manufacturer_org, complete=True)
        request.trade_name = f"Scale device {i}"
        walk_to(request, state, cast, start=utcnow() - timedelta(days=count - i))
        requests.append(request)
    db.session.commit()
    return requests


def _badge(page: str) -> str:
    found = re.search(r'title="(?:Requests found|Richieste trovate)">([^<]+)</span>', page)
    return found.group(1).strip() if found else ""


def test_a_long_list_says_more_than_and_a_short_one_its_exact_count(
    make, as_user, small_bound, app
):
    app.config["PAGE_SIZE"] = 2
    cast = make_cast(make)
    _submitted(make, cast, 5)
    agency = as_user(cast.agency)

    assert _badge(agency.get("/requests/").get_data(as_text=True)) == "more than 3"
    assert _badge(agency.get("/requests/?q=device 4").get_data(as_text=True)) == "1"
    home = agency.get("/").get_data(as_text=True)
    assert re.search(r'<span class="badge text-bg-secondary">\s*more than 3\s*</span>', home)
    queue = agency.get("/work/").get_data(as_text=True)
    assert "1\u20132 of more than 3" in queue  # an en dash


def test_pages_past_the_counted_rows_still_open(make, as_user, small_bound, app):
    app.config["PAGE_SIZE"] = 2
    cast = make_cast(make)
    _submitted(make, cast, 7)
    agency = as_user(cast.agency)

    last = agency.get("/requests/?page=4").get_data(as_text=True)
    assert last.count("Scale device") == 1  # the seventh request, on page 4 of 2 per page
    assert "Page 4 of 4" in last  # counted from the page's start: exact again
    first = agency.get("/requests/?page=1").get_data(as_text=True)
    assert "Page 1 of more than 2" in first


def test_the_register_counts_its_rows_the_same_way(make, client, small_bound, app):
    app.config["PAGE_SIZE"] = 2
    cast = make_cast(make)
    _submitted(make, cast, 5, state="prioritisation")  # admitted: on the register
    # Visitors read Italian (the default language).
    assert _badge(client.get("/register/").get_data(as_text=True)) == "più di 3"
    assert _badge(client.get("/register/?q=device 2").get_data(as_text=True)) == "1"


def test_italian_readers_read_piu_di(make, as_user, small_bound, app):
    app.config["PAGE_SIZE"] = 2
    cast = make_cast(make)
    _submitted(make, cast, 5)
    cast.agency.language = "it"
    db.session.commit()
    page = as_user(cast.agency).get("/requests/", headers={"Accept-Language": "it"})
    assert "più di 3" in page.get_data(as_text=True)


# --- Report previews ----------------------------------------------------------------------


def test_the_adoption_page_reads_its_previews_from_the_cache_until_the_data_changes(
    make, as_user, app
):
    app.config["REPORT_CACHE_SECONDS"] = 300
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "adoption_monitoring", cast, start=utcnow() - timedelta(days=300))
    db.session.commit()
    agency = as_user(cast.agency)

    with counting_statements() as cold:
        first = agency.get("/reports/adoption").get_data(as_text=True)
    with counting_statements() as warm:
        second = agency.get("/reports/adoption").get_data(as_text=True)
    assert len(warm) < len(cold)
    assert first.count("<tr") == second.count("<tr")

    other = make.request(manufacturer=cast.manufacturer_org, complete=True)
    other.trade_name = "Freshly recommended"
    walk_to(other, "adoption_monitoring", cast, start=utcnow() - timedelta(days=200))
    db.session.commit()
    with counting_statements() as after_change:
        third = agency.get("/reports/adoption").get_data(as_text=True)
    assert len(after_change) > len(warm)  # read afresh
    assert "Freshly recommended" in third


# --- PostgreSQL settings ------------------------------------------------------------------


def test_connection_options_turn_jit_off_and_set_the_timeout_when_asked():
    assert database_settings.connection_options({}) == "-c jit=off"
    assert database_settings.connection_options({"DATABASE_JIT": "on"}) == ""
    assert (
        database_settings.connection_options({"DATABASE_STATEMENT_TIMEOUT_MS": 20000})
        == "-c jit=off -c statement_timeout=20000"
    )


def test_the_app_connections_run_without_jit(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (SQLite has no JIT)")
    assert db.session.scalar(text("SHOW jit")) == "off"
    assert db.session.scalar(text("SHOW statement_timeout")) == "0"  # tests and CLI: none


@pytest.mark.own_app
def test_a_statement_past_the_timeout_is_cancelled(tmp_path):
    import os

    from sqlalchemy.exc import OperationalError

    from app import create_app

    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_DIR": str(tmp_path),
            "DATABASE_STATEMENT_TIMEOUT_MS": 200,
        },
    )
    with app.app_context():
        try:
            assert db.session.scalar(text("SHOW statement_timeout")) == "200ms"
            with pytest.raises(OperationalError, match="statement timeout"):
                db.session.execute(text("SELECT pg_sleep(2)"))
        finally:
            db.session.rollback()
            db.engine.dispose()
