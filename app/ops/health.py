"""`/healthz` and `/readyz` for load balancers and orchestrators: unauthenticated, cheap, and
logged at DEBUG only (`app.ops.request_log.QUIET_ENDPOINTS`).

- `/healthz`: the process answers. Touches nothing else (no database), so a slow database
  never gets a healthy server restarted.
- `/readyz`: this server can serve: the database answers, its schema is at the migrations'
  head (a server started before `flask db upgrade` finished is not ready), and the document
  store is reachable. 200 with every check "ok", or 503 naming what failed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from sqlalchemy import text

from app.core.document_store import current_store
from app.extensions import db

bp = Blueprint("ops", __name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"


@cache
def migration_heads(directory: str = str(MIGRATIONS_DIR)) -> frozenset[str]:
    """The head revision(s) of the migration scripts (read once per process)."""
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}, 200, {"Cache-Control": "no-store"}


@bp.get("/readyz")
def readyz():
    checks = {
        "database": _check_database,
        "migrations": _check_migrations,
        "documents": _check_document_store,
    }
    results = {name: _run(check) for name, check in checks.items()}
    ready = all(result == "ok" for result in results.values())
    body = {"status": "ready" if ready else "not ready", "checks": results}
    return body, 200 if ready else 503, {"Cache-Control": "no-store"}


def _run(check) -> str:
    try:
        return check()
    except Exception as error:  # a probe reports every failure instead of raising it
        current_app.logger.warning("readiness check failed: %s", error)
        db.session.rollback()
        return f"failed: {type(error).__name__}"


def _check_database() -> str:
    db.session.execute(text("SELECT 1"))
    return "ok"


def _check_migrations() -> str:
    applied = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    heads = migration_heads()
    if applied == heads:
        return "ok"
    return f"at {sorted(applied) or 'nothing'}, head is {sorted(heads)}"


def _check_document_store() -> str:
    current_store().check()
    return "ok"
