"""Backups: the database and the documents together, restorable onto an empty database and
store, and verifiable on their own.

A backup directory holds

    manifest.json        what is in it: when, which database, the schema revision, the audit
                         chain head and every document digest with its size
    database.sqlite3     SQLite: a copy made with SQLite's online backup API, or
    database.pgdump      PostgreSQL: `pg_dump --format=custom`
    documents/ab/cd/<sha256>   every document, laid out like the local store

Consistency: on PostgreSQL the dump runs on a snapshot exported by a REPEATABLE READ
transaction (`pg_dump --snapshot`), and the schema revision, chain head and the digests the
database refers to are read in that same transaction; on SQLite they are read from the copy.
Documents are copied after the database: a document's bytes are stored before its row is
committed and are never deleted, so every digest the backed-up database refers to is in the
store by then (the copy may hold a few newer ones, which is harmless). Every copied document
is verified as it is read.

`verify_backup` checks every document against its digest, that the database refers to no
document the backup lacks, and the audit hash chain of the backed-up database (SQLite: read
in place from a temporary copy; PostgreSQL: restored into a scratch database, the only way to
know a dump restores). `restore_backup` refuses a database that has any table or a store that
holds any document.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from app.core.audit import HEAD_ID, chain_report
from app.core.document_store import (
    DamagedDocument,
    DocumentStore,
    LocalStore,
    MissingDocument,
)
from app.domain.audit_chain import ChainReport
from app.models import AuditChainHead, DocumentVersion

FORMAT = "hta-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
DOCUMENTS_DIR = "documents"


class BackupError(RuntimeError):
    """The backup cannot be made, verified or restored; the message says why."""


@dataclass
class DatabaseFacts:
    """What the backed-up database says, read from the same snapshot as the dump."""

    revision: list[str]
    chain_seq: int
    chain_hash: str | None
    referenced: set[str]


@dataclass
class VerifyReport:
    documents: int = 0
    chain: ChainReport | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.chain is not None and self.chain.ok


# --- Create -----------------------------------------------------------------------------------


def create_backup(engine: Engine, store: DocumentStore, directory: Path) -> dict:
    """Write a backup of the database behind `engine` and of `store` into `directory` (new or
    empty); the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty")
    if engine.dialect.name == "postgresql":
        database_file, facts = _dump_postgresql(engine, directory / PG_FILE)
    elif engine.dialect.name == "sqlite":
        database_file, facts = _copy_sqlite(engine, directory / SQLITE_FILE)
    else:
        raise BackupError(f"no backup method for {engine.dialect.name}")
    documents = _copy_documents(store, LocalStore(directory / DOCUMENTS_DIR))
    missing = sorted(facts.referenced - documents.keys())
    if missing:
        raise BackupError(f"the store lacks documents the database refers to: {missing}")
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {"dialect": engine.dialect.name, "file": database_file},
        "schema_revision": facts.revision,
        "audit_chain_head": {"seq": facts.chain_seq, "hash": facts.chain_hash},
        "documents": dict(sorted(documents.items())),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def _read_facts(connection: Connection) -> DatabaseFacts:
    revision = (
        sorted(connection.scalars(text("SELECT version_num FROM alembic_version")))
        if inspect(connection).has_table("alembic_version")
        else []
    )
    head = connection.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(
            AuditChainHead.id == HEAD_ID
        )
    ).first()
    referenced = set(connection.scalars(select(DocumentVersion.sha256).distinct()))
    return DatabaseFacts(
        revision=revision,
        chain_seq=head.last_seq if head else 0,
        chain_hash=head.last_hash if head else None,
        referenced=referenced,
    )


def libpq_url(engine: Engine) -> str:
    """The engine's URL as pg_dump and pg_restore take it (no SQLAlchemy driver suffix)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _dump_postgresql(engine: Engine, target: Path) -> tuple[str, DatabaseFacts]:
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            facts = _read_facts(connection)
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    libpq_url(engine),
                ]
            )
    return target.name, facts


def _copy_sqlite(engine: Engine, target: Path) -> tuple[str, DatabaseFacts]:
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # one step: a consistent copy even while others write
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside
    finally:
        copy.close()
        source.close()
    copy_engine = create_engine(f"sqlite:///{target}")
    try:
        with copy_engine.connect() as connection:
            facts = _read_facts(connection)
    finally:
        copy_engine.dispose()
    return target.name, facts


def _copy_documents(source: DocumentStore, target: LocalStore) -> dict[str, int]:
    sizes = {}
    for sha256 in source.digests():
        target.copy_from(source, sha256)
        sizes[sha256] = target.path_for(sha256).stat().st_size
    return sizes


def _run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603 (fixed argv: pg_dump / psql, no shell)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:2000]}")


# --- Verify -----------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict:
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"no readable manifest in {directory}: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{directory} is not a backup of this format ({FORMAT})")
    return manifest


def verify_backup(directory: Path, scratch_url: str | None = None) -> VerifyReport:
    """Check every document and the database of the backup in `directory`. A PostgreSQL dump
    is restored into `scratch_url` (an empty database, emptied again afterwards)."""
    manifest = read_manifest(directory)
    report = VerifyReport()
    documents = LocalStore(directory / DOCUMENTS_DIR)
    for sha256, size in manifest["documents"].items():
        try:
            if documents.verify(sha256) != size:
                report.problems.append(f"document {sha256}: size differs from the manifest")
        except (DamagedDocument, MissingDocument) as error:
            report.problems.append(f"document {sha256}: {error}")
        report.documents += 1
    with _backed_up_database(directory, manifest, scratch_url) as engine, engine.connect() as conn:
        facts = _read_facts(conn)
        report.chain = chain_report(conn)
    for sha256 in sorted(facts.referenced - manifest["documents"].keys()):
        report.problems.append(f"document {sha256}: referenced by the database, not in the backup")
    expected = manifest["audit_chain_head"]
    if (facts.chain_seq, facts.chain_hash) != (expected["seq"], expected["hash"]):
        report.problems.append("the database's audit chain head differs from the manifest's")
    return report


@contextmanager
def _backed_up_database(directory: Path, manifest: dict, scratch_url: str | None):
    dialect = manifest["database"]["dialect"]
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hta-verify-") as tmp:
            copy = Path(tmp) / SQLITE_FILE
            shutil.copyfile(directory / SQLITE_FILE, copy)
            engine = create_engine(f"sqlite:///{copy}")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    if not scratch_url:
        raise BackupError("verifying a PostgreSQL backup needs a scratch database (--scratch-url)")
    engine = create_engine(scratch_url)
    try:
        if not database_is_empty(engine):
            raise BackupError("the scratch database is not empty")
        _pg_restore(directory / PG_FILE, engine)
        yield engine
    finally:
        _empty_postgresql(engine)
        engine.dispose()


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        return not inspect(connection).get_table_names()


def _pg_restore(dump: Path, engine: Engine) -> None:
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={libpq_url(engine)}",
            str(dump),
        ]
    )


def _empty_postgresql(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


# --- Restore ----------------------------------------------------------------------------------


def restore_backup(directory: Path, engine: Engine, store: DocumentStore) -> VerifyReport:
    """Restore the backup in `directory` into the empty database behind `engine` and the empty
    `store`; the check of the restored database (chain) and documents."""
    manifest = read_manifest(directory)
    dialect = manifest["database"]["dialect"]
    if dialect != engine.dialect.name:
        raise BackupError(f"a {dialect} backup cannot be restored into {engine.dialect.name}")
    if not database_is_empty(engine):
        raise BackupError("the target database is not empty: restore only into an empty one")
    if next(iter(store.digests()), None) is not None:
        raise BackupError(f"the document store {store.url} is not empty")
    source = LocalStore(directory / DOCUMENTS_DIR)
    for sha256 in manifest["documents"]:
        store.copy_from(source, sha256)  # verified as read and as written
    if dialect == "postgresql":
        _pg_restore(directory / PG_FILE, engine)
    else:
        _restore_sqlite(directory / SQLITE_FILE, engine)
    report = VerifyReport(documents=len(manifest["documents"]))
    with engine.connect() as connection:
        report.chain = chain_report(connection)
        facts = _read_facts(connection)
    for sha256 in sorted(facts.referenced):
        if not store.is_stored(sha256):
            report.problems.append(f"document {sha256}: referenced, not restored")
    return report


def _restore_sqlite(backup_file: Path, engine: Engine) -> None:
    target_path = make_url(str(engine.url)).database
    engine.dispose()  # no pooled connection may hold the file while it is replaced
    source = sqlite3.connect(backup_file)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
