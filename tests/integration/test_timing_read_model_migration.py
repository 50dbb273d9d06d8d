"""The migration that keeps what the timing report reads (4f3230c8751b), on existing data:
left stage visits get their duration, late flag and bucket, each submitted request its spans
(the same rows as the running app writes), the CHECK holds, and the downgrade gives the old
schema back with every row kept. On SQLite always, on PostgreSQL when TEST_DATABASE_URL is
set (in a scratch database of its own)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.core.request_timings import refresh_request_timings
from app.domain.deadlines import left_stage
from app.extensions import db
from tests.integration.test_migrations import scratch_postgres_database

BEFORE = "77741f6d37a8"
REVISION = "4f3230c8751b"
T0 = datetime(2024, 1, 8, 9, 30, 15, 123456, tzinfo=UTC)

pytestmark = [
    pytest.mark.filterwarnings("ignore:autogenerate skipping:UserWarning"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


# (request, state, entered, left or None, due or None), days from T0.
VISITS = [
    # 1: published, with a clock stop and a late stage.
    (1, "intake_review", 0, 12.25, 10),
    (1, "incomplete", 12.25, 30, None),
    (1, "awaiting_prioritisation", 30, 41.5, None),
    (1, "prioritisation", 41.5, 100, 131.5),
    (1, "assignment", 100, 103, 115),
    (1, "assessment", 103, 180.75, 193),
    (1, "factual_accuracy_check", 180.75, 195, 194),
    (1, "appraisal", 195, 220, 225),
    (1, "consultation", 220, 250, 250),
    (1, "adoption_monitoring", 250, None, 1345),
    # 2: reassessed: an assessment visit open again after the assessment was done.
    (2, "intake_review", 3, 9, 18),
    (2, "awaiting_prioritisation", 9, 20, None),
    (2, "prioritisation", 20, 44, 110),
    (2, "assignment", 44, 45, 59),
    (2, "assessment", 45, 120, 135),
    (2, "factual_accuracy_check", 120, 130, 134),
    (2, "assessment", 130, None, 220),
    # 3: bad data: left half a day before it was entered (its bucket is -1, not 0).
    (3, "intake_review", 5, 4.5, 20),
]


def _insert_history(connection) -> None:
    tables = MetaData()
    tables.reflect(connection, only=["organisations", "device_requests", "recommendations"])
    tables.reflect(connection, only=["stage_records"])
    connection.execute(
        tables.tables["organisations"].insert(),
        [{"id": 1, "name": "Maker", "kind": "manufacturer", "active": True, "created_at": T0}],
    )
    requests = tables.tables["device_requests"]
    connection.execute(
        requests.insert(),
        [
            _request_row(requests, 1, submitted=at(0)),
            _request_row(requests, 2, submitted=at(3)),
            _request_row(requests, 3, submitted=at(5)),
            _request_row(requests, 4, submitted=None),  # a draft: no row of spans
        ],
    )
    connection.execute(
        tables.tables["recommendations"].insert(),
        [
            {
                "id": 1,
                "request_id": 1,
                "outcome": "recommended",
                "rationale": "",
                "conditions": "",
                "evidence_requirements": "",
                "published_at": at(250),
                "created_at": at(250),
            }
        ],
    )
    connection.execute(
        tables.tables["stage_records"].insert(),
        [
            {
                "request_id": request_id,
                "state": state,
                "entered_at": at(entered),
                "left_at": None if left is None else at(left),
                "due_at": None if due is None else at(due),
                # As `fire` has always written it: the clock-stop states' visits.
                "clock_stopped": state
                in ("incomplete", "information_requested", "factual_accuracy_check"),
            }
            for request_id, state, entered, left, due in VISITS
        ],
    )


def _request_row(table, request_id: int, submitted: datetime | None) -> dict:
    """A row with every column the old schema requires, filled with a plain value."""
    row = {}
    for column in table.columns:
        if column.nullable or column.primary_key:
            continue
        python_type = column.type.python_type
        if python_type is bool:
            row[column.name] = False
        elif python_type is int:
            row[column.name] = 1
        elif python_type is datetime:
            row[column.name] = T0
        elif python_type in (list, dict):
            row[column.name] = []
        else:
            row[column.name] = ""
    return row | {
        "id": request_id,
        "manufacturer_id": 1,
        "state": "draft" if submitted is None else "assessment",
        "submitted_at": submitted,
    }


def _timing_rows(connection) -> dict[int, tuple]:
    rows = connection.execute(
        text(
            "SELECT request_id, e2e_gross_days, e2e_net_days, prioritisation_days, "
            "assessment_days, assessment_open FROM request_timings ORDER BY request_id"
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def _check(url: str, tmp_path) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": tmp_path})
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            _insert_history(connection)
        upgrade(revision=REVISION)
        _check_left_visits()
        _check_request_timings()
        _check_the_constraint()
        downgrade(revision=BEFORE)
        columns = {c["name"] for c in inspect(db.engine).get_columns("stage_records")}
        assert not columns & {"gross_days", "gross_whole_days", "left_late"}
        assert "request_timings" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM stage_records")).scalar()
        assert count == len(VISITS)
        downgrade(revision="base")
        db.engine.dispose()


def _check_left_visits() -> None:
    with db.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT gross_days, gross_whole_days, left_late FROM stage_records ORDER BY id")
        ).all()
    for (_, _, entered, left, due), (gross, whole, late) in zip(VISITS, stored, strict=True):
        expected = left_stage(at(entered), None if left is None else at(left), None)
        if left is None:
            assert (gross, whole, late) == (None, None, None)
            continue
        assert gross == pytest.approx(expected.gross_days, abs=1e-6)
        assert whole == math.floor(expected.gross_days) == expected.whole_days
        assert (None if late is None else bool(late)) == (None if due is None else left > due)


def _check_request_timings() -> None:
    """The migration's rows are the app's own: computed again by the running service, they
    do not change. Request 1: end to end 250 days gross, 250 - 17.75 - 14.25 net."""
    with db.engine.connect() as connection:
        migrated = _timing_rows(connection)
    assert set(migrated) == {1, 2, 3}
    e2e_gross, e2e_net, prioritisation, assessment, still_open = migrated[1]
    assert e2e_gross == pytest.approx(250)
    assert e2e_net == pytest.approx(250 - 17.75 - 14.25)
    assert prioritisation == pytest.approx(100)
    assert assessment == pytest.approx(77.75) and not still_open
    assert migrated[2][3] is None and bool(migrated[2][4])  # reassessed: counted when read
    assert migrated[2][2] == pytest.approx(41)
    refresh_request_timings()
    db.session.commit()
    with db.engine.connect() as connection:
        again = _timing_rows(connection)
    for request_id, row in migrated.items():
        assert again[request_id] == pytest.approx(row, abs=1e-6)


def _check_the_constraint() -> None:
    """A left visit without its duration is refused."""
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO stage_records (request_id, state, entered_at, left_at, "
                "clock_stopped) VALUES (3, 'assessment', :entered, :left, :stopped)"
            ),
            {"entered": T0, "left": T0 + timedelta(days=1), "stopped": False},
        )
    db.session.rollback()


def test_the_timing_read_model_on_existing_data_sqlite(tmp_path):
    _check(f"sqlite:///{tmp_path / 'timing.sqlite3'}", tmp_path)


@pytest.mark.postgres
def test_the_timing_read_model_on_existing_data_postgresql(tmp_path):
    with scratch_postgres_database() as url:
        _check(url, tmp_path)
