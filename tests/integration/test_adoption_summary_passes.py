"""The adoption summary's fewer, cheaper passes (counts and curve in one statement, each
record's days worked out once, the latest usage reports among corrections only, budget
visibility once per recommendation) give the figures of their plain definitions, worked out
here in Python from the rows, after random changes: decisions before publication (0 days),
records with no decision or no use, corrections up to a third version, confidential budgets.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Adoption, DeviceRequest, Organisation, Recommendation, UsageReport
from app.reports import stats
from app.reports.filters import ReportFilters
from app.reports_pages import queries as rq
from app.reports_pages.queries.adoption import CURVE_MONTHS, MONTH_DAYS, adoption_summary
from tests.report_history import NOW, build_history

STATES = ("not_started", "local_evaluation", "in_use", "declined")


@pytest.fixture(autouse=True)
def _fresh_cache():
    rq.clear_cache()
    yield
    rq.clear_cache()


def _days(start, end):
    return None if end is None else max((end - start).total_seconds() / 86400, 0.0)


def _quarter_index(moment):
    local = moment + timedelta(hours=1)  # Rome, taken as UTC+1
    return local.year * 4 + (local.month - 1) // 3


def _expected(reader_sees_budget):
    """The summary's figures by their definitions, from the rows."""
    recs = {
        r.request_id: r
        for r in db.session.scalars(select(Recommendation))
        if r.published_at is not None and r.outcome.startswith("recommended")
    }
    records = [a for a in db.session.scalars(select(Adoption)) if a.request_id in recs]
    regions = {o.id: o.region for o in db.session.scalars(select(Organisation))}
    by_state, by_region, cells = {}, {}, {}
    decided, used = [], []
    for a in records:
        published = recs[a.request_id].published_at
        by_state[a.state] = by_state.get(a.state, 0) + 1
        d, u = _days(published, a.decided_at), _days(published, a.first_use_at)
        totals = by_region.setdefault(regions[a.irccs_id], [0, 0, 0])
        totals[0] += 1
        totals[1] += d is not None
        totals[2] += u is not None
        decided += [d] if d is not None else []
        used += [u] if u is not None else []
        avail = min(math.floor(_days(published, NOW) / MONTH_DAYS), CURVE_MONTHS)
        key = (avail, None if u is None else math.floor(u / MONTH_DAYS))
        cells[key] = cells.get(key, 0) + 1
    curve = []
    for month in range(max((a for a, _ in cells), default=-1) + 1):
        at_risk = sum(n for (a, _), n in cells.items() if a >= month)
        adopted = sum(
            n for (a, u), n in cells.items() if a >= month and u is not None and u < month
        )
        curve.append((month, adopted / at_risk if at_risk else None, at_risk))
    latest = {}
    for report in db.session.scalars(select(UsageReport)):
        key = (report.adoption_id, report.year, report.quarter)
        if key not in latest or latest[key].version < report.version:
            latest[key] = report
    adoption_request = {a.id: a.request_id for a in records}
    quarters, spend_3y = {}, Decimal(0)
    for (adoption_id, year, quarter), report in latest.items():
        if adoption_id not in adoption_request:
            continue
        q = quarters.setdefault((year, quarter), [0, 0, Decimal(0), 0, 0])
        q[0] += report.units
        q[1] += report.procedures
        q[2] += report.spend
        q[3] += report.adverse_events
        q[4] += 1
        request_id = adoption_request[adoption_id]
        start = _quarter_index(recs[request_id].published_at)
        if reader_sees_budget(request_id) and start <= year * 4 + quarter - 1 < start + 12:
            spend_3y += report.spend
    return {
        "by_state": by_state,
        "regions": {region: tuple(t) for region, t in by_region.items()},
        "decision": stats.distribution(decided),
        "first_use": stats.distribution(used),
        "curve": curve,
        "quarters": [
            (y, q, u, p, float(s), a, n) for (y, q), (u, p, s, a, n) in sorted(quarters.items())
        ],
        "spend_3y": float(spend_3y),
    }


def _figures(summary):
    return {
        "by_state": summary.by_state,
        "regions": {r.region: (r.records, r.decided, r.adopting) for r in summary.regions},
        "decision": summary.decision_days,
        "first_use": summary.first_use_days,
        "curve": summary.curve,
        "quarters": [
            (q.year, q.quarter, q.units, q.procedures, q.spend, q.adverse_events, q.reporting)
            for q in summary.quarters
        ],
        "spend_3y": summary.spend_3y_with_budget,
    }


def _assert_same(actual, expected):
    assert actual["by_state"] == expected["by_state"]
    assert actual["regions"] == expected["regions"]
    assert len(actual["curve"]) == len(expected["curve"])
    for (month, share, at_risk), (e_month, e_share, e_risk) in zip(
        actual["curve"], expected["curve"], strict=True
    ):
        assert (month, at_risk) == (e_month, e_risk)
        assert share == (None if e_share is None else pytest.approx(e_share, abs=1e-12))
    assert len(actual["quarters"]) == len(expected["quarters"])
    for row, e_row in zip(actual["quarters"], expected["quarters"], strict=True):
        assert row[:4] == e_row[:4] and row[5:] == e_row[5:]
        assert row[4] == pytest.approx(e_row[4], abs=1e-6)
    for name in ("decision", "first_use"):
        a, e = actual[name], expected[name]
        assert a.count == e.count, name
        for field in ("mean", "median", "p75", "p90"):
            # SQLite's julianday differences carry about 1e-9 days of rounding.
            assert getattr(a, field) == pytest.approx(getattr(e, field), abs=1e-6), name
    assert actual["spend_3y"] == pytest.approx(expected["spend_3y"], abs=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_summary_matches_its_definitions_after_random_changes(app, make, seed):
    history = build_history(make, db.session, with_audit=False)
    rng = random.Random(seed)
    records = list(db.session.scalars(select(Adoption).order_by(Adoption.id)))
    published = {r.request_id: r.published_at for r in db.session.scalars(select(Recommendation))}
    for _ in range(rng.randint(3, 8)):
        record = rng.choice(records)
        start = published[record.request_id]
        # Some decisions and first uses before the publication: 0 days, not negative.
        record.decided_at = rng.choice([None, start + timedelta(days=rng.uniform(-20, 400))])
        record.first_use_at = rng.choice([None, start + timedelta(days=rng.uniform(-5, 900))])
        record.state = rng.choice(STATES)
        year, quarter = rng.choice([(2024, 4), (2025, 1), (2025, 2), (2027, 3), (2030, 1)])
        existing = db.session.scalars(
            select(UsageReport.version).where(
                UsageReport.adoption_id == record.id,
                UsageReport.year == year,
                UsageReport.quarter == quarter,
            )
        ).all()
        for version in range(max(existing, default=0) + 1, rng.randint(1, 3) + 1):
            db.session.add(
                UsageReport(
                    adoption_id=record.id,
                    year=year,
                    quarter=quarter,
                    units=rng.randint(0, 30),
                    procedures=rng.randint(0, 30),
                    spend=Decimal(rng.randint(0, 10**7)) / 100,
                    adverse_events=rng.randint(0, 2),
                    version=version,
                    reported_at=NOW,
                )
            )
    db.session.flush()
    confidential = {
        r.id: "budget_impact_3y" in (r.confidential_fields or [])
        for r in db.session.scalars(select(DeviceRequest))
    }
    agency = _figures(adoption_summary(None, ReportFilters(), NOW))
    _assert_same(agency, _expected(lambda _request_id: True))
    # An IRCCS does not see a budget marked confidential: its spend against budgets differs.
    irccs = _figures(adoption_summary(history.irccs1, ReportFilters(), NOW))
    _assert_same(irccs, _expected(lambda request_id: not confidential[request_id]))
