"""Two users fire the same action on the same request at the same moment: exactly one
transition happens, the other gets Conflict, and the audit chain stays one straight line.

Each thread has its own app context, hence its own session and connection; both pass the
version the request had before either acted, as two browsers showing the same page would."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.core.audit import verify_chain
from app.core.fire import fire
from app.domain.errors import Conflict
from app.extensions import db
from app.models import AuditEntry, DeviceRequest, User
from tests.conftest import POSTGRES_URL
from tests.workflow_support import audit_count, make_cast, no_area_hooks  # noqa: F401 (fixture)

# Each racer has its own connection: the data must be committed for real.
pytestmark = [pytest.mark.usefixtures("no_area_hooks"), pytest.mark.own_app]

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def submitted_requests(make, cast, count: int) -> dict[int, int]:
    """`count` requests in intake review; request id -> the version both racers will pass."""
    versions = {}
    for _ in range(count):
        request = make.request(manufacturer=cast.manufacturer_org, complete=True)
        fire(request, "submit", cast.manufacturer, NOW)
        versions[request.id] = request.version
    db.session.commit()
    return versions


def race(app, agency_id: int, versions: dict[int, int]) -> Counter:
    """Two threads fire `admit` on every request at once; returns what each attempt got."""
    outcomes: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(2, timeout=60)

    def racer() -> None:
        with app.app_context():
            # Hold no transaction while waiting at the barrier: on SQLite a transaction holds
            # the write lock from its first statement, and the other racer would wait for it.
            agency = db.session.get(User, agency_id)
            db.session.expunge(agency)
            db.session.rollback()
            for request_id, version in versions.items():
                barrier.wait()
                try:
                    request = db.session.get(DeviceRequest, request_id)
                    fire(request, "admit", agency, NOW, expected_version=version)
                    db.session.commit()
                    outcome = "fired"
                except Conflict:
                    db.session.rollback()
                    outcome = "conflict"
                except Exception as error:  # anything else is a bug the test must show
                    db.session.rollback()
                    outcome = f"error: {error!r}"
                with lock:
                    outcomes[outcome] += 1
            db.session.remove()

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


def check_race(app, make, count: int) -> None:
    cast = make_cast(make)
    versions = submitted_requests(make, cast, count)
    entries, agency_id = audit_count(), cast.agency.id
    # End this session's transaction: on SQLite even a read holds the write lock (BEGIN
    # IMMEDIATE), which would stall both racers.
    db.session.rollback()
    outcomes = race(app, agency_id, versions)
    assert outcomes == Counter({"fired": count, "conflict": count})
    db.session.expire_all()
    states = db.session.scalars(
        select(DeviceRequest.state).where(DeviceRequest.id.in_(versions))
    ).all()
    assert set(states) == {"awaiting_prioritisation"}
    assert audit_count() == entries + count
    admits = db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "admit")
    )
    assert admits == count
    assert verify_chain().ok


@pytest.mark.postgres
def test_concurrent_fires_make_one_transition_each_on_postgres(app, make):
    check_race(app, make, count=100)


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the PostgreSQL run does the larger race")
def test_concurrent_fires_make_one_transition_each_on_sqlite(app, make):
    check_race(app, make, count=20)
