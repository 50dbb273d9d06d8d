"""`flask report ...`: the timing and adoption reports and the per-request record as files.

    flask report timing   --format pdf|xlsx|csv --out FILE [filters] [--by all|none|DIMENSION]
    flask report adoption --format pdf|xlsx|csv --out FILE [filters] [--request-id N]
    flask report request ID --out FILE

The filters are those of the report pages (same parsing, same messages). Without --user the
report covers everything (an operator on the server); with --user EMAIL it is scoped exactly as
that user would see it on screen. A progress bar follows the tables as they are written.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import func, select

from app.domain.errors import NotFound
from app.extensions import db
from app.models import Organisation, User
from app.models.types import utcnow
from app.reports.csv import iter_csv
from app.reports.filters import DIMENSIONS, parse_filters
from app.reports.model import Table
from app.reports.pdf import render_pdf
from app.reports.xlsx import write_xlsx
from app.reports_pages.build import build_adoption_report, build_request_record, build_timing_report


def _filter_options(command):
    options = [
        click.option("--submitted-from", help="Submitted on or after this date (YYYY-MM-DD)."),
        click.option("--submitted-to", help="Submitted on or before this date (YYYY-MM-DD)."),
        click.option("--region", help="Region of the regional body (code, e.g. lombardia)."),
        click.option("--body-id", help="Regional body (organisation id)."),
        click.option("--risk-class", help="Risk class (I, IIa, IIb, III, A-D)."),
        click.option("--emdn", help="EMDN category letter."),
        click.option("--outcome", help="Recommendation outcome code, or 'none'."),
        click.option("--user", "user_email", help="Scope the report as this user sees it."),
        click.option("--lang", type=click.Choice(["it", "en"]), help="Language of the report."),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["pdf", "xlsx", "csv"]),
            required=True,
            help="Output format.",
        ),
        click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _actor(email: str | None):
    if not email:
        return None
    user = db.session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()
    if user is None:
        raise click.BadParameter(f"no user with the email {email}", param_hint="--user")
    if user.role == "admin":
        raise click.BadParameter("administrators have no reports", param_hint="--user")
    return user


def _filters(values: dict):
    filters, errors = parse_filters({k: v for k, v in values.items() if v is not None})
    if errors:
        message = "\n".join(
            f"--{name.replace('_', '-')}: {error}" for name, error in errors.items()
        )
        raise click.UsageError(message)
    return filters


def _body_names() -> dict[int, str]:
    return dict(
        db.session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.kind == "regional_body")
        ).all()
    )


def _with_progress(report, bar) -> None:
    """Advance the bar each time a table has been written."""
    for table in report.tables():
        original = table.iter_rows

        def counted(limit=None, original=original, table: Table = table):
            yield from original(limit)
            bar.update(1)

        table.iter_rows = counted  # type: ignore[method-assign]


def _write(report, fmt: str, out: str) -> None:
    tables = len(report.tables()) if fmt != "pdf" else 0
    with click.progressbar(length=tables + 1, label=f"Writing {out}") as bar:
        _with_progress(report, bar)
        if fmt == "pdf":
            data = render_pdf(report)
            with open(out, "wb") as handle:
                handle.write(data)
        elif fmt == "xlsx":
            write_xlsx(report, out)
        else:
            with open(out, "wb") as handle:
                for chunk in iter_csv(report):
                    handle.write(chunk)
        bar.update(1)
    click.echo(f"Wrote {out}.")


def _language(lang: str | None) -> str:
    return lang or current_app.config["BABEL_DEFAULT_LOCALE"]


@click.group("report", help="Write the timing or adoption report, or one request's record.")
def report_group() -> None:
    pass


@report_group.command("timing", help="The timing report.")
@_filter_options
@click.option(
    "--by",
    type=click.Choice(["all", "none", *DIMENSIONS]),
    default="all",
    show_default=True,
    help="Breakdowns to include.",
)
@click.option("--slowest", type=click.IntRange(1, 1000), default=20, show_default=True)
@with_appcontext
def timing(fmt, out, user_email, lang, by, slowest, **filter_values) -> None:
    actor = _actor(user_email)
    filters = _filters(filter_values)
    dimensions = DIMENSIONS if by == "all" else () if by == "none" else (by,)
    with force_locale(_language(lang)):
        click.echo("Computing the timing figures...")
        report = build_timing_report(
            actor,
            filters,
            utcnow(),
            body_names=_body_names(),
            dimensions=dimensions,
            slowest_limit=slowest,
        )
        _write(report, fmt, out)


@report_group.command("adoption", help="The adoption report.")
@_filter_options
@click.option("--request-id", help="Only the recommendation of this request.")
@with_appcontext
def adoption(fmt, out, user_email, lang, request_id, **filter_values) -> None:
    actor = _actor(user_email)
    filters = _filters(filter_values | {"request_id": request_id})
    with force_locale(_language(lang)):
        click.echo("Computing the adoption figures...")
        report = build_adoption_report(actor, filters, utcnow(), body_names=_body_names())
        _write(report, fmt, out)


@report_group.command(
    "rebuild-paths",
    help="Rewrite the stored paths to the first patient from the data (after a bulk load).",
)
@with_appcontext
def rebuild_paths() -> None:
    # Imported here: the read model registers transition hooks on import.
    from app.adoption.path_store import rebuild_patient_paths

    written = rebuild_patient_paths()
    db.session.commit()
    click.echo(f"Rewrote {written} paths to the first patient.")


@report_group.command("request", help="The record of one request (PDF).")
@click.argument("request_id", type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--user", "user_email", help="Show it as this user may see it.")
@click.option("--lang", type=click.Choice(["it", "en"]), help="Language of the record.")
@with_appcontext
def request_record(request_id, out, user_email, lang) -> None:
    actor = _actor(user_email)
    with force_locale(_language(lang)):
        try:
            report = build_request_record(actor, request_id, utcnow())
        except NotFound:
            raise click.ClickException(f"request {request_id} not found") from None
        _write(report, "pdf", out)


COMMANDS = [report_group]
