"""`flask deadlines check [--now ISO]`: act on the due dates stored with each stage.

Run it periodically (cron, a systemd timer; e.g. every hour). It

1. fires the lapse transitions as the system for stages past their due date: an incomplete
   file not completed in time becomes inadmissible, unanswered questions discontinue the
   request, and a passed review date makes the reassessment due;
2. lists the other open stages past their due date and marks them reported;
3. writes the reminders (`app.notifications.reminders`): before a stage is due, on the due
   day and weekly once overdue, CE certificates expiring, quarterly usage reports due, and
   adoption barriers past their due date (once each, to whoever holds them).

Idempotent: a second run finds nothing to lapse, reports nothing new and writes no reminder
twice. Each request is committed on its own, so one failure does not block the others (the
exit code is 1 then).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import click
from flask.cli import with_appcontext

from app.domain.deadlines import ROME
from app.domain.errors import DomainError
from app.extensions import db
from app.models.types import utcnow
from app.notifications.reminders import write_reminders
from app.workqueue.deadline_check import (
    lapse,
    lapse_candidates,
    mark_reported,
    overdue_stages,
)


def parse_now(text: str | None) -> datetime:
    """An ISO date or date-time; without a zone it is Europe/Rome time. None: the clock."""
    if not text:
        return utcnow()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            "use an ISO date or date-time, e.g. 2026-05-01 or 2026-05-01T08:00+02:00"
        ) from None
    if len(text) == len("2026-05-01"):
        moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ROME)
    return moment.astimezone(UTC)


def _label(receipt: str | None, request_id: int) -> str:
    return receipt or f"#{request_id}"


def _rome(moment: datetime) -> str:
    return moment.astimezone(ROME).strftime("%Y-%m-%d %H:%M")


def _lapse_all(now: datetime) -> tuple[int, int]:
    """Fire every due lapse, one commit per request. Returns (lapsed, failed)."""
    lapsed = failed = 0
    for candidate in lapse_candidates(now):
        name = _label(candidate.receipt_number, candidate.request_id)
        try:
            entry = lapse(candidate, now)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            click.echo(f"skipped {name}: {error.message}", err=True)
            continue
        except Exception as error:  # report it and go on with the next request
            db.session.rollback()
            failed += 1
            click.echo(f"FAILED {name}: {error!r}", err=True)
            continue
        lapsed += 1
        click.echo(
            f"lapsed  {name}: {entry.from_state} -> {entry.to_state} "
            f"(due {_rome(candidate.due_at)})"
        )
    return lapsed, failed


def _report_overdue(now: datetime) -> tuple[int, int]:
    rows = overdue_stages(now)
    fresh = mark_reported(rows, now)  # claimed before printing: "NEW" once, whoever runs
    db.session.commit()
    for row in rows:
        marker = "  NEW" if row.stage_id in fresh else ""
        click.echo(
            f"overdue {_label(row.receipt_number, row.request_id)} (request {row.request_id}): "
            f"{row.state}, due {_rome(row.due_at)}, {row.days_late:.1f} days late{marker}"
        )
    return len(rows), len(fresh)


def _miss_due_milestones(now: datetime) -> None:
    """Evidence milestones past their due date (Europe/Rome) are missed: each moves its
    request to reassessment due (app.assessment.milestones). One commit for them all."""
    from app.assessment.milestones import check_due

    for item in check_due(now, now.astimezone(ROME).date()):
        name = item.receipt_number or f"#{item.request_id}"
        click.echo(
            f"missed  {name}: evidence milestone {item.study_id} due {item.due_on.isoformat()}"
            f" (request now {item.moved_to})"
        )
    db.session.commit()


def _expired_certificates(now: datetime) -> None:
    """A device in force whose CE certificate expired raises a safety alert to the agency
    (once per expiry date), which proposes to suspend it (app.safety.operations)."""
    from app.safety.operations import check_certificates

    for alert in check_certificates(now.astimezone(ROME).date(), now):
        click.echo(f"alert   #{alert.request_id}: {alert.summary}")
    db.session.commit()


@click.group("deadlines", help="Deadline tools.")
def deadlines_group() -> None:
    pass


@deadlines_group.command(
    "check",
    help="Fire the lapses whose deadline passed, list the overdue stages, write reminders.",
)
@click.option(
    "--now",
    "now_text",
    metavar="ISO",
    help="Act as if it were this moment (ISO date or date-time; Europe/Rome if no zone).",
)
@with_appcontext
def check(now_text: str | None) -> None:
    now = parse_now(now_text)
    click.echo(f"Deadline check at {_rome(now)} (Europe/Rome)")
    lapsed, failed = _lapse_all(now)
    _miss_due_milestones(now)
    _expired_certificates(now)
    overdue, fresh = _report_overdue(now)
    reminders = write_reminders(now)
    db.session.commit()
    click.echo(
        f"{reminders.total} reminders written ({reminders.stages} stages, "
        f"{reminders.certificates} CE certificates, {reminders.usage} usage reports, "
        f"{reminders.barriers} overdue adoption barriers)."
    )
    click.echo(f"{lapsed} lapsed, {overdue} overdue ({fresh} newly reported), {failed} failed.")
    if failed:
        raise SystemExit(1)


COMMANDS = [deadlines_group]
