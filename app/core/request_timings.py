"""The timing report's read model of each submitted request (`RequestTiming`), rewritten from
the request's stage visits after every stage change.

Registered as a transition hook (listed in `transition_hooks.HOOK_MODULES`): after every
transition of a request that moves it to another stage, `refresh_request_timings` rewrites
that request's row with one INSERT ... SELECT ... ON CONFLICT DO UPDATE. The same statement
without a request list rebuilds every row (tests that write stage visits directly, the
benchmark's data; `flask db upgrade` fills the rows already there by itself).

The spans, as the timing report defines them (and computed the way it did from the visits):

- end to end, gross: calendar days from submission to the published recommendation;
- end to end, net: the net days of the visits entered from submission to the publication,
  each counted up to its end or the publication, whichever comes first (clock stops count
  zero, except the part of one the manufacturer handed back: `clock_stopped` False). A
  visit still open at the publication counts up to it: publication is in the past when the
  row is written, so nothing here depends on the clock;
- prioritisation: calendar days from submission to leaving prioritisation the last time;
- assessment: the days of all the assessment visits, once the request reached a later stage
  (factual accuracy check, appraisal or consultation). If an assessment visit is open again
  (a reassessment), the days keep growing: `assessment_open` is set, `assessment_days` left
  empty, and the report adds those days up itself when it reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sqlalchemy import Float, and_, bindparam, case, cast, extract, false, func, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite

from app.core.transition_hooks import after
from app.extensions import db
from app.models import DeviceRequest, Recommendation, RequestTiming, StageRecord
from app.workflow.definitions import REQUEST_WORKFLOW
from app.workflow.facts import BEFORE_RECOMMENDATION, REQUEST, states_where
from app.workflow.states import CLOCK_STOP_STATES

SECONDS_PER_DAY = 86_400
# The report is written (the draft went to the manufacturer) and not yet published.
ASSESSMENT_DONE_STATES = states_where(
    workflow=REQUEST, draft_report_sent=True, report_stage=BEFORE_RECOMMENDATION
)
# Transitions that start a new stage (the others record data and leave the visits alone).
STAGE_TRIGGERS = tuple(
    sorted(
        {
            spec.trigger
            for spec in REQUEST_WORKFLOW.transitions
            if not spec.internal or spec.hands_back_clock
        }
    )
)
COLUMNS = (
    "request_id",
    "e2e_gross_days",
    "e2e_net_days",
    "prioritisation_days",
    "assessment_days",
    "assessment_open",
)


def _days(postgres: bool, start, end):
    """Days (fractional) from `start` to `end`: the report's own arithmetic."""
    if postgres:
        return cast(extract("epoch", end - start), Float) / SECONDS_PER_DAY
    return func.julianday(end) - func.julianday(start)


def _least(postgres: bool, a, b):
    return func.least(a, b) if postgres else func.min(a, b)


def timing_rows(postgres: bool, chosen_only: bool = False):
    """SELECT of the `RequestTiming` rows (COLUMNS) of the submitted requests, or (with
    `chosen_only`) of those among the bound list `request_ids`: one grouped pass over their
    visits."""
    stage = StageRecord.__table__
    submitted = DeviceRequest.submitted_at
    published = Recommendation.published_at
    visit_end = _least(postgres, func.coalesce(stage.c.left_at, published), published)
    before_publication = and_(
        stage.c.entered_at >= submitted,
        stage.c.entered_at < published,
        or_(stage.c.state.not_in(CLOCK_STOP_STATES), stage.c.clock_stopped == false()),
    )
    left = stage.c.left_at.is_not(None)
    chosen = true()
    if chosen_only:
        chosen = DeviceRequest.id.in_(bindparam("request_ids", expanding=True))
    marks = (
        select(
            stage.c.request_id,
            func.sum(
                case(
                    (before_publication, _days(postgres, stage.c.entered_at, visit_end)),
                    else_=0,
                )
            ).label("e2e_net"),
            func.max(
                case((and_(stage.c.state == "prioritisation", left), stage.c.left_at), else_=None)
            ).label("prioritised_at"),
            func.sum(
                case(
                    (
                        and_(stage.c.state == "assessment", left),
                        _days(postgres, stage.c.entered_at, stage.c.left_at),
                    ),
                    else_=0,
                )
            ).label("assessment_left"),
            func.sum(case((and_(stage.c.state == "assessment", ~left), 1), else_=0)).label(
                "assessment_open"
            ),
            func.max(case((stage.c.state.in_(ASSESSMENT_DONE_STATES), 1), else_=0)).label("done"),
        )
        .select_from(stage)
        .join(DeviceRequest, DeviceRequest.id == stage.c.request_id)
        .outerjoin(Recommendation, Recommendation.request_id == stage.c.request_id)
        .where(chosen)
        .group_by(stage.c.request_id)
        .subquery("marks")
    )
    done = marks.c.done == 1
    still_open = marks.c.assessment_open > 0
    return (
        select(
            DeviceRequest.id,
            _days(postgres, submitted, published),
            case((published.is_not(None), func.coalesce(marks.c.e2e_net, 0)), else_=None),
            _days(postgres, submitted, marks.c.prioritised_at),
            case((and_(done, ~still_open), marks.c.assessment_left), else_=None),
            case((and_(done, still_open), true()), else_=False),
        )
        .select_from(DeviceRequest)
        .outerjoin(Recommendation, Recommendation.request_id == DeviceRequest.id)
        .outerjoin(marks, marks.c.request_id == DeviceRequest.id)
        .where(submitted.is_not(None), chosen)
    )


def refresh_request_timings(request_ids: Iterable[int] | None = None, connection=None) -> None:
    """Rewrite the rows of `request_ids` (every submitted request when None) from their
    visits: one statement, on the session (or a Core `connection`)."""
    executor = connection if connection is not None else db.session
    bind = connection if connection is not None else db.session.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if request_ids is None:
        executor.execute(_upsert(postgres, chosen_only=False))
    else:
        executor.execute(_upsert(postgres, chosen_only=True), {"request_ids": list(request_ids)})


@cache
def _upsert(postgres: bool, chosen_only: bool):
    """The INSERT ... SELECT ... ON CONFLICT DO UPDATE, built once per dialect and kind: it
    runs after every stage change, and building this statement costs more than running it."""
    insert = (postgresql if postgres else sqlite).insert(RequestTiming.__table__)
    statement = insert.from_select(list(COLUMNS), timing_rows(postgres, chosen_only))
    return statement.on_conflict_do_update(
        index_elements=["request_id"],
        set_={name: statement.excluded[name] for name in COLUMNS if name != "request_id"},
    )


@after("request", *STAGE_TRIGGERS)
def keep_request_timing(obj, spec, actor, now, data, entry) -> None:
    """After a stage change: the request's row, as its visits now say."""
    refresh_request_timings([obj.id])
