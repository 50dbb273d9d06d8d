"""The SQL behind the timing and adoption reports: aggregates and window functions, streamed.

Nothing here loads events as ORM objects. Each function runs a fixed number of statements
whatever the volume: figures are grouped in the database and only the groups (or, for the
percentiles on SQLite, the few ranks each percentile needs) come back. Tables that grow with
the data (one row per request or per recommendation) are returned as *row factories*: calling
one runs its query with `yield_per` and yields plain tuples, so exports stream in flat memory.

Dialects: PostgreSQL and SQLite. Day arithmetic and calendar parts differ (`_Sql`); percentiles
use `percentile_cont` on PostgreSQL and row_number/count windows elsewhere, with the same
definition (`app.reports.stats`), and a test checks both give the same figures.

Scope: aggregates cover every submitted request matching the filters (they name no
manufacturer and no device); per-request tables are limited to what `visible_requests(actor)`
allows, and confidential dossier figures of others are left out (`can_see_confidential`).
`actor=None` is the command line run by an operator: everything.

The package: `common` (dialects, scope, the filtered requests, the figure cache),
`distributions` (grouped percentiles), `stages` (days per stage) and `timing`, `adoption`
and `record` (the per-request record). Import from the package: the names below are its
interface.
"""

from app.reports_pages.queries.adoption import (
    ADOPTION_STATE_ORDER,
    MILESTONE_MONTHS,
    NOT_STARTED_COLUMNS,
    OWN_ROW_COLUMNS,
    QUARTER_ROW_COLUMNS,
    REGION_ROW_COLUMNS,
    AdoptionFigures,
    AdoptionSummary,
    QuarterFigures,
    RecommendationRow,
    RegionFigures,
    adoption_figures,
    adoption_summary,
    not_started_rows,
    own_adoption_rows,
    quarter_rows,
    recommendation_rows,
    region_rows,
)
from app.reports_pages.queries.common import cached, clear_cache, data_version
from app.reports_pages.queries.distributions import Branch, GroupFigures, grouped_distributions
from app.reports_pages.queries.record import RequestRecordData, request_record
from app.reports_pages.queries.spans import ANCHOR_DAYS, ANCHORS, Anchor, SpanFigures
from app.reports_pages.queries.stages import TIMED_STATES, StageFigures
from app.reports_pages.queries.timing import (
    PRE_RECOMMENDATION_STATES,
    REQUEST_ROW_COLUMNS,
    SlowRequest,
    TimingFigures,
    request_rows,
    slowest_open_requests,
    timing_aggregates,
    timing_figures,
)

__all__ = [
    "ADOPTION_STATE_ORDER",
    "ANCHORS",
    "ANCHOR_DAYS",
    "MILESTONE_MONTHS",
    "NOT_STARTED_COLUMNS",
    "OWN_ROW_COLUMNS",
    "PRE_RECOMMENDATION_STATES",
    "QUARTER_ROW_COLUMNS",
    "REGION_ROW_COLUMNS",
    "REQUEST_ROW_COLUMNS",
    "TIMED_STATES",
    "AdoptionFigures",
    "AdoptionSummary",
    "Anchor",
    "Branch",
    "GroupFigures",
    "QuarterFigures",
    "RecommendationRow",
    "RegionFigures",
    "RequestRecordData",
    "SlowRequest",
    "SpanFigures",
    "StageFigures",
    "TimingFigures",
    "adoption_figures",
    "adoption_summary",
    "cached",
    "clear_cache",
    "data_version",
    "grouped_distributions",
    "not_started_rows",
    "own_adoption_rows",
    "quarter_rows",
    "recommendation_rows",
    "region_rows",
    "request_record",
    "request_rows",
    "slowest_open_requests",
    "timing_aggregates",
    "timing_figures",
]
