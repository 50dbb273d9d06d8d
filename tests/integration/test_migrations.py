"""Migrations: upgrade an empty database to head, find no drift from the models, downgrade to
base. Runs on SQLite always and on PostgreSQL when TEST_DATABASE_URL points at one (in a
database of its own, so the rest of the suite is not disturbed)."""

from __future__ import annotations

import os
import uuid
import warnings
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SAWarning

from app import create_app
from app.extensions import db

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")

# Alembic cannot compare functional indexes (the case-insensitive email index); the migration
# creates it by hand and `_check_round_trip` checks it is there.
pytestmark = [
    pytest.mark.filterwarnings("ignore:autogenerate skipping:UserWarning"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]


@contextmanager
def scratch_postgres_database():
    """A throw-away PostgreSQL database next to the test one."""
    server = make_url(POSTGRES_URL)
    name = f"hta_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _has_index(url: str, table: str, name: str) -> bool:
    """Expression indexes are not reflected on every dialect: ask the catalogue directly."""
    if url.startswith("sqlite"):
        query = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :name"
    else:
        query = "SELECT 1 FROM pg_indexes WHERE tablename = :table AND indexname = :name"
    with db.engine.connect() as connection:
        found = connection.execute(text(query), {"table": table, "name": name}).first()
    return found is not None


def _check_round_trip(url: str, tmp_path) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": tmp_path})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            drift = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata
            )
        assert drift == [], f"models and migrations differ: {drift}"
        inspector = inspect(db.engine)
        assert set(db.metadata.tables) <= set(inspector.get_table_names())
        assert _has_index(url, "users", "uq_users_email_lower")
        assert _has_index(url, "documents", "uq_documents_request_type_title")
        downgrade(revision="base")
        left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        db.engine.dispose()


def test_migrations_round_trip_on_sqlite(tmp_path):
    _check_round_trip(f"sqlite:///{tmp_path / 'migrations.sqlite3'}", tmp_path)


@pytest.mark.postgres
def test_migrations_round_trip_on_postgres(tmp_path):
    with scratch_postgres_database() as url:
        _check_round_trip(url, tmp_path)


@pytest.mark.postgres
def test_audit_trail_is_append_only_after_migrations(tmp_path):
    with scratch_postgres_database() as url:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": tmp_path})
        with app.app_context():
            upgrade()
            triggers = db.session.execute(
                text(
                    "SELECT tgname FROM pg_trigger "
                    "WHERE tgrelid = 'audit_entries'::regclass AND NOT tgisinternal"
                )
            ).scalars()
            assert "audit_entries_append_only" in set(triggers)
            db.session.remove()
            db.engine.dispose()


def test_upgrading_and_downgrading_sqlite_prints_no_sqlalchemy_warning(tmp_path):
    """The table copies of SQLite migrations reflect only the table they copy: reflecting
    `users` too made SQLAlchemy warn, on every `make run`, about an index it skips."""
    url = f"sqlite:///{tmp_path / 'quiet.sqlite3'}"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": tmp_path})
    with app.app_context(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        upgrade()
        downgrade(revision="base")
        db.engine.dispose()
    assert [str(w.message) for w in caught if issubclass(w.category, SAWarning)] == []
