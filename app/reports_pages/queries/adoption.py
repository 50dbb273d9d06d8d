"""The adoption report's figures: the summary across recommendations (records by state, days
to decision and first use, the cumulative adoption curve, quarters, regions, budget) and the
per-recommendation tables as row factories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice

from sqlalchemy import (
    Float,
    Integer,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from app.adoption.time_to_patient import with_path_columns
from app.domain import roles
from app.extensions import db
from app.models import (
    Adoption,
    DeviceRequest,
    Organisation,
    PatientPathRow,
    Procurement,
    Recommendation,
    UsageReport,
)
from app.reports.filters import ReportFilters
from app.reports.stats import EMPTY, Distribution, distribution
from app.reports.time_to_patient import HOLDERS, StoredPath
from app.reports_pages.queries.common import (
    Sql,
    aware,
    cached,
    current_sql,
    filtered_requests,
    marked_confidential,
    moment_literal,
    optional_float,
    party_condition,
    raise_sort_memory,
    run_limited,
    scope_condition,
)
from app.reports_pages.queries.distributions import (
    Branch,
    GroupFigures,
    grouped_distributions,
    median_subquery,
)
from app.reports_pages.queries.patient_paths import PathRecord, device_name, paths_of
from app.workflow.states import ADOPTION_STATES, POSITIVE_OUTCOMES

MONTH_DAYS = 365.25 / 12
CURVE_MONTHS = 36
MILESTONE_MONTHS = (6, 12, 24)


# --- Adoption ------------------------------------------------------------------------------

# The adoption states in the workflow's order (the summary's columns).
ADOPTION_STATE_ORDER = ADOPTION_STATES


@dataclass(frozen=True)
class RegionFigures:
    region: str | None
    records: int
    decided: int
    adopting: int
    first_use_days: Distribution


@dataclass(frozen=True)
class QuarterFigures:
    year: int
    quarter: int
    units: int
    procedures: int
    spend: float
    adverse_events: int
    reporting: int


@dataclass
class AdoptionSummary:
    now: datetime | None = None  # when these figures were computed
    recommendations: int = 0
    records: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    decision_days: Distribution = field(default_factory=Distribution)
    first_use_days: Distribution = field(default_factory=Distribution)
    curve: list[tuple[int, float | None, int]] = field(default_factory=list)
    milestones: dict[int, float | None] = field(default_factory=dict)
    regions: list[RegionFigures] = field(default_factory=list)
    quarters: list[QuarterFigures] = field(default_factory=list)
    spend_3y_with_budget: float = 0.0
    budget_3y: float = 0.0
    recommendations_with_budget: int = 0


@dataclass(frozen=True)
class RecommendationRow:
    request_id: int
    receipt_number: str | None
    device: str
    manufacturer: str
    outcome: str
    published_at: datetime
    records: int
    by_state: dict[str, int]
    decision_median: float | None
    first_use_median: float | None
    milestones: dict[int, float | None]
    expected_per_quarter: float | None  # None: not given, or confidential to this reader
    quarters_reported: int
    reporters: int  # IRCCS that reported usage (the size of the usage figures' group)
    units: int
    procedures: int
    adverse_events: int
    spend_3y: float
    budget_3y: float | None

    @property
    def units_per_quarter(self) -> float | None:
        return self.units / self.quarters_reported if self.quarters_reported else None

    @property
    def share_of_expected(self) -> float | None:
        if not self.expected_per_quarter or self.units_per_quarter is None:
            return None
        return self.units_per_quarter / self.expected_per_quarter

    @property
    def share_of_budget(self) -> float | None:
        return self.spend_3y / self.budget_3y if self.budget_3y else None


@dataclass
class AdoptionFigures:
    now: datetime
    summary: AdoptionSummary
    recommendation_rows: Callable[[int | None], Iterator[RecommendationRow]]
    quarter_rows: Callable[[int | None], Iterator[tuple]]
    region_rows: Callable[[int | None], Iterator[tuple]]
    not_started_rows: Callable[[int | None], Iterator[tuple]]
    own_rows: Callable[[int | None], Iterator[tuple]] | None = None
    procurement_rows: Callable[[int | None], Iterator[tuple]] | None = None
    # Submission to first patient per (request, IRCCS): (id, device, IRCCS, region, path).
    # patient_paths(limit=None, reached_only=False): see `patient_paths`.
    patient_paths: Callable[..., list[tuple]] | None = None
    # Median and P90 days per stage holder over the stored reached paths.
    patient_path_spreads: Callable[[], dict[str, Distribution]] | None = None
    # Adoption barriers per region and kind (`app.reports_pages.queries.barriers`).
    barrier_rows: Callable[[int | None], Iterator[tuple]] | None = None


def recommendations_cte(filters: ReportFilters, sql: Sql):
    """Published positive recommendations of the filtered requests. The condition is also
    put on the recommendation's own columns inside `req` (the same rows: a published
    recommendation's outcome is the `outcome` column): PostgreSQL cannot estimate the rows
    of a condition on the CASE expression (it guessed 995 of 49,669 at 100k requests and
    chose nested loops over every adoption and usage report: seconds per statement); and only
    there, not again on `req`'s CASE columns, whose guessed selectivity would undo it."""
    req = (
        filtered_requests(filters, sql)
        .where(
            Recommendation.published_at.is_not(None),
            Recommendation.outcome.in_(POSITIVE_OUTCOMES),
        )
        .cte("req")
    )
    return (
        select(
            req.c.request_id,
            req.c.published_at,
            req.c.outcome,
            req.c.manufacturer_id,
            req.c.assigned_body_id,
            DeviceRequest.receipt_number,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.expected_volume_per_year,
            DeviceRequest.budget_impact_3y,
            DeviceRequest.confidential_fields,
            # The publication's quarter, worked out once per recommendation rather than once
            # per usage report it is compared with (`_within_three_years`).
            _quarter_index(sql, req.c.published_at).label("first_quarter"),
        )
        .select_from(req)
        .join(DeviceRequest, DeviceRequest.id == req.c.request_id)
        .cte("recs")
    )


def _not_negative(expression):
    return case((expression < 0, 0.0), else_=expression)


def _days_after(sql: Sql, start, end):
    """`_not_negative(sql.days(start, end))` for a `start` that is never NULL (a publication),
    the days worked out once per row: PostgreSQL does not share the two copies the CASE holds,
    and at 100k requests these days (three per adoption record, EXTRACT of a NUMERIC epoch)
    were most of each summary statement. GREATEST(x, 0.0) is the CASE for a number; it
    would give 0.0 for a NULL, so a NULL `end` is tested first (the CASE gives NULL)."""
    if not sql.postgres:
        return _not_negative(sql.days(start, end))
    days = func.greatest(sql.days(start, end), literal(0.0, Float))
    if isinstance(end, BindParameter):
        return days
    return case((end.is_(None), None), else_=days)


def pairs_cte(recs, sql: Sql, now: datetime):
    """One row per (recommendation, IRCCS) adoption record, with its timing in days."""
    irccs = aliased(Organisation)
    return (
        select(
            Adoption.id.label("adoption_id"),
            Adoption.request_id,
            Adoption.irccs_id,
            irccs.name.label("irccs"),
            irccs.region.label("region"),
            Adoption.state,
            _days_after(sql, recs.c.published_at, Adoption.decided_at).label("decided_days"),
            _days_after(sql, recs.c.published_at, Adoption.first_use_at).label("use_days"),
            _days_after(sql, recs.c.published_at, moment_literal(now)).label("avail_days"),
        )
        .select_from(recs)
        .join(Adoption, Adoption.request_id == recs.c.request_id)
        .join(irccs, irccs.id == Adoption.irccs_id)
        .cte("pairs")
    )


def latest_usage_subquery():
    """Usage reports, only the latest version of each (adoption, year, quarter): a report with
    no later version of the same quarter. An anti-join (NOT EXISTS on the period index), so a
    query about a few adoption records only looks at their reports. A later version is never
    the first (versions start at 1: ck_usage_reports_version_positive), so only corrections
    are looked at: at 100k requests PostgreSQL hashed all 936k reports for the anti-join,
    and now hashes the 85k corrections (the same rows out)."""
    later = aliased(UsageReport)
    newer_exists = (
        select(later.id)
        .where(
            later.adoption_id == UsageReport.adoption_id,
            later.year == UsageReport.year,
            later.quarter == UsageReport.quarter,
            later.version > UsageReport.version,
            later.version > 1,
        )
        .exists()
    )
    return select(UsageReport).where(~newer_exists).subquery("usage")


def _quarter_index(sql: Sql, moment):
    """year * 4 + quarter - 1 of a moment (Rome time, taken as UTC+1)."""
    if sql.postgres:
        local = func.timezone("UTC", moment) + literal(timedelta(hours=1))
        month = cast(extract("month", local), Integer)
    else:
        month = cast(func.strftime("%m", moment, "+1 hour"), Integer)
    return sql.year(moment) * 4 + (month - 1) // 3


def _within_three_years(usage, recs):
    """The usage quarter is one of the 12 quarters from the publication's quarter."""
    start = recs.c.first_quarter
    index = usage.c.year * 4 + usage.c.quarter - 1
    return and_(index >= start, index < start + 12)


def _visible_figure(actor, recs, field_name: str):
    """The dossier figure where this reader may see it, else NULL."""
    hidden = and_(
        marked_confidential(recs.c.confidential_fields, field_name),
        ~party_condition(actor, recs.c.manufacturer_id, recs.c.assigned_body_id),
    )
    return case((hidden, None), else_=getattr(recs.c, field_name))


def adoption_figures(
    actor,
    filters: ReportFilters,
    now: datetime,
    method: str | None = None,
    cache_seconds: float = 0,
) -> AdoptionFigures:
    """Every figure of the adoption report: the summary now (four statements, or none when
    cached), the tables as row factories (one statement each when called)."""
    summary = cached(
        "adoption",
        (filters, _party_key(actor), method),
        lambda: adoption_summary(actor, filters, now, method),
        cache_seconds,
        shared=True,
    )
    preview = _previews(actor, filters, cache_seconds)
    return AdoptionFigures(
        now=now,
        summary=summary,
        recommendation_rows=preview(
            "recommendations",
            lambda limit=None: recommendation_rows(actor, filters, now, limit, method),
        ),
        quarter_rows=preview(
            "quarters", lambda limit=None: quarter_rows(actor, filters, now, limit)
        ),
        region_rows=preview("regions", lambda limit=None: region_rows(actor, filters, now, limit)),
        not_started_rows=preview(
            "not-started", lambda limit=None: not_started_rows(actor, filters, now, limit)
        ),
        patient_paths=_cached_paths(actor, filters, now, cache_seconds),
        patient_path_spreads=lambda: cached_holder_spreads(actor, filters, cache_seconds),
        procurement_rows=preview(
            "procurement", lambda limit=None: procurement_rows(actor, filters, now, limit)
        ),
        barrier_rows=preview(
            "barriers", lambda limit=None: _barrier_rows(actor, filters, now, limit)
        ),
        own_rows=(
            preview("own", lambda limit=None: own_adoption_rows(actor, filters, now, limit))
            if actor is not None and actor.role == "irccs"
            else None
        ),
    )


def _barrier_rows(actor, filters, now: datetime, limit: int | None = None):
    # Imported here: the barriers module builds on this one (recommendations_cte).
    from app.reports_pages.queries.barriers import barrier_rows

    return barrier_rows(actor, filters, now, limit)


def _previews(actor, filters: ReportFilters, cache_seconds: float):
    """Row factories whose previews (a `limit`, as the report page asks) are kept in the figure
    cache per reader and filters, dropped when the data changes; the full tables (no limit:
    the exports) are always read afresh, streamed and exact."""
    reader = _reader_key(actor)

    def preview(name: str, rows):
        def factory(limit=None):
            if limit is None or cache_seconds <= 0:
                return rows(limit)
            return cached(
                f"adoption-rows:{name}",
                (filters, reader, limit),
                lambda: list(rows(limit)),
                cache_seconds,
                shared=True,
            )

        return factory

    return preview


def _reader_key(actor):
    """The reader as the per-request tables see it: `scope_condition` (what `visible_requests`
    lets the role, its organisation and, for an assessor, the user's own conflicts of
    interest see) and an IRCCS's own records."""
    return (actor.role, actor.organisation_id, actor.id) if actor is not None else None


def _cached_paths(actor, filters: ReportFilters, now: datetime, cache_seconds: float):
    """`patient_paths` for the report: a preview (a `limit`, as the page asks) kept like the
    other previews, per reader, filters, limit and data version (the open paths grow with
    the clock: they are as of the moment they were read, for at most `cache_seconds`); every
    path (no limit: the exports) read afresh."""

    def paths(limit=None, reached_only=False):
        if limit is None or cache_seconds <= 0:
            return patient_paths(actor, filters, now, reached_only, limit)
        return cached(
            "adoption-rows:patient-paths",
            (filters, _reader_key(actor), limit, reached_only),
            lambda: patient_paths(actor, filters, now, reached_only, limit),
            cache_seconds,
            shared=True,
        )

    return paths


def cached_holder_spreads(actor, filters: ReportFilters, cache_seconds: float):
    """`holder_spreads` kept per reader and filters for the data version (the timing and the
    adoption report show the same figures, so they share the entry)."""
    return cached(
        "time-to-patient-spreads",
        (filters, _reader_key(actor)),
        lambda: holder_spreads(actor, filters),
        cache_seconds,
        shared=True,
    )


def _party_key(actor) -> tuple:
    """What the adoption summary depends on about its reader: which budgets it may see."""
    if actor is None or actor.role == "agency":
        return ("all",)
    if actor.role in roles.PARTY_SCOPED_ROLES:
        return (actor.role, actor.organisation_id)
    return ("none",)


def adoption_summary(actor, filters, now, method=None) -> AdoptionSummary:
    """The summary across recommendations (four statements, and one SET on PostgreSQL)."""
    sql = current_sql()
    raise_sort_memory(sql)
    summary = AdoptionSummary(now=now)
    recs = recommendations_cte(filters, sql)
    pairs = pairs_cte(recs, sql, now)
    _adoption_counts(summary, actor, recs, pairs, sql)
    _adoption_distributions(summary, pairs, method)
    _adoption_quarters(summary, actor, recs, sql)
    return summary


def _adoption_counts(summary, actor, recs, pairs, sql) -> None:
    """Recommendations, records by state and region, spend against visible budgets, and the
    adoption curve (`_adoption_curve`): the records are read in ONE pass, grouped by region,
    state and the curve's two months (a few thousand cells at 100k requests), and the
    cells summed here. Exact: the use month is NULL exactly where the use days are (the floor
    of a number is a number), so the records in use are the cells with a use month."""
    budget = _visible_figure(actor, recs, "budget_impact_3y")
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(budget), 0),
            func.count(budget),
        ).select_from(recs)
    ).one()
    summary.recommendations = int(row[0])
    summary.budget_3y = float(row[1] or 0)
    summary.recommendations_with_budget = int(row[2] or 0)
    avail_month, use_month = _curve_months(pairs, sql)
    query = select(
        pairs.c.region,
        pairs.c.state,
        avail_month.label("avail"),
        use_month.label("used"),
        func.count(),
        func.count(pairs.c.decided_days),
    ).group_by(pairs.c.region, pairs.c.state, avail_month, use_month)
    by_region: dict = {}
    cells: dict[tuple[int, int | None], int] = {}
    for region, state, avail, used, records, decided in db.session.execute(query):
        summary.by_state[state] = summary.by_state.get(state, 0) + records
        totals = by_region.setdefault(region, [0, 0, 0])
        totals[0] += records
        totals[1] += decided
        if used is not None:
            totals[2] += records
        key = (int(avail), None if used is None else int(used))
        cells[key] = cells.get(key, 0) + records
    summary.records = sum(summary.by_state.values())
    summary.regions = [
        RegionFigures(region, *totals, Distribution())
        for region, totals in sorted(by_region.items(), key=lambda kv: kv[0] or "")
    ]
    _adoption_curve(summary, [(a, u, n) for (a, u), n in cells.items()])


def _adoption_distributions(summary, pairs, method) -> None:
    branches = [
        Branch("decided_days"),
        Branch("use_days"),
        Branch("use_days", ("region",)),
    ]
    results = grouped_distributions(pairs, branches, method)
    empty = GroupFigures(Distribution(), ())
    summary.decision_days = results.get((0, ()), empty).distribution
    summary.first_use_days = results.get((1, ()), empty).distribution
    summary.regions = [
        RegionFigures(
            r.region,
            r.records,
            r.decided,
            r.adopting,
            results.get((2, (r.region,)), empty).distribution,
        )
        for r in summary.regions
    ]


def _curve_months(pairs, sql):
    """(months available, capped at CURVE_MONTHS; month of first use or NULL) of a record."""
    avail = func.min if not sql.postgres else func.least
    avail_month = avail(sql.floor(pairs.c.avail_days / MONTH_DAYS), CURVE_MONTHS)
    use_month = case(
        (pairs.c.use_days.is_not(None), sql.floor(pairs.c.use_days / MONTH_DAYS)), else_=None
    )
    return avail_month, use_month


def _adoption_curve(summary, cells: list[tuple[int, int | None, int]]) -> None:
    """Cumulative share of IRCCS records in use m months after publication, counting at month
    m only the recommendations published at least m months ago. `cells`: (months available,
    month of first use or None, records)."""
    horizon = max((a for a, _, _ in cells), default=-1)
    curve = []
    for month in range(horizon + 1):
        at_risk = sum(n for a, _, n in cells if a >= month)
        adopted = sum(n for a, u, n in cells if a >= month and u is not None and u < month)
        curve.append((month, adopted / at_risk if at_risk else None, at_risk))
    summary.curve = curve
    summary.milestones = {m: (curve[m][1] if m < len(curve) else None) for m in MILESTONE_MONTHS}


def _adoption_quarters(summary, actor, recs, sql) -> None:
    """Use per quarter, and the spend in each recommendation's first 3 years where its budget
    impact is visible: one pass over the latest usage reports (each quarter's part of that
    spend summed here: Decimal sums of the Numeric column, so the same total as one SUM).

    The reports are joined to their adoption records directly, not to `pairs_cte` (the same
    records: an adoption's IRCCS is a required foreign key), which would also join the IRCCS
    and work out every record's days for nothing. Whether a recommendation's budget is
    visible (a text match on its confidential fields) is worked out once per recommendation
    in `counted_recs`, materialized on PostgreSQL, not once per usage report as when the
    expression sat in the SUM (851k reports at 100k requests: most of this statement)."""
    usage = latest_usage_subquery()
    budget = _visible_figure(actor, recs, "budget_impact_3y")
    counted_recs = select(
        recs.c.request_id,
        recs.c.first_quarter,
        budget.is_not(None).label("budget_visible"),
    ).cte("counted_recs")
    if sql.postgres:
        counted_recs = counted_recs.prefix_with("MATERIALIZED")
    counted = and_(counted_recs.c.budget_visible, _within_three_years(usage, counted_recs))
    query = (
        select(
            usage.c.year,
            usage.c.quarter,
            func.sum(usage.c.units),
            func.sum(usage.c.procedures),
            func.sum(usage.c.spend),
            func.sum(usage.c.adverse_events),
            # IRCCS reporting: each adoption record has one latest report per quarter (the
            # unique adoption, year, quarter, version), so a count, not a COUNT(DISTINCT),
            # which would force a sort of every report.
            func.count(usage.c.adoption_id),
            func.sum(case((counted, usage.c.spend), else_=None)),
        )
        .join(Adoption, Adoption.id == usage.c.adoption_id)
        .join(counted_recs, counted_recs.c.request_id == Adoption.request_id)
        .group_by(usage.c.year, usage.c.quarter)
        .order_by(usage.c.year, usage.c.quarter)
    )
    summary.quarters = []
    spend_3y = Decimal(0)
    for y, q, u, p, s, a, n, within in db.session.execute(query):
        summary.quarters.append(
            QuarterFigures(
                int(y), int(q), int(u or 0), int(p or 0), float(s or 0), int(a or 0), int(n)
            )
        )
        spend_3y += Decimal(within or 0)
    summary.spend_3y_with_budget = float(spend_3y)


def recommendation_rows(
    actor, filters, now: datetime, limit: int | None = None, method: str | None = None
) -> Iterator[RecommendationRow]:
    """One row per recommendation the actor may see, most recent first, streamed.

    The actor's scope and the limit are applied to the recommendations first, so a preview
    of the first rows only computes their figures."""
    sql = current_sql()
    every = recommendations_cte(filters, sql)
    page = (
        select(every)
        .where(scope_condition(actor, every.c.request_id))
        .order_by(every.c.published_at.desc(), every.c.request_id.desc())
    )
    recs = (page.limit(limit) if limit else page).cte("recs_page")
    pairs = pairs_cte(recs, sql, now)
    counts = _per_recommendation_counts(pairs)
    usage_totals = _per_recommendation_usage(recs, sql)
    decision = median_subquery(pairs, "request_id", "decided_days", "decision", method)
    first_use = median_subquery(pairs, "request_id", "use_days", "first_use", method)
    expected = _visible_figure(actor, recs, "expected_volume_per_year")
    budget = _visible_figure(actor, recs, "budget_impact_3y")
    query = (
        select(
            recs.c.request_id,
            recs.c.receipt_number,
            recs.c.trade_name,
            recs.c.model,
            Organisation.name.label("manufacturer"),
            recs.c.outcome,
            recs.c.published_at,
            *[column for column in counts.c if column.name != "request_id"],
            decision.c.median.label("decision_median"),
            first_use.c.median.label("first_use_median"),
            expected.label("expected"),
            budget.label("budget"),
            *[column for column in usage_totals.c if column.name != "request_id"],
        )
        .select_from(recs)
        .join(Organisation, Organisation.id == recs.c.manufacturer_id)
        .outerjoin(counts, counts.c.request_id == recs.c.request_id)
        .outerjoin(usage_totals, usage_totals.c.request_id == recs.c.request_id)
        .outerjoin(decision, decision.c.key == recs.c.request_id)
        .outerjoin(first_use, first_use.c.key == recs.c.request_id)
        .order_by(recs.c.published_at.desc(), recs.c.request_id.desc())
    )
    for row in run_limited(query, None):
        yield _recommendation_row(row, now)


def _per_recommendation_counts(pairs):
    columns = [func.count().label("records")]
    columns += [
        func.sum(case((pairs.c.state == state, 1), else_=0)).label(f"n_{state}")
        for state in ADOPTION_STATE_ORDER
    ]
    columns += [
        func.sum(case((pairs.c.use_days < months * MONTH_DAYS, 1), else_=0)).label(
            f"within_{months}"
        )
        for months in MILESTONE_MONTHS
    ]
    columns.append(func.max(pairs.c.avail_days).label("avail_days"))
    return select(pairs.c.request_id, *columns).group_by(pairs.c.request_id).subquery("counts")


def _per_recommendation_usage(recs, sql):
    usage = latest_usage_subquery()
    within = _within_three_years(usage, recs)
    return (
        select(
            Adoption.request_id,
            func.count(func.distinct(usage.c.year * 4 + usage.c.quarter)).label("quarters"),
            func.count(func.distinct(usage.c.adoption_id)).label("reporters"),
            func.sum(usage.c.units).label("units"),
            func.sum(usage.c.procedures).label("procedures"),
            func.sum(usage.c.adverse_events).label("adverse_events"),
            func.sum(case((within, usage.c.spend), else_=0)).label("spend_3y"),
        )
        .select_from(usage)
        .join(Adoption, Adoption.id == usage.c.adoption_id)
        .join(recs, recs.c.request_id == Adoption.request_id)
        .group_by(Adoption.request_id)
        .subquery("usage_totals")
    )


def _recommendation_row(row, now: datetime) -> RecommendationRow:
    records = int(row.records or 0)
    avail = float(row.avail_days or 0)
    milestones = {}
    for months in MILESTONE_MONTHS:
        reached = records and avail >= months * MONTH_DAYS
        milestones[months] = (
            (int(getattr(row, f"within_{months}") or 0) / records) if reached else None
        )
    expected = row.expected
    return RecommendationRow(
        request_id=row.request_id,
        receipt_number=row.receipt_number,
        device=" ".join(p for p in (row.trade_name, row.model) if p),
        manufacturer=row.manufacturer,
        outcome=row.outcome,
        published_at=aware(row.published_at),
        records=records,
        by_state={s: int(getattr(row, f"n_{s}") or 0) for s in ADOPTION_STATE_ORDER},
        decision_median=optional_float(row.decision_median),
        first_use_median=optional_float(row.first_use_median),
        milestones=milestones,
        expected_per_quarter=None if expected is None else float(expected) / 4,
        quarters_reported=int(row.quarters or 0),
        reporters=int(row.reporters or 0),
        units=int(row.units or 0),
        procedures=int(row.procedures or 0),
        adverse_events=int(row.adverse_events or 0),
        spend_3y=float(row.spend_3y or 0),
        budget_3y=optional_float(row.budget),
    )


QUARTER_ROW_COLUMNS = (
    "request_id",
    "device",
    "year",
    "quarter",
    "reporting",
    "units",
    "procedures",
    "expected_units",
    "share_of_expected",
    "spend",
    "adverse_events",
)


def quarter_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """Units, procedures and spend per recommendation and quarter, against the expected."""
    sql = current_sql()
    recs = recommendations_cte(filters, sql)
    usage = latest_usage_subquery()
    expected = _visible_figure(actor, recs, "expected_volume_per_year")
    query = (
        select(
            recs.c.request_id,
            recs.c.trade_name,
            recs.c.model,
            usage.c.year,
            usage.c.quarter,
            func.count(func.distinct(usage.c.adoption_id)),
            func.sum(usage.c.units),
            func.sum(usage.c.procedures),
            func.max(expected),
            func.sum(usage.c.spend),
            func.sum(usage.c.adverse_events),
        )
        .select_from(usage)
        .join(Adoption, Adoption.id == usage.c.adoption_id)
        .join(recs, recs.c.request_id == Adoption.request_id)
        .where(scope_condition(actor, recs.c.request_id))
        .group_by(recs.c.request_id, recs.c.trade_name, recs.c.model, usage.c.year, usage.c.quarter)
        .order_by(recs.c.request_id.desc(), usage.c.year, usage.c.quarter)
    )
    for (
        rid,
        name,
        model,
        year,
        quarter,
        n,
        units,
        procedures,
        yearly,
        spend,
        adverse,
    ) in run_limited(query, limit):
        per_quarter = None if yearly is None else float(yearly) / 4
        units = int(units or 0)
        yield (
            rid,
            " ".join(p for p in (name, model) if p),
            int(year),
            int(quarter),
            int(n),
            units,
            int(procedures or 0),
            per_quarter,
            units / per_quarter if per_quarter else None,
            float(spend or 0),
            int(adverse or 0),
        )


REGION_ROW_COLUMNS = (
    "request_id",
    "device",
    "region",
    "records",
    "adopting",
    "share",
    "not_started",
)


def region_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """Per recommendation and IRCCS region: records, adopting, share adopting, not started."""
    sql = current_sql()
    recs = recommendations_cte(filters, sql)
    pairs = pairs_cte(recs, sql, now)
    query = (
        select(
            recs.c.request_id,
            recs.c.trade_name,
            recs.c.model,
            pairs.c.region,
            func.count(),
            func.count(pairs.c.use_days),
            func.sum(case((pairs.c.state == "not_started", 1), else_=0)),
        )
        .select_from(pairs)
        .join(recs, recs.c.request_id == pairs.c.request_id)
        .where(scope_condition(actor, recs.c.request_id))
        .group_by(recs.c.request_id, recs.c.trade_name, recs.c.model, pairs.c.region)
        .order_by(recs.c.request_id.desc(), pairs.c.region)
    )
    for rid, name, model, region, records, adopting, not_started in run_limited(query, limit):
        yield (
            rid,
            " ".join(p for p in (name, model) if p),
            region,
            int(records),
            int(adopting),
            adopting / records if records else None,
            int(not_started or 0),
        )


NOT_STARTED_COLUMNS = ("request_id", "device", "irccs", "region", "published_at", "days_waiting")


def not_started_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """IRCCS that have not started, longest waiting first (an IRCCS sees only itself)."""
    sql = current_sql()
    recs = recommendations_cte(filters, sql)
    pairs = pairs_cte(recs, sql, now)
    query = (
        select(
            recs.c.request_id,
            recs.c.trade_name,
            recs.c.model,
            pairs.c.irccs,
            pairs.c.region,
            recs.c.published_at,
            pairs.c.avail_days,
        )
        .select_from(pairs)
        .join(recs, recs.c.request_id == pairs.c.request_id)
        .where(pairs.c.state == "not_started", scope_condition(actor, recs.c.request_id))
        .order_by(pairs.c.avail_days.desc(), recs.c.request_id, pairs.c.irccs)
    )
    if actor is not None and actor.role == "irccs":
        query = query.where(pairs.c.irccs_id == actor.organisation_id)
    for rid, name, model, irccs, region, published, days in run_limited(query, limit):
        yield (
            rid,
            " ".join(p for p in (name, model) if p),
            irccs,
            region,
            aware(published),
            float(days),
        )


OWN_ROW_COLUMNS = (
    "request_id",
    "device",
    "state",
    "published_at",
    "decided_at",
    "first_use_at",
    "decision_days",
    "first_use_days",
    "units",
    "procedures",
    "spend",
    "adverse_events",
)


def own_adoption_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """An IRCCS's own adoption records with its reported totals (latest versions)."""
    sql = current_sql()
    recs = recommendations_cte(filters, sql)
    usage = latest_usage_subquery()
    totals = (
        select(
            usage.c.adoption_id,
            func.sum(usage.c.units).label("units"),
            func.sum(usage.c.procedures).label("procedures"),
            func.sum(usage.c.spend).label("spend"),
            func.sum(usage.c.adverse_events).label("adverse"),
        )
        .group_by(usage.c.adoption_id)
        .subquery("own_totals")
    )
    query = (
        select(
            recs.c.request_id,
            recs.c.trade_name,
            recs.c.model,
            Adoption.state,
            recs.c.published_at,
            Adoption.decided_at,
            Adoption.first_use_at,
            sql.days(recs.c.published_at, Adoption.decided_at),
            sql.days(recs.c.published_at, Adoption.first_use_at),
            totals.c.units,
            totals.c.procedures,
            totals.c.spend,
            totals.c.adverse,
        )
        .select_from(recs)
        .join(Adoption, Adoption.request_id == recs.c.request_id)
        .outerjoin(totals, totals.c.adoption_id == Adoption.id)
        .where(Adoption.irccs_id == actor.organisation_id)
        .order_by(recs.c.published_at.desc(), recs.c.request_id.desc())
    )
    for row in run_limited(query, limit):
        yield (
            row[0],
            " ".join(p for p in (row[1], row[2]) if p),
            row[3],
            aware(row[4]),
            aware(row[5]),
            aware(row[6]),
            optional_float(row[7]),
            optional_float(row[8]),
            int(row[9] or 0),
            int(row[10] or 0),
            float(row[11] or 0),
            int(row[12] or 0),
        )


PROCUREMENT_COLUMNS = (
    "irccs",
    "region",
    "completed",
    "ongoing",
    "median_days",
    "p90_days",
)


def procurement_rows(actor, filters, now: datetime, limit: int | None = None) -> Iterator[tuple]:
    """Time in procurement per IRCCS: from the start of its procurement (the call, when dated)
    to the first patient. One statement; the distributions are computed here (an IRCCS runs
    few procurements). An IRCCS sees only itself, like the IRCCS that have not started."""
    sql = current_sql()
    recs = recommendations_cte(filters, sql)
    irccs = aliased(Organisation)
    query = (
        select(
            irccs.id,
            irccs.name,
            irccs.region,
            _not_negative(sql.days(Procurement.started_at, Adoption.first_use_at)),
        )
        .select_from(recs)
        .join(Adoption, Adoption.request_id == recs.c.request_id)
        .join(Procurement, Procurement.adoption_id == Adoption.id)
        .join(irccs, irccs.id == Adoption.irccs_id)
        .where(scope_condition(actor, recs.c.request_id))
        .order_by(irccs.name, irccs.id)
    )
    if actor is not None and actor.role == "irccs":
        query = query.where(Adoption.irccs_id == actor.organisation_id)
    # {irccs id: (name, region, days of the completed procurements, ongoing count)}
    groups: dict[int, tuple[str, str | None, list[float], list[int]]] = {}
    for irccs_id, name, region, days in db.session.execute(query):
        _name, _region, done, ongoing = groups.setdefault(irccs_id, (name, region, [], [0]))
        if days is None:
            ongoing[0] += 1
        else:
            done.append(float(days))
    for name, region, done, ongoing in islice(groups.values(), limit):
        spread = distribution(done)
        yield (name, region, len(done), ongoing[0], spread.median, spread.p90)


def patient_paths(
    actor, filters, now: datetime, reached_only: bool = False, limit: int | None = None
) -> list[tuple]:
    """(request id, device, IRCCS, region, path) for every adoption record of the filtered
    published positive recommendations (`reached_only`: those with a first patient, all the
    medians need), in request (newest first) and IRCCS order. An IRCCS sees only its own.

    The paths that reached the first patient come from the read model (`patient_paths`,
    `StoredPath`); the open ones grow with `now` and are worked out live (`paths_of`, one
    more statement: their requests' visits), as is any record the read model lacks. With a
    `limit`, only the first `limit` records are read, and only their requests' visits."""
    sql = current_sql()
    recs = recommendations_cte(filters, sql)
    irccs = aliased(Organisation)
    conditions = [scope_condition(actor, recs.c.request_id)]
    if actor is not None and actor.role == "irccs":
        conditions.append(Adoption.irccs_id == actor.organisation_id)
    stored = PatientPathRow
    if reached_only:
        conditions.append(stored.reached.is_(True))
    query = with_path_columns(
        select(
            recs.c.request_id,
            recs.c.trade_name,
            recs.c.model,
            irccs.name,
            irccs.region,
            stored.reached,
            stored.total_days,
            *[stored.days_column(holder) for holder in HOLDERS],
            recs.c.published_at,
        )
        .select_from(recs)
        .join(Adoption, Adoption.request_id == recs.c.request_id)
        .join(irccs, irccs.id == Adoption.irccs_id)
        .outerjoin(stored, stored.adoption_id == Adoption.id),
        irccs,
    )
    query = query.where(*conditions).order_by(recs.c.request_id.desc(), irccs.name, Adoption.id)
    if limit is not None:
        query = query.limit(limit)
    result: list[tuple] = []
    live: list[tuple[int, PathRecord]] = []
    for (
        rid,
        name,
        model,
        irccs_name,
        region,
        reached,
        total,
        *rest,
    ) in db.session.connection().execute(query):
        holder_days, times = rest[: len(HOLDERS)], rest[len(HOLDERS) :]
        device = device_name(name, model)
        if reached:
            path = StoredPath(dict(zip(HOLDERS, holder_days, strict=True)), total)
            result.append((rid, device, irccs_name, region, path))
        else:
            # Its place, filled below with the live path.
            live.append((len(result), PathRecord(rid, device, irccs_name, region, *times)))
            result.append(())
    if live:
        # The visits of the requests with an open path only, chosen by the same conditions.
        ids = (
            select(recs.c.request_id)
            .join(Adoption, Adoption.request_id == recs.c.request_id)
            .outerjoin(stored, stored.adoption_id == Adoption.id)
            .where(*conditions, or_(stored.reached.is_(None), stored.reached.is_(False)))
        )
        if limit is not None:  # a page's preview: the few requests it shows
            ids = [record.request_id for _i, record in live]
        paths = paths_of([record for _i, record in live], now, ids)
        for (index, _record), (r, path) in zip(live, paths, strict=True):
            result[index] = (r.request_id, r.device, r.irccs, r.region, path)
    return result


def holder_spreads(actor, filters, method: str | None = None) -> dict[str, Distribution]:
    """Median and P90 days per stage holder over the stored paths of the filtered
    recommendations that reached the first patient (`holder_distributions` of the same paths,
    without building them): one statement over the read model, the percentiles computed by
    the database (`grouped_distributions`; `method` as there). An IRCCS sees only its own."""
    recs = recommendations_cte(filters, current_sql())
    stored = PatientPathRow
    columns = [stored.days_column(holder) for holder in HOLDERS]
    query = (
        select(*columns)
        .select_from(recs)
        .join(stored, stored.request_id == recs.c.request_id)
        .where(scope_condition(actor, recs.c.request_id), stored.reached.is_(True))
    )
    if actor is not None and actor.role == "irccs":
        query = query.where(stored.irccs_id == actor.organisation_id)
    source = query.cte("reached_paths")
    branches = [Branch(column.key) for column in columns]
    figures = grouped_distributions(source, branches, method)
    return {
        holder: figures[(index, ())].distribution if (index, ()) in figures else EMPTY
        for index, holder in enumerate(HOLDERS)
    }
