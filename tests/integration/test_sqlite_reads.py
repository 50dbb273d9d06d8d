"""SQLite: pages that only read do not queue behind a writer; a read-only request that
writes is caught by the suite (app/sqlite_reads.py)."""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Organisation
from app.sqlite_reads import WriteInReadOnlyRequest, writes_on_read

# A second connection writes; one test adds routes to the app: an app of their own.
pytestmark = pytest.mark.own_app


@pytest.fixture
def sqlite_file(app) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.drivername != "sqlite":
        pytest.skip("SQLite's write lock (PostgreSQL has no such lock)")
    return url.database


def test_reads_do_not_wait_for_a_writer(client, make, login, sqlite_file):
    user = make.user("agency")
    db.session.commit()
    login(user)
    db.session.commit()
    writer = sqlite3.connect(sqlite_file, isolation_level=None)  # another process, say
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = client.get("/")
        elapsed = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert response.status_code == 200
    assert elapsed < 5  # behind the writer's lock it would wait the 15 s busy timeout


def test_a_read_only_request_that_writes_is_caught(app, client, sqlite_file):
    @app.get("/_probe/unmarked")
    def unmarked():
        db.session.add(Organisation(name="Probe", kind="agency"))
        db.session.commit()
        return "written"

    @app.get("/_probe/marked")
    @writes_on_read
    def marked():
        db.session.add(Organisation(name="Probe 2", kind="agency"))
        db.session.commit()
        return "written"

    db.session.commit()
    with pytest.raises(WriteInReadOnlyRequest, match="/_probe/unmarked"):
        client.get("/_probe/unmarked")
    db.session.rollback()
    assert client.get("/_probe/marked").get_data(as_text=True) == "written"
