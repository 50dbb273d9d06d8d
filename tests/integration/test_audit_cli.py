"""`flask audit verify` detects an edited, deleted or reordered entry written by raw SQL; on
PostgreSQL the database itself refuses UPDATE and DELETE on the audit trail."""

from __future__ import annotations

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from app.extensions import db
from tests.workflow_support import make_cast, no_area_hooks, walk_to  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("no_area_hooks")


@pytest.fixture
def trail(make):
    """A committed trail of six entries (a request walked to assessment)."""
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "assessment", cast)
    db.session.commit()
    return request


def tamper(*statements: str) -> None:
    """Run raw SQL against the audit trail as an attacker with database access would; on
    PostgreSQL that means switching the append-only trigger off first (as a superuser can)."""
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(
            text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
        )
    for statement in statements:
        db.session.execute(text(statement))
    if postgres:
        db.session.execute(
            text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")
        )
    db.session.commit()


def verify(runner):
    return runner.invoke(args=["audit", "verify"])


def test_an_intact_trail_verifies(runner, trail):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "Audit chain OK: 6 entries verified." in result.output


def test_an_edited_entry_is_reported(runner, trail):
    tamper("UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = 3")
    result = verify(runner)
    assert result.exit_code == 1
    assert "BROKEN at entry 3" in result.output


def test_an_edit_with_a_forged_hash_is_reported(runner, trail):
    forged = "a" * 64
    tamper(f"UPDATE audit_entries SET to_state = 'archived', hash = '{forged}' WHERE seq = 2")
    result = verify(runner)
    assert result.exit_code == 1
    assert "BROKEN at entry 2" in result.output


def test_a_deleted_entry_is_reported(runner, trail):
    tamper("DELETE FROM audit_entries WHERE seq = 4")
    result = verify(runner)
    assert result.exit_code == 1
    assert "BROKEN at entry 4" in result.output and "missing" in result.output


def test_deleting_the_latest_entry_is_reported(runner, trail):
    tamper("DELETE FROM audit_entries WHERE seq = 6")
    result = verify(runner)
    assert result.exit_code == 1
    assert "BROKEN" in result.output


def test_reordered_entries_are_reported(runner, trail):
    tamper(
        "UPDATE audit_entries SET seq = -2 WHERE seq = 2",
        "UPDATE audit_entries SET seq = 2 WHERE seq = 3",
        "UPDATE audit_entries SET seq = 3 WHERE seq = -2",
    )
    result = verify(runner)
    assert result.exit_code == 1
    assert "BROKEN at entry 2" in result.output


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET reason = 'rewritten' WHERE seq = 1",
        "DELETE FROM audit_entries WHERE seq = 1",
    ],
    ids=["update", "delete"],
)
def test_postgres_refuses_to_change_the_trail(runner, trail, statement):
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert verify(runner).exit_code == 0
