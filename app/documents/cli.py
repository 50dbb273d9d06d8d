"""`flask documents migrate --to URL`: move the document store elsewhere (local to S3, S3 to
another bucket) and verify every digest.

Every content in the current store (`DOCUMENT_STORE`) is copied to the target, read back from
there and hashed; every digest the database refers to must then be in the target. The source
is left as it was: switch `DOCUMENT_STORE` to the target once the command has passed, then
remove the old store. Run it again after the switch-over window: contents already in the
target are verified, not copied again. Non-zero exit when anything is missing or damaged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.core.document_store import (
    DamagedDocument,
    DocumentStore,
    MissingDocument,
    current_store,
    s3_options_of,
    store_from_url,
)
from app.extensions import db
from app.models import DocumentVersion


@dataclass
class MigrationReport:
    copied: int = 0
    already_there: int = 0
    problems: list[str] = field(default_factory=list)


def migrate_documents(
    source: DocumentStore, target: DocumentStore, referenced: set[str]
) -> MigrationReport:
    """Copy every content of `source` to `target`, verify each there, and check that every
    digest in `referenced` (the database's) is in the target."""
    report = MigrationReport()
    for sha256 in source.digests():
        try:
            if target.is_stored(sha256):
                report.already_there += 1
            else:
                target.copy_from(source, sha256)
                report.copied += 1
            target.verify(sha256)
        except (DamagedDocument, MissingDocument) as error:
            report.problems.append(f"{sha256}: {error}")
    for sha256 in sorted(referenced):
        if not target.is_stored(sha256):
            report.problems.append(f"{sha256}: referenced by the database, in neither store")
    return report


def referenced_digests() -> set[str]:
    return set(db.session.scalars(select(DocumentVersion.sha256).distinct()))


@click.group("documents", help="Document store tools.")
def documents_group() -> None:
    pass


@documents_group.command("migrate", help="Copy the document store to another and verify it.")
@click.option("--to", "target_url", required=True, help="s3://bucket/prefix or a directory.")
@with_appcontext
def migrate(target_url: str) -> None:
    source = current_store()
    target = store_from_url(target_url, current_app.instance_path, s3_options_of(current_app))
    if target.url == source.url:
        raise click.UsageError("the target is the store in use")
    target.check()
    report = migrate_documents(source, target, referenced_digests())
    click.echo(
        f"{report.copied} copied, {report.already_there} already in {target.url}; "
        f"every content verified there."
        if not report.problems
        else f"{report.copied} copied, {report.already_there} already there; "
        f"{len(report.problems)} problems:"
    )
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    if report.problems:
        raise SystemExit(1)
    click.echo(f"Now set DOCUMENT_STORE={target.url} and restart the app servers.")


COMMANDS = [documents_group]
