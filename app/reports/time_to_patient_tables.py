"""The time-to-patient tables the timing and adoption reports share: the medians and P90
per stage holder, and every (request, IRCCS) path.

`path_table` takes `paths`, a function returning the first `limit` (all: None) of the
(request id, device, IRCCS, region, path) tuples of
`app.reports_pages.queries.adoption.patient_paths`; `holder_table`
a function returning their `holder_distributions` (the timing report keeps them in the
figure cache; the adoption report works them out from the paths it lists).
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from app.reports import texts
from app.reports.model import DAYS, INTEGER, TEXT, Column, Table
from app.reports.stats import Distribution
from app.reports.time_to_patient import HOLDERS, holder_label

Paths = Callable[..., list[tuple]]


def holder_table(distributions: Callable[[], dict[str, Distribution]]) -> Table:
    """Median and P90 days per stage holder over the paths that reached the first patient."""
    return Table(
        "time_to_patient_holders",
        _("Time to patient by stage holder"),
        [
            Column("holder", _("Held by"), TEXT, 28),
            Column("count", _("IRCCS with a first patient"), INTEGER, 10),
            Column("median", _("Median days"), DAYS, 10),
            Column("p90", _("P90 days"), DAYS, 10),
        ],
        lambda limit=None: (
            [holder_label(holder), spread.count, spread.median, spread.p90]
            for holder, spread in distributions().items()
        ),
        note=_(
            "Each day from submission to the first patient counted for whoever held the file; "
            "only the IRCCS that reached their first patient count."
        ),
        sheet=_("Time to patient"),
    )


def path_table(paths: Paths, preview_rows: int) -> Table:
    """Every (request, IRCCS) path: the days of each holder and the total."""
    return Table(
        "time_to_patient",
        _("Time to patient per request and IRCCS"),
        [
            Column("request", _("Request"), INTEGER, 8),
            Column("device", _("Device"), TEXT, 20),
            Column("irccs", _("IRCCS"), TEXT, 22),
            Column("region", _("Region"), TEXT, 14),
            Column("reached", _("First patient"), TEXT, 8),
            *[Column(h, holder_label(h), DAYS, 9) for h in HOLDERS],
            Column("total", _("Total days"), DAYS, 9),
        ],
        lambda limit=None: (
            _path_row(rid, device, irccs, region, path)
            for rid, device, irccs, region, path in paths(limit=limit)
        ),
        empty_text=_("No IRCCS adoption record."),
        preview_limit=preview_rows,
        sheet=_("Time to patient per IRCCS"),
    )


def _path_row(rid, device, irccs, region, path) -> list:
    # A live path sums its segments for each holder: once per row, not once per holder.
    days = path.days_by_holder()
    return [
        rid,
        device,
        irccs,
        texts.dimension_value("region", region),
        _("yes") if path.reached_patient else _("not yet"),
        *[days[h] for h in HOLDERS],
        path.total_days,
    ]
