"""Adoption barriers in the adoption report (pure): the figures per IRCCS region and barrier
kind, and the table that carries them to the page, the PDF, the spreadsheet and the CSV.

Per region and kind: barriers recorded; open (with their owner), escalated (waiting at the
agency), resolved; overdue (not resolved, due date passed); the median days the unresolved
ones have been open so far, and the median days the resolved ones took.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from app.domain.deadlines import days_between
from app.reports import texts
from app.reports.model import DAYS, INTEGER, TEXT, Column, Table
from app.reports.stats import distribution
from app.workflow.action_labels import choice_label
from app.workflow.states import BARRIER_KINDS

RESOLVED = "resolved"


@dataclass(frozen=True)
class BarrierFact:
    """What the report reads of one barrier."""

    region: str | None
    kind: str
    status: str
    due_date: date
    recorded_at: datetime
    resolved_at: datetime | None


def barrier_figures(facts: Iterable[BarrierFact], now: datetime, today: date) -> list[tuple]:
    """(region, kind, recorded, open, escalated, resolved, overdue, median days open, median
    days to resolution) per region and kind, by region then in the order of the kinds."""
    groups: dict[tuple[str | None, str], list[BarrierFact]] = {}
    for fact in facts:
        groups.setdefault((fact.region, fact.kind), []).append(fact)
    order = {kind: n for n, kind in enumerate(BARRIER_KINDS)}
    rows = []
    for (region, kind), group in sorted(
        groups.items(), key=lambda item: (item[0][0] or "", order.get(item[0][1], 99))
    ):
        unresolved = [f for f in group if f.status != RESOLVED]
        resolved = [f for f in group if f.status == RESOLVED]
        rows.append(
            (
                region,
                kind,
                len(group),
                sum(1 for f in group if f.status == "open"),
                sum(1 for f in group if f.status == "escalated"),
                len(resolved),
                sum(1 for f in unresolved if f.due_date < today),
                distribution([days_between(f.recorded_at, now) for f in unresolved]).median,
                distribution([days_between(f.recorded_at, f.resolved_at) for f in resolved]).median,
            )
        )
    return rows


def barriers_table(rows: Callable[[int | None], Iterator[tuple]]) -> Table:
    return Table(
        "barriers",
        _("Adoption barriers by region and kind"),
        [
            Column("region", _("IRCCS region"), TEXT, 18),
            Column("kind", _("Barrier"), TEXT, 22),
            Column("recorded", _("Barriers recorded"), INTEGER, 9),
            Column("open", _("Open"), INTEGER, 8),
            Column("escalated", _("Escalated"), INTEGER, 10),
            Column("resolved", _("Resolved barriers"), INTEGER, 9),
            Column("overdue", _("Overdue"), INTEGER, 9),
            Column("median_open", _("Median days open (unresolved)"), DAYS, 11),
            Column("median_resolution", _("Median days to resolution"), DAYS, 11),
        ],
        lambda limit=None: (
            [
                texts.dimension_value("region", region),
                choice_label("barrier_kind", kind),
                *figures,
            ]
            for region, kind, *figures in rows(limit)
        ),
        note=_(
            "Barriers the IRCCS recorded on their adoption records after declining or stalling. "
            "Open: waiting for their owner (the IRCCS, the region or the agency); escalated: "
            "handed to the agency. Overdue: not resolved and past the due date. Days open count "
            "the unresolved barriers up to now; days to resolution the resolved ones."
        ),
        empty_text=_("No adoption barrier recorded."),
        sheet=_("Barriers"),
    )
