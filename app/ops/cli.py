"""`flask backup create|verify|restore DIR`: the database and the documents, together.

    flask backup create /backups/2026-12-02        (cron, nightly; see the README's schedule)
    flask backup verify /backups/2026-12-02 [--scratch-url postgresql://.../hta_verify]
    flask backup restore /backups/2026-12-02       (onto an empty database and store)

Each exits non-zero when anything is wrong, saying what.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.core.document_store import current_store
from app.extensions import db
from app.ops.backup import BackupError, VerifyReport, create_backup, restore_backup, verify_backup

DIRECTORY = click.argument(
    "directory", type=click.Path(file_okay=False, path_type=Path, resolve_path=True)
)


@click.group("backup", help="Back up, verify and restore the database and the documents.")
def backup_group() -> None:
    pass


@backup_group.command("create", help="Back up the database and every document into DIRECTORY.")
@DIRECTORY
@with_appcontext
def create(directory: Path) -> None:
    try:
        manifest = create_backup(db.engine, current_store(), directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    head = manifest["audit_chain_head"]
    click.echo(
        f"Backup in {directory}: {manifest['database']['dialect']} database at audit entry "
        f"{head['seq']}, {len(manifest['documents'])} documents."
    )


@backup_group.command("verify", help="Check a backup: every document digest and the audit chain.")
@DIRECTORY
@click.option(
    "--scratch-url",
    help="An empty PostgreSQL database to restore a PostgreSQL dump into (emptied afterwards).",
)
@with_appcontext
def verify(directory: Path, scratch_url: str | None) -> None:
    try:
        report = verify_backup(directory, scratch_url)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    _echo(report, f"Backup {directory}")


@backup_group.command("restore", help="Restore a backup onto an empty database and store.")
@DIRECTORY
@with_appcontext
def restore(directory: Path) -> None:
    db.session.remove()
    try:
        report = restore_backup(directory, db.engine, current_store())
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    _echo(report, "Restored database and documents")


def _echo(report: VerifyReport, subject: str) -> None:
    chain = report.chain
    if report.ok:
        click.echo(
            f"{subject}: OK, {report.documents} documents verified, "
            f"audit chain of {chain.checked} entries intact."
        )
        return
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    if chain is not None and not chain.ok:
        click.echo(f"  audit chain BROKEN at entry {chain.broken_seq}: {chain.problem}", err=True)
    raise click.ClickException(f"{subject}: NOT OK")


COMMANDS = [backup_group]
