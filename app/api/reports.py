"""The timing and adoption reports as JSON: the very report model the report pages, the PDF
and the spreadsheets are rendered from (`app.reports_pages.build`), with the same filters, the same
scoping by reader and the same short-lived figure cache, so the numbers equal the screen's.

Tables carry every row (as the CSV and XLSX exports do, not the page's preview); values are
raw (days as numbers, shares as fractions 0..1, amounts in EUR, times in UTC) and each
column says its kind.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, request
from flask_babel import gettext as _
from sqlalchemy import select

from app.api import schema_types as t
from app.api.problems import ApiError
from app.api.registry import Param, actor, operation
from app.domain.vocab import REGIONS, RISK_CLASSES
from app.extensions import db
from app.models import Organisation
from app.models.types import utcnow
from app.reports.filters import DIMENSIONS, EMDN_LETTERS, OUTCOME_CHOICES, parse_filters
from app.reports.model import KINDS, BarChart, KeyFigures, LineChart, Note, Table
from app.reports_pages.build import build_adoption_report, build_timing_report
from app.reports_pages.views import ADOPTION_ROLES, TIMING_ROLES

ALL_BREAKDOWNS = "all"

# --- Schemas --------------------------------------------------------------------------------

COLUMN = t.obj({"key": t.STRING, "label": t.STRING, "kind": t.enum(KINDS)})
BLOCKS = [
    t.obj(
        {
            "kind": {"const": "table"},
            "key": t.STRING,
            "title": t.STRING,
            "note": t.STRING,
            "columns": t.array(COLUMN),
            "rows": t.array({"type": "object", "description": "column key -> raw value"}),
        }
    ),
    t.obj(
        {
            "kind": {"const": "figures"},
            "title": t.STRING,
            "items": t.array(
                t.obj({"label": t.STRING, "value": {}, "value_kind": t.STRING, "text": t.STRING})
            ),
        }
    ),
    t.obj(
        {
            "kind": {"const": "bar_chart"},
            "key": t.STRING,
            "title": t.STRING,
            "categories": t.array(t.STRING),
            "series": t.array(t.obj({"name": t.STRING, "values": t.array(t.nullable(t.NUMBER))})),
            "percent": t.BOOLEAN,
        }
    ),
    t.obj(
        {
            "kind": {"const": "line_chart"},
            "key": t.STRING,
            "title": t.STRING,
            "series": t.array(
                t.obj({"name": t.STRING, "points": t.array(t.array(t.nullable(t.NUMBER)))})
            ),
            "percent": t.BOOLEAN,
        }
    ),
    t.obj({"kind": {"const": "note"}, "text": t.STRING}),
]
t.component(
    "Report",
    t.obj(
        {
            "key": t.STRING,
            "title": t.STRING,
            "subtitle": t.STRING,
            "generated_at": t.DATETIME,
            "generated_by": t.STRING,
            "filters": t.array(t.obj({"label": t.STRING, "value": t.STRING})),
            "empty": t.BOOLEAN,
            "empty_message": t.STRING,
            "sections": t.array(t.obj({"title": t.STRING, "blocks": t.array({"oneOf": BLOCKS})})),
        }
    ),
)

# --- Serialisation --------------------------------------------------------------------------


def _value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _block(report, block) -> dict:
    if isinstance(block, Table):
        keys = [column.key for column in block.columns]
        return {
            "kind": "table",
            "key": block.key,
            "title": block.title,
            "note": block.note,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in block.columns],
            "rows": [
                {key: _value(v) for key, v in zip(keys, row, strict=False)}
                for row in block.iter_rows()
            ],
        }
    if isinstance(block, KeyFigures):
        return {
            "kind": "figures",
            "title": block.title,
            "items": [
                {
                    "label": label,
                    "value": _value(value),
                    "value_kind": kind,
                    "text": report.format(value, kind),
                }
                for label, value, kind in block.items
            ],
        }
    if isinstance(block, BarChart):
        return {
            "kind": "bar_chart",
            "key": block.key,
            "title": block.title,
            "categories": [str(c) for c in block.categories],
            "series": [
                {"name": name, "values": [_value(v) for v in values]}
                for name, values in block.series
            ],
            "percent": block.percent,
        }
    if isinstance(block, LineChart):
        return {
            "kind": "line_chart",
            "key": block.key,
            "title": block.title,
            "series": [
                {"name": name, "points": [[_value(x), _value(y)] for x, y in points]}
                for name, points in block.series
            ],
            "percent": block.percent,
        }
    if isinstance(block, Note):
        return {"kind": "note", "text": block.text}
    raise TypeError(f"unknown report block {type(block).__name__}")


def report_json(report) -> dict:
    return {
        "key": report.key,
        "title": report.title,
        "subtitle": report.subtitle,
        "generated_at": report.generated_at,
        "generated_by": report.generated_by,
        "filters": [{"label": label, "value": value} for label, value in report.filters],
        "empty": report.empty,
        "empty_message": report.empty_message,
        "sections": [
            {"title": section.title, "blocks": [_block(report, b) for b in section.blocks]}
            for section in report.sections
        ],
    }


# --- Views ----------------------------------------------------------------------------------


def _filter_params(*, breakdowns: bool) -> tuple[Param, ...]:
    params = (
        Param("submitted_from", t.DATE, "Requests submitted on or after this day."),
        Param("submitted_to", t.DATE, "Requests submitted on or before this day."),
        Param("region", t.enum(REGIONS)),
        Param("body_id", t.ID | {"maximum": 2147483647}, "A regional HTA body."),
        Param("risk_class", t.enum(RISK_CLASSES)),
        Param("emdn", t.enum(EMDN_LETTERS), "EMDN category letter."),
        Param("outcome", t.enum(OUTCOME_CHOICES)),
        Param("request_id", t.ID | {"maximum": 2147483647}, "One request only."),
    )
    if breakdowns:
        by = t.enum((*DIMENSIONS, ALL_BREAKDOWNS))
        params += (Param("by", by, "Break the figures down by this dimension (or all)."),)
    return params


def _filters_and_context():
    filters, errors = parse_filters(request.args)
    by = request.args.get("by", "")
    if by and by not in (*DIMENSIONS, ALL_BREAKDOWNS):
        errors["by"] = _("Choose a value from the list.")
    if errors:
        messages = {name: [str(message)] for name, message in errors.items()}
        raise ApiError(
            422, "validation", errors=messages, error_codes={k: ["invalid"] for k in messages}
        )
    bodies = dict(
        db.session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.kind == "regional_body")
        ).all()
    )
    cache = float(current_app.config.get("REPORT_CACHE_SECONDS", 300))
    return filters, by, bodies, cache


def _require_role(allowed) -> None:
    if actor().role not in allowed:
        raise ApiError(403, "forbidden", _("Your role does not read this report."))


@operation(
    "GET",
    "/reports/timing",
    tag="Reports",
    summary="The timing report: days per stage, deadlines, end to end",
    response="Report",
    params=_filter_params(breakdowns=True),
    errors=(403, 422),
)
def timing_report():
    """For the agency, assessors and manufacturers (each sees the requests they may see)."""
    _require_role(TIMING_ROLES)
    filters, by, bodies, cache = _filters_and_context()
    dimensions = DIMENSIONS if by == ALL_BREAKDOWNS else ((by,) if by else ())
    report = build_timing_report(
        actor(), filters, utcnow(), body_names=bodies, dimensions=dimensions, cache_seconds=cache
    )
    return report_json(report)


@operation(
    "GET",
    "/reports/adoption",
    tag="Reports",
    summary="The adoption report: IRCCS decisions, uptake over time, usage against plans",
    response="Report",
    params=_filter_params(breakdowns=False),
    errors=(403, 422),
)
def adoption_report():
    """For the agency, assessors, manufacturers and IRCCS (an IRCCS sees its own figures in
    detail)."""
    _require_role(ADOPTION_ROLES)
    filters, _by, bodies, cache = _filters_and_context()
    report = build_adoption_report(
        actor(), filters, utcnow(), body_names=bodies, cache_seconds=cache
    )
    return report_json(report)
