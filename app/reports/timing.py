"""The timing report model, assembled from `report_queries.TimingFigures`.

Sections: overview (key figures and the two charts), stages (gross and net days, share over
deadline), the published anchors, end to end by each breakdown, stages by each breakdown, the
slowest open requests, and (exports only) one row per request the reader may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from flask_babel import gettext as _

from app.domain import roles
from app.domain.deadlines import DeadlineRule
from app.domain.redaction import DEFAULT_MIN_GROUP
from app.reports import texts
from app.reports.filters import DIMENSIONS
from app.reports.model import (
    DATE,
    DATETIME,
    DAYS,
    INTEGER,
    PERCENT,
    TEXT,
    BarChart,
    Column,
    KeyFigures,
    Note,
    ReferenceLine,
    Report,
    Section,
    Table,
)
from app.reports.stats import Distribution, share
from app.reports.time_to_patient_tables import holder_table
from app.reports_pages.queries import (
    ANCHORS,
    PRE_RECOMMENDATION_STATES,
    REQUEST_ROW_COLUMNS,
    SpanFigures,
    StageFigures,
    TimingFigures,
)
from app.workflow.states import CLOCK_STOP_STATES

WORKING_TO_CALENDAR = 7 / 5


@dataclass
class ReportContext:
    """Who the report is for and when: the same for every report kind."""

    generated_at: datetime
    generated_by: str
    role: str | None  # None: the command line (everything)
    filters: list[tuple[str, str]] = field(default_factory=list)
    dimensions: tuple[str, ...] = DIMENSIONS
    # Usage aggregates of fewer IRCCS are left blank for readers who may not see each one's
    # (app.domain.redaction.small_group).
    min_group: int = DEFAULT_MIN_GROUP


def _distribution_columns(prefix: str, label: str) -> list[Column]:
    return [
        Column(f"{prefix}_median", _("%(measure)s median", measure=label), DAYS, 10),
        Column(f"{prefix}_p75", _("%(measure)s P75", measure=label), DAYS, 10),
        Column(f"{prefix}_p90", _("%(measure)s P90", measure=label), DAYS, 10),
        Column(f"{prefix}_mean", _("%(measure)s mean", measure=label), DAYS, 10),
    ]


def _distribution_values(d: Distribution) -> list:
    return [d.median, d.p75, d.p90, d.mean]


def deadline_text(rule: DeadlineRule | None) -> str:
    if rule is None or rule.days is None:
        return ""
    if rule.working_days:
        return _("%(days)s working days", days=rule.days)
    return _("%(days)s days", days=rule.days)


def deadline_days(rule: DeadlineRule | None) -> float | None:
    if rule is None or rule.days is None:
        return None
    return rule.days * WORKING_TO_CALENDAR if rule.working_days else float(rule.days)


def _stage_columns() -> list[Column]:
    return [
        Column("stage", _("Stage"), TEXT, 26),
        Column("visits", _("Visits"), INTEGER, 8),
        *_distribution_columns("gross", _("Gross days")),
        *_distribution_columns("net", _("Net days")),
        Column("deadline", _("Deadline"), TEXT, 12),
        Column("with_deadline", _("With a due date"), INTEGER, 10),
        Column("late", _("Over deadline"), INTEGER, 10),
        Column("late_share", _("Share over deadline"), PERCENT, 10),
    ]


def _stage_row(stage: StageFigures, deadlines: dict) -> list:
    return [
        texts.stage_label(stage.state),
        stage.gross.count,
        *_distribution_values(stage.gross),
        *_distribution_values(stage.net),
        deadline_text(deadlines.get(stage.state)),
        stage.with_deadline,
        stage.late,
        share(stage.late, stage.with_deadline),
    ]


def _span_columns(first: Column) -> list[Column]:
    return [
        first,
        Column("requests", _("Requests"), INTEGER, 9),
        *_distribution_columns("gross", _("Gross days")),
        *_distribution_columns("net", _("Net days")),
        Column("over_nice", _("Share over 266 days (gross)"), PERCENT, 11),
    ]


def _span_row(label: str, span: SpanFigures) -> list:
    return [
        label,
        span.gross.count,
        *_distribution_values(span.gross),
        *_distribution_values(span.net),
        share(span.gross_over_anchor, span.gross.count),
    ]


def _overview(figures: TimingFigures, deadlines: dict) -> Section:
    e2e = figures.end_to_end
    key = KeyFigures(
        _("Key figures"),
        [
            (_("Submitted requests"), figures.submitted, INTEGER),
            (_("With a published recommendation"), figures.published, INTEGER),
            (_("Open, before a recommendation"), figures.open, INTEGER),
            (_("Submission to recommendation, median gross days"), e2e.gross.median, DAYS),
            (_("Submission to recommendation, median net days"), e2e.net.median, DAYS),
            (_("Submission to recommendation, P90 gross days"), e2e.gross.p90, DAYS),
            (_("Figures as of"), figures.now, DATETIME),
        ],
    )
    by_state = {s.state: s for s in figures.stages}
    charted = [s for s in PRE_RECOMMENDATION_STATES if s in by_state]
    stage_chart = BarChart(
        "stage_medians",
        _("Median days per stage against its deadline"),
        [texts.stage_label(s) for s in charted],
        [
            (_("Median gross days"), [by_state[s].gross.median for s in charted]),
            (_("Median net days"), [by_state[s].net.median for s in charted]),
        ],
        value_label=_("days"),
        markers=[deadline_days(deadlines.get(s)) for s in charted],
        marker_label=_("Deadline"),
        reference_lines=[ReferenceLine(_("G-BA §137h: 90 days"), 90)],
    )
    anchor_chart = BarChart(
        "anchors",
        _("Median days against the published anchors"),
        [str(texts.ANCHOR_TEXTS[a.key][2]) for a in ANCHORS],
        [
            (_("Median gross days"), [figures.anchors[a.measure].gross.median for a in ANCHORS]),
            (_("Median net days"), [figures.anchors[a.measure].net.median for a in ANCHORS]),
        ],
        value_label=_("days"),
        markers=[float(a.days) for a in ANCHORS],
        marker_label=_("Published anchor"),
        reference_lines=[
            ReferenceLine(_("NICE: 266 days"), 266),
            ReferenceLine(_("Lombardy: 187 days"), 187),
        ],
    )
    return Section(_("Overview"), [key, stage_chart, anchor_chart])


def _stages_section(figures: TimingFigures, deadlines: dict) -> Section:
    table = Table(
        "stages",
        _("Days per stage"),
        _stage_columns(),
        [_stage_row(s, deadlines) for s in figures.stages],
        note=_(
            "Gross days: from entering a stage to leaving it (or to now while open). Net days "
            "count the agency's time only: stages waiting for the manufacturer (%(states)s) "
            "count zero, except the days after the manufacturer hands the file back (the "
            "assessor's days to finalise once the factual-accuracy comments are returned). "
            "Over deadline: left, or still open, after the stage's due date.",
            states=", ".join(texts.stage_label(s) for s in sorted(CLOCK_STOP_STATES)),
        ),
        empty_text=_("No stage matches these filters."),
    )
    return Section(_("Stages"), [table])


def _anchors_section(figures: TimingFigures) -> Section:
    columns = [
        Column("anchor", _("Published anchor"), TEXT, 24),
        Column("reference", _("Reference"), TEXT, 22),
        Column("days", _("Anchor days"), INTEGER, 9),
        Column("measure", _("Compared with"), TEXT, 26),
        Column("requests", _("Requests"), INTEGER, 9),
        Column("gross_median", _("Median gross days"), DAYS, 10),
        Column("net_median", _("Median net days"), DAYS, 10),
        Column("gross_p90", _("P90 gross days"), DAYS, 10),
        Column("over_gross", _("Share over the anchor (gross)"), PERCENT, 11),
        Column("over_net", _("Share over the anchor (net)"), PERCENT, 11),
    ]
    rows = []
    for anchor in ANCHORS:
        name, reference, measure = (str(t) for t in texts.ANCHOR_TEXTS[anchor.key])
        span = figures.anchors[anchor.measure]
        net_over = None if anchor.measure == "prioritisation" else span.net_over_anchor
        rows.append(
            [
                name,
                reference,
                anchor.days,
                measure,
                span.gross.count,
                span.gross.median,
                span.net.median,
                span.gross.p90,
                share(span.gross_over_anchor, span.gross.count),
                share(net_over, span.net.count) if net_over is not None else None,
            ]
        )
    note = _(
        "Sources: NICE medical technologies evaluation programme (about 38 weeks, 266 days); "
        "G-BA §137h SGB V assessments (3 months, about 90 days); Lombardy HTA programme, "
        "observed 187 days to a prioritisation decision. The days to the prioritisation "
        "decision are gross, as Lombardy reports them."
    )
    return Section(
        _("Published anchors"), [Table("anchors", _("Published anchors"), columns, rows, note=note)]
    )


def _end_to_end_section(figures: TimingFigures, dimensions) -> Section:
    blocks = [
        Table(
            "end_to_end",
            _("Submission to recommendation"),
            _span_columns(Column("scope", _("Requests"), TEXT, 22)),
            [_span_row(_("All"), figures.end_to_end)] if figures.end_to_end.gross.count else [],
            note=_(
                "Gross: calendar days from submission to the published recommendation. Net: "
                "the sum of the net days of the stages in between."
            ),
            empty_text=_("No recommendation has been published for these requests."),
        )
    ]
    for dimension in dimensions:
        label = str(texts.DIMENSION_LABELS[dimension])
        rows = [
            _span_row(texts.dimension_value(dimension, _typed(dimension, value)), span)
            for value, span in figures.end_to_end_by.get(dimension, [])
        ]
        blocks.append(
            Table(
                f"end_to_end_by_{dimension}",
                _("Submission to recommendation by %(dimension)s", dimension=label.lower()),
                _span_columns(Column(dimension, label, TEXT, 22)),
                rows,
                empty_text=_("No recommendation has been published for these requests."),
                sheet=_(
                    "End to end by %(dimension)s", dimension=texts.DIMENSION_SHORT_LABELS[dimension]
                ),
            )
        )
    return Section(_("End to end"), blocks)


def _typed(dimension: str, value):
    return int(value) if dimension == "year" and value is not None else value


def _stages_by_section(figures: TimingFigures, deadlines: dict, dimensions) -> Section | None:
    if not dimensions:
        return None
    blocks = []
    for dimension in dimensions:
        label = str(texts.DIMENSION_LABELS[dimension])
        entries = sorted(
            figures.stages_by.get(dimension, []),
            key=lambda e: (e[0] is None, _typed(dimension, e[0]) or ""),
        )
        columns = [Column(dimension, label, TEXT, 20), *_stage_columns()]
        rows = [
            [texts.dimension_value(dimension, _typed(dimension, value)), *_stage_row(s, deadlines)]
            for value, s in entries
        ]
        blocks.append(
            Table(
                f"stages_by_{dimension}",
                _("Days per stage by %(dimension)s", dimension=label.lower()),
                columns,
                rows,
                empty_text=_("No stage matches these filters."),
                sheet=_(
                    "Stages by %(dimension)s", dimension=texts.DIMENSION_SHORT_LABELS[dimension]
                ),
            )
        )
    return Section(_("Stages by breakdown"), blocks)


def _slowest_section(figures: TimingFigures, context: ReportContext) -> Section:
    columns = [
        Column("receipt", _("Receipt number"), TEXT, 14),
        Column("device", _("Device"), TEXT, 24),
        Column("manufacturer", _("Manufacturer"), TEXT, 20),
        Column("state", _("Current stage"), TEXT, 20),
        Column("submitted", _("Submitted"), DATE, 11),
        Column("gross", _("Days since submission"), DAYS, 10),
        Column("net", _("Net days so far"), DAYS, 10),
        Column("since", _("In this stage since"), DATE, 11),
        Column("due", _("Due"), DATE, 11),
        Column("late", _("Days late"), DAYS, 9),
    ]
    rows = [
        [
            r.receipt_number or f"#{r.request_id}",
            r.device,
            r.manufacturer,
            texts.stage_label(r.state),
            r.submitted_at,
            r.gross_days,
            r.net_days,
            r.stage_entered_at,
            r.due_at,
            r.days_late,
        ]
        for r in figures.slowest
    ]
    notes = []
    if context.role in roles.PARTY_SCOPED_ROLES:
        notes.append(
            Note(
                _(
                    "The figures above cover every request matching the filters, without "
                    "naming any; this list and the request table show only your requests."
                )
            )
        )
    table = Table(
        "slowest",
        _("Slowest open requests"),
        columns,
        rows,
        note=_(
            "Open requests submitted longest ago; days late count from the due date of the "
            "current stage."
        ),
        empty_text=_("No open request."),
        row_request_ids=[r.request_id for r in figures.slowest],
    )
    return Section(_("Slowest open requests"), [*notes, table])


def _request_table(figures: TimingFigures) -> Table:
    kinds = {
        "request_id": (INTEGER, _("Request"), 8),
        "receipt_number": (TEXT, _("Receipt number"), 14),
        "device": (TEXT, _("Device"), 26),
        "manufacturer": (TEXT, _("Manufacturer"), 22),
        "state": (TEXT, _("State"), 20),
        "submitted_at": (DATETIME, _("Submitted"), 16),
        "year": (INTEGER, _("Year of submission"), 8),
        "region": (TEXT, _("Region of the regional body"), 16),
        "body": (TEXT, _("Regional body"), 20),
        "risk_class": (TEXT, _("Risk class"), 8),
        "emdn": (TEXT, _("EMDN category"), 8),
        "outcome": (TEXT, _("Outcome"), 18),
        "published_at": (DATETIME, _("Published"), 16),
        "e2e_gross": (DAYS, _("Submission to recommendation, gross days"), 12),
        "e2e_net": (DAYS, _("Submission to recommendation, net days"), 12),
        "stage_entered_at": (DATETIME, _("In the current stage since"), 16),
        "due_at": (DATETIME, _("Current stage due"), 16),
        "days_late": (DAYS, _("Days late"), 9),
    }
    columns = [
        Column(name, kinds[name][1], kinds[name][0], kinds[name][2]) for name in REQUEST_ROW_COLUMNS
    ]
    state_index = REQUEST_ROW_COLUMNS.index("state")
    region_index = REQUEST_ROW_COLUMNS.index("region")
    outcome_index = REQUEST_ROW_COLUMNS.index("outcome")

    def rows(limit=None):
        for row in figures.request_rows():
            row = list(row)
            row[state_index] = texts.stage_label(row[state_index])
            row[region_index] = (
                texts.dimension_value("region", row[region_index]) if row[region_index] else None
            )
            row[outcome_index] = texts.outcome_label(row[outcome_index]) or None
            yield row

    return Table(
        "requests",
        _("Requests"),
        columns,
        rows,
        empty_text=_("No request."),
        in_pdf=False,
        in_page=False,
    )


def _time_to_patient_section(figures: TimingFigures) -> Section:
    """After the recommendation: submission to the first patient by stage holder (the
    adoption report's figures, for the recommendations among the filtered requests)."""
    return Section(_("Time to patient"), [holder_table(cache(figures.time_to_patient))])


def timing_report(figures: TimingFigures, deadlines: dict, context: ReportContext) -> Report:
    dimensions = context.dimensions
    sections = [
        _overview(figures, deadlines),
        _stages_section(figures, deadlines),
        _anchors_section(figures),
        _end_to_end_section(figures, dimensions),
    ]
    by_section = _stages_by_section(figures, deadlines, dimensions)
    if by_section is not None:
        sections.append(by_section)
    slowest = _slowest_section(figures, context)
    if figures.request_rows is not None:
        slowest.blocks.append(_request_table(figures))
    sections.append(slowest)
    if figures.time_to_patient is not None:
        sections.append(_time_to_patient_section(figures))
    return Report(
        key="timing",
        title=_("Timing report"),
        subtitle=_("How long each stage takes, against its deadline and the published anchors"),
        generated_at=context.generated_at,
        generated_by=context.generated_by,
        filters=context.filters,
        sections=sections,
        empty=figures.submitted == 0,
        empty_message=_(
            "No submitted request matches these filters: there is nothing to measure yet."
        ),
        texts=texts.fixed_texts(),
        format=texts.value_formatter(),
    )
