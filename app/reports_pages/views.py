"""Report pages with filters, server-side SVG charts and PDF/XLSX/CSV downloads.

Thin: parse the filters -> build the report model (`app.reports_pages.build`) -> render it as a page
or hand it to a builder. Every URL needs a login; administrators get 403 (they manage users,
not dossiers). The timing report is for the agency, assessors and manufacturers; the adoption
report also for IRCCS. What each reader sees is scoped in the queries.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from functools import wraps

from flask import (
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

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
from app.reports.model import BarChart, KeyFigures, LineChart, Note, Table
from app.reports.pdf import render_pdf
from app.reports.xlsx import write_xlsx
from app.reports_pages import bp
from app.reports_pages.build import build_adoption_report, build_request_record, build_timing_report

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


def _timing_report(bodies):
    filters, errors = parse_filters(request.args)
    by = request.args.get("by", "")
    report = build_timing_report(
        _actor(),
        filters,
        utcnow(),
        body_names=dict(bodies),
        dimensions=_dimensions(by),
        cache_seconds=_cache_seconds(),
    )
    return report, filters, errors, {"by": by} if by else {}


def _adoption_report(bodies):
    filters, errors = parse_filters(request.args)
    report = build_adoption_report(
        _actor(), filters, utcnow(), body_names=dict(bodies), cache_seconds=_cache_seconds()
    )
    return report, filters, errors, {}


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


def _page(kind: str):
    build, allowed = BUILDERS[kind]
    if current_user.role not in allowed:
        abort(403)
    bodies = _bodies()
    report, filters, errors, extra = build(bodies)
    args = filters.query_args() | extra
    return render_template(
        "reports/report.html",
        kind=kind,
        report=report,
        errors=errors,
        raw=request.args,
        export_args=args,
        choices=_choices(bodies),
        chart_svg=_chart_svg(report),
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
_SVG_CACHE: OrderedDict[str, Markup] = OrderedDict()
_SVG_CACHE_LOCK = threading.Lock()
SVG_CACHE_ENTRIES = 64


def _chart_svg(report):
    no_data = report.text("no_data", "No data")

    def render(block) -> Markup:
        key = repr((block, no_data))
        if " at 0x" in key:  # something drawn is not spelled out in the repr: no key
            return Markup(to_svg(drawing_for(block, no_data=no_data)))  # noqa: S704 (as below)
        with _SVG_CACHE_LOCK:
            svg = _SVG_CACHE.get(key)
            if svg is not None:
                _SVG_CACHE.move_to_end(key)
                return svg
        svg = Markup(to_svg(drawing_for(block, no_data=no_data)))  # noqa: S704 (our own drawing; its labels are escaped by renderSVG)
        with _SVG_CACHE_LOCK:
            _SVG_CACHE[key] = svg
            while len(_SVG_CACHE) > SVG_CACHE_ENTRIES:
                _SVG_CACHE.popitem(last=False)
        return svg

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
    report, _filters, _errors, _extra = build(_bodies())
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
