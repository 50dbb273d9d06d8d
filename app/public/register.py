"""The public transparency register: what anybody may see of a request, and nothing else.

Which requests are in the register (`in_register_clause`, its Python twin `is_in_register`):
the manufacturer consented to publication (`consent_to_publication IS TRUE`), the request was
submitted, and it passed intake. "Passed intake" means the agency admitted it: its current state
can only be reached through `admit` (awaiting_prioritisation and every later state), or it is in
a state reachable from both sides of intake (withdrawn, suspended) and its history holds a stage
record for awaiting_prioritisation. Drafts, requests under intake, incomplete or inadmissible
ones never appear.

What is shown of a request (`to_public`): only the fields named in `PUBLIC_FIELDS`, each built
by its own extractor from allowed sources (the dossier fields are those the field schema,
`app.domain.dossier_fields`, lets be public), minus every field the redaction's public view
hides (`app.domain.redaction.public_view`: the ones the manufacturer marked confidential).
Every public page, the CSV and the Atom feed go through
`to_public` (and `public_comment` for consultation comments), and the views hand templates these
dicts, never a model object. Internal notes, transition reasons, the audit trail and users'
emails are not read here at all.

The free-text search looks only at fields that can never be confidential (device names,
manufacturer, EMDN code, reference number), so a search cannot probe a confidential value.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import DateTime, Select, and_, bindparam, func, literal, or_, select, type_coerce
from sqlalchemy.orm import configure_mappers, contains_eager, selectinload

from app.core.deadline_settings import effective_minimums
from app.core.kept import KeptValues
from app.core.paging import paginate_rows, plain_rows
from app.domain.deadlines import days_between, earliest_leaving, stage_timing
from app.domain.dossier_fields import Register, register_fields
from app.domain.errors import NotFound
from app.domain.redaction import public_view
from app.domain.vocab import RISK_CLASSES
from app.extensions import db
from app.models import (
    ConsultationComment,
    DeviceRequest,
    Organisation,
    Recommendation,
    StageRecord,
)
from app.workflow.facts import ALWAYS, IF_ADMITTED, NEVER, REQUEST, states_where
from app.workflow.labels import public_state_label
from app.workflow.states import OUTCOMES, REQUEST_STATES, TERMINAL_REQUEST_STATES

# --- who is in the register -----------------------------------------------------------------

PRE_ADMISSION_STATES = frozenset(states_where(workflow=REQUEST, on_register=NEVER))
# Reachable both before and after admission: the history decides.
EITHER_SIDE_STATES = frozenset(states_where(workflow=REQUEST, on_register=IF_ADMITTED))
ADMITTED_ONLY_STATES = frozenset(states_where(workflow=REQUEST, on_register=ALWAYS))
NOT_ADMITTED_ONLY_STATES = tuple(s for s in REQUEST_STATES if s not in ADMITTED_ONLY_STATES)
ADMISSION_STAGE = "awaiting_prioritisation"
# The states the register can show (for the stage filter), in workflow order.
REGISTER_STATES = tuple(s for s in REQUEST_STATES if s not in PRE_ADMISSION_STATES)
# Stage visits never shown on a public timeline (the draft is the manufacturer's own).
HIDDEN_STAGES = frozenset({"draft"})

FIGURES_WINDOW = timedelta(days=365)
FEED_LIMIT = 50
SUMMARY_PREVIEW_CHARS = 280

PUBLIC_OUTCOME_LABELS = {
    "recommended": _l("Recommended"),
    "recommended_restricted": _l("Recommended with restrictions"),
    "recommended_with_evidence_generation": _l("Recommended with evidence generation"),
    "only_in_research": _l("Only in research"),
    "not_recommended": _l("Not recommended"),
    "insufficient_evidence": _l("Insufficient evidence"),
}


def outcome_label(outcome: str | None) -> str:
    return str(PUBLIC_OUTCOME_LABELS.get(outcome or "", outcome or ""))


def _admission_recorded():
    """The request has an admission stage record. A scalar subquery (LIMIT 1) rather than
    EXISTS: under the OR of `in_register_clause`, PostgreSQL hashes an EXISTS over every
    admission record of the table (95k at 100k requests) on every register view, where this
    is probed, through the request's index, only for the few withdrawn or suspended rows."""
    first = (
        select(literal(1))
        .where(StageRecord.request_id == DeviceRequest.id, StageRecord.state == ADMISSION_STAGE)
        .limit(1)
        .correlate(DeviceRequest)
        .scalar_subquery()
    )
    return first.is_not(None)


def _fixed(states) -> list:
    """`states` as one bound parameter each, for IN: a list of plain values would be one
    "expanding" parameter, whose SQL SQLAlchemy renders again on every execution of every
    register statement; these are compiled once, and the database sees the same query."""
    return [literal(state) for state in states]


def in_register_clause():
    """SQL condition: the request is in the public register (see the module docstring)."""
    return and_(
        DeviceRequest.consent_to_publication.is_(True),
        DeviceRequest.submitted_at.is_not(None),
        or_(
            # The same as IN (ADMITTED_ONLY_STATES) (the CHECK constraint allows no other
            # state) but no index matches it: most requests are admitted, so PostgreSQL reads
            # the rows in the page's order and stops, rather than collecting 90% of the
            # state index first.
            DeviceRequest.state.not_in(_fixed(NOT_ADMITTED_ONLY_STATES)),
            and_(DeviceRequest.state.in_(_fixed(EITHER_SIDE_STATES)), _admission_recorded()),
        ),
    )


def is_in_register(request: DeviceRequest, stage_states: Iterable[str]) -> bool:
    """Python twin of `in_register_clause`, given the states of the request's stage records."""
    if request.consent_to_publication is not True or request.submitted_at is None:
        return False
    if request.state in ADMITTED_ONLY_STATES:
        return True
    return request.state in EITHER_SIDE_STATES and ADMISSION_STAGE in set(stage_states)


# --- the allow-list --------------------------------------------------------------------------


def _attribute(name: str) -> Callable[[DeviceRequest], object]:
    return lambda request: getattr(request, name)


def _comparators(request: DeviceRequest) -> list[str]:
    return [c.description for c in request.comparators]


def _evidence(request: DeviceRequest) -> list[dict]:
    return [
        {
            "design": item.design,
            "patients": item.patients,
            "follow_up_months": item.follow_up_months,
            "reference": item.reference,
            "published_on": item.published_on,
        }
        for item in request.evidence
    ]


def _recommendation(request: DeviceRequest) -> dict | None:
    """The published recommendation; while the consultation is open, the draft under
    consultation. Anything else (an unpublished draft outside consultation) stays private."""
    recommendation = request.recommendation
    if recommendation is None:
        return None
    if recommendation.published_at is not None:
        status = "published"
    elif request.state == "consultation":
        status = "draft"
    else:
        return None
    return {
        "status": status,
        "outcome": recommendation.outcome,
        "outcome_label": outcome_label(recommendation.outcome),
        "rationale": recommendation.rationale,
        "conditions": recommendation.conditions,
        "evidence_requirements": recommendation.evidence_requirements,
        "review_date": recommendation.review_date,
        "published_at": recommendation.published_at,
    }


def _dossier_extractors(place: Register) -> dict[str, Callable[[DeviceRequest], object]]:
    """The dossier fields the field schema lets the register show in `place`."""
    special = {"comparators": _comparators, "evidence": _evidence}
    return {name: special.get(name) or _attribute(name) for name in register_fields(place)}


# Shown everywhere (list, CSV, feed, page): cheap, needs only the request, its manufacturer
# and its recommendation loaded.
SUMMARY_EXTRACTORS: dict[str, Callable[[DeviceRequest], object]] = {
    "id": _attribute("id"),
    "reference": _attribute("receipt_number"),
    **_dossier_extractors(Register.SUMMARY),
    "manufacturer": lambda request: request.manufacturer.name,
    "state": _attribute("state"),
    "stage_label": lambda request: public_state_label(request.state),
    "submitted_at": _attribute("submitted_at"),
    "recommendation": _recommendation,
}

# Shown on the request's own page only (they need the comparators and evidence loaded).
# Prices, costs, budget impact and volumes are commercial data: the schema never lets them be
# public, whether or not the manufacturer marked them confidential.
DETAIL_EXTRACTORS = _dossier_extractors(Register.DETAIL)

# Built from the stage records (state, dates, due dates): no free text at all.
TIMING_FIELDS = (
    "timeline",
    "days_in_stage",
    "current_deadline",
    "deadlines_met",
    "deadlines_missed",
)

PUBLIC_FIELDS: tuple[str, ...] = (*SUMMARY_EXTRACTORS, *DETAIL_EXTRACTORS, *TIMING_FIELDS)


# --- stage timing ----------------------------------------------------------------------------


def deadline_status(stage: StageRecord, now: datetime) -> str | None:
    """ "met"/"missed" for a finished stage, "on_track"/"overdue" for the open one, None when
    the stage has no deadline."""
    if stage.due_at is None:
        return None
    timing = stage_timing(stage.state, stage.entered_at, stage.left_at, stage.due_at, now)
    return _deadline_word(stage, timing.late)


def _deadline_word(stage: StageRecord, late: bool) -> str | None:
    """deadline_status given whether the visit is (or was) late: `late` depends only on the
    moments and the due date, not on the clock, so a timing worked out with the visit's
    clock gives the same word."""
    if stage.due_at is None:
        return None
    if stage.left_at is None:
        return "overdue" if late else "on_track"
    return "missed" if late else "met"


class PublicLabels(dict):
    """public_state_label of each state, translated once (per serialisation of a page: the
    language cannot change in between), instead of once per stage of every row."""

    def __missing__(self, state: str) -> str:
        label = self[state] = public_state_label(state)
        return label


# The PublicLabels of each language, kept per process: a label depends only on the state and
# on the language's catalogue, which Flask-Babel loads once per process.
_LABELS_BY_LOCALE: dict[str, PublicLabels] = {}


def public_labels() -> PublicLabels:
    """The PublicLabels of the current language (`get_locale()`)."""
    locale = str(get_locale())
    labels = _LABELS_BY_LOCALE.get(locale)
    if labels is None:
        labels = _LABELS_BY_LOCALE[locale] = PublicLabels()
    return labels


def gross_days_and_late(
    entered_at: datetime, left_at: datetime | None, due: datetime | None, now: datetime
) -> tuple[float, bool]:
    """`stage_timing(...)`'s gross_days and late, alone: all a public stage shows (a page of
    the register times a few hundred visits, and the rest of the timing is half its cost)."""
    end = left_at or now
    return round(days_between(entered_at, end), 1), due is not None and end > due


def _public_stage(stage: StageRecord, now: datetime, labels: PublicLabels | None = None) -> dict:
    gross_days, late = gross_days_and_late(stage.entered_at, stage.left_at, stage.due_at, now)
    return {
        "state": stage.state,
        "label": labels[stage.state] if labels is not None else public_state_label(stage.state),
        "entered_at": stage.entered_at,
        "left_at": stage.left_at,
        "due_at": stage.due_at,
        "days": None if stage.state in TERMINAL_REQUEST_STATES else gross_days,
        "deadline": _deadline_word(stage, late),  # deadline_status, one timing
        "open": stage.left_at is None,
    }


def _timing_fields(
    request: DeviceRequest,
    stages: list[StageRecord],
    now: datetime,
    labels: PublicLabels | None = None,
) -> dict:
    timeline = [
        _public_stage(stage, now, labels)
        for stage in sorted(stages, key=lambda s: (s.entered_at, s.id or 0))
        if stage.state not in HIDDEN_STAGES
    ]
    current = next(
        (row for row in reversed(timeline) if row["open"] and row["state"] == request.state),
        None,
    )
    statuses = [row["deadline"] for row in timeline]
    return {
        "timeline": timeline,
        "days_in_stage": current["days"] if current else None,
        "current_deadline": current["deadline"] if current else None,
        "deadlines_met": statuses.count("met"),
        "deadlines_missed": statuses.count("missed") + statuses.count("overdue"),
    }


# --- the serialiser --------------------------------------------------------------------------


def to_public(
    request: DeviceRequest,
    *,
    stages: list[StageRecord],
    now: datetime,
    detail: bool = False,
    labels: PublicLabels | None = None,
) -> dict:
    """The public view of `request`, built only from `PUBLIC_FIELDS`, minus the fields the
    manufacturer marked confidential. `stages` are the request's stage records. `detail=True`
    adds the dossier summary of the request's own page. Raises NotFound for a request that is
    not in the register."""
    if not is_in_register(request, (s.state for s in stages)):
        raise NotFound("request not in the public register")
    hidden = public_view(request).hidden_fields
    extractors = SUMMARY_EXTRACTORS | (DETAIL_EXTRACTORS if detail else {})
    if labels is not None:  # (the extractor's stage label, translated once per page)
        extractors["stage_label"] = lambda request: labels[request.state]
    public = {name: extract(request) for name, extract in extractors.items() if name not in hidden}
    public |= {
        name: value
        for name, value in _timing_fields(request, stages, now, labels).items()
        if name not in hidden
    }
    return public


COMMENT_PUBLIC_FIELDS = ("id", "author_name", "text", "created_at", "answer", "answered_at")


def public_comment(comment: ConsultationComment) -> dict:
    """A published consultation comment as the public sees it (never the author's email)."""
    if comment.status != "published":
        raise NotFound("comment not published")
    return {name: getattr(comment, name) for name in COMMENT_PUBLIC_FIELDS}


def public_documents(request: DeviceRequest) -> list[dict]:
    """The documents of `request` the public may read: marked public by the agency and not
    confidential, latest version only, as allow-listed dicts (title, kind, version,
    published_at, url)."""
    from app.documents.operations import public_documents_for

    return public_documents_for(request)


# --- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterFilters:
    search: str = ""
    stage: str = ""
    outcome: str = ""
    risk_class: str = ""

    def cleaned(self) -> RegisterFilters:
        return RegisterFilters(
            search=(self.search or "").strip()[:200],
            stage=self.stage if self.stage in REGISTER_STATES else "",
            outcome=self.outcome if self.outcome in OUTCOMES else "",
            risk_class=self.risk_class if self.risk_class in RISK_CLASSES else "",
        )

    def as_args(self) -> dict:
        """The non-empty filters, as query-string arguments."""
        return {k: v for k, v in vars(self).items() if v}


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _register_base(*columns) -> Select:
    """SELECT `columns` over register requests joined to their manufacturer and (optional)
    recommendation, so the filters can use both."""
    return (
        select(*columns)
        .select_from(DeviceRequest)
        .join(Organisation, Organisation.id == DeviceRequest.manufacturer_id)
        .outerjoin(Recommendation, Recommendation.request_id == DeviceRequest.id)
        .where(in_register_clause())
    )


def _register_select() -> Select:
    configure_mappers()  # the `recommendation` backref exists once the mappers are configured
    return _register_base(DeviceRequest).options(
        contains_eager(DeviceRequest.manufacturer),
        contains_eager(DeviceRequest.recommendation),
    )


def _filtered(query: Select, filters: RegisterFilters) -> Select:
    if filters.search:
        pattern = _like(filters.search)
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        DeviceRequest.trade_name,
                        DeviceRequest.model,
                        DeviceRequest.emdn_code,
                        DeviceRequest.receipt_number,
                        Organisation.name,
                    )
                )
            )
        )
    if filters.stage:
        query = query.where(DeviceRequest.state == filters.stage)
    if filters.outcome:
        query = query.where(
            Recommendation.outcome == filters.outcome, Recommendation.published_at.is_not(None)
        )
    if filters.risk_class:
        query = query.where(DeviceRequest.risk_class == filters.risk_class)
    return query


def register_query(filters: RegisterFilters) -> Select:
    """The register's requests matching `filters`, newest submission first."""
    return _register_query(filters.cleaned())


@lru_cache(maxsize=256)
def _register_query(filters: RegisterFilters) -> Select:
    # Built once per set of filters (a SELECT is immutable, and this one depends on nothing
    # else): building it cost about as much as PostgreSQL answering the page's statements.
    return _filtered(_register_select(), filters).order_by(
        DeviceRequest.submitted_at.desc(), DeviceRequest.id.desc()
    )


class StageRow(NamedTuple):
    """The columns of a stage record the register reads (plain rows: a page of the register
    reads a few hundred, and ORM objects cost most of their time)."""

    id: int
    request_id: int
    state: str
    entered_at: datetime
    left_at: datetime | None
    due_at: datetime | None


def _stage_columns(dialect: str) -> list:
    """StageRow's columns. On PostgreSQL the moments are read as psycopg gives them (aware,
    in the session's zone) rather than through UTCDateTime, which moves each of a page's few
    hundred to UTC: the list, CSV and feed only compare and subtract them (the same in any
    zone), and the request's page, which shows them, moves its own few (`_in_utc`)."""
    columns = []
    for name in StageRow._fields:
        column = getattr(StageRecord, name)
        if dialect == "postgresql" and name.endswith("_at"):
            column = type_coerce(column, DateTime(timezone=True)).label(name)
        columns.append(column)
    return columns


@lru_cache(maxsize=64)
def _stages_of_ids(count: int, dialect: str) -> Select:
    """The stage records of `count` request ids (parameters id_0 ... id_<count - 1>), built
    once per count (a page's size): a new statement per page would be walked again for
    SQLAlchemy's cache key, and a list parameter's SQL rendered again, on each view."""
    ids = [bindparam(f"id_{n}") for n in range(count)]
    return _stages_where(StageRecord.request_id.in_(ids), dialect)


def _stages_where(condition, dialect: str) -> Select:
    return (
        select(*_stage_columns(dialect))
        .where(condition)
        .order_by(StageRecord.request_id, StageRecord.entered_at, StageRecord.id)
    )


def stages_by_request(request_ids) -> dict[int, list[StageRow]]:
    """Stage records of the given requests (a list of ids or an id subquery), in one query
    (of plain columns, read without the ORM: `plain_rows`)."""
    grouped: dict[int, list[StageRow]] = defaultdict(list)
    dialect = db.session.get_bind().dialect.name
    if isinstance(request_ids, list | tuple):
        values = {f"id_{n}": request_id for n, request_id in enumerate(request_ids)}
        rows = plain_rows(_stages_of_ids(len(values), dialect), values)
    else:
        rows = plain_rows(_stages_where(StageRecord.request_id.in_(request_ids), dialect))
    # (All at once: iterating a result fetches its rows one by one, at twice the cost.)
    for stage in map(StageRow._make, rows.all()):
        grouped[stage.request_id].append(stage)
    return grouped


def _in_utc(stage: StageRow) -> StageRow:
    """`stage` with its moments in UTC, as UTCDateTime gives them (for a page that shows
    them: `stages_by_request` may give them in the database session's zone)."""
    return stage._replace(
        entered_at=stage.entered_at.astimezone(UTC),
        left_at=stage.left_at and stage.left_at.astimezone(UTC),
        due_at=stage.due_at and stage.due_at.astimezone(UTC),
    )


def _serialise_all(requests: list, stages, now: datetime) -> list[dict]:
    labels = public_labels()
    return [to_public(r, stages=stages.get(r.id, []), now=now, labels=labels) for r in requests]


# --- summary rows, read as plain columns -----------------------------------------------------

# What `to_public` reads of a request for a summary row (the list, the CSV, the feed): the
# columns of SUMMARY_EXTRACTORS, `is_in_register`'s and the manufacturer's confidential marks
# (`public_view`); then its manufacturer's name and its recommendation's columns. Read as
# plain rows: ORM objects (request, manufacturer, recommendation) were half the list's CPU.
SUMMARY_COLUMNS = (
    "id",
    "receipt_number",
    *register_fields(Register.SUMMARY),
    "state",
    "submitted_at",
    "consent_to_publication",
    "confidential_fields",
)
RECOMMENDATION_COLUMNS = (
    "id",
    "outcome",
    "rationale",
    "conditions",
    "evidence_requirements",
    "review_date",
    "published_at",
)
_MANUFACTURER_AT = len(SUMMARY_COLUMNS)  # (the position of the manufacturer's name in a row)


def _summary_columns() -> tuple:
    return (
        *(getattr(DeviceRequest, name) for name in SUMMARY_COLUMNS),
        Organisation.name,
        *(getattr(Recommendation, name) for name in RECOMMENDATION_COLUMNS),
    )


def summary_request(row) -> SimpleNamespace:
    """A request as `to_public` reads it for a summary, from a row of `_summary_columns()`:
    its columns as attributes, `manufacturer.name`, and `recommendation` (None without one:
    the outer join gave it no id)."""
    request = SimpleNamespace(**dict(zip(SUMMARY_COLUMNS, row, strict=False)))
    request.manufacturer = SimpleNamespace(name=row[_MANUFACTURER_AT])
    recommendation = row[_MANUFACTURER_AT + 1 :]
    request.recommendation = (
        SimpleNamespace(**dict(zip(RECOMMENDATION_COLUMNS, recommendation, strict=True)))
        if recommendation[0] is not None
        else None
    )
    return request


def summary_requests(rows) -> list[SimpleNamespace]:
    return [summary_request(row) for row in rows]


@lru_cache(maxsize=256)
def _summary_query(filters: RegisterFilters) -> Select:
    """`register_query` reading the summary columns (built once per set of filters)."""
    return _filtered(_register_base(*_summary_columns()), filters).order_by(
        DeviceRequest.submitted_at.desc(), DeviceRequest.id.desc()
    )


@lru_cache(maxsize=256)
def _ids_query(filters: RegisterFilters) -> Select:
    """The ids of the register's requests matching `filters` (to count them, or to read the
    stage records of them all)."""
    return _filtered(_register_base(DeviceRequest.id), filters)


# The public summaries of the register list's rows, kept per process by everything one is
# made of (`_summary_key`): a page's rows are mostly the same from one view to the next, and
# serialising them was a fifth of the page's CPU. Shared between views: never changed.
SUMMARIES = KeptValues(
    "register.summaries",
    entries=4096,
    max_bytes=8 * 1024 * 1024,
    measure=lambda public: 2 * len(repr(public)),  # (only on a miss: rows, not pages)
)


_CONFIDENTIAL_AT = SUMMARY_COLUMNS.index("confidential_fields")


def _row_values(row) -> tuple:
    """A row of `_summary_columns()` as a key: its values, the confidential marks (a JSON
    list) as a tuple."""
    marks = row[_CONFIDENTIAL_AT]
    if not isinstance(marks, list):
        return tuple(row)
    values = list(row)
    values[_CONFIDENTIAL_AT] = tuple(marks)
    return tuple(values)


def _summary_key(locale: str, row, stages: list[StageRow], now: datetime) -> tuple | None:
    """Everything `to_public` reads for the summary of a row of `_summary_columns()` with
    its stage records: the language (labels), the row, the stage records, and what `now`
    changes of them, the days and lateness of the open visits (a closed visit's days end
    when it was left). None when a value cannot be a key."""
    now_values = tuple(
        gross_days_and_late(stage.entered_at, None, stage.due_at, now)
        for stage in stages
        if stage.left_at is None
    )
    key = (locale, _row_values(row), tuple(stages), now_values)
    try:
        hash(key)
    except TypeError:
        return None
    return key


class Summaries(list):
    """Public summaries (`to_public` dicts), with `keys`: the key each was kept under (None
    for one that could not be kept), everything it is made of (`_summary_key`)."""

    keys: tuple


def _public_summaries(rows, stages: dict[int, list[StageRow]], now: datetime) -> Summaries:
    """`_serialise_all` of the requests of `rows` (of `_summary_columns()`), each summary
    made once per process and key and then kept (`SUMMARIES`)."""
    locale = str(get_locale())
    labels = public_labels()
    summaries, keys = Summaries(), []
    for row in rows:
        request_stages = stages.get(row[0], [])
        key = _summary_key(locale, row, request_stages, now)
        public = SUMMARIES.get(key) if key is not None else None
        if public is None:
            request = summary_request(row)
            public = to_public(request, stages=request_stages, now=now, labels=labels)
            if key is not None:
                SUMMARIES.put(key, public)
        summaries.append(public)
        keys.append(key)
    summaries.keys = tuple(keys)
    return summaries


def list_register(
    filters: RegisterFilters, *, page: int, per_page: int, now: datetime
) -> tuple[Pagination, Summaries]:
    """One page of the register: the pagination (its items the page's rows of
    `_summary_columns()`) and the public rows of its requests, in two statements (the
    page's rows with their count, their stage records). The public rows are kept
    (`_public_summaries`, their keys with them): read them, never change them."""
    filters = filters.cleaned()
    pagination = paginate_rows(
        _summary_query(filters),
        page,
        per_page,
        convert=list,
        count_query=_ids_query(filters),
        kept=True,  # (both queries are built once per set of filters)
    )
    rows = pagination.items
    stages = stages_by_request([row[0] for row in rows]) if rows else {}
    return pagination, _public_summaries(rows, stages, now)


def export_rows(filters: RegisterFilters, *, now: datetime) -> list[dict]:
    """Every register row matching `filters` (for the CSV), in two queries."""
    filters = filters.cleaned()
    requests = summary_requests(db.session.execute(_summary_query(filters)))
    stages = stages_by_request(_ids_query(filters)) if requests else {}
    return _serialise_all(requests, stages, now)


def get_public_request(request_id: int, *, now: datetime) -> dict:
    """The request's public page data; NotFound unless it is in the register."""
    query = (
        _register_select()
        .where(DeviceRequest.id == request_id)
        .options(selectinload(DeviceRequest.comparators), selectinload(DeviceRequest.evidence))
    )
    request = db.session.scalars(query).unique().one_or_none()
    if request is None:
        raise NotFound("request not in the public register")
    stages = [_in_utc(stage) for stage in stages_by_request([request.id]).get(request.id, [])]
    public = to_public(request, stages=stages, now=now, detail=True)
    public["documents"] = public_documents(request)
    minimum_days = effective_minimums().get("consultation", 0)
    public["consultation"] = _consultation(public, minimum_days)
    return public


def _consultation(public: dict, minimum_days: int) -> dict:
    """Whether comments are open, until when (the consultation stage's due date), and the
    first day the recommendation may be published (the minimum consultation period)."""
    is_open = public["state"] == "consultation"
    visit = next(
        (
            row
            for row in reversed(public.get("timeline", []))
            if row["state"] == "consultation" and row["open"]
        ),
        None,
    )
    if not is_open or visit is None:
        return {"open": is_open, "closes_at": None, "publishable_from": None, "minimum_days": 0}
    earliest = earliest_leaving(visit["entered_at"], minimum_days)
    return {
        "open": True,
        "closes_at": visit["due_at"],
        "publishable_from": earliest,
        "minimum_days": minimum_days,
    }


def published_comments(request_id: int) -> list[dict]:
    """The published comments of a request, oldest first, as the public sees them."""
    comments = db.session.scalars(
        select(ConsultationComment)
        .where(
            ConsultationComment.request_id == request_id,
            ConsultationComment.status == "published",
        )
        .order_by(ConsultationComment.created_at, ConsultationComment.id)
    )
    return [public_comment(c) for c in comments]


def latest_recommendations(*, now: datetime, limit: int = FEED_LIMIT) -> list[dict]:
    """The most recently published recommendations of the register (for the Atom feed)."""
    query = (
        _register_base(*_summary_columns())
        .where(Recommendation.published_at.is_not(None))
        .order_by(Recommendation.published_at.desc(), DeviceRequest.id.desc())
        .limit(limit)
    )
    requests = summary_requests(db.session.execute(query))
    ids = [r.id for r in requests]
    stages = stages_by_request(ids) if ids else {}
    return _serialise_all(requests, stages, now)


# --- aggregate figures -----------------------------------------------------------------------


def _register_ids() -> Select:
    return select(DeviceRequest.id).where(in_register_clause())


def stage_duration_figures(now: datetime) -> list[dict]:
    """Per stage, over the stage visits of register requests that ended in the last 12 months:
    how many, the median days, and the share that missed the deadline."""
    since = now - FIGURES_WINDOW
    rows = db.session.execute(
        select(
            StageRecord.state, StageRecord.entered_at, StageRecord.left_at, StageRecord.due_at
        ).where(
            StageRecord.request_id.in_(_register_ids()),
            StageRecord.left_at.is_not(None),
            StageRecord.left_at >= since,
            StageRecord.left_at <= now,
            StageRecord.state.not_in(TERMINAL_REQUEST_STATES | HIDDEN_STAGES),
        )
    ).all()
    durations: dict[str, list[float]] = defaultdict(list)
    missed: dict[str, int] = defaultdict(int)
    with_deadline: dict[str, int] = defaultdict(int)
    for state, entered_at, left_at, due_at in rows:
        durations[state].append((left_at - entered_at).total_seconds() / 86_400)
        if due_at is not None:
            with_deadline[state] += 1
            missed[state] += left_at > due_at
    return [
        {
            "state": state,
            "label": public_state_label(state),
            "visits": len(durations[state]),
            "median_days": round(statistics.median(durations[state]), 1),
            "missed_share": (missed[state] / with_deadline[state])
            if with_deadline[state]
            else None,
        }
        for state in REQUEST_STATES
        if durations.get(state)
    ]


def requests_per_stage() -> list[dict]:
    counts = dict(
        db.session.execute(
            select(DeviceRequest.state, func.count())
            .where(in_register_clause())
            .group_by(DeviceRequest.state)
        ).all()
    )
    return [
        {"state": s, "label": public_state_label(s), "count": counts[s]}
        for s in REGISTER_STATES
        if counts.get(s)
    ]


def requests_per_outcome() -> list[dict]:
    counts = dict(
        db.session.execute(
            select(Recommendation.outcome, func.count())
            .join(DeviceRequest, DeviceRequest.id == Recommendation.request_id)
            .where(in_register_clause(), Recommendation.published_at.is_not(None))
            .group_by(Recommendation.outcome)
        ).all()
    )
    return [
        {"outcome": o, "label": outcome_label(o), "count": counts[o]}
        for o in OUTCOMES
        if counts.get(o)
    ]


def register_figures(now: datetime) -> dict:
    per_stage = requests_per_stage()
    return {
        "since": now - FIGURES_WINDOW,
        "durations": stage_duration_figures(now),
        "per_stage": per_stage,
        "per_outcome": requests_per_outcome(),
        "total": sum(row["count"] for row in per_stage),
    }


def preview(text: str, limit: int = SUMMARY_PREVIEW_CHARS) -> str:
    """The first `limit` characters of `text`, cut at a word, with an ellipsis."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


__all__ = [
    "PUBLIC_FIELDS",
    "RegisterFilters",
    "export_rows",
    "get_public_request",
    "in_register_clause",
    "is_in_register",
    "latest_recommendations",
    "list_register",
    "public_comment",
    "public_documents",
    "published_comments",
    "register_figures",
    "to_public",
]
