"""The rows of a table of requests (the requests list, the home page's latest), computed
before the template renders: the seven columns the table shows, read as plain rows (no ORM
objects), each cell already formatted and translated.

The table once read each request as an ORM object with its manufacturer joined and formatted
it in Jinja (a url_for, a state label and a date per row, `current_user` looked up several
times per row): about half of the list page's CPU. The text is the same: the labels are
`state_label`'s (one lookup per state and request), the dates `current_formats()`'s, and the
links `url_for`'s (`LinkPattern` checks that the built link has the expected shape and falls
back to url_for otherwise).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Select

from app.core.paging import RowsPagination
from app.core.paging import paginate_rows as paginate_columns
from app.formatting import current_formats
from app.models import DeviceRequest, Organisation
from app.requests.queries import search_filter, visible_requests
from app.workflow.labels import state_label
from app.workflow.states import REQUEST_STATES

ROW_COLUMNS = (
    DeviceRequest.id,
    DeviceRequest.trade_name,
    DeviceRequest.model,
    DeviceRequest.receipt_number,
    Organisation.name,
    DeviceRequest.state,
    DeviceRequest.updated_at,
)


class RequestRow(NamedTuple):
    link: str
    title: str
    model: str | None
    receipt: str
    manufacturer: str
    state: str
    updated: str


def request_title(trade_name: str | None, model: str | None, request_id: int) -> str:
    """`DeviceRequest.title` from its columns."""
    return " ".join(p for p in (trade_name, model) if p) or f"#{request_id}"


def row_select(query: Select) -> Select:
    """`query` (a SELECT of DeviceRequest, filtered and ordered) reading only the shown
    columns, the manufacturer's name by the same LEFT OUTER JOIN its joinedload used."""
    return query.with_only_columns(*ROW_COLUMNS).outerjoin(
        Organisation, Organisation.id == DeviceRequest.manufacturer_id
    )


class LinkPattern:
    """url_for(endpoint, **{argument: n}) for many integers n, built once: the link of a
    marker id, split around it. Exact for rules whose integer argument is written as its
    digits (Werkzeug's int converter); `link` checks the marker appeared exactly once and
    otherwise calls url_for each time."""

    MARKER = 918273645

    def __init__(self, endpoint: str, argument: str):
        self.endpoint, self.argument = endpoint, argument
        parts = url_for(endpoint, **{argument: self.MARKER}).split(str(self.MARKER))
        self.parts = parts if len(parts) == 2 else None

    def link(self, value: int) -> str:
        if self.parts is None:
            return url_for(self.endpoint, **{self.argument: value})
        return f"{self.parts[0]}{value}{self.parts[1]}"


# state_label(state, role) of every request state, per language and role, kept per process:
# a label depends on nothing else (Flask-Babel loads a language's catalogue once per process).
_STATE_LABELS: dict[tuple[str, str | None], dict[str, str]] = {}


def state_labels(role: str | None) -> dict[str, str]:
    """{state: state_label(state, role)} of every request state, in the current language."""
    key = (str(get_locale()), role)
    labels = _STATE_LABELS.get(key)
    if labels is None:
        labels = _STATE_LABELS[key] = {state: state_label(state, role) for state in REQUEST_STATES}
    return labels


def request_rows(rows, role: str | None) -> list[RequestRow]:
    """The table's rows from (id, trade name, model, receipt, manufacturer, state, updated)."""
    links = LinkPattern("requests.detail", "request_id")
    formats = current_formats()
    labels = state_labels(role)
    untitled = None
    result = []
    for request_id, trade_name, model, receipt, manufacturer, state, updated_at in rows:
        label = labels.get(state)
        if label is None:  # (not a request state: as state_label, the name itself)
            label = state_label(state, role)
        if not trade_name:
            trade_name = untitled = untitled or _("(untitled draft)")
        result.append(
            RequestRow(
                links.link(request_id),
                trade_name,
                model,
                receipt or "—",
                manufacturer if manufacturer is not None else "",
                label,
                formats.datetime(updated_at),
            )
        )
    return result


def paginate_rows(
    query: Select, page: int, per_page: int, role: str | None, *, kept: bool = False
) -> RowsPagination:
    """`paginate_select` (the same pages, counts and bound) with `RequestRow`s as items: the
    count over `query` as given (one row per request, no join), the page read by
    `row_select`. `kept`: `query` is built once and kept (`kept_list_query`)."""
    return paginate_columns(
        (_kept_row_select if kept else row_select)(query),
        page,
        per_page,
        convert=lambda rows: request_rows(rows, role),
        count_query=query,
        kept=kept,
    )


# --- the list's statements, kept per reader ------------------------------------------------


class Reader(NamedTuple):
    """A reader as `visible_requests` reads them: id, role and organisation, nothing else (a
    statement kept for a reader is keyed by all it can depend on; were the query to read
    anything more of the reader, it would fail here rather than serve another's scope)."""

    id: int
    role: str
    organisation_id: int | None


def reader_of(user) -> Reader:
    return Reader(user.id, user.role, user.organisation_id)


def list_query(reader: Reader, state: str, text: str = "") -> Select:
    """The requests `reader` may see, in `state` (any if ""), matching `text`, latest change
    first: the requests list's query (and the API's, ordered by it)."""
    query = search_filter(visible_requests(reader), text)
    if state:
        query = query.where(DeviceRequest.state == state)
    return query.order_by(DeviceRequest.updated_at.desc(), DeviceRequest.id.desc())


# Built once per reader and state filter (not per free text: any text would be a new key):
# building a list's statements, and SQLAlchemy's walk of each new statement for its cache
# key, cost about a tenth of the page. A kept statement holds no rows: it reads them anew.
kept_list_query = lru_cache(maxsize=256)(list_query)
_kept_row_select = lru_cache(maxsize=256)(row_select)
