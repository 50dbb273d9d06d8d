"""`flask seed-demo`: load the demo data once and print the demo logins."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.models.types import utcnow


@click.command("seed-demo", help="Load demo organisations, users and requests (idempotent).")
@with_appcontext
@click.option("--copies", default=2, show_default=True, help="Requests per scenario.")
def seed_demo_command(copies: int) -> None:
    from app.demo.data import seed_demo

    result = seed_demo(utcnow(), copies=copies)
    db.session.commit()
    if result.created:
        click.echo(f"Demo data loaded: {result.requests} requests.")
    else:
        click.echo("Demo data already present; nothing changed.")
    click.echo("\nDemo logins (one per role):")
    for role, email, password, totp_key in result.logins:
        key = f"  second factor: key {totp_key}" if totp_key else ""
        click.echo(f"  {role:<13} {email:<24} {password:<22}{key}")
    click.echo("Colleagues (other bodies, IRCCS, manufacturers) use the password demo-staff-2026.")
    click.echo(
        "Administrators, agency staff and assessors log in with a second factor: add the key to "
        "an authenticator app, or print the current code with `flask totp code EMAIL`."
    )


COMMANDS = [seed_demo_command]
