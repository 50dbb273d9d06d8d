"""`flask audit verify [--against-anchors URL-or-file]` checks the whole hash chain (and, with
anchors, that history still matches what the register published); `flask audit anchor`
(daily, from cron) records the chain head for the register. Non-zero exit on any problem."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import with_appcontext

from app.core.audit import chain_length, verify_chain
from app.core.audit_anchors import (
    AnchorRefused,
    anchor_chain_head,
    check_against_anchors,
    load_published,
)
from app.extensions import db
from app.models.types import utcnow


@click.group("audit", help="Audit trail tools.")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="Verify the audit trail's hash chain.")
@click.option(
    "--against-anchors",
    "anchors_source",
    metavar="URL-OR-FILE",
    help="Also check the published anchors (the register's anchors.json, or a saved copy).",
)
@with_appcontext
def verify(anchors_source: str | None) -> None:
    if anchors_source:
        _verify_against(anchors_source)
        return
    progress = _terminal_progress()
    report = verify_chain(progress)
    if progress is not None:
        click.echo("", err=True)  # end the counter's line
    if report.ok:
        click.echo(f"Audit chain OK: {report.checked} entries verified.")
        return
    _chain_broken(report)


def _terminal_progress():
    """A counter redrawn in place on stderr, only when stderr is a terminal (never in a log
    or a pipe: cron mails and scripts read the one-line verdict)."""
    stream = sys.stderr
    if not stream.isatty():
        return None
    total = chain_length()
    started = time.monotonic()

    def show(checked: int) -> None:
        rate = checked / max(time.monotonic() - started, 1e-9)
        share = f" ({checked / total:.0%})" if total else ""
        stream.write(f"\r{checked:,} of {total:,} entries verified{share}, {rate:,.0f}/s ")
        stream.flush()

    return show


def _chain_broken(report) -> None:
    click.echo(
        f"Audit chain BROKEN at entry {report.broken_seq}: {report.problem} "
        f"({report.checked} entries verified before it).",
        err=True,
    )
    raise SystemExit(1)


def _verify_against(source: str) -> None:
    try:
        published = load_published(source)
    except (OSError, ValueError, KeyError) as error:
        raise click.ClickException(f"cannot read the anchors at {source}: {error}") from None
    result = check_against_anchors(published)
    if not result.chain.ok:
        _chain_broken(result.chain)
    for mismatch in result.mismatches:
        click.echo(f"Anchor MISMATCH: {mismatch}", err=True)
    if result.mismatches:
        raise SystemExit(1)
    click.echo(
        f"Audit chain OK: {result.chain.checked} entries verified, "
        f"{result.checked} published anchors match."
    )


@audit_group.command("anchor", help="Record the audit chain head for the public register.")
@with_appcontext
def anchor() -> None:
    try:
        recorded = anchor_chain_head(utcnow())
    except AnchorRefused as error:
        db.session.rollback()
        raise click.ClickException(f"not anchored: {error}") from None
    if recorded is None:
        click.echo("Nothing to anchor: the chain head has not moved since the last anchor.")
        return
    db.session.commit()
    click.echo(f"Anchored entry {recorded.seq}: {recorded.hash}")


COMMANDS = [audit_group]
