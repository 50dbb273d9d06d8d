"""The work queue's rows as the table shows them, computed before the template renders: the
link, the labels and the dates already formatted (the template once did it per row, with a
url_for, a state label and two date filters each)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.formatting import Formats, current_formats
from app.labels import region_label
from app.requests.list_rows import LinkPattern
from app.workflow.action_labels import choice_label
from app.workqueue.queries import QueueRow

_DATES: dict = {}
_DATES_LIMIT = 65536  # (a few hundred bytes each; then afresh)


def _date(formats: Formats, value) -> str:
    """`formats.date(value)`, kept per process by both: a pure function of the formats (the
    language's pattern and the display zone) and the moment (equal moments, whatever their
    zone, fall on the same local day). A queue page formats two dates per row."""
    key = (formats, value)
    text = _DATES.get(key)
    if text is None:
        if len(_DATES) >= _DATES_LIMIT:
            _DATES.clear()
        text = _DATES[key] = formats.date(value)
    return text


def queue_rows(rows: Iterable[QueueRow], role: str, label: Callable[[str], str]) -> tuple:
    """(row class, request id, link, title, receipt number, duplicates, waiting-for-tariff
    date, manufacturer, state, state label, regional body, since, due, deadline status) per
    row, as a tuple (the template keeps the rows' HTML by them: `layout_fragment`)."""
    if role == "irccs":
        links = LinkPattern("adoptions.detail", "adoption_id")
    else:
        links = LinkPattern("requests.detail", "request_id")
    formats = current_formats()
    labels: dict[str, str] = {}
    result = []
    for row in rows:
        state_text = labels.get(row.state)
        if state_text is None:
            state_text = labels[row.state] = label(row.state)
        waiting = row.waiting_for_tariff_since
        result.append(
            (
                row.row_class,
                row.request_id,
                links.link(row.link_id),
                row.title,
                row.receipt_number,
                row.duplicates,
                _date(formats, waiting) if waiting else None,
                row.manufacturer if row.manufacturer is not None else "",
                row.state,
                state_text,
                row.body or "",
                _date(formats, row.entered_at) if row.entered_at else "",
                _date(formats, row.due_at) if row.due_at else "—",
                row.status,
            )
        )
    return tuple(result)


def barrier_rows(rows) -> tuple:
    """The queue's adoption barriers (`app.adoption.barriers.queue_barriers`) as the table
    shows them: (row class, barrier id, link, kind, device, IRCCS, its region, status, due
    date, overdue) per barrier, as a tuple (the template keeps their HTML by them)."""
    links = LinkPattern("adoptions.barrier", "barrier_id")
    formats = current_formats()
    result = []
    for row in rows:
        result.append(
            (
                "table-overdue" if row.overdue else "",
                row.id,
                links.link(row.id),
                choice_label("barrier_kind", row.kind),
                row.title,
                row.irccs_name,
                region_label(row.irccs_region),
                choice_label("barrier_status", row.status),
                _date(formats, row.due_date),
                row.overdue,
            )
        )
    return tuple(result)
