"""`flask seed-demo`: every state and adoption state present, all through fire (the audit chain
verifies), the logins printed, and a second run changes nothing."""

from sqlalchemy import func, select

from app.core.audit import verify_chain
from app.domain.deadlines import rome_date
from app.extensions import db
from app.models import (
    Adoption,
    AdoptionBarrier,
    AuditEntry,
    ClinicalNeed,
    DeviceRequest,
    DomainReuse,
    EvidenceMilestone,
    NeedEndorsement,
    NeedLink,
    Organisation,
    PriorAssessment,
    Reimbursement,
    SafetyAlert,
    UsageReport,
    User,
)
from app.models.types import utcnow
from app.workflow.states import (
    ADOPTION_STATES,
    BARRIER_KINDS,
    REIMBURSEMENT_STATES,
    REQUEST_STATES,
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_demo_covers_every_state_verifies_and_is_idempotent(runner, app):
    first = runner.invoke(args=["seed-demo", "--copies", "1"])
    assert first.exit_code == 0, first.output
    assert "agenzia@demo.hta" in first.output and "demo-agenzia-2026" in first.output

    assert set(db.session.scalars(select(DeviceRequest.state))) == set(REQUEST_STATES)
    assert set(db.session.scalars(select(Adoption.state))) == set(ADOPTION_STATES)
    assert _count(UsageReport) > 0
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"admin", "agency", "assessor", "irccs", "manufacturer"}
    kinds = dict(
        db.session.execute(
            select(Organisation.kind, func.count()).group_by(Organisation.kind)
        ).all()
    )
    assert kinds["irccs"] >= 6 and kinds["regional_body"] == 3 and kinds["manufacturer"] == 3
    assert _count(ClinicalNeed) == 3 and _count(NeedEndorsement) >= 6
    assert _count(NeedLink) == 3
    assert _count(PriorAssessment) == 2 and _count(DomainReuse) == 3
    assert _count(EvidenceMilestone) == 2
    assert _count(SafetyAlert) >= 1  # demo usage over a device's threshold
    _assert_barriers_of_every_kind_and_status()
    # Regional tariffs across regions: with one copy per scenario there are four cases (the
    # region's three decisions and one under evaluation; two copies add "requested").
    tariffs = set(db.session.scalars(select(Reimbursement.state)))
    assert tariffs == set(REIMBURSEMENT_STATES) - {"requested"}
    assert len(set(db.session.scalars(select(Reimbursement.region)))) >= 2
    assert verify_chain().ok

    entries = _count(AuditEntry)
    second = runner.invoke(args=["seed-demo", "--copies", "1"])
    assert second.exit_code == 0 and "already present" in second.output
    assert _count(AuditEntry) == entries


def _assert_barriers_of_every_kind_and_status() -> None:
    """Every barrier kind, owner and status, an overdue one, one escalated then resolved,
    in several regions."""
    rows = db.session.execute(
        select(AdoptionBarrier, Organisation.region)
        .join(Adoption, Adoption.id == AdoptionBarrier.adoption_id)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
    ).all()
    barriers = [barrier for barrier, _region in rows]
    assert {b.kind for b in barriers} == set(BARRIER_KINDS)
    assert {b.owner for b in barriers} == {"irccs", "region", "agency"}
    assert {b.status for b in barriers} == {"open", "escalated", "resolved"}
    assert any(b.status == "resolved" and b.escalated_at is not None for b in barriers)
    today = rome_date(utcnow())
    assert any(b.status != "resolved" and b.due_date < today for b in barriers)  # overdue
    assert len({region for _barrier, region in rows}) >= 3
