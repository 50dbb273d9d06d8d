"""`flask notify run [--once]`: the email delivery worker.

`--once` delivers what is due and exits (cron, tests); without it the worker loops, sleeping
`--interval` seconds when nothing is due. Several workers may run at once on PostgreSQL
(`FOR UPDATE SKIP LOCKED`); see `app.notifications.delivery`. It never blocks a web request:
the web servers only write rows, this process sends.
"""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from app.models.types import utcnow
from app.notifications.delivery import deliver_pending


def _summary(result) -> str:
    return (
        f"{result.sent} sent, {result.digests} digests, {result.held} held for the digest, "
        f"{result.skipped} skipped, {result.failed} failed (retried later)"
    )


@click.group("notify", help="Notification delivery.")
def notify_group() -> None:
    pass


@notify_group.command("run", help="Deliver pending notifications by email (loops).")
@click.option("--once", is_flag=True, help="Deliver what is pending now and exit.")
@click.option(
    "--interval", default=10.0, show_default=True, help="Seconds to wait when nothing is due."
)
@with_appcontext
def run(once: bool, interval: float) -> None:
    if once:
        click.echo(_summary(deliver_pending(utcnow)))
        return
    click.echo(f"Notification worker started (polling every {interval:g} s).")
    while True:
        result = deliver_pending(utcnow)
        if result.worked:
            click.echo(_summary(result))
        time.sleep(interval)


COMMANDS = [notify_group]
