"""The adoption report model, assembled from `report_queries.AdoptionFigures`.

Summary across recommendations (key figures, cumulative adoption curve, regional variation,
IRCCS by state, use per quarter), then per recommendation (one row each), use per quarter
against the dossier's expected volumes, regional variation per recommendation, the IRCCS that
have not started and, for an IRCCS, its own records. With the `request_id` filter the report
is about one recommendation and shows every table in full.
"""

from __future__ import annotations

from functools import cache

from flask_babel import gettext as _

from app.domain import roles
from app.domain.redaction import reads_usage_item_by_item, unless_small_group
from app.reports import texts
from app.reports.barriers import barriers_table
from app.reports.model import (
    DATE,
    DATETIME,
    DAYS,
    INTEGER,
    MONEY,
    NUMBER,
    PERCENT,
    TEXT,
    BarChart,
    Column,
    KeyFigures,
    LineChart,
    Note,
    ReferenceLine,
    Report,
    Section,
    Table,
)
from app.reports.stats import share
from app.reports.time_to_patient_tables import holder_table, path_table
from app.reports.timing import ReportContext
from app.reports_pages.queries import (
    ADOPTION_STATE_ORDER,
    MILESTONE_MONTHS,
    AdoptionFigures,
    RecommendationRow,
)

PREVIEW_ROWS = 50


def _milestone_label(months: int) -> str:
    return _("Adopting at %(months)s months", months=months)


class _Blanking:
    """Leaves usage aggregates of too few IRCCS blank for this reader (app.domain.redaction)."""

    def __init__(self, context: ReportContext):
        self.role, self.minimum = context.role, context.min_group

    def __call__(self, value, contributors: int | None):
        return unless_small_group(value, contributors, self.role, self.minimum)


def _overview(figures: AdoptionFigures, blank: _Blanking) -> Section:
    s = figures.summary
    # The totals' group: at least the most IRCCS reporting in one quarter (a lower bound of the
    # distinct IRCCS over all quarters, so the rule errs on the side of leaving them blank).
    reporting = max((q.reporting for q in s.quarters), default=0)
    units = blank(sum(q.units for q in s.quarters), reporting)
    procedures = blank(sum(q.procedures for q in s.quarters), reporting)
    spend = blank(sum(q.spend for q in s.quarters), reporting)
    spend_3y = blank(s.spend_3y_with_budget, reporting)
    items = [
        (_("Published positive recommendations"), s.recommendations, INTEGER),
        (_("IRCCS adoption records"), s.records, INTEGER),
        (_("In use"), s.by_state.get("in_use", 0), INTEGER),
        (_("Not started"), s.by_state.get("not_started", 0), INTEGER),
        (_("Median days from publication to the IRCCS decision"), s.decision_days.median, DAYS),
        (_("Median days from publication to first use"), s.first_use_days.median, DAYS),
        *[(_milestone_label(m), s.milestones.get(m), PERCENT) for m in MILESTONE_MONTHS],
        (_("Units used"), units, INTEGER),
        (_("Procedures"), procedures, INTEGER),
        (_("Spend reported"), spend, MONEY),
        (
            _("Spend in the first 3 years, where the budget impact is known"),
            spend_3y,
            MONEY,
        ),
        (_("3-year budget impact of those recommendations"), s.budget_3y, MONEY),
        (
            _("Spend against budget impact"),
            None if spend_3y is None else share(spend_3y, s.budget_3y),
            PERCENT,
        ),
        (_("Figures as of"), s.now, DATETIME),
    ]
    curve = LineChart(
        "adoption_curve",
        _("Share of IRCCS using the device, by months since publication"),
        [(_("All recommendations"), [(m, value) for m, value, _n in s.curve])],
        x_label=_("months since publication"),
        vertical_lines=[
            ReferenceLine(_("%(months)s months", months=m), m) for m in MILESTONE_MONTHS
        ],
    )
    regions = BarChart(
        "regional_variation",
        _("Share of IRCCS using the device, by region"),
        [texts.dimension_value("region", r.region) for r in s.regions],
        [(_("Share adopting"), [share(r.adopting, r.records) for r in s.regions])],
        horizontal=True,
        percent=True,
        reference_lines=(
            [ReferenceLine(_("All regions"), share(sum(r.adopting for r in s.regions), s.records))]
            if s.records
            else []
        ),
    )
    note = Note(
        _(
            "Adopting means the IRCCS has started using the device (first use recorded); the "
            "share counts every IRCCS with an adoption record. At m months only the "
            "recommendations published at least m months ago count."
        )
    )
    blocks = [KeyFigures(_("Key figures"), items), curve, regions, note]
    if not reads_usage_item_by_item(blank.role):
        blocks.append(_small_group_note(blank.minimum))
    return Section(_("Summary across recommendations"), blocks)


def _small_group_note(minimum: int) -> Note:
    return Note(
        _(
            "Usage figures (units, procedures, spend, adverse events) reported by fewer than "
            "%(count)d IRCCS are left blank: they would be those hospitals' own figures.",
            count=minimum,
        )
    )


def _summary_tables(figures: AdoptionFigures, blank: _Blanking) -> Section:
    s = figures.summary
    states = Table(
        "by_state",
        _("IRCCS by adoption state"),
        [
            Column("state", _("Adoption state"), TEXT, 24),
            Column("records", _("IRCCS records"), INTEGER, 12),
            Column("share", _("Share"), PERCENT, 10),
        ],
        [
            [
                texts.adoption_label(state),
                s.by_state.get(state, 0),
                share(s.by_state.get(state, 0), s.records),
            ]
            for state in ADOPTION_STATE_ORDER
        ]
        if s.records
        else [],
        empty_text=_("No IRCCS adoption record."),
    )
    regions = Table(
        "regions",
        _("Variation between regions"),
        [
            Column("region", _("IRCCS region"), TEXT, 22),
            Column("records", _("IRCCS records"), INTEGER, 10),
            Column("decided", _("Decided"), INTEGER, 10),
            Column("adopting", _("Adopting"), INTEGER, 10),
            Column("share", _("Share adopting"), PERCENT, 10),
            Column("median", _("Median days to first use"), DAYS, 12),
        ],
        [
            [
                texts.dimension_value("region", r.region),
                r.records,
                r.decided,
                r.adopting,
                share(r.adopting, r.records),
                r.first_use_days.median,
            ]
            for r in s.regions
        ],
        empty_text=_("No IRCCS adoption record."),
    )
    quarters = Table(
        "quarters",
        _("Use per quarter, all recommendations"),
        [
            Column("quarter", _("Quarter"), TEXT, 10),
            Column("reporting", _("IRCCS reporting"), INTEGER, 10),
            Column("units", _("Units"), INTEGER, 10),
            Column("procedures", _("Procedures"), INTEGER, 10),
            Column("spend", _("Spend"), MONEY, 14),
            Column("adverse", _("Adverse events"), INTEGER, 10),
        ],
        [
            [
                f"{q.year} Q{q.quarter}",
                q.reporting,
                blank(q.units, q.reporting),
                blank(q.procedures, q.reporting),
                blank(q.spend, q.reporting),
                blank(q.adverse_events, q.reporting),
            ]
            for q in s.quarters
        ],
        note=_("Only the latest version of each quarterly report counts (corrections replace it)."),
        empty_text=_("No usage reported yet."),
        sheet=_("Use per quarter"),
    )
    curve = Table(
        "curve",
        _("Cumulative adoption by month"),
        [
            Column("month", _("Months since publication"), INTEGER, 12),
            Column("share", _("Share adopting"), PERCENT, 12),
            Column("records", _("IRCCS records counted"), INTEGER, 12),
        ],
        [[m, value, n] for m, value, n in s.curve],
        empty_text=_("No IRCCS adoption record."),
    )
    return Section(_("Summary tables"), [states, regions, quarters, curve])


def _recommendation_columns() -> list[Column]:
    return [
        Column("receipt", _("Receipt number"), TEXT, 13),
        Column("device", _("Device"), TEXT, 22),
        Column("published", _("Published"), DATE, 11),
        Column("records", _("IRCCS records"), INTEGER, 8),
        *[Column(f"n_{s}", texts.adoption_label(s), INTEGER, 8) for s in ADOPTION_STATE_ORDER],
        Column("decision", _("Median days to decision"), DAYS, 9),
        Column("first_use", _("Median days to first use"), DAYS, 9),
        *[Column(f"at_{m}", _milestone_label(m), PERCENT, 9) for m in MILESTONE_MONTHS],
        Column("expected", _("Expected units per quarter"), NUMBER, 9),
        Column("units_q", _("Units per quarter reported"), NUMBER, 9),
        Column("share_expected", _("Units against expected"), PERCENT, 9),
        Column("spend", _("Spend, first 3 years"), MONEY, 13),
        Column("budget", _("3-year budget impact"), MONEY, 13),
        Column("share_budget", _("Spend against budget impact"), PERCENT, 9),
    ]


def _recommendation_values(row: RecommendationRow, blank: _Blanking) -> list:
    return [
        row.receipt_number or f"#{row.request_id}",
        row.device,
        row.published_at,
        row.records,
        *[row.by_state[s] for s in ADOPTION_STATE_ORDER],
        row.decision_median,
        row.first_use_median,
        *[row.milestones[m] for m in MILESTONE_MONTHS],
        row.expected_per_quarter,
        blank(row.units_per_quarter, row.reporters),
        blank(row.share_of_expected, row.reporters),
        blank(row.spend_3y, row.reporters),
        row.budget_3y,
        blank(row.share_of_budget, row.reporters),
    ]


def _quarter_values(row: tuple, blank: _Blanking) -> list:
    """A row of quarter_rows: (request, device, year, quarter, reporting, units, procedures,
    expected, share of expected, spend, adverse events)."""
    reporting = row[4]
    return [
        *row[:5],
        blank(row[5], reporting),
        blank(row[6], reporting),
        row[7],
        blank(row[8], reporting),
        blank(row[9], reporting),
        blank(row[10], reporting),
    ]


def _per_recommendation(
    figures: AdoptionFigures, detail: bool, context: ReportContext, blank: _Blanking
) -> Section:
    preview = None if detail else PREVIEW_ROWS
    blocks = []
    if context.role in roles.PARTY_SCOPED_ROLES:
        blocks.append(
            Note(
                _(
                    "The summary covers every recommendation matching the filters; the tables "
                    "below show only the requests you are a party to."
                )
            )
        )
    blocks.append(
        Table(
            "recommendations",
            _("Per recommendation"),
            _recommendation_columns(),
            lambda limit=None: (
                _recommendation_values(r, blank) for r in figures.recommendation_rows(limit)
            ),
            note=_(
                "Expected volumes and budget impact are left blank where the manufacturer "
                "marked them confidential and you are not a party to the request."
            ),
            empty_text=_("No published positive recommendation matches these filters."),
            preview_limit=preview,
        )
    )
    blocks.append(
        Table(
            "recommendation_quarters",
            _("Use per recommendation and quarter"),
            [
                Column("request", _("Request"), INTEGER, 8),
                Column("device", _("Device"), TEXT, 22),
                Column("year", _("Year"), INTEGER, 7),
                Column("quarter", _("Quarter"), INTEGER, 7),
                Column("reporting", _("IRCCS reporting"), INTEGER, 9),
                Column("units", _("Units"), INTEGER, 9),
                Column("procedures", _("Procedures"), INTEGER, 9),
                Column("expected", _("Expected units per quarter"), NUMBER, 10),
                Column("share", _("Units against expected"), PERCENT, 10),
                Column("spend", _("Spend"), MONEY, 13),
                Column("adverse", _("Adverse events"), INTEGER, 9),
            ],
            lambda limit=None: (_quarter_values(r, blank) for r in figures.quarter_rows(limit)),
            note=_(
                "Expected units per quarter: the dossier's expected yearly volume divided by 4."
            ),
            empty_text=_("No usage reported yet."),
            in_page=detail,
            in_pdf=detail,
        )
    )
    blocks.append(
        Table(
            "recommendation_regions",
            _("Regional variation per recommendation"),
            [
                Column("request", _("Request"), INTEGER, 8),
                Column("device", _("Device"), TEXT, 22),
                Column("region", _("IRCCS region"), TEXT, 18),
                Column("records", _("IRCCS records"), INTEGER, 9),
                Column("adopting", _("Adopting"), INTEGER, 9),
                Column("share", _("Share adopting"), PERCENT, 9),
                Column("not_started", _("Not started"), INTEGER, 9),
            ],
            lambda limit=None: (
                [r[0], r[1], texts.dimension_value("region", r[2]), *r[3:]]
                for r in figures.region_rows(limit)
            ),
            empty_text=_("No IRCCS adoption record."),
            in_page=detail,
            in_pdf=detail,
            sheet=_("Regions by recommendation"),
        )
    )
    blocks.append(
        Table(
            "not_started",
            _("IRCCS that have not started"),
            [
                Column("request", _("Request"), INTEGER, 8),
                Column("device", _("Device"), TEXT, 24),
                Column("irccs", _("IRCCS"), TEXT, 26),
                Column("region", _("Region"), TEXT, 16),
                Column("published", _("Published"), DATE, 11),
                Column("days", _("Days since publication"), DAYS, 10),
            ],
            lambda limit=None: (
                [r[0], r[1], r[2], texts.dimension_value("region", r[3]), r[4], r[5]]
                for r in figures.not_started_rows(limit)
            ),
            empty_text=_("Every IRCCS has started."),
            preview_limit=preview,
        )
    )
    if figures.procurement_rows is not None:
        blocks.append(_procurement_table(figures))
    return Section(_("Per recommendation"), blocks)


def _time_to_patient_section(figures: AdoptionFigures) -> Section:
    """Submission to first patient by stage holder: medians and P90 over the IRCCS that
    reached their first patient (the stored paths only), then every (request, IRCCS) path
    (a preview reads only the rows it shows)."""
    spreads = cache(figures.patient_path_spreads)
    return Section(
        _("Time to patient"),
        [holder_table(spreads), path_table(figures.patient_paths, PREVIEW_ROWS)],
    )


def _procurement_table(figures: AdoptionFigures) -> Table:
    """Time in procurement per IRCCS (days from the call, or the start of procurement, to the
    first patient); no price: the awarded prices are each IRCCS's confidential figures."""
    return Table(
        "procurement",
        _("Time in procurement per IRCCS"),
        [
            Column("irccs", _("IRCCS"), TEXT, 26),
            Column("region", _("Region"), TEXT, 16),
            Column("completed", _("Procurements completed"), INTEGER, 10),
            Column("ongoing", _("In procurement now"), INTEGER, 10),
            Column("median", _("Median days in procurement"), DAYS, 10),
            Column("p90", _("P90 days in procurement"), DAYS, 10),
        ],
        lambda limit=None: (
            [r[0], texts.dimension_value("region", r[1]), *r[2:]]
            for r in figures.procurement_rows(limit)
        ),
        note=_(
            "From the call for tender (or the start of procurement when no call is dated) to "
            "the first patient; the medians count completed procurements only."
        ),
        empty_text=_("No procurement recorded."),
        sheet=_("Procurement"),
    )


def _own_section(figures: AdoptionFigures) -> Section:
    table = Table(
        "own_records",
        _("My adoption records"),
        [
            Column("request", _("Request"), INTEGER, 8),
            Column("device", _("Device"), TEXT, 24),
            Column("state", _("Adoption state"), TEXT, 16),
            Column("published", _("Published"), DATE, 11),
            Column("decided", _("Decided"), DATE, 11),
            Column("first_use", _("First use"), DATE, 11),
            Column("decision_days", _("Days to decision"), DAYS, 9),
            Column("first_use_days", _("Days to first use"), DAYS, 9),
            Column("units", _("Units"), INTEGER, 9),
            Column("procedures", _("Procedures"), INTEGER, 9),
            Column("spend", _("Spend"), MONEY, 13),
            Column("adverse", _("Adverse events"), INTEGER, 9),
        ],
        lambda limit=None: (
            [r[0], r[1], texts.adoption_label(r[2]), *r[3:]] for r in figures.own_rows(limit)
        ),
        empty_text=_("Your IRCCS has no adoption record for these recommendations."),
    )
    return Section(_("My adoption records"), [table])


def adoption_report(
    figures: AdoptionFigures, context: ReportContext, detail: bool = False
) -> Report:
    blank = _Blanking(context)
    sections = [_overview(figures, blank), _summary_tables(figures, blank)]
    if figures.own_rows is not None:
        sections.append(_own_section(figures))
    sections.append(_per_recommendation(figures, detail, context, blank))
    if figures.patient_paths is not None:
        sections.append(_time_to_patient_section(figures))
    if figures.barrier_rows is not None:
        sections.append(Section(_("Adoption barriers"), [barriers_table(figures.barrier_rows)]))
    return Report(
        key="adoption",
        title=_("Adoption report"),
        subtitle=_("How IRCCS take up the devices recommended, and how much they use them"),
        generated_at=context.generated_at,
        generated_by=context.generated_by,
        filters=context.filters,
        sections=sections,
        empty=figures.summary.recommendations == 0,
        empty_message=_(
            "No published positive recommendation matches these filters: no adoption to report yet."
        ),
        texts=texts.fixed_texts(),
        format=texts.value_formatter(),
    )
