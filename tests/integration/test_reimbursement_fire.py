"""`fire` drives the regional reimbursement workflow as it drives the others: the case is
opened by `request_tariff` on an adoption record, then moved by the region's users only, each
move one audit entry in the same transaction; the deadline is the configurable
"regional_tariff"; refusals leave the case, its version and the audit trail untouched."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.audit import verify_chain
from app.core.deadline_settings import save_deadline
from app.core.fire import available_transitions, fire
from app.domain.deadlines import DeadlineRule, due_at
from app.domain.errors import (
    Conflict,
    GuardFailed,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.extensions import db
from app.models import AuditEntry, Notification, Reimbursement
from tests.workflow_support import T0, adoption_of, keep_only_guards_of, walk_to

TARIFF = {
    "tariff_kind": "outpatient",
    "tariff_code": "89.52.1",
    "tariff_amount": "640",
    "effective_date": "2026-09-01",
}


@pytest.fixture(autouse=True)
def _kernel_and_tariff_guards(monkeypatch):
    """The other areas' guards (documents, conflicts, Core Model) pass: they test them."""
    keep_only_guards_of(monkeypatch, ("app.core.guards", "app.reimbursement.service"))


@pytest.fixture
def opened(make, cast):
    """A published recommendation; IRCCS San Matteo (Lombardia) approved it and asked."""
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "adoption_monitoring", cast)
    adoption = adoption_of(request, cast.irccs_org)
    for trigger in ("start_evaluation", "approve_for_use", "request_tariff"):
        moment += timedelta(days=1)
        fire(adoption, trigger, cast.irccs, moment)
    case = db.session.scalars(select(Reimbursement)).one()
    return adoption, case, moment


def _entries(case) -> list[tuple]:
    return db.session.execute(
        select(AuditEntry.action, AuditEntry.from_state, AuditEntry.to_state)
        .where(AuditEntry.entity_type == "reimbursement", AuditEntry.entity_id == case.id)
        .order_by(AuditEntry.seq)
    ).all()


def test_the_case_opens_requested_with_its_deadline_and_is_decided_by_the_region(opened, cast):
    _adoption, case, moment = opened
    assert (case.region, case.state, case.requested_at) == ("lombardia", "requested", moment)
    assert case.due_at == due_at(DeadlineRule(90), moment)
    assert [t.trigger for t in available_transitions(cast.assessor, case)] == [
        "start_tariff_evaluation"
    ]
    fire(case, "start_tariff_evaluation", cast.assessor, moment + timedelta(days=2))
    entry = fire(case, "assign_tariff", cast.colleague, moment + timedelta(days=9), **TARIFF)
    assert case.state == "assigned" and case.decided_at == moment + timedelta(days=9)
    assert case.tariff_amount == Decimal("640.00") and case.tariff_kind == "outpatient"
    assert entry.data["tariff_code"] == "89.52.1" and entry.request_id == case.request_id
    assert _entries(case) == [
        ("request_tariff", None, "requested"),
        ("start_tariff_evaluation", "requested", "under_evaluation"),
        ("assign_tariff", "under_evaluation", "assigned"),
    ]
    assert verify_chain().ok


def test_only_the_regions_users_act_and_other_regions_do_not_see_the_case(opened, cast):
    _, case, moment = opened
    seen = (case.state, case.version, len(_entries(case)))
    with pytest.raises(NotFound):
        fire(case, "start_tariff_evaluation", cast.other_assessor, moment)  # Veneto
    with pytest.raises(NotFound):
        fire(case, "start_tariff_evaluation", cast.other_irccs, moment)  # Liguria
    for reader in (cast.agency, cast.irccs, cast.manufacturer):
        with pytest.raises(PermissionDenied):
            fire(case, "start_tariff_evaluation", reader, moment)
        assert available_transitions(reader, case) == []
    assert (case.state, case.version, len(_entries(case))) == seen


def test_refusals_leave_the_case_untouched(opened, cast):
    _, case, moment = opened
    seen = (case.state, case.version, len(_entries(case)))
    with pytest.raises(InvalidTransition):
        fire(case, "assign_tariff", cast.assessor, moment, **TARIFF)
    with pytest.raises(Conflict):
        fire(case, "start_tariff_evaluation", cast.assessor, moment, expected_version=99)
    fire(case, "start_tariff_evaluation", cast.assessor, moment)
    seen = (case.state, case.version, len(_entries(case)))
    with pytest.raises(ValidationFailed) as refused:
        fire(case, "assign_tariff", cast.assessor, moment, **(TARIFF | {"tariff_amount": "-3"}))
    assert refused.value.details["fields"] == {"tariff_amount": "invalid_amount"}
    with pytest.raises(ValidationFailed):
        fire(case, "refuse_tariff", cast.assessor, moment)  # a refusal needs its reason
    assert (case.state, case.version, len(_entries(case))) == seen


def test_one_case_per_region_a_second_irccs_of_the_region_waits_for_it(make, opened, cast):
    adoption, _case, moment = opened
    neighbour = make.org("irccs", name="IRCCS Besta")  # Lombardia too
    user = make.user("irccs", organisation=neighbour)
    from app.models import Adoption

    second = Adoption(request_id=adoption.request_id, irccs_id=neighbour.id, state="procurement")
    db.session.add(second)
    db.session.flush()
    with pytest.raises(GuardFailed) as refused:
        fire(second, "request_tariff", user, moment)
    assert refused.value.details["code"] == "tariff_already_requested"
    assert db.session.scalar(select(func.count()).select_from(Reimbursement)) == 1


def test_the_agency_may_ask_for_an_irccs_and_the_region_is_told(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "adoption_monitoring", cast)
    adoption = adoption_of(request, cast.irccs_org)
    fire(adoption, "start_evaluation", cast.irccs, moment)
    save_deadline("regional_tariff", 30, True)
    fire(adoption, "request_tariff", cast.agency, moment)
    case = db.session.scalars(select(Reimbursement)).one()
    assert case.due_at == due_at(DeadlineRule(30, working_days=True), moment)
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "tariff_requested")
        )
    )
    assert told == {cast.assessor.id, cast.colleague.id}  # Lombardia's body, not Veneto's
    assert case.requested_at > T0
