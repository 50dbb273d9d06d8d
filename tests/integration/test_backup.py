"""Backups: `flask backup create` taken while transitions and uploads are running restores
(`flask backup restore`) onto an empty database and store with the audit chain and every
document intact; `flask backup verify` finds a damaged document or a rewritten audit entry;
a restore refuses a database that is not empty. On SQLite, and on PostgreSQL when
TEST_DATABASE_URL points at one (then `pg_dump`/`pg_restore` run for real)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app import create_app
from app.core.audit import verify_chain
from app.core.document_store import current_store
from app.extensions import db
from app.models import AuditEntry, DocumentVersion
from tests.document_support import pdf_bytes, upload
from tests.factories import Factories
from tests.workflow_support import make_cast, walk_to
from tests.workflow_support import no_area_hooks as no_area_hooks  # a fixture

# Backups read through their own connections (pg_dump, the SQLite backup API, a thread firing
# transitions): the data must be committed for real.
pytestmark = pytest.mark.own_app

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def busy_history(make, label: str, count: int) -> None:
    """Requests walked to assessment, each with a document: transitions and uploads."""
    cast = make_cast(make, suffix=f" ({label})")
    for number in range(count):
        request = make.request(manufacturer=cast.manufacturer_org, complete=True)
        upload(cast.manufacturer, request, "other", pdf_bytes(f"{label} {number}"), title="Annex")
        walk_to(request, "assessment", cast, start=START + timedelta(days=number))
        db.session.commit()


class Traffic:
    """Transitions and uploads committed one request at a time in another thread (its own
    app context and session) until stopped."""

    def __init__(self, app):
        self.app = app
        self.done = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with self.app.app_context():
                make = Factories(db.session)
                while not self.stop.is_set():
                    busy_history(make, f"concurrent {self.done}", 1)
                    self.done += 1
                db.session.remove()
        except BaseException as error:  # reported by the test
            self.error = error

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=120)
        assert self.error is None, repr(self.error)


def wait_for(condition, timeout: float = 60) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while not condition():
        assert datetime.now(UTC) < deadline, "timed out"
        threading.Event().wait(0.05)


@pytest.fixture
def empty_target(app, tmp_path):
    """empty_target() -> (an app on an empty database and an empty document store, its
    database URL), to restore into. On PostgreSQL that is the test database itself, emptied
    (the only database the suite owns); the restore brings back the schema the other tests
    expect."""
    made = []

    def make():
        instance = str(tmp_path / "restored-instance")
        if db.engine.dialect.name == "postgresql":
            url = db.engine.url.render_as_string(hide_password=False)
            db.session.remove()
            db.engine.dispose()
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            db.engine.dispose()
        else:
            url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        target = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": instance})
        made.append(target)
        return target, url

    yield make
    for target in made:
        with target.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_backup_taken_during_transitions_restores_with_chain_and_documents_intact(
    app, make, runner, tmp_path, no_area_hooks, empty_target
):
    busy_history(make, "before", 3)
    backup_dir = tmp_path / "backup"

    with Traffic(app) as traffic:
        wait_for(lambda: traffic.done >= 1)
        created = runner.invoke(args=["backup", "create", str(backup_dir)])
        wait_for(lambda: traffic.done >= 3)  # and writes go on after the backup
    assert created.exit_code == 0, created.output
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    at_backup = manifest["audit_chain_head"]["seq"]
    assert at_backup > 0

    target, target_url = empty_target()
    with target.app_context():  # the CLI runs in the app context in force
        # A PostgreSQL dump is verified by restoring it into an empty scratch database.
        scratch = ["--scratch-url", target_url] if target_url.startswith("postgresql") else []
        verified = target.test_cli_runner().invoke(
            args=["backup", "verify", str(backup_dir), *scratch]
        )
        assert verified.exit_code == 0, verified.output
        assert "OK" in verified.output

        restored = target.test_cli_runner().invoke(args=["backup", "restore", str(backup_dir)])
        assert restored.exit_code == 0, restored.output
        report = verify_chain()
        assert report.ok, report
        assert report.checked == at_backup  # the state at the backup, whole
        versions = db.session.scalars(select(DocumentVersion)).all()
        assert len(versions) >= 4
        store = current_store()
        for version in versions:
            with store.open_content(version.sha256, version.size) as content:
                data = content.read()
            assert hashlib.sha256(data).hexdigest() == version.sha256
        db.session.remove()


@pytest.fixture
def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("tampers with the SQLite copy in the backup")


def test_verify_finds_a_damaged_document_and_a_rewritten_audit_entry(
    app, make, runner, tmp_path, no_area_hooks, sqlite_only
):
    busy_history(make, "kept", 2)
    backup_dir = tmp_path / "backup"
    assert runner.invoke(args=["backup", "create", str(backup_dir)]).exit_code == 0

    document = next((backup_dir / "documents").glob("*/*/*"))
    document.write_bytes(document.read_bytes() + b"tampered")
    connection = sqlite3.connect(backup_dir / "database.sqlite3")
    with connection:
        connection.execute("UPDATE audit_entries SET reason = 'rewritten' WHERE seq = 2")
    connection.close()

    result = runner.invoke(args=["backup", "verify", str(backup_dir)])

    assert result.exit_code != 0
    assert f"document {document.name}" in result.output
    assert "audit chain BROKEN at entry 2" in result.output


def test_restore_refuses_a_database_that_is_not_empty(app, make, runner, tmp_path, no_area_hooks):
    busy_history(make, "kept", 1)
    backup_dir = tmp_path / "backup"
    assert runner.invoke(args=["backup", "create", str(backup_dir)]).exit_code == 0
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))

    result = runner.invoke(args=["backup", "restore", str(backup_dir)])

    assert result.exit_code != 0
    assert "not empty" in result.output
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_create_refuses_a_directory_that_is_not_empty(app, runner, tmp_path):
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / "older.txt").write_text("keep me")

    result = runner.invoke(args=["backup", "create", str(backup_dir)])

    assert result.exit_code != 0 and "not empty" in result.output
    assert Path(backup_dir / "older.txt").read_text() == "keep me"
