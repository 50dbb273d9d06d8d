"""Report pages with filters, server-side SVG charts and PDF/XLSX/CSV downloads.

Thin: parse the filters -> build the report model (`app.reports_pages.build`) -> render it as a page
or hand it to a builder. Every URL needs a login; administrators get 403 (they manage users,
not dossiers). The timing report is for the agency, assessors and manufacturers; the adoption
report also for IRCCS. What each reader sees is scoped in the queries.
"""

from __future__ import annotations

import tempfile
from functools import wraps
from typing import NamedTuple

from flask import (
    Response,
    abort,
    before_render_template,
    current_app,
    render_template,
    request,
    stream_with_context,
    template_rendered,
    url_for,
)
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from app.core.deadline_settings import effective_deadlines
from app.core.kept import KeptValues
from app.domain import roles
from app.domain.deadlines import ROME
from app.domain.vocab import REGION_NAMES, REGIONS, RISK_CLASSES
from app.extensions import db, login_manager
from app.models import Organisation
from app.models.types import utcnow
from app.reports import texts
from app.reports.charts import drawing_for, to_svg
from app.reports.csv import ITALIAN_EXCEL, STANDARD, VARIANTS, iter_csv
from app.reports.filters import DIMENSIONS, EMDN_LETTERS, NO_OUTCOME, OUTCOME_CHOICES, parse_filters
from app.reports.model import DATETIME, BarChart, KeyFigures, LineChart, Note, Table
from app.reports.pdf import render_pdf
from app.reports.xlsx import write_xlsx
from app.reports_pages import bp
from app.reports_pages import queries as report_queries
from app.reports_pages.build import (
    build_adoption_report,
    build_request_record,
    build_timing_report,
    reader_name,
)

TIMING_ROLES = roles.REQUEST_ROLES
ADOPTION_ROLES = roles.PROCESS_ROLES
REPORT_ROLES = TIMING_ROLES | ADOPTION_ROLES
FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",  # werkzeug adds "; charset=utf-8" to text types
}
SPOOL_BYTES = 8 * 1024 * 1024
ALL_BREAKDOWNS = "all"


@bp.before_request
def require_reader():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in REPORT_ROLES:
        abort(403)
    return None


def _roles(allowed: frozenset[str]):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _actor():
    return current_user._get_current_object()


def _bodies() -> list[tuple[int, str]]:
    return list(
        db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.kind == "regional_body")
            .order_by(Organisation.name)
        ).all()
    )


def _cache_seconds() -> float:
    return float(current_app.config.get("REPORT_CACHE_SECONDS", 300))


def _dimensions(raw: str | None) -> tuple[str, ...]:
    if raw == ALL_BREAKDOWNS:
        return DIMENSIONS
    return (raw,) if raw in DIMENSIONS else ()


def _choices(bodies) -> dict:
    return {
        "regions": [(code, REGION_NAMES[code]) for code in REGIONS],
        "bodies": bodies,
        "risk_classes": [(c, c) for c in RISK_CLASSES],
        "emdn_letters": [(letter, letter) for letter in EMDN_LETTERS],
        "outcomes": [
            (code, _("No recommendation yet") if code == NO_OUTCOME else texts.outcome_label(code))
            for code in OUTCOME_CHOICES
        ],
        "dimensions": [(d, texts.DIMENSION_LABELS[d]) for d in DIMENSIONS],
    }


def _extra_args(kind: str) -> dict[str, str]:
    """The page's arguments besides the filters (the timing report's breakdowns)."""
    by = request.args.get("by", "") if kind == "timing" else ""
    return {"by": by} if by else {}


def _timing_report(actor, filters, extra, bodies, now):
    return build_timing_report(
        actor,
        filters,
        now,
        body_names=dict(bodies),
        dimensions=_dimensions(extra.get("by")),
        cache_seconds=_cache_seconds(),
    )


def _adoption_report(actor, filters, extra, bodies, now):
    return build_adoption_report(
        actor, filters, now, body_names=dict(bodies), cache_seconds=_cache_seconds()
    )


BUILDERS = {
    "timing": (_timing_report, TIMING_ROLES),
    "adoption": (_adoption_report, ADOPTION_ROLES),
}


@bp.get("/")
def index():
    return render_template(
        "reports/index.html",
        can_timing=current_user.role in TIMING_ROLES,
        can_adoption=current_user.role in ADOPTION_ROLES,
    )


class PageParts(NamedTuple):
    """What a report page shows that follows from its figures, its words and the reader's
    scope alone: its title, subtitle and labels, and the HTML of its sections (with the "no
    data" notice before them). Nothing of the request or the user is in it: the filter
    form, the download links, the moment and the reader's name are rendered per view
    around it, and base.html (user menu, CSRF token, flash messages) is outside."""

    title: str
    subtitle: str
    generated_at_label: str
    generated_by_label: str
    sections_html: str


def _page(kind: str):
    build, allowed = BUILDERS[kind]
    if current_user.role not in allowed:
        abort(403)
    bodies = _bodies()
    filters, errors = parse_filters(request.args)
    extra = _extra_args(kind)
    actor = _actor()
    now = utcnow()
    args = filters.query_args() | extra

    def render_parts() -> PageParts:
        report = build(actor, filters, extra, bodies, now)
        # The rows each table shows, read here (a preview runs its query or reads the figure
        # cache): the template only renders.
        previews = {id(table): table.preview() for table in report.tables() if table.in_page}
        sections = _render_sections(
            kind=kind,
            report=report,
            preview_of=lambda table: previews[id(table)],
            export_args=args,
            chart_svg=_chart_svg(report),
        )
        return PageParts(
            str(report.title),
            str(report.subtitle),
            report.text("generated_at", ""),
            report.text("generated_by", ""),
            str(sections),
        )

    parts = report_queries.cached(
        f"report-page:{kind}",
        _page_key(kind, filters, extra, actor),
        render_parts,
        _cache_seconds(),
        shared=True,
    )
    return render_template(
        "reports/report.html",
        kind=kind,
        page=parts,
        sections=Markup(parts.sections_html),  # noqa: S704 (rendered by our template, autoescaped)
        generated_at=texts.format_value(now, DATETIME),
        generated_by=reader_name(actor),
        export_args=args,
        filter_form=Markup(_filter_form(kind, bodies, errors)),  # noqa: S704 (our template, autoescaped)
    )


# The filter form is the same for every view with the same language, regional bodies, typed
# values and errors (the key holds each of them, whole): kept per process, a few at most.
_FORMS: KeptValues[str] = KeptValues("report filter forms", entries=64, max_bytes=2 * 1024 * 1024)
FORM_FIELDS = (
    "submitted_from",
    "submitted_to",
    "region",
    "body_id",
    "risk_class",
    "emdn",
    "outcome",
    "by",
    "request_id",
)


def _filter_form(kind: str, bodies, errors: dict) -> str:
    """reports/_filters.html: what it reads is the key (the kind, the language, the regional
    bodies' ids and names, the value typed in each field, each error's text, the page's
    address); the rest of its words follow the language."""
    raw = request.args
    key = (
        kind,
        str(get_locale()),
        tuple(bodies),
        tuple(raw.get(name, "") for name in FORM_FIELDS),
        tuple(sorted((name, str(text)) for name, text in errors.items())),
        request.script_root,
        request.endpoint,
    )
    return _FORMS.get_or_make(
        key,
        lambda: _render_fragment(
            "reports/_filters.html",
            kind=kind,
            errors=errors,
            raw=raw,
            choices=_choices(bodies),
            request=request,
        ),
    )


def _render_sections(**context) -> str:
    return _render_fragment("reports/_sections.html", **context)


def _render_fragment(name: str, **context) -> str:
    """A part of a report page with only what it is given: not through `render_template`,
    whose context processors add the user's things (the unread notifications, a query) that
    the part neither shows nor may depend on. The template signals are sent as Flask
    sends them."""
    app = current_app._get_current_object()
    context |= report_blocks()
    template = app.jinja_env.get_template(name)
    before_render_template.send(
        app, _async_wrapper=app.ensure_sync, template=template, context=context
    )
    html = template.render(context)
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    return html


def _page_key(kind: str, filters, extra: dict, actor) -> tuple:
    """Everything a page's sections depend on besides the data (the cache adds the data
    version, so any change recorded is a new key): the filters and breakdowns (the figures
    and the links to the CSV of each table), the reader as the previews key it (role,
    organisation and user: what the queries let each see, the blanking of small groups, the
    notes for parties), the language and display zone of every word and figure, the script
    root of the links, the small-group minimum and, for the timing report, the deadlines in
    force (the admin's settings: read here, so a change shows at once whether or not it
    was audited). What grows with the clock (days open, days waiting) is as of the
    moment the sections were rendered, like the figures they come from."""
    reader = (actor.role, actor.organisation_id, actor.id)
    deadlines = ()
    if kind == "timing":
        rules = effective_deadlines()
        deadlines = tuple(sorted((s, r.days, r.working_days) for s, r in rules.items()))
    return (
        filters,
        tuple(sorted(extra.items())),
        reader,
        str(get_locale()),
        str(get_timezone()),
        request.script_root,
        current_app.config["REPORT_MIN_GROUP"],
        deadlines,
    )


@bp.get("/timing")
@_roles(TIMING_ROLES)
def timing():
    return _page("timing")


@bp.get("/adoption")
@_roles(ADOPTION_ROLES)
def adoption():
    return _page("adoption")


# Drawing a chart (reportlab, then SVG) took tens of milliseconds per chart and view. The same
# figures draw the same picture, so the SVG is kept by content: the key is the chart block's
# repr (every title, label and value drawn) and the "no data" text, so it is exact whatever
# changed, and a few dozen pictures at most are kept per process.
_SVGS: KeptValues[Markup] = KeptValues(
    "report chart pictures", entries=64, max_bytes=4 * 1024 * 1024
)


def _chart_svg(report):
    no_data = report.text("no_data", "No data")

    def render(block) -> Markup:
        key = repr((block, no_data))
        if " at 0x" in key:  # something drawn is not spelled out in the repr: no key
            return Markup(to_svg(drawing_for(block, no_data=no_data)))  # noqa: S704 (as below)
        return _SVGS.get_or_make(
            key,
            lambda: Markup(to_svg(drawing_for(block, no_data=no_data))),  # noqa: S704 (our own drawing; its labels are escaped by renderSVG)
        )

    return render


def _filename(report, extension: str) -> str:
    # Rome time, as the report itself shows it.
    stamp = report.generated_at.astimezone(ROME).strftime("%Y%m%d-%H%M")
    return f"{report.key}-report-{stamp}.{extension}"


@bp.get("/<any(timing, adoption):kind>.<any(pdf, xlsx, csv):fmt>")
def export(kind: str, fmt: str):
    build, allowed = BUILDERS[kind]
    if current_user.role not in allowed:
        abort(403)
    filters, _errors = parse_filters(request.args)
    report = build(_actor(), filters, _extra_args(kind), _bodies(), utcnow())
    return _download(report, fmt, table=request.args.get("table"))


def _chunks(handle, size: int = 64 * 1024):
    """Stream a file and close it at the end (or when the client goes away)."""
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()


def _download(report, fmt: str, table: str | None = None):
    if fmt == "pdf":
        response = Response(render_pdf(report), mimetype=FORMATS["pdf"])
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{_filename(report, "pdf")}"'
        )
        return response
    if fmt == "xlsx":
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by _chunks)
        write_xlsx(report, spool)
        spool.seek(0)
        response = Response(_chunks(spool), mimetype=FORMATS["xlsx"])
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{_filename(report, "xlsx")}"'
        )
        return response
    if table is not None and table not in {t.key for t in report.tables()}:
        abort(404)
    variant = request.args.get("variant", STANDARD)
    if variant not in VARIANTS:
        abort(404)
    name = _filename(report, "csv") if table is None else f"{report.key}-{table}.csv"
    if variant == ITALIAN_EXCEL:
        name = name.removesuffix(".csv") + "-excel-it.csv"
    response = Response(
        stream_with_context(iter_csv(report, table, variant)), mimetype=FORMATS["csv"]
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/requests/<int:request_id>.pdf")
def request_record(request_id: int):
    report = build_request_record(_actor(), request_id, utcnow())
    response = Response(render_pdf(report), mimetype=FORMATS["pdf"])
    name = f"request-record-{request_id}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.app_context_processor
def report_blocks():
    """Block types for the report template's dispatch."""
    return {
        "report_block_kind": lambda block: (
            "table"
            if isinstance(block, Table)
            else "figures"
            if isinstance(block, KeyFigures)
            else "chart"
            if isinstance(block, BarChart | LineChart)
            else "note"
            if isinstance(block, Note)
            else "other"
        ),
        "url_for_export": lambda kind, fmt, args, **extra: url_for(
            "reports.export", kind=kind, fmt=fmt, **(args | extra)
        ),
    }
