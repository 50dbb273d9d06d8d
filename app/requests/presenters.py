"""What the request page shows: the dossier as the reader may see it, workflow actions,
timeline, audit trail.

`dossier_context(actor, request)` gives the template the field schema's sections and what the
redaction hides from this reader (`app.domain.redaction`); the template draws each field by its
kind.

The request detail view merges `workflow_panel_context(actor, request)` into its template
context; `requests/_workflow_panel.html` draws it. When an action just failed (form errors,
a guard), the actions blueprint re-renders the request page after
`remember_failed_action(...)`, and the panel shows that form open with what the user typed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from flask import current_app, get_template_attribute, url_for
from flask import request as http_request
from flask_babel import get_locale, get_timezone
from flask_babel.speaklater import LazyString
from markupsafe import Markup
from sqlalchemy import Integer, Select, bindparam, func, not_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.adoption.designation import DesignationSummary, summary_of, summary_statement
from app.adoption.time_to_patient import PatientPath, paths_of, paths_statement, shows_paths
from app.core import fire as workflow_service
from app.core.audit import entries_for_request, recent_entries_for_request
from app.domain.dossier_fields import SECTIONS, fields_in_section
from app.domain.permissions import PUBLISHED_STATES
from app.domain.redaction import (
    ADOPTION_AUDIT_ENTITIES,
    ALL_ADOPTION_READERS,
    INTERNAL_AUDIT_ACTIONS,
    INTERNAL_AUDIT_ENTITIES,
    INTERNAL_AUDIT_READERS,
    view_of,
    visible_audit_entries,
)
from app.extensions import db
from app.formatting import current_formats
from app.models import AuditEntry, DeviceRequest, StageRecord, User
from app.models.types import utcnow
from app.public.consultation import can_moderate_consultation, request_pending_statement
from app.reimbursement.queries import request_cases_columns, request_cases_values
from app.reports.time_to_patient import HOLDERS, holder_label
from app.requests.action_panel import (
    ActionView,
    AuditRow,
    action_views,
    audit_rows,
    audit_rows_html,
    choices_reads,
    failed_action_for,
    labels_memo,
)
from app.requests.completeness import (
    CHECKLIST_FIELD,
    INTAKE_CHECKLIST_TRIGGER,
    intake_checklist,
)
from app.requests.page_reads import Read, read_all
from app.workflow.labels import state_label
from app.workflow.states import CLOCK_STOP_STATES

# Panels other areas add to the request page (documents, assessment links, reported use):
# name -> (builder(actor, request) -> what its template draws, its reads or None). The view
# runs every builder before rendering, so the templates only render (a template calling a
# service ran its queries in the middle of rendering, and the page's cost grew with what it
# showed).
_PAGE_PANELS: dict[str, tuple[Callable[..., Any], Callable[[Any, Any], Any] | None]] = {}


def register_page_panel(
    name: str, builder: Callable[..., Any], reads: Callable[[Any, Any], Any] | None = None
) -> None:
    """Add `name` to the request page's template context, built by `builder(actor, request)`.

    `reads(actor, request)`, when given, says what the panel reads of the request: (a list
    of `page_reads.Read`, the values they bind), or None when it reads nothing. The page then
    runs those reads with its own in one statement (`page_reads`) and calls
    `builder(actor, request, rows=...)` with {read's name: its rows}; a builder called
    without `rows` (elsewhere) reads them itself."""
    _PAGE_PANELS[name] = (builder, reads)


@cache
def page_loading() -> tuple:
    """Loader options for the request page's own read of the request: with its row, the
    manufacturer, the recommendation (one each at most) and the comparators (a few; at most
    ROW_LIMITS' 50) joined, then the dossier's evidence (up to 100 rows: joined with the
    comparators it would multiply them) in a statement more, so that rendering touches no
    lazy relationship and the page does not read the request twice."""
    return (
        joinedload(DeviceRequest.manufacturer),
        joinedload(DeviceRequest.recommendation),
        joinedload(DeviceRequest.comparators),
        selectinload(DeviceRequest.evidence),
    )


def page_panels(actor, request, reads: PageReads | None = None) -> dict:
    """Each registered panel, built for `actor`; those with reads from `reads`' rows."""
    panels = {}
    for name, (build, panel_reads) in _PAGE_PANELS.items():
        if panel_reads is None or reads is None:
            panels[name] = build(actor, request)
        else:
            panels[name] = build(actor, request, rows=reads.rows)
    return panels


# The request page shows the most recent part of the timeline and of the audit trail; the
# whole of both is on the request's history page (`requests.history`), a plain link.
RECENT_WINDOW = 20
HISTORY_PAGE_SIZE = 200


@dataclass(frozen=True)
class TimelineRow:
    """One stage visit with its text already formatted (the template only places it)."""

    label: str
    entered: str
    left: str  # "" while the visit is open
    due: str  # "" when the stage has no deadline
    gross_days: str
    net_days: str
    clock_stopped: bool
    late: bool
    near_due: bool
    has_due: bool


@dataclass(frozen=True)
class PathBar:
    holder: str
    offset: float
    width: float
    title: str  # "<holder's label>: <days, one decimal>"


@dataclass(frozen=True)
class PathRow:
    """One IRCCS's time to patient, as the panel draws it (the waterfall's bars and the
    table's cells), every figure already formatted ("%.1f", as the template did)."""

    irccs: str
    reached_patient: bool
    bars: tuple[PathBar, ...]
    cells: tuple[tuple[str, str], ...]  # (holder, days)
    total: str


def path_rows(paths: list[PatientPath], labels: dict[str, str]) -> list[PathRow]:
    """Each path as the panel draws it; each worked out once per path and holder labels,
    then kept (a path that reached its patient no longer changes)."""
    words = tuple(labels.items())
    rows = []
    for item in paths:
        # Exact: a PatientPath (frozen: the IRCCS, its segments' moments) holds all a row
        # is worked out from, with the labels.
        key = (words, item)
        row = _PATH_ROWS.get(key)
        if row is None:
            row = _PATH_ROWS[key] = _path_row(item, labels)
            if len(_PATH_ROWS) > _PATH_ROWS_SIZE:
                _PATH_ROWS.popitem(last=False)
        rows.append(row)
    return rows


_PATH_ROWS: OrderedDict[tuple, PathRow] = OrderedDict()
_PATH_ROWS_SIZE = 2048


def _path_row(item: PatientPath, labels: dict[str, str]) -> PathRow:
    days = item.days  # each holder's days, summed once (not once per bar and cell)
    return PathRow(
        irccs=item.irccs,
        reached_patient=item.path.reached_patient,
        bars=tuple(
            PathBar(bar.holder, bar.offset, bar.width, f"{labels[bar.holder]}: {bar.days:.1f}")
            for bar in item.bars()
        ),
        cells=tuple((holder, f"{days[holder]:.1f}") for holder in HOLDERS),
        total=f"{item.path.total_days:.1f}",
    )


# Each IRCCS's time-to-patient figure and table row as HTML: {(locale, macro, PathRow): HTML},
# the oldest dropped beyond _PATH_HTML_SIZE. Exact: a PathRow (frozen) holds every text and
# figure the macros draw, already formatted; their words come from the locale's catalogue.
_PATH_HTML: OrderedDict[tuple, Markup] = OrderedDict()
_PATH_HTML_SIZE = 2048


def patient_paths_html(rows: list[PathRow]) -> tuple[Markup, Markup]:
    """(the figures, the table's rows) of requests/_time_to_patient.html for these rows,
    each drawn once per row and locale, then kept."""
    locale = str(get_locale())
    drawn = []
    for name in ("ttp_figure", "ttp_row"):
        macro = None
        parts = []
        for row in rows:
            key = (locale, name, row)
            html = _PATH_HTML.get(key)
            if html is None:
                if macro is None:
                    macro = get_template_attribute("requests/_time_to_patient.html", name)
                # Our own template's output, escaped as it rendered.
                html = _PATH_HTML[key] = Markup(macro(row))  # noqa: S704
                if len(_PATH_HTML) > _PATH_HTML_SIZE:
                    _PATH_HTML.popitem(last=False)
            parts.append(html)
        drawn.append(Markup("").join(parts))
    return drawn[0], drawn[1]


@dataclass
class WorkflowPanel:
    state: str
    state_label: str
    clock_stopped: bool
    actions: list[ActionView] = field(default_factory=list)
    timeline: list[TimelineRow] = field(default_factory=list)
    timeline_html: Markup | None = None  # its rows drawn (`timeline_rows_html`)
    audit: list = field(default_factory=list)  # the entries shown (rows of _AUDIT_COLUMNS)
    audit_html: Markup | None = None  # their rows drawn (`audit_rows_html`)
    show_audit: bool = False
    role: str = ""
    # A published recommendation's designated centres (None: not published, or none named);
    # the pending requests to be added are listed for the agency only.
    designation: DesignationSummary | None = None
    # Older stage visits / audit entries not shown here (on the history page).
    earlier_stages: int = 0
    earlier_audit: bool = False
    history_url: str = ""
    # Submission to first patient at each IRCCS this reader may see (app.adoption.time_to_patient).
    patient_paths: list[PathRow] = field(default_factory=list)
    patient_figures_html: Markup | None = None  # their figures and table rows drawn
    patient_rows_html: Markup | None = None  # (`patient_paths_html`)
    # The regional tariff's cases of this request the reader may see (app.reimbursement).
    tariff_cases: list = field(default_factory=list)
    # (holder, its label) in the order of the path, for the time-to-patient table's head.
    holder_labels: list[tuple[str, str]] = field(default_factory=list)


def timeline_rows(stages, role: str) -> list[TimelineRow]:
    """Each stage visit (`StageRow`) formatted for `role` in this locale and zone; each row
    formatted once per key, then kept (a long history repeats the same closed visits)."""
    formats = current_formats()
    label = labels_memo()  # a state's words once per process and locale
    reader = (str(get_locale()), str(get_timezone()), role)
    rows = []
    for row in stages:
        # Exact: a StageRow (frozen) holds every value its TimelineRow is formatted from.
        key = (reader, row)
        shown = _TIMELINE_ROWS.get(key)
        if shown is None:
            shown = _TIMELINE_ROWS[key] = _timeline_row(row, role, formats, label)
            if len(_TIMELINE_ROWS) > _TIMELINE_ROWS_SIZE:
                _TIMELINE_ROWS.popitem(last=False)
        rows.append(shown)
    return rows


# Formatted stage visits: {(locale, zone, role, StageRow): TimelineRow}, oldest dropped.
_TIMELINE_ROWS: OrderedDict[tuple, TimelineRow] = OrderedDict()
_TIMELINE_ROWS_SIZE = 4096


def _timeline_row(row, role: str, formats, label) -> TimelineRow:
    return TimelineRow(
        label=label(state_label, row.state, role),
        entered=formats.datetime(row.entered_at),
        left=formats.datetime(row.left_at),
        due=formats.datetime(row.due_at),
        gross_days=formats.number(row.gross_days),
        net_days=formats.number(row.net_days),
        clock_stopped=row.clock_stopped,
        late=row.late,
        near_due=row.near_due,
        has_due=row.due_at is not None,
    )


# The timeline's rows as HTML (`timeline_row` of requests/_timeline.html): {(locale, row):
# HTML}, the oldest dropped beyond _TIMELINE_HTML_SIZE. Exact: a TimelineRow holds every
# text and flag the row shows, already formatted (in the display zone, for the reader's
# role, at this moment), and the words the template adds come from the locale's catalogue.
_TIMELINE_HTML: OrderedDict[tuple, Markup] = OrderedDict()
_TIMELINE_HTML_SIZE = 4096


def timeline_rows_html(rows: list[TimelineRow]) -> Markup:
    """`timeline_row` of each row, joined; each drawn once per row and locale, then kept."""
    locale = str(get_locale())
    macro = None
    parts = []
    for row in rows:
        key = (locale, row)
        html = _TIMELINE_HTML.get(key)
        if html is None:
            if macro is None:
                macro = get_template_attribute("requests/_timeline.html", "timeline_row")
            # Our own template's output, escaped as it rendered.
            html = _TIMELINE_HTML[key] = Markup(macro(row))  # noqa: S704
            if len(_TIMELINE_HTML) > _TIMELINE_HTML_SIZE:
                _TIMELINE_HTML.popitem(last=False)
        parts.append(html)
    return Markup("").join(parts)


# Label tables translated once per process and locale: {(locale, id(table)): (table, words)}.
# Exact to keep for the life of the process: the tables are constants of the code and their
# words come from the message catalogue, so they depend on nothing but the locale.
_TRANSLATED_TABLES: dict[tuple[str, int], tuple[dict, dict]] = {}


def translated_table(table: dict) -> dict:
    """`table` (a module constant of lazy labels) with each lazy string translated for the
    current locale, as the template would draw it: a lazy string renders unescaped (its
    `__html__` is its text), so it becomes Markup of its text; any other value stays as is."""
    key = (str(get_locale()), id(table))
    cached = _TRANSLATED_TABLES.get(key)
    if cached is None or cached[0] is not table:
        words = {
            # (The catalogue's own text, drawn unescaped as Flask-Babel's `__html__` draws it.)
            name: Markup(str(label)) if isinstance(label, LazyString) else label  # noqa: S704
            for name, label in table.items()
        }
        cached = _TRANSLATED_TABLES[key] = (table, words)
    return cached[1]


@dataclass(frozen=True)
class DossierSection:
    name: str
    fields: tuple  # app.domain.dossier_fields.DossierField


def dossier_context(actor, request) -> dict:
    """The dossier's sections and fields, and what of them this reader may not see."""
    view = view_of(actor, request)
    return {
        "dossier_sections": [DossierSection(s, fields_in_section(s)) for s in SECTIONS],
        "hidden_fields": view.hidden_fields,
        "marked_fields": view.marked_confidential,
        "show_confidential": view.sees_confidential,
    }


# The dossier's sections as HTML: {key: HTML}, the oldest dropped beyond _DOSSIER_HTML_SIZE.
# Exact: the key holds everything requests/_dossier.html reads (the locale and display zone,
# what the redaction hides from and marks for this reader, every field's value, the
# comparators and the evidence rows); the labels it draws come from the code and the
# catalogue of that locale. A value of a type the key does not know is never kept.
_DOSSIER_HTML: OrderedDict[tuple, Markup] = OrderedDict()
_DOSSIER_HTML_SIZE = 128
_KEYED_TYPES = (str, int, float, Decimal, date, datetime, bool, type(None))


class _Unkeyed(Exception):
    """A value the dossier key cannot hold exactly: draw the dossier without keeping it."""


def _frozen(value):
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, _KEYED_TYPES):
        # The type too (1, 1.0 and True are equal keys; Decimal("1.5") and "1.50" too):
        # str() keeps a Decimal's exponent, which the formatting may show.
        return (type(value).__name__, str(value) if isinstance(value, Decimal) else value)
    raise _Unkeyed(type(value).__name__)


def _dossier_key(request, context: dict) -> tuple:
    values = []
    for section in context["dossier_sections"]:
        for dossier_field in section.fields:
            if dossier_field.kind == "rows":
                continue  # the comparators and evidence: below
            values.append(_frozen(getattr(request, dossier_field.name)))
    return (
        str(get_locale()),
        str(get_timezone()),
        frozenset(context["hidden_fields"]),
        frozenset(context["marked_fields"]),
        bool(context["show_confidential"]),
        tuple(values),
        tuple(_frozen(item.description) for item in request.comparators),
        tuple(
            _frozen((e.design, e.patients, e.follow_up_months, e.published_on, e.reference))
            for e in request.evidence
        ),
    )


def dossier_html(request, context: dict) -> Markup:
    """requests/_dossier.html for this request and reader: drawn once per content, reader's
    redaction and locale, then kept (the dossier changes rarely; every view draws it)."""
    names = (
        "dossier_sections",
        "field_labels",
        "section_labels",
        "hidden_fields",
        "marked_fields",
        "show_confidential",
    )

    def draw() -> Markup:
        template = current_app.jinja_env.get_template("requests/_dossier.html")
        # Our own template's output, escaped as it rendered.
        return Markup(template.render(req=request, **{n: context[n] for n in names}))  # noqa: S704

    try:
        key = _dossier_key(request, context)
    except _Unkeyed:
        return draw()
    html = _DOSSIER_HTML.get(key)
    if html is None:
        html = _DOSSIER_HTML[key] = draw()
        if len(_DOSSIER_HTML) > _DOSSIER_HTML_SIZE:
            _DOSSIER_HTML.popitem(last=False)
    return html


def _add_intake_checklist(actions: list[ActionView], request) -> None:
    """The agency's "mark incomplete" form lists the completeness checklist: what is missing
    is ticked already; each ticked line becomes a question of the information request."""
    for action in actions:
        if action.trigger == INTAKE_CHECKLIST_TRIGGER and action.form is not None:
            action.checklist = intake_checklist(request)
            if action.is_open:  # the form failed: ticked as posted
                action.checklist_ticked = frozenset(http_request.form.getlist(CHECKLIST_FIELD))
            else:
                action.checklist_ticked = frozenset(
                    line.label for line in action.checklist if not line.present
                )


@dataclass(frozen=True)
class PageReads:
    """The request page's small lists of the request, read together (`page_reads`): each
    as its own statement's rows; None where the page shows none to this reader."""

    stages: list
    designation: list | None
    tariff_cases: list
    paths: list | None
    pending_comments: list[dict]
    rows: dict[str, list]  # every read's rows by its name (the panels' reads among them)


def page_reads(actor, request) -> PageReads:
    """The stage visits, the designated centres (once published), the tariff cases, the paths
    to the first patient, the comments waiting for moderation and the panels' reads that
    the page shows `actor`, in one statement (`app.requests.page_reads`)."""
    reads, values = page_read_list(actor, request)
    found = read_all(reads, values)
    return PageReads(
        stages=found["stages"],
        designation=found.get("designation"),
        tariff_cases=found.get("cases", []),
        paths=found.get("paths"),
        pending_comments=[row._asdict() for row in found.get("pending", ())],
        rows=found,
    )


def page_read_list(actor, request) -> tuple[list[Read], dict]:
    """The reads `page_reads` runs for `actor` and the values they bind."""
    reads = [_read("stages")]
    values = {"request_id": request.id}
    if request.state in PUBLISHED_STATES:
        # The pending and refused asks are the agency's to see: nobody else's view reads them.
        reads.append(_read("designation", actor.role == "agency"))
    cases = request_cases_values(actor, request)
    if cases is not None:
        reads.append(_read("cases", actor.role))
        values |= cases
    view = view_of(actor, request)
    if shows_paths(view, request):
        reads.append(_read("paths"))
    if can_moderate_consultation(actor):
        reads.append(_read("pending"))
    if view.sees_audit_trail:
        # `recent_audit`'s first statement (the agency's) or its only one (the others').
        whole = view.relation in ALL_ADOPTION_READERS
        reads.append(_audit_read(whole, view.relation in INTERNAL_AUDIT_READERS))
        window = RECENT_WINDOW
        values |= (
            {"batch": window + 1} if whole else {"batch": window * 4 + 1, "window": window + 1}
        )
    # The choices the action forms list (`action_views` draws the same actions' forms).
    reads += choices_reads(workflow_service.available_transitions(actor, request))
    for _builder, panel_reads in _PAGE_PANELS.values():
        asked = panel_reads(actor, request) if panel_reads is not None else None
        if asked is not None:
            reads += asked[0]
            values |= _shared_values(values, asked[1])
    return reads, values


@lru_cache(maxsize=4)
def _audit_read(whole: bool, internal: bool) -> Read:
    """`recent_audit`'s statement as the page's read "audit", newest first: the newest
    entries (a reader who sees them all) or the visible ones among them (`_thinned_audit`)."""
    query = _newest_rows_statement() if whole else _thinned_statement(internal)
    return Read("audit", query.add_columns(AuditEntry.seq), ("-seq",))


def _shared_values(values: dict, more: dict) -> dict:
    """`more`, checked against `values`: reads naming the same parameter share its value, so
    two reads that would bind it differently cannot run together."""
    for name, value in more.items():
        if name in values and values[name] != value:
            raise ValueError(f"page reads bind {name!r} to {values[name]!r} and {value!r}")
    return more


@lru_cache(maxsize=32)
def _read(name: str, variant=None) -> Read:
    """The page's read `name` (for `variant`: the designation with the asks or not, the
    cases for a role), built once, so the union of a combination is built once too."""
    if name == "stages":
        query = _stages_statement().add_columns(StageRecord.id)
        return Read(name, query, ("entered_at", "id"))
    if name == "designation":
        return Read(name, summary_statement(variant), ("name",))
    if name == "cases":
        return Read(name, request_cases_columns(variant), ("region",))
    if name == "paths":
        return Read(name, paths_statement(), ("name", "adoption_id"))
    return Read(name, request_pending_statement(), ("oldest", "id"))


def workflow_panel_context(actor, request, reads: PageReads | None = None) -> dict:
    """{"workflow_panel": WorkflowPanel} for the request page of `actor`: its actions, and the
    last RECENT_WINDOW stage visits and audit entries (the rest on the history page).
    `reads`: the page's small lists (`page_reads`), read here when not given."""
    role = actor.role
    now = utcnow()
    if reads is None:
        reads = page_reads(actor, request)
    actions = action_views(
        workflow_service.action_availability(actor, request, now),
        version=request.version,
        url_for_trigger=lambda trigger: url_for(
            "actions.request_action", request_id=request.id, trigger=trigger
        ),
        failure=failed_action_for("request", request.id),
        kind="request",
        obj=request,
        # The request page changes no form after this (the intake checklist is drawn beside
        # the fields): each fresh form's fields can be the kept HTML.
        keep_fields=True,
        choices=reads.rows,
    )
    _add_intake_checklist(actions, request)
    # The audit trail is for the parties to the request (it carries reasons and data), each
    # reading the entries the redaction rules give them.
    view = view_of(actor, request)
    stages = workflow_service.stage_rows(reads.stages, now)
    open_visits = [row for row in stages if row.is_open]
    panel = WorkflowPanel(
        state=request.state,
        state_label=state_label(request.state, role),
        # The open visit says whose time it is (a clock stop handed back runs again).
        clock_stopped=open_visits[-1].clock_stopped
        if open_visits
        else request.state in CLOCK_STOP_STATES,
        actions=actions,
        timeline=timeline_rows(stages[-RECENT_WINDOW:], role),
        show_audit=view.sees_audit_trail,
        role=role,
        earlier_stages=max(len(stages) - RECENT_WINDOW, 0),
        history_url=url_for("requests.history", request_id=request.id),
        designation=_designation(request, reads.designation),
        tariff_cases=reads.tariff_cases,
    )
    paths = paths_of(view, request, stages, now, reads.paths) if reads.paths is not None else []
    if paths:
        labels = {holder: holder_label(holder) for holder in HOLDERS}
        panel.patient_paths = path_rows(paths, labels)
        panel.patient_figures_html, panel.patient_rows_html = patient_paths_html(
            panel.patient_paths
        )
        panel.holder_labels = list(labels.items())
    panel.timeline_html = timeline_rows_html(panel.timeline)
    if panel.show_audit:
        entries, panel.earlier_audit = recent_audit(
            request.id, view, RECENT_WINDOW, reads.rows.get("audit")
        )
        # (The template draws the table's frame for a non-empty `audit`, then these rows.)
        panel.audit = entries
        panel.audit_html = audit_rows_html(entries, actor_names(entries), role=role, view=view)
    return {"workflow_panel": panel}


# What the request page reads of an audit entry (`audit_rows_html` draws it), with its
# actor's current name joined: one statement for the entries and their actors' names.
_AUDIT_COLUMNS = (
    AuditEntry.id,
    AuditEntry.occurred_at,
    AuditEntry.actor_id,
    AuditEntry.actor_name,
    AuditEntry.actor_role,
    AuditEntry.entity_type,
    AuditEntry.action,
    AuditEntry.from_state,
    AuditEntry.to_state,
    AuditEntry.reason,
    AuditEntry.data,
    AuditEntry.changes,
    User.id.label("user_id"),
    User.full_name.label("user_full_name"),
    User.email.label("user_email"),
)


def _audit_rows_query() -> Select:
    return select(*_AUDIT_COLUMNS).outerjoin(User, User.id == AuditEntry.actor_id)


# The window's statements, built once (request id, batch size and ids bound at execution).
@cache
def _newest_rows_statement() -> Select:
    return (
        _audit_rows_query()
        .where(AuditEntry.request_id == bindparam("request_id"))
        .order_by(AuditEntry.seq.desc())
        .limit(bindparam("batch"))
    )


@cache
def _rows_by_ids_statement() -> Select:
    return (
        _audit_rows_query()
        .where(AuditEntry.id.in_(bindparam("ids", expanding=True)))
        .order_by(AuditEntry.seq)
    )


@cache
def _newest_heads_statement() -> Select:
    return (
        select(AuditEntry.id, AuditEntry.entity_type, AuditEntry.action)
        .where(AuditEntry.request_id == bindparam("request_id"))
        .order_by(AuditEntry.seq.desc())
        .limit(bindparam("batch"))
    )


def actor_names(rows) -> dict[int, str]:
    """{user id: name} of the rows' actors, as `action_panel._user_names` reads them."""
    return {
        row.user_id: row.user_full_name or row.user_email for row in rows if row.user_id is not None
    }


@cache
def _stages_statement() -> Select:
    """The columns `stage_rows` reads of the request's stage visits, in its order (the
    kernel's `stage_timeline` loads the records whole), built once."""
    return (
        select(
            StageRecord.state,
            StageRecord.entered_at,
            StageRecord.left_at,
            StageRecord.due_at,
            StageRecord.clock_stopped,
        )
        .where(StageRecord.request_id == bindparam("request_id"))
        .order_by(StageRecord.entered_at, StageRecord.id)
    )


def page_stage_timeline(request, now) -> list:
    """`stage_timeline(request, now)`: the same StageRows, from five columns per visit."""
    rows = db.session.execute(_stages_statement(), {"request_id": request.id})
    return workflow_service.stage_rows(rows, now)


def recent_audit(request_id: int, view, limit: int, rows=None) -> tuple[list, bool]:
    """`recent_entries_for_request`'s answer as rows of `_AUDIT_COLUMNS`, reading `limit` + 1
    entries instead of 4 x `limit` + 1 for a reader who sees every entry (the agency).

    That function reads 4 x `limit` + 1 entries, newest first, so that one statement fills
    the window whatever the redaction hides. For a reader the redaction hides nothing from,
    `limit` + 1 decide it. The answer is the same whenever the batch decides it: the whole
    trail was read (then nothing is earlier than what shows), or more than `limit` of the
    batch are visible (the window is the newest `limit` of them, and there are earlier ones),
    since whether an entry shows depends on that entry alone. Otherwise it asks that
    function. Every other reader (whose trail the redaction thins) gets `_thinned_audit`.
    `rows`: the first statement's rows, when the page read them with its own (`_audit_read`,
    `limit` RECENT_WINDOW)."""
    if view.relation not in ALL_ADOPTION_READERS:
        return _thinned_audit(request_id, view, limit, rows)
    batch = limit + 1
    newest_first = rows
    if newest_first is None:
        newest_first = db.session.execute(
            _newest_rows_statement(), {"request_id": request_id, "batch": batch}
        ).all()
    shown = visible_audit_entries(view, newest_first)
    if len(shown) > limit:
        return list(reversed(shown[:limit])), True
    if len(newest_first) < batch:
        return list(reversed(shown)), False
    entries, more = recent_entries_for_request(request_id, view, limit)
    return _audit_rows_of([entry.id for entry in entries]), more


def _audit_rows_of(ids: list[int]) -> list:
    """The rows of `_AUDIT_COLUMNS` of these entries, in chain order."""
    if not ids:
        return []
    return list(db.session.execute(_rows_by_ids_statement(), {"ids": ids}).all())


def _thinned_audit(request_id: int, view, limit: int, rows=None) -> tuple[list, bool]:
    """`recent_entries_for_request`'s answer for a reader the redaction hides entries from
    (the manufacturer, the assessors), in one statement: of the same 4 x `limit` + 1 newest
    entries, the visible ones (`_hidden_audit`, the SQL twin of `sees_audit_entry`), newest
    first, `limit` + 1 at most, read whole with their actors' names, and how many the batch
    held. There are earlier entries when more than `limit` show or the batch was full."""
    batch = limit * 4 + 1
    if rows is None:
        rows = db.session.execute(
            _thinned_statement(view.relation in INTERNAL_AUDIT_READERS),
            {"request_id": request_id, "batch": batch, "window": limit + 1},
        ).all()
    shown = visible_audit_entries(view, rows)  # (the twin's answer, checked again)
    held = rows[0].batch_size if rows else _batch_size(request_id, batch)
    more = len(shown) > limit or held == batch
    return list(reversed(shown[:limit])), more


def _batch_size(request_id: int, batch: int) -> int:
    """How many entries the batch held when none of them shows (rare: a trail of hidden
    entries only)."""
    return len(
        db.session.execute(
            _newest_heads_statement(), {"request_id": request_id, "batch": batch}
        ).all()
    )


def _hidden_audit(internal: bool):
    """The SQL twin of `sees_audit_entry`'s refusals for a party that does not see every
    adoption (the redaction's own sets): an adoption record's entries, and for a reader
    who is not internal (the manufacturer) the internal entities and actions too."""
    hidden = AuditEntry.entity_type.in_(sorted(ADOPTION_AUDIT_ENTITIES))
    if internal:
        return hidden
    return or_(
        hidden,
        AuditEntry.entity_type.in_(sorted(INTERNAL_AUDIT_ENTITIES)),
        AuditEntry.action.in_(sorted(INTERNAL_AUDIT_ACTIONS)),
    )


@lru_cache(maxsize=2)
def _thinned_statement(internal: bool) -> Select:
    """`_thinned_audit`'s SELECT for an internal reader or not, built once (the request,
    the batch and the window bound at each execution). The outer read is narrowed to the
    request too, so that a large trail is read through the request's index."""
    request_id = bindparam("request_id", type_=Integer)
    newest = (
        select(AuditEntry.id)
        .where(AuditEntry.request_id == request_id)
        .order_by(AuditEntry.seq.desc())
        .limit(bindparam("batch"))
        .cte("newest")
    )
    batch_size = select(func.count()).select_from(newest).scalar_subquery()
    return (
        _audit_rows_query()
        .add_columns(batch_size.label("batch_size"))
        .join(newest, newest.c.id == AuditEntry.id)
        .where(AuditEntry.request_id == request_id, not_(_hidden_audit(internal)))
        .order_by(AuditEntry.seq.desc())
        .limit(bindparam("window"))
    )


def _designation(request, rows) -> DesignationSummary | None:
    """The designated centres' panel from its read's rows (None: not published)."""
    if rows is None:
        return None
    recommendation = getattr(request, "recommendation", None)
    criteria = recommendation.designation_criteria if recommendation is not None else ""
    summary = summary_of(rows, criteria)
    if not summary.centres:
        return None
    return summary


@dataclass
class HistoryPage:
    """The whole timeline and the audit trail a page at a time (oldest first)."""

    timeline: list[TimelineRow]
    timeline_html: Markup
    show_audit: bool
    audit: list[AuditRow]
    page: int
    pages: int
    first_number: int  # of the first entry shown (1-based)
    total: int


def history_context(actor, request, page: int) -> dict:
    role = actor.role
    view = view_of(actor, request)
    timeline = timeline_rows(page_stage_timeline(request, utcnow()), role)
    entries = entries_for_request(request.id, view) if view.sees_audit_trail else []
    pages = max((len(entries) + HISTORY_PAGE_SIZE - 1) // HISTORY_PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    start = (page - 1) * HISTORY_PAGE_SIZE
    shown = entries[start : start + HISTORY_PAGE_SIZE]
    return {
        "history": HistoryPage(
            timeline=timeline,
            timeline_html=timeline_rows_html(timeline),
            show_audit=view.sees_audit_trail,
            audit=audit_rows(shown, role=role, view=view),
            page=page,
            pages=pages,
            first_number=start + 1,
            total=len(entries),
        )
    }
