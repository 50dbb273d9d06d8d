"""`flask audit verify`: check the whole hash chain; non-zero exit on the first broken entry."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.core.audit import verify_chain


@click.group("audit", help="Audit trail tools.")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="Verify the audit trail's hash chain.")
@with_appcontext
def verify() -> None:
    report = verify_chain()
    if report.ok:
        click.echo(f"Audit chain OK: {report.checked} entries verified.")
        return
    click.echo(
        f"Audit chain BROKEN at entry {report.broken_seq}: {report.problem} "
        f"({report.checked} entries verified before it).",
        err=True,
    )
    raise SystemExit(1)


COMMANDS = [audit_group]
