"""From a reader, filters and a moment to a report model: the one path every output takes
(report pages, PDF/XLSX/CSV downloads and the `flask report` command).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _

from app.core.deadline_settings import effective_deadlines
from app.reports import texts
from app.reports.adoption import adoption_report
from app.reports.filters import DIMENSIONS, NO_OUTCOME, ReportFilters
from app.reports.model import Report
from app.reports.record import request_record_report
from app.reports.timing import ReportContext, timing_report
from app.reports_pages import queries as report_queries


def describe_filters(
    filters: ReportFilters, body_names: Mapping[int, str]
) -> list[tuple[str, str]]:
    """The filters as (label, value) lines for the title page."""
    lines = []
    if filters.submitted_from:
        lines.append((_("Submitted from"), filters.submitted_from.isoformat()))
    if filters.submitted_to:
        lines.append((_("Submitted until"), filters.submitted_to.isoformat()))
    if filters.region:
        lines.append(
            (str(texts.DIMENSION_LABELS["region"]), texts.dimension_value("region", filters.region))
        )
    if filters.body_id:
        lines.append((_("Regional body"), body_names.get(filters.body_id, f"#{filters.body_id}")))
    if filters.risk_class:
        lines.append((_("Risk class"), filters.risk_class))
    if filters.emdn:
        lines.append((_("EMDN category"), filters.emdn))
    if filters.outcome:
        value = (
            _("No recommendation yet")
            if filters.outcome == NO_OUTCOME
            else texts.outcome_label(filters.outcome)
        )
        lines.append((_("Outcome"), value))
    if filters.request_id:
        lines.append((_("Request"), f"#{filters.request_id}"))
    return lines


def reader_name(actor) -> str:
    if actor is None:
        return _("Command line")
    organisation = getattr(actor, "organisation", None)
    name = actor.display_name if hasattr(actor, "display_name") else str(actor)
    return f"{name} ({organisation.name})" if organisation is not None else name


def build_timing_report(
    actor,
    filters: ReportFilters,
    now: datetime,
    *,
    body_names: Mapping[int, str] | None = None,
    dimensions: tuple[str, ...] = DIMENSIONS,
    slowest_limit: int = 20,
    generated_by: str | None = None,
    cache_seconds: float = 0,
) -> Report:
    figures = report_queries.timing_figures(
        actor,
        filters,
        now,
        dimensions=dimensions,
        slowest_limit=slowest_limit,
        cache_seconds=cache_seconds,
    )
    context = ReportContext(
        generated_at=now,
        generated_by=generated_by or reader_name(actor),
        role=getattr(actor, "role", None),
        filters=describe_filters(filters, body_names or {}),
        dimensions=dimensions,
    )
    deadlines = effective_deadlines()
    report = timing_report(figures, deadlines, context)
    if actor is not None and not report.empty:
        report.sections.append(_reuse_section(actor, deadlines))
    return report


def _reuse_section(actor, deadlines):
    """Days saved where an existing assessment was reused (requests the reader may see)."""
    from app.assessment.reuse import reuse_savings
    from app.forms.reuse import SOURCE_LABELS
    from app.reports.reuse import reuse_section

    days = deadlines["assessment"].days or 0
    return reuse_section(reuse_savings(actor, days), days, SOURCE_LABELS)


def build_adoption_report(
    actor,
    filters: ReportFilters,
    now: datetime,
    *,
    body_names: Mapping[int, str] | None = None,
    generated_by: str | None = None,
    cache_seconds: float = 0,
) -> Report:
    figures = report_queries.adoption_figures(actor, filters, now, cache_seconds=cache_seconds)
    context = ReportContext(
        generated_at=now,
        generated_by=generated_by or reader_name(actor),
        role=getattr(actor, "role", None),
        filters=describe_filters(filters, body_names or {}),
        min_group=current_app.config["REPORT_MIN_GROUP"],
    )
    return adoption_report(figures, context, detail=filters.request_id is not None)


def build_request_record(
    actor, request_id: int, now: datetime, generated_by: str | None = None
) -> Report:
    data = report_queries.request_record(actor, request_id, now)
    context = ReportContext(
        generated_at=now,
        generated_by=generated_by or reader_name(actor),
        role=getattr(actor, "role", None),
    )
    return request_record_report(data, context)
