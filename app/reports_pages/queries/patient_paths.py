"""The paths to the first patient (`app.reports.time_to_patient`) of many adoption records at
once: the one loader the timing report, the adoption report and the public register share.

`paths_of` turns any list of records into paths with one more statement (the stage visits of
their requests), whatever their number; `app.reports_pages.queries.adoption.patient_paths`
reads the records of the filtered recommendations a reader may see, the public register
those of every published recommendation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select

from app.adoption.time_to_patient import adoption_path
from app.extensions import db
from app.models import StageRecord
from app.reports.time_to_patient import TimeToPatient, request_segments
from app.reports_pages.queries.common import aware


@dataclass(frozen=True)
class _Visit:
    state: str
    entered_at: datetime
    left_at: datetime | None
    clock_stopped: bool


@dataclass(frozen=True)
class PathRecord:
    """One adoption record as the paths need it (times as stored; `paths_of` reads them).
    After `published_at`, the fields are the columns `with_path_columns` adds, in its order
    (a query selecting the head fields, then `with_path_columns`, fills one positionally)."""

    request_id: int
    device: str
    irccs: str
    region: str | None
    published_at: datetime
    first_use_at: datetime | None
    decided_at: datetime | None = None
    decline_reason: str | None = None
    procurement_started_at: datetime | None = None
    award_date: date | None = None
    tariff_requested_at: datetime | None = None
    tariff_decided_at: datetime | None = None


def device_name(trade_name: str | None, model: str | None) -> str:
    return " ".join(p for p in (trade_name, model) if p)


def _visits_of(request_ids: Sequence[int] | Select) -> dict[int, list[_Visit]]:
    """{request id: its stage visits}: one statement. `request_ids` is a list or a SELECT of
    ids (many requests: no list of bound parameters, which SQLite caps)."""
    visits: dict[int, list[_Visit]] = {}
    if isinstance(request_ids, Sequence):
        if not request_ids:
            return visits
        request_ids = sorted(set(request_ids))
    stage = StageRecord.__table__
    stages = db.session.connection().execute(
        select(
            stage.c.request_id,
            stage.c.state,
            stage.c.entered_at,
            stage.c.left_at,
            stage.c.clock_stopped,
        ).where(stage.c.request_id.in_(request_ids))
    )
    # The columns' type gives aware UTC datetimes already.
    for rid, state, entered, left, stopped in stages:
        visits.setdefault(rid, []).append(_Visit(state, entered, left, stopped))
    return visits


def paths_of(
    records: Sequence[PathRecord], now: datetime, request_ids: Select | None = None
) -> list[tuple[PathRecord, TimeToPatient]]:
    """Each record with its path to the first patient, in the records' order (one statement:
    the visits of their requests, `request_ids` when given as a SELECT; the segments before
    the recommendation are worked out once per request)."""
    if not records:
        return []
    visits = _visits_of(request_ids if request_ids is not None else [r.request_id for r in records])
    before: dict[int, list] = {}
    paths = []
    for record in records:
        published = aware(record.published_at)
        if record.request_id not in before:
            before[record.request_id] = request_segments(
                visits.get(record.request_id, []), published
            )
        path = adoption_path(before[record.request_id], published, record, now, aware)
        paths.append((record, path))
    return paths
