"""The read model of the paths to the first patient (`PatientPathRow`, table `patient_paths`),
rewritten per request in the transaction of every change that can alter a path.

A path reads the request's stage visits and its recommendation's publication, the adoption
record (decision, decline, first use), its procurement (start, award) and its region's
tariff case (requested, decided): see `app.adoption.time_to_patient.with_path_columns`.
Those change only through `fire`, so this module registers transition hooks on the triggers
that write them (request: the publication, republication included, and designated centres;
adoption: every step, `record_award` and `start_use` included, and `request_tariff`, which
opens the region's case; reimbursement: every step and decision). The hook
rewrites the rows of the request concerned from the same live computation the request page
uses (`paths_of`), so the stored days are the live ones by construction.

Only paths that reached the first patient carry days: those are fixed. An open path grows
with the clock; the adoption report's table, the only reader listing open paths, works them
out live (`app.reports_pages.queries.adoption.patient_paths`).

`rebuild_patient_paths` (no request list) rewrites every row: `flask report rebuild-paths`,
the benchmark's synthetic data and the migration that creates the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select

from app.adoption.time_to_patient import with_path_columns
from app.core.transition_hooks import after
from app.extensions import db
from app.models import Adoption, Organisation, PatientPathRow, Recommendation
from app.reports.time_to_patient import HOLDERS, TimeToPatient
from app.reports_pages.queries.common import aware
from app.reports_pages.queries.patient_paths import PathRecord, paths_of
from app.workflow.definitions import ADOPTION_WORKFLOW, REIMBURSEMENT_WORKFLOW

# One column per holder, named after it.
HOLDER_COLUMNS = {holder: PatientPathRow.days_column(holder).key for holder in HOLDERS}
# Requests whose paths are rebuilt together (a bound list of ids: under SQLite's limit).
CHUNK = 2000


def _triggers(workflow) -> tuple[str, ...]:
    return tuple(sorted({spec.trigger for spec in workflow.transitions}))


def _records_query(request_ids: list[int]):
    """(adoption id, irccs id, PathRecord fields...) of the adoption records of the published
    recommendations of `request_ids`."""
    query = with_path_columns(
        select(
            Adoption.id,
            Adoption.irccs_id,
            Adoption.request_id,
            Organisation.region,
            Recommendation.published_at,
        )
        .select_from(Adoption)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
        .join(Recommendation, Recommendation.request_id == Adoption.request_id)
        .where(Recommendation.published_at.is_not(None), Adoption.request_id.in_(request_ids))
    )
    return query.order_by(Adoption.request_id, Adoption.id)


def row_of(adoption_id: int, irccs_id: int, record: PathRecord, path: TimeToPatient) -> dict:
    """The stored row of one path (days only once it reached the first patient)."""
    row = {
        "adoption_id": adoption_id,
        "request_id": record.request_id,
        "irccs_id": irccs_id,
        "region": record.region,
        "published_at": record.published_at,
        "first_use_at": record.first_use_at,
        "reached": path.reached_patient,
        "total_days": None,
        "from_publication_days": None,
    } | dict.fromkeys(HOLDER_COLUMNS.values())
    if path.reached_patient:
        published = aware(record.published_at)
        days = path.days_by_holder()
        row |= {HOLDER_COLUMNS[h]: days[h] for h in HOLDERS}
        row["total_days"] = path.total_days
        # The same sum as the public register's "from publication" (segments from then on).
        row["from_publication_days"] = sum(s.days for s in path.segments if s.start >= published)
    return row


def _rows(connection, request_ids: list[int]) -> list[dict]:
    """The rows of the adoption records of `request_ids` (two statements)."""
    fetched = connection.execute(_records_query(request_ids)).all()
    keyed = [
        (adoption_id, irccs_id, PathRecord(rid, "", "", region, published, *times))
        for adoption_id, irccs_id, rid, region, published, *times in fetched
    ]
    # `now` is irrelevant to the stored figures: only reached paths carry days.
    now = datetime.now(UTC)
    ids = sorted({record.request_id for _a, _i, record in keyed})
    paths = paths_of([record for _a, _i, record in keyed], now, ids, connection)
    return [
        row_of(adoption_id, irccs_id, record, path)
        for (adoption_id, irccs_id, _r), (record, path) in zip(keyed, paths, strict=True)
    ]


def _flushed_session():
    """The session's connection, with the session's pending changes written (the paths are
    read with Core statements, which do not flush)."""
    db.session.flush()
    return db.session.connection()


def refresh_patient_paths(request_ids: Iterable[int], connection=None) -> None:
    """Rewrite the rows of the adoption records of `request_ids` (three statements at most:
    the records, their visits, then the delete and the insert)."""
    connection = connection if connection is not None else _flushed_session()
    chosen = sorted(set(request_ids))
    table = PatientPathRow.__table__
    rows = _rows(connection, chosen)
    connection.execute(delete(table).where(table.c.request_id.in_(chosen)))
    if rows:
        connection.execute(insert(table), rows)


def rebuild_patient_paths(connection=None) -> int:
    """Rewrite every row from the data, `CHUNK` requests at a time (bounded memory at any
    size); returns how many were written."""
    connection = connection if connection is not None else _flushed_session()
    table = PatientPathRow.__table__
    connection.execute(delete(table))
    published = connection.scalars(
        select(Recommendation.request_id)
        .where(Recommendation.published_at.is_not(None))
        .order_by(Recommendation.request_id)
    ).all()
    written = 0
    for start in range(0, len(published), CHUNK):
        rows = _rows(connection, published[start : start + CHUNK])
        if rows:
            connection.execute(insert(table), rows)
        written += len(rows)
    return written


# The request's transitions that change a path: the publication (and a republication after a
# reassessment) sets the moment the paths turn at and opens the records; a designated centre
# gets its record. The others do not: the visits before the publication are closed by it,
# and the paths ignore the visits after it.
REQUEST_TRIGGERS = ("publish", "designate_centre")


@after("request", *REQUEST_TRIGGERS)
def keep_request_paths(request, spec, actor, now, data, entry) -> None:
    """Publication (and republication after a reassessment) and designated centres."""
    refresh_patient_paths([request.id])


@after("adoption", *_triggers(ADOPTION_WORKFLOW))
def keep_adoption_paths(adoption, spec, actor, now, data, entry) -> None:
    """Each step of a record, its procurement and award, its first patient, and the opening
    of its region's tariff case (which changes the path of every IRCCS of that region)."""
    refresh_patient_paths([adoption.request_id])


@after("reimbursement", *_triggers(REIMBURSEMENT_WORKFLOW))
def keep_tariff_paths(case, spec, actor, now, data, entry) -> None:
    """The region's decision ends its days on the paths of its IRCCS."""
    refresh_patient_paths([case.request_id])
