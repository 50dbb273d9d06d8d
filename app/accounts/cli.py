"""Account commands.

`flask create-admin EMAIL`: create the first administrator (prompts for the password); they set
up their second factor at the first login.
`flask totp code EMAIL`: print a user's current second-factor code (development and the demo
only: production refuses, since it would let whoever runs commands bypass the second factor).
"""

from __future__ import annotations

import click
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale

from app.accounts.operations import UserData, create_user, find_user_by_email
from app.accounts.second_factor import code_at
from app.domain.errors import ValidationFailed
from app.extensions import db
from app.models.types import utcnow


@click.command("create-admin", help="Create an administrator account.")
@click.argument("email")
@click.option("--name", "full_name", default="", help="The person's full name.")
@click.option("--language", type=click.Choice(["it", "en"]), default="it", show_default=True)
@click.password_option(help="The password (prompted, hidden, asked twice, when omitted).")
@with_appcontext
def create_admin(email: str, full_name: str, language: str, password: str) -> None:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from None
    data = UserData(
        email=email,
        full_name=full_name,
        role="admin",
        organisation_id=None,
        language=language,
    )
    try:
        user = create_user(None, data, password, now=utcnow())
    except ValidationFailed as error:
        db.session.rollback()
        with force_locale("en"):  # no request here to choose a language from
            for message in error.details.get("fields", {}).values():
                click.echo(f"Error: {message}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Administrator {user.email} created.")


totp = AppGroup("totp", help="Second factor (TOTP) helpers for development and the demo.")


@totp.command("code", help="Print the current second-factor code of the user with EMAIL.")
@click.argument("email")
def totp_code(email: str) -> None:
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Refused in production: codes come from the user's own app.")
    user = find_user_by_email(email)
    if user is None or not user.has_second_factor:
        raise click.ClickException(f"{email} has no second factor.")
    click.echo(code_at(user.totp_secret, utcnow()))


COMMANDS = [create_admin, totp]
