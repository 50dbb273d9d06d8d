"""The charts of each role's home page: the figures (a constant number of SQL statements
whatever the data size) and the charts built from them (`app.reports.web_charts`).

agency        requests by stage, with how many are past their deadline; median days per stage
              from submission to publication this year (visits left since 1 January, Rome
              time) against the stage's deadline
assessor      its body's requests in an open timed stage and the days left to their deadline
irccs         its adoption records by state; the records in use whose quarterly usage is due
manufacturer  its most recent requests on a timeline, stage by stage
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from babel.dates import format_date
from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from app.core.deadline_settings import effective_deadlines
from app.domain.deadlines import ROME, rome_date
from app.extensions import db
from app.models import Adoption, DeviceRequest, StageRecord, UsageReport
from app.reports.stats import percentile
from app.reports.timing import deadline_days
from app.reports.web_charts import (
    Bar,
    Chart,
    Segment,
    Span,
    TimelineRow,
    bar_chart,
    timeline_chart,
)
from app.reports_pages.queries import cached
from app.requests.queries import visible_requests
from app.workflow.facts import (
    ADOPTION,
    AGENCY_CLOCK,
    BEFORE_RECOMMENDATION,
    MANUFACTURER_CLOCK,
    facts,
    states_where,
)
from app.workflow.labels import adoption_state_label, state_label
from app.workflow.states import ADOPTION_STATES, REQUEST_STATES

TIMELINE_REQUESTS = 8
ASSESSOR_ROWS = 12
SECONDS_PER_DAY = 86_400
USAGE_STATES = states_where(workflow=ADOPTION, usage_reported=True, terminal=False)


def dashboard_charts(user, now: datetime) -> list[Chart]:
    """The role's charts. Their figures aggregate every request the user may see (a scan of
    the whole table for the agency), so they are kept like the report pages' figures: per
    reader and language for REPORT_CACHE_SECONDS, dropped as soon as the data changes
    (`app.reports_pages.queries.cached`); "late" may thus lag the clock by those seconds."""
    builders = {
        "agency": _agency,
        "assessor": _assessor,
        "irccs": _irccs,
        "manufacturer": _manufacturer,
    }
    build = builders.get(user.role)
    if build is None:
        return []
    key = (user.role, user.id, str(get_locale()), rome_date(now))
    seconds = float(current_app.config.get("REPORT_CACHE_SECONDS", 300))
    return cached("dashboard", key, lambda: build(user, now), seconds, shared=True)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / SECONDS_PER_DAY


def _day_count(days: float) -> str:
    whole = round(days)
    return ngettext("%(num)d day", "%(num)d days", whole)


# --- agency -----------------------------------------------------------------------------------


def _agency(user, now: datetime) -> list[Chart]:
    return [_requests_by_stage(user, now), _median_days_per_stage(user, now)]


def _requests_by_stage(user, now: datetime) -> Chart:
    open_stage = and_(StageRecord.request_id == DeviceRequest.id, StageRecord.left_at.is_(None))
    late = func.sum(case((StageRecord.due_at < now, 1), else_=0))
    rows = db.session.execute(
        visible_requests(user)
        .outerjoin(StageRecord, open_stage)
        .with_only_columns(DeviceRequest.state, func.count(DeviceRequest.id), late)
        .group_by(DeviceRequest.state)
    ).all()
    counts = {state: (total, int(overdue or 0)) for state, total, overdue in rows}
    states = [s for s in REQUEST_STATES if s in counts and not facts(s).terminal]
    bars = []
    for state in states:
        total, overdue = counts[state]
        note = ngettext("%(num)d request", "%(num)d requests", total)
        if overdue:
            note += ", " + ngettext("%(num)d late", "%(num)d late", overdue)
        bars.append(
            Bar(
                state_label(state, user.role),
                (Segment(total - overdue, "on_time"), Segment(overdue, "late")),
                note,
            )
        )
    title = _("Open requests by stage")
    svg = bar_chart(
        "chart-stages",
        title,
        _("One bar per stage; its late part in red, with the figures written after each bar."),
        bars,
        [("on_time", _("Within the deadline")), ("late", _("Past the deadline"))],
    )
    return Chart(
        "chart-stages",
        title,
        svg,
        (_("Stage"), _("Requests"), _("Past the deadline")),
        tuple(
            (b.label, str(counts[s][0]), str(counts[s][1]))
            for b, s in zip(bars, states, strict=True)
        ),
        empty_text=_("No open request."),
    )


def _median_days_per_stage(user, now: datetime) -> Chart:
    year_start = datetime(rome_date(now).year, 1, 1, tzinfo=ROME)
    rows = db.session.execute(
        select(StageRecord.state, StageRecord.gross_days)
        .join(DeviceRequest, DeviceRequest.id == StageRecord.request_id)
        .where(StageRecord.left_at >= year_start, StageRecord.gross_days.is_not(None))
        .where(DeviceRequest.id.in_(visible_requests(user).with_only_columns(DeviceRequest.id)))
    ).all()
    durations: dict[str, list[float]] = defaultdict(list)
    for state, days in rows:
        durations[state].append(float(days))
    deadlines = effective_deadlines()
    bars, table = [], []
    for state in REQUEST_STATES:
        # The stages from submission to publication, as the timing report charts them (the
        # monitoring after it lasts years and would flatten every other bar).
        stage = facts(state)
        if state not in durations or not stage.deadline_key:
            continue
        if stage.report_stage != BEFORE_RECOMMENDATION:
            continue
        median = percentile(sorted(durations[state]), 0.5) or 0.0
        limit = deadline_days(deadlines.get(facts(state).deadline_key))
        label = state_label(state, user.role)
        note = _("median %(days)s", days=_day_count(median))
        if limit is not None:
            note += " / " + _("deadline %(days)s", days=_day_count(limit))
        kind = "late" if limit is not None and median > limit else "median"
        bars.append(Bar(label, (Segment(median, kind),), note, marker=limit))
        table.append(
            (
                label,
                str(len(durations[state])),
                _day_count(median),
                _day_count(limit) if limit is not None else "—",
            )
        )
    title = _("Median days per stage in %(year)d", year=year_start.year)
    svg = bar_chart(
        "chart-medians",
        title,
        _(
            "Median days spent in each stage by the visits that ended this year, "
            "against the deadline."
        ),
        bars,
        [
            ("median", _("Median within the deadline")),
            ("late", _("Median past the deadline")),
            ("marker", _("Deadline")),
        ],
    )
    return Chart(
        "chart-medians",
        title,
        svg,
        (_("Stage"), _("Visits ended"), _("Median"), _("Deadline")),
        tuple(table),
        empty_text=_("No stage ended this year yet."),
    )


# --- assessor ---------------------------------------------------------------------------------


def _assessor(user, now: datetime) -> list[Chart]:
    rows = db.session.execute(
        visible_requests(user)
        .join(
            StageRecord,
            and_(StageRecord.request_id == DeviceRequest.id, StageRecord.left_at.is_(None)),
        )
        .where(StageRecord.due_at.is_not(None))
        .with_only_columns(
            DeviceRequest.trade_name,
            DeviceRequest.state,
            StageRecord.entered_at,
            StageRecord.due_at,
        )
        .order_by(StageRecord.due_at)
        .limit(ASSESSOR_ROWS)
    ).all()
    bars, table = [], []
    for name, state, entered_at, due_at in rows:
        left = _days(due_at - now)
        spent = max(_days(now - entered_at), 0.0)
        stage = state_label(state, user.role)
        label = f"{name or _('(untitled draft)')} · {stage}"
        if left >= 0:
            note = _("%(days)s left", days=_day_count(left))
            segments = (Segment(spent, "on_time"), Segment(0, "late"))
        else:
            note = _("%(days)s late", days=_day_count(-left))
            total = _days(due_at - entered_at)
            segments = (Segment(total, "on_time"), Segment(-left, "late"))
        bars.append(Bar(label, segments, note, marker=_days(due_at - entered_at)))
        table.append((name or _("(untitled draft)"), stage, rome_date(due_at).isoformat(), note))
    title = _("Our assessments and their deadlines")
    svg = bar_chart(
        "chart-deadlines",
        title,
        _(
            "One bar per request: days spent in its stage, the deadline as a dark tick, "
            "the days past it in red."
        ),
        bars,
        [
            ("on_time", _("Days in the stage")),
            ("late", _("Past the deadline")),
            ("marker", _("Deadline")),
        ],
    )
    return [
        Chart(
            "chart-deadlines",
            title,
            svg,
            (_("Device"), _("Stage"), _("Due on"), _("Deadline")),
            tuple(table),
            empty_text=_("No request of ours has a deadline running."),
        )
    ]


# --- IRCCS ------------------------------------------------------------------------------------


def _quarter_index(day) -> int:
    return day.year * 4 + (day.month - 1) // 3


def _quarter_name(index: int) -> str:
    return f"Q{index % 4 + 1} {index // 4}"


def _irccs(user, now: datetime) -> list[Chart]:
    return [_adoptions_by_state(user), _usage_due(user, now)]


def _adoptions_by_state(user) -> Chart:
    counts = dict(
        db.session.execute(
            select(Adoption.state, func.count())
            .where(Adoption.irccs_id == user.organisation_id)
            .group_by(Adoption.state)
        ).all()
    )
    states = [s for s in ADOPTION_STATES if counts.get(s)]
    bars = [
        Bar(
            adoption_state_label(s),
            (Segment(counts[s], "adoption"),),
            ngettext("%(num)d record", "%(num)d records", counts[s]),
        )
        for s in states
    ]
    title = _("Our adoption records by state")
    svg = bar_chart(
        "chart-adoptions",
        title,
        _("One bar per state of the adoption records, with the count written after it."),
        bars,
        [("adoption", _("Adoption records"))],
    )
    return Chart(
        "chart-adoptions",
        title,
        svg,
        (_("State"), _("Adoption records")),
        tuple((b.label, str(counts[s])) for b, s in zip(bars, states, strict=True)),
        empty_text=_("No adoption record yet."),
    )


# The usage-due card draws a bar per device; an IRCCS with thousands of records in use (5,901
# in the 100k bench) got a 1.8 MB home page. Beyond this many, the card shows the devices due
# longest and says how many more there are.
USAGE_DUE_SHOWN = 25


def _usage_due(user, now: datetime) -> Chart:
    """Records in use whose usage is not reported up to the last quarter that has ended: the
    USAGE_DUE_SHOWN due longest (most quarters, then by name), and how many more."""
    last_ended = _quarter_index(rome_date(now)) - 1
    reported = func.max(UsageReport.year * 4 + UsageReport.quarter - 1)
    rows = db.session.execute(
        select(DeviceRequest.trade_name, Adoption.first_use_at, Adoption.state_changed_at, reported)
        .join(DeviceRequest, DeviceRequest.id == Adoption.request_id)
        .outerjoin(UsageReport, UsageReport.adoption_id == Adoption.id)
        .where(Adoption.irccs_id == user.organisation_id, Adoption.state.in_(USAGE_STATES))
        .group_by(Adoption.id, DeviceRequest.trade_name)
        .order_by(DeviceRequest.trade_name)
    ).all()
    due_rows = []
    for name, first_use_at, changed_at, last_reported in rows:
        started = _quarter_index(rome_date(first_use_at or changed_at))
        done_up_to = last_reported if last_reported is not None else started - 1
        due = max(last_ended - done_up_to, 0)
        if due:
            due_rows.append((name, due, done_up_to + 1))
    # Most quarters due first; the sort is stable, so equal ones stay in name order.
    due_rows.sort(key=lambda row: -row[1])
    bars, table = [], []
    for name, due, first_due_index in due_rows[:USAGE_DUE_SHOWN]:
        first_due = _quarter_name(first_due_index)
        note = ngettext("%(num)d quarter due", "%(num)d quarters due", due) + f" ({first_due}…)"
        bars.append(Bar(name, (Segment(due, "usage_due"),), note))
        table.append((name, str(due), first_due))
    more = len(due_rows) - len(table)
    notes = (
        (
            ngettext(
                "%(num)d more device in use has usage due (the list of adoptions has them all).",
                "%(num)d more devices in use have usage due (the list of adoptions has them all).",
                more,
            ),
        )
        if more > 0
        else ()
    )
    title = _("Usage reports due")
    svg = bar_chart(
        "chart-usage",
        title,
        _("One bar per device in use: the quarters whose usage is not reported yet."),
        bars,
        [("usage_due", _("Quarters not reported"))],
    )
    return Chart(
        "chart-usage",
        title,
        svg,
        (_("Device"), _("Quarters due"), _("First quarter due")),
        tuple(table),
        empty_text=_("All usage is reported up to the last quarter."),
        notes=notes,
    )


# --- manufacturer -----------------------------------------------------------------------------


def _span_kind(state: str) -> str:
    clock = facts(state).clock
    if state == "draft" or clock == MANUFACTURER_CLOCK:
        return "manufacturer"
    if clock == AGENCY_CLOCK:
        return "agency"
    return "published"


def _manufacturer(user, now: datetime) -> list[Chart]:
    requests = db.session.execute(
        visible_requests(user)
        .with_only_columns(DeviceRequest.id, DeviceRequest.trade_name, DeviceRequest.state)
        .order_by(DeviceRequest.updated_at.desc())
        .limit(TIMELINE_REQUESTS)
    ).all()
    visits: dict[int, list] = defaultdict(list)
    if requests:
        for request_id, state, entered_at, left_at in db.session.execute(
            select(
                StageRecord.request_id,
                StageRecord.state,
                StageRecord.entered_at,
                StageRecord.left_at,
            )
            .where(StageRecord.request_id.in_([r.id for r in requests]))
            .order_by(StageRecord.entered_at)
        ):
            visits[request_id].append((state, entered_at, left_at))
    rows, table = [], []
    for request_id, name, state in requests:
        label = name or _("(untitled draft)")
        spans = tuple(
            Span(entered, left or now, _span_kind(s), state_label(s, user.role))
            for s, entered, left in visits[request_id]
        )
        rows.append(TimelineRow(label, spans))
        since = spans[0].start if spans else None
        table.append(
            (
                label,
                state_label(state, user.role),
                format_date(rome_date(since), "medium", locale=get_locale()) if since else "—",
            )
        )
    title = _("My requests over time")
    svg = timeline_chart(
        "chart-timeline",
        title,
        _("One row per request, its stages from left to right up to today."),
        rows,
        [
            ("manufacturer", _("With us (draft, questions, completion)")),
            ("agency", _("With the agency and the assessors")),
            ("published", _("Decided")),
        ],
        now,
        lambda moment: format_date(rome_date(moment), "MMM yyyy", locale=get_locale()),
        _("Today"),
    )
    return [
        Chart(
            "chart-timeline",
            title,
            svg,
            (_("Device"), _("Stage now"), _("First stage entered")),
            tuple(table),
            empty_text=_("No request yet."),
        )
    ]
