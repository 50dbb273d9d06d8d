"""Synthetic report data for the benchmark: bulk inserts straight into the tables.

`generate(connection, requests, seed, now)` writes organisations, one agency user, requests with
about 12 stage records each (clock stops, loops, open and late stages), recommendations, IRCCS
adoption records and quarterly usage reports (with corrections as new versions). It uses
executemany / insert().values through SQLAlchemy Core, never the ORM, so 100k requests take a
minute or two rather than an hour. What the workflow keeps for the timing report is written
too: each left visit's duration (`left_stage`, as `StageRecord` keeps it) and, at the end, every
request's spans (`refresh_request_timings`, set-based).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.adoption.path_store import rebuild_patient_paths
from app.core.request_timings import refresh_request_timings
from app.domain.deadlines import left_stage
from app.domain.vocab import REGIONS, RISK_CLASSES
from app.models import (
    Adoption,
    DeviceRequest,
    Organisation,
    Recommendation,
    StageRecord,
    UsageReport,
    User,
)
from app.workflow.states import CLOCK_STOP_STATES

BATCH = 5000
IRCCS_COUNT = 40
BODY_REGIONS = REGIONS[:14]
MANUFACTURERS = 200
IRCCS_PER_RECOMMENDATION = 8
EMDN_LETTERS = "ABCDGHJKLMNPQRSTVWYZ"
DEADLINE_DAYS = {
    "intake_review": 15,
    "incomplete": 30,
    "prioritisation": 90,
    "assignment": 15,
    "assessment": 90,
    "information_requested": 30,
    "factual_accuracy_check": 14,
    "appraisal": 30,
    "consultation": 30,
    "adoption_monitoring": 3 * 365,
}
# (state, min days, max days) of the main path; loops are added in `_path`.
POSITIVE = ("recommended", "recommended_restricted", "recommended_with_evidence_generation")
NEGATIVE = ("not_recommended", "insufficient_evidence", "only_in_research")


class _Batch:
    """Collects rows per table; every BATCH rows it writes all tables, parents first, with one
    executemany each (the foreign keys are enforced)."""

    ORDER = (DeviceRequest, StageRecord, Recommendation, Adoption, UsageReport)

    def __init__(self, connection):
        self.connection = connection
        self.rows: dict = {model.__table__: [] for model in self.ORDER}

    def add(self, table, row: dict) -> None:
        bucket = self.rows[table]
        bucket.append(row)
        if len(bucket) >= BATCH:
            self.flush()

    def flush(self) -> None:
        for model in self.ORDER:
            bucket = self.rows[model.__table__]
            if bucket:
                self.connection.execute(model.__table__.insert(), bucket)
                bucket.clear()


def _organisations(connection) -> dict:
    orgs = Organisation.__table__
    rows = [{"id": 1, "name": "Agenzia centrale", "kind": "agency", "region": None}]
    next_id = 2
    bodies, irccs, manufacturers = [], [], []
    for region in BODY_REGIONS:
        rows.append(
            {"id": next_id, "name": f"HTA body {region}", "kind": "regional_body", "region": region}
        )
        bodies.append(next_id)
        next_id += 1
    for i in range(IRCCS_COUNT):
        rows.append(
            {
                "id": next_id,
                "name": f"IRCCS {i + 1:02d}",
                "kind": "irccs",
                "region": REGIONS[i % len(REGIONS)],
            }
        )
        irccs.append(next_id)
        next_id += 1
    for i in range(MANUFACTURERS):
        rows.append(
            {
                "id": next_id,
                "name": f"Manufacturer {i + 1:03d}",
                "kind": "manufacturer",
                "region": None,
            }
        )
        manufacturers.append(next_id)
        next_id += 1
    now = datetime(2020, 1, 1, tzinfo=UTC)
    for row in rows:
        row.update(active=True, created_at=now, vat_number=None, eudamed_srn=None)
    connection.execute(orgs.insert(), rows)
    connection.execute(
        User.__table__.insert(),
        [
            {
                "id": 1,
                "email": "agency@bench.example",
                "full_name": "Bench agency",
                "password_hash": "x",
                "role": "agency",
                "organisation_id": 1,
                "active": True,
                "language": "en",
                "session_token": "bench",
                "created_at": now,
            }
        ],
    )
    return {"bodies": bodies, "irccs": irccs, "manufacturers": manufacturers}


def _path(rng: random.Random) -> tuple[list[tuple[str, int]], str]:
    """The stages of one request and how it ends (an outcome, or a terminal state)."""
    stages = [("intake_review", rng.randint(2, 22))]
    if rng.random() < 0.4:
        stages += [("incomplete", rng.randint(5, 45)), ("intake_review", rng.randint(2, 10))]
    if rng.random() < 0.04:
        return stages, "inadmissible"
    stages += [
        ("awaiting_prioritisation", rng.randint(5, 120)),
        ("prioritisation", rng.randint(20, 160)),
    ]
    if rng.random() < 0.08:
        return stages, "not_prioritised"
    stages += [("assignment", rng.randint(3, 25)), ("assessment", rng.randint(30, 110))]
    for _ in range(rng.choice((1, 1, 2, 2))):
        stages += [
            ("information_requested", rng.randint(7, 40)),
            ("assessment", rng.randint(7, 40)),
        ]
    if rng.random() < 0.04:
        return stages, "withdrawn"
    stages += [
        ("factual_accuracy_check", rng.randint(5, 18)),
        ("appraisal", rng.randint(10, 50)),
        ("consultation", rng.randint(28, 36)),
    ]
    outcome = rng.choice(POSITIVE) if rng.random() < 0.75 else rng.choice(NEGATIVE)
    return stages, outcome


def generate(connection, requests: int, seed: int = 7, now: datetime | None = None) -> dict:
    """Insert `requests` synthetic requests and everything hanging off them. Returns counts."""
    rng = random.Random(seed)
    now = now or datetime(2025, 6, 30, 12, tzinfo=UTC)
    orgs = _organisations(connection)
    batch = _Batch(connection)
    counts = {"requests": 0, "stages": 0, "recommendations": 0, "adoptions": 0, "usage": 0}
    span = timedelta(days=5 * 365).total_seconds()
    stage_id = adoption_id = usage_id = 0
    for request_id in range(1, requests + 1):
        submitted = now - timedelta(seconds=rng.random() * span + 10 * 86400)
        stages, ending = _path(rng)
        request_row = _request_row(rng, request_id, orgs, submitted, now)
        stage_rows, state, published = _stage_rows(stages, ending, request_id, submitted, now, rng)
        request_row["state"] = state
        batch.add(DeviceRequest.__table__, request_row)
        for row in stage_rows:
            stage_id += 1
            batch.add(StageRecord.__table__, row | {"id": stage_id})
        counts["stages"] += len(stage_rows)
        counts["requests"] += 1
        if published is None:
            continue
        batch.add(
            Recommendation.__table__,
            {
                "id": request_id,
                "request_id": request_id,
                "outcome": ending,
                "rationale": "",
                "conditions": "",
                "evidence_requirements": "",
                "review_date": None,
                "published_at": published,
                "created_at": published,
            },
        )
        counts["recommendations"] += 1
        if ending not in POSITIVE:
            continue
        for irccs_id in rng.sample(orgs["irccs"], IRCCS_PER_RECOMMENDATION):
            adoption_id += 1
            adoption, first_use = _adoption_row(
                rng, adoption_id, request_id, irccs_id, published, now
            )
            batch.add(Adoption.__table__, adoption)
            counts["adoptions"] += 1
            if first_use is None:
                continue
            for year, quarter in _quarters(first_use, now)[:4]:
                for version in (1, 2) if rng.random() < 0.1 else (1,):
                    usage_id += 1
                    units = rng.randint(0, 40)
                    batch.add(
                        UsageReport.__table__,
                        {
                            "id": usage_id,
                            "adoption_id": adoption_id,
                            "year": year,
                            "quarter": quarter,
                            "units": units,
                            "procedures": units,
                            "spend": Decimal(units * 1850),
                            "adverse_events": rng.randint(0, 1),
                            "version": version,
                            "reported_at": now,
                            "reported_by_id": None,
                        },
                    )
                    counts["usage"] += 1
    batch.flush()
    refresh_request_timings(connection=connection)
    # The paths to the first patient read the visits, records and tariff cases just written.
    rebuild_patient_paths(connection=connection)
    return counts


def _stage_rows(stages, ending, request_id, submitted, now, rng):
    """Stage records of one request walked up to `now`; its state and publication moment."""
    rows, moment = [], submitted
    for stage_state, days in stages:
        left = moment + timedelta(days=days, hours=rng.randint(0, 23))
        open_stage = left > now
        rows.append(_stage(request_id, stage_state, moment, None if open_stage else left))
        if open_stage:
            return rows, stage_state, None
        moment = left
    published = None
    if ending in POSITIVE or ending in NEGATIVE:
        published = moment
        state = "adoption_monitoring" if ending in POSITIVE else "not_recommended"
    else:
        state = ending
    rows.append(_stage(request_id, state, moment, None))
    return rows, state, published


def _stage(request_id, state, entered, left) -> dict:
    days = DEADLINE_DAYS.get(state)
    due = entered + timedelta(days=days) if days else None
    timing = left_stage(entered, left, due)
    return {
        "request_id": request_id,
        "state": state,
        "entered_at": entered,
        "left_at": left,
        "due_at": due,
        "clock_stopped": state in CLOCK_STOP_STATES,
        "overdue_notified_at": None,
        "gross_days": timing.gross_days,
        "gross_whole_days": timing.whole_days,
        "left_late": timing.late,
    }


def _request_row(rng, request_id, orgs, submitted, now) -> dict:
    body = rng.choice(orgs["bodies"]) if rng.random() < 0.9 else None
    confidential = ["budget_impact_3y"] if rng.random() < 0.3 else []
    return {
        "id": request_id,
        "manufacturer_id": rng.choice(orgs["manufacturers"]),
        "created_by_id": None,
        "version": 1,
        "receipt_number": f"HTA-{request_id:07d}",
        "submitted_at": submitted,
        "created_at": submitted,
        "updated_at": now,
        "suspended_from": None,
        "assigned_body_id": body,
        "trade_name": f"Device {request_id}",
        "model": f"M{request_id % 97}",
        "intended_purpose": "",
        "regulation": "mdr",
        "risk_class": rng.choice(RISK_CLASSES[:4]),
        "basic_udi_di": "",
        "udi_di": "",
        "emdn_code": f"{rng.choice(EMDN_LETTERS)}{rng.randint(1, 99):02d}",
        "repertorio_number": "",
        "notified_body_number": "",
        "ce_certificate_number": "",
        "ce_certificate_issued_on": None,
        "ce_certificate_expires_on": None,
        "is_software": False,
        "uses_ai": False,
        "is_implantable": False,
        "condition": "",
        "severity": "",
        "population": "",
        "eligible_patients_per_year": None,
        "intervention": "",
        "care_setting": "",
        "outcomes": "",
        "claimed_benefits": "",
        "unmet_need": "",
        "list_price": None,
        "acquisition_cost": None,
        "running_costs_per_year": None,
        "budget_impact_3y": Decimal(rng.randint(1, 50) * 50000),
        "expected_volume_per_year": rng.randint(20, 400),
        "consent_to_publication": True,
        "confidential_fields": confidential,
        "coi_declaration": "",
        "coi_declared": True,
    }


def _adoption_row(rng, adoption_id, request_id, irccs_id, published, now):
    decided = published + timedelta(days=rng.randint(20, 500))
    first_use = None
    state = "not_started"
    if decided > now:
        decided = None
        state = rng.choice(("not_started", "not_started", "local_evaluation"))
    elif rng.random() < 0.15:
        state = "declined"
    else:
        first_use = decided + timedelta(days=rng.randint(15, 240))
        if first_use > now:
            first_use = None
            state = rng.choice(("approved_for_use", "procurement"))
        else:
            state = "in_use" if rng.random() < 0.95 else "discontinued"
    row = {
        "id": adoption_id,
        "request_id": request_id,
        "irccs_id": irccs_id,
        "state": state,
        "version": 1,
        "decline_reason": "no_budget" if state == "declined" else None,
        "created_at": published,
        "state_changed_at": decided or published,
        "decided_at": decided,
        "first_use_at": first_use,
    }
    return row, first_use


def _quarters(start: datetime, end: datetime) -> list[tuple[int, int]]:
    out = []
    year, quarter = start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (end.year, (end.month - 1) // 3 + 1):
        out.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out
