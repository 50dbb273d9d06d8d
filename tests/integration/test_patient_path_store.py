"""The read model of the paths to the first patient (`patient_paths`, `app.adoption.path_store`)
equals the live computation (`paths_of` over the records, their procurement, their region's
tariff case and their request's visits) after every change made through the workflow, over
random histories; the adoption report (stored reached paths, live open ones) lists exactly
the live paths; and a change shows up on the next view of the timing report, the adoption
report and the public adoption map."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.adoption.time_to_patient import with_path_columns
from app.core.fire import fire
from app.domain.errors import DomainError
from app.extensions import db
from app.models import (
    Adoption,
    Organisation,
    PatientPathRow,
    Recommendation,
    Reimbursement,
)
from app.models.types import utcnow
from app.reports.filters import ReportFilters
from app.reports.time_to_patient import HOLDERS
from app.reports_pages import queries as report_queries
from app.reports_pages.queries.adoption import patient_paths
from app.reports_pages.queries.patient_paths import PathRecord, paths_of
from app.workflow.definitions import ADOPTION_WORKFLOW, REIMBURSEMENT_WORKFLOW
from tests.workflow_support import keep_only_guards_of, make_cast, valid_data, walk_to

SEEDS = range(12)
STEPS = 20


@pytest.fixture(autouse=True)
def workflow_guards_only(monkeypatch):
    """The documents' and scores' guards pass (their areas test them); the workflow's and the
    tariff's apply. Every hook runs, the read model's included."""
    keep_only_guards_of(monkeypatch, ("app.core.guards", "app.reimbursement.service"))


@pytest.fixture
def cast(make):
    cast = make_cast(make)
    liguria = make.org("regional_body", name="Liguria HTA Unit", region="liguria")
    cast.liguria_assessor = make.user("assessor", organisation=liguria)
    db.session.commit()
    return cast


def _live(request_ids, now) -> dict[int, tuple[bool, dict | None, float | None]]:
    """{adoption id: (reached, days by holder, total)} worked out from the data now."""
    query = with_path_columns(
        select(Adoption.id, Adoption.request_id, Organisation.region, Recommendation.published_at)
        .select_from(Adoption)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
        .join(Recommendation, Recommendation.request_id == Adoption.request_id)
        .where(Recommendation.published_at.is_not(None), Adoption.request_id.in_(request_ids))
    )
    rows = db.session.execute(query).all()
    records = [PathRecord(rid, "", "", region, *rest) for _id, rid, region, *rest in rows]
    live = {}
    for (adoption_id, *_rest), (_record, path) in zip(rows, paths_of(records, now), strict=True):
        reached = path.reached_patient
        live[adoption_id] = (
            reached,
            path.days_by_holder() if reached else None,
            path.total_days if reached else None,
        )
    return live


def _stored(request_ids) -> dict[int, tuple[bool, dict | None, float | None]]:
    rows = db.session.scalars(
        select(PatientPathRow).where(PatientPathRow.request_id.in_(request_ids))
    ).all()
    return {
        row.adoption_id: (
            row.reached,
            {h: getattr(row, f"{h}_days") for h in HOLDERS} if row.reached else None,
            row.total_days,
        )
        for row in rows
    }


def _actor(cast, obj):
    if isinstance(obj, Reimbursement):
        return cast.assessor if obj.region == "lombardia" else cast.liguria_assessor
    return cast.irccs if obj.irccs_id == cast.irccs_org.id else cast.other_irccs


def _step(rng, cast, request, moment):
    """One random transition of an adoption record or a tariff case (or nothing, when the
    chosen one is refused: its guard, its state)."""
    objects = list(
        db.session.scalars(select(Adoption).where(Adoption.request_id == request.id))
    ) + list(
        db.session.scalars(select(Reimbursement).where(Reimbursement.request_id == request.id))
    )
    obj = rng.choice(objects)
    workflow = REIMBURSEMENT_WORKFLOW if isinstance(obj, Reimbursement) else ADOPTION_WORKFLOW
    specs = [
        s for s in workflow.transitions if obj.state in s.sources and "barrier" not in s.trigger
    ]
    if not specs:
        return
    spec = rng.choice(specs)
    reason, data = valid_data(spec, cast)
    if spec.trigger == "start_procurement":
        data = {"procurement_route": "direct"}
    try:
        fire(obj, spec.trigger, _actor(cast, obj), moment, reason=reason, **data)
    except DomainError:
        db.session.rollback()
        return
    db.session.commit()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_stored_paths_are_the_live_ones_after_every_change(make, cast, seed):
    rng = random.Random(seed)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    db.session.commit()
    moment = walk_to(request, "adoption_monitoring", cast)
    db.session.commit()
    assert _stored([request.id]) == _live([request.id], moment)
    assert len(_stored([request.id])) == 2  # one per active IRCCS
    for _ in range(STEPS):
        moment += timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23))
        _step(rng, cast, request, moment)
        assert _stored([request.id]) == _live([request.id], moment)

    # The adoption report lists every path exactly as the live computation does: the stored
    # days for those that reached the first patient, `now` for the open ones.
    now = moment + timedelta(days=3)
    live = _live([request.id], now)
    listed = patient_paths(None, ReportFilters(), now)
    records = db.session.execute(
        with_path_columns(
            select(
                Adoption.id, Adoption.request_id, Organisation.region, Recommendation.published_at
            )
            .select_from(Adoption)
            .join(Organisation, Organisation.id == Adoption.irccs_id)
            .join(Recommendation, Recommendation.request_id == Adoption.request_id)
            .where(Adoption.request_id == request.id)
        )
    ).all()
    expected = paths_of([PathRecord(r[1], "", "", r[2], *r[3:]) for r in records], now)
    got = sorted(
        (p[4].reached_patient, p[4].total_days, tuple(p[4].days_by_holder().values()))
        for p in listed
    )
    want = sorted(
        (p.reached_patient, p.total_days, tuple(p.days_by_holder().values())) for _r, p in expected
    )
    assert got == want
    assert sum(1 for reached, _d, _t in live.values() if reached) == sum(g[0] for g in got)


def _first_use(cast, request, moment):
    adoption = db.session.scalars(
        select(Adoption).where(
            Adoption.request_id == request.id, Adoption.irccs_id == cast.irccs_org.id
        )
    ).one()
    for trigger in ("start_evaluation", "approve_for_use", "start_use"):
        moment += timedelta(days=4)
        fire(adoption, trigger, cast.irccs, moment)
    db.session.commit()


def _public_row(client, request_id):
    rows = list(
        csv.reader(io.StringIO(client.get("/register/adoption.csv").get_data(as_text=True)))
    )
    header = rows[0]
    mine = [r for r in rows[1:] if r[0] == str(request_id)]
    overall = next(r for r in mine if r[header.index("Region")] == "All regions")
    return overall[header.index("IRCCS that have treated a first patient")]


def test_a_first_patient_shows_on_the_next_view_of_each_page(make, cast, client, login):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    db.session.commit()
    moment = walk_to(request, "adoption_monitoring", cast)
    db.session.commit()
    report_queries.clear_cache()
    login(cast.agency)
    timing = "/reports/timing.csv?lang=en&table=time_to_patient_holders"
    adoption = "/reports/adoption.csv?lang=en&table=time_to_patient"
    held = list(csv.reader(io.StringIO(client.get(timing).data.decode("utf-8-sig"))))
    assert held[1][1] == "0"  # no IRCCS with a first patient yet
    paths = list(csv.reader(io.StringIO(client.get(adoption).data.decode("utf-8-sig"))))
    assert [row[4] for row in paths[1:]] == ["not yet", "not yet"]
    assert _public_row(client, request.id) == "0"

    _first_use(cast, request, moment)

    held = list(csv.reader(io.StringIO(client.get(timing).data.decode("utf-8-sig"))))
    assert {row[1] for row in held[1:]} == {"1"}
    paths = list(csv.reader(io.StringIO(client.get(adoption).data.decode("utf-8-sig"))))
    assert sorted(row[4] for row in paths[1:]) == ["not yet", "yes"]
    assert _public_row(client, request.id) == "1"


def test_the_demo_datas_stored_paths_are_the_live_ones(runner, app):
    """The demo goes through the workflow (tariffs, procurement, designated centres): every
    path it leaves is stored as the live computation says, reached ones with their days.
    (Equality is over every published recommendation's records, the open ones included.)"""
    assert runner.invoke(args=["seed-demo", "--copies", "1"]).exit_code == 0
    ids = list(db.session.scalars(select(Recommendation.request_id)))
    stored = _stored(ids)
    assert stored == _live(ids, utcnow())
    assert any(reached for reached, _days, _total in stored.values())


def test_flask_report_rebuild_paths_rewrites_every_row(make, cast, runner):
    """After a bulk load that bypassed the workflow (here: the rows wiped), the command puts
    back every path as the live computation says."""
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    db.session.commit()
    moment = walk_to(request, "adoption_monitoring", cast)
    _first_use(cast, request, moment)
    db.session.execute(PatientPathRow.__table__.delete())
    db.session.commit()
    assert _stored([request.id]) == {}

    result = runner.invoke(args=["report", "rebuild-paths"])
    assert result.exit_code == 0, result.output
    assert "Rewrote 2 paths" in result.output
    db.session.expire_all()
    stored = _stored([request.id])
    assert stored == _live([request.id], moment) and len(stored) == 2
    assert sorted(reached for reached, _d, _t in stored.values()) == [False, True]
