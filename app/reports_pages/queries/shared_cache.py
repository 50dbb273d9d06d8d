"""The report figures' second cache level: shared by every process through the database.

Each process keeps its figures in memory (`common.cached`), but a first view per worker, and
again after each change of the data, cost each worker the full aggregation (1.2 s for the
adoption report at 100k requests): with two workers, every other first view. Here the figures
of the expensive kinds are stored in `report_cache` (app/models/report_cache.py) under their
kind, key and data version, so the first process to compute them spares the others.

- PostgreSQL only: the row is written on a connection of its own, committed at once, beside
  the page's read-only transaction (SQLite serialises writers, and its deployments run one
  machine: there the memory level alone stays, as before).
- A row is read only for the same data version and when younger than the caller's seconds;
  writing replaces the key's row, so the table holds one row per kind and key.
- The value is pickled and signed with HMAC-SHA256 under the app's secret key: a row not
  signed with it is treated as absent (never unpickled). Anything that fails here (a value
  that cannot be pickled, a database error) costs only the sharing: the caller computes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import ReportCacheEntry
from app.models.types import utcnow

MISSING = object()
log = logging.getLogger("hta.reports.cache")


def available() -> bool:
    return db.engine.dialect.name == "postgresql"


def _row_key(kind: str, key: tuple) -> str:
    # repr of the filters (frozen dataclasses, tuples, strings, numbers, dates) is stable
    # between processes, unlike hash(). The code's release is part of the key: during a rolling
    # deploy, servers of the old and the new code share the table, and a figure or a page
    # section of the old code (another layout, another meaning) must not be served by the new.
    return hashlib.sha256(repr((code_release(), kind, key)).encode()).hexdigest()


@lru_cache(maxsize=1)
def code_release() -> str:
    """This code's identity: HTA_RELEASE when the deployment sets it (e.g. the commit), else a
    digest of the app's own source files and templates (read once per process: about 20 ms)."""
    configured = os.environ.get("HTA_RELEASE", "").strip()
    if configured:
        return configured
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[2]  # the app package
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".html", ".po") and path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _signature(payload: bytes) -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"report-cache:" + payload, hashlib.sha256).digest()


def read(kind: str, key: tuple, version: tuple, seconds: float):
    """The figures another process stored for this data version, or MISSING."""
    try:
        blob = db.session.scalar(
            select(ReportCacheEntry.value).where(
                ReportCacheEntry.key == _row_key(kind, key),
                ReportCacheEntry.version == repr(version),
                ReportCacheEntry.stored_at > utcnow() - timedelta(seconds=seconds),
            )
        )
    except SQLAlchemyError:
        log.warning("report cache: the shared figures could not be read", exc_info=True)
        db.session.rollback()
        return MISSING
    if blob is None:
        return MISSING
    mac, payload = bytes(blob[:32]), bytes(blob[32:])
    if not hmac.compare_digest(mac, _signature(payload)):
        log.warning("report cache: a row with a wrong signature was ignored (%s)", kind)
        return MISSING
    return pickle.loads(payload)  # noqa: S301 (signed by this app: see the docstring)


def write(kind: str, key: tuple, version: tuple, value) -> None:
    """Store the figures for the other processes (best effort)."""
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        log.debug("report cache: %s figures cannot be pickled; kept in this process", kind)
        return
    row = {
        "key": _row_key(kind, key),
        "version": repr(version),
        "stored_at": utcnow(),
        "value": _signature(payload) + payload,
    }
    statement = insert(ReportCacheEntry).values(row)
    statement = statement.on_conflict_do_update(
        index_elements=[ReportCacheEntry.key],
        set_={name: statement.excluded[name] for name in ("version", "stored_at", "value")},
    )
    try:
        with db.engine.begin() as connection:  # its own transaction, committed here
            # Another process writing the same key holds its row for a moment; never wait
            # long for it (the page is what matters, sharing is a bonus).
            connection.execute(text("SET LOCAL lock_timeout = '1s'"))
            connection.execute(statement)
    except SQLAlchemyError:
        log.warning("report cache: the shared figures could not be stored", exc_info=True)
