"""Adoption barriers through `fire`: recorded by the IRCCS after a decline or a stall,
escalated, resolved by whoever may; each step one audit entry in the same transaction, the
barrier row matching what the trail says, and every refusal leaving nothing behind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.fire import available_transitions, fire
from app.domain.errors import GuardFailed, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import Adoption, AdoptionBarrier, AuditEntry

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
DUE = date(2026, 7, 15)


@pytest.fixture
def scene(make):
    """Two IRCCS in Lazio and one in Toscana, the Lazio and Toscana regional bodies, the
    agency; one request with a declined record (Lazio 1), a record stalled in local evaluation
    for 120 days (Lazio 2) and a fresh one (Toscana)."""
    request = make.request()
    lazio1 = make.org("irccs", region="lazio", name="IRCCS Roma")
    lazio2 = make.org("irccs", region="lazio", name="IRCCS Frascati")
    toscana = make.org("irccs", region="toscana", name="IRCCS Pisa")

    def record(irccs, state, days_in_state, **extra):
        moment = NOW - timedelta(days=days_in_state)
        adoption = Adoption(
            request_id=request.id,
            irccs_id=irccs.id,
            state=state,
            created_at=moment,
            state_changed_at=moment,
            **extra,
        )
        db.session.add(adoption)
        return adoption

    scene = type("Scene", (), {})()
    scene.declined = record(lazio1, "declined", 3, decline_reason="awaiting_regional_tariff")
    scene.stalled = record(lazio2, "local_evaluation", 120)
    scene.fresh = record(toscana, "local_evaluation", 10)
    db.session.flush()
    scene.irccs1 = make.user("irccs", organisation=lazio1)
    scene.irccs2 = make.user("irccs", organisation=lazio2)
    scene.irccs_toscana = make.user("irccs", organisation=toscana)
    scene.lazio = make.user("assessor", organisation=make.org("regional_body", region="lazio"))
    scene.toscana = make.user("assessor", organisation=make.org("regional_body", region="toscana"))
    scene.agency = make.user("agency")
    db.session.commit()
    return scene


def _record(adoption, actor, owner="region", kind="awaiting_tariff", due=DUE, **extra):
    return fire(
        adoption,
        "record_barrier",
        actor,
        NOW,
        barrier_kind=kind,
        barrier_description="The region has no tariff for the procedure yet.",
        barrier_owner=owner,
        barrier_due_date=due,
        **extra,
    )


def _barrier(entry) -> AdoptionBarrier:
    return db.session.get(AdoptionBarrier, entry.data["barrier"])


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_a_declining_irccs_records_a_barrier_audited_with_its_data(scene):
    version = scene.declined.version
    entry = _record(scene.declined, scene.irccs1)
    db.session.commit()
    barrier = _barrier(entry)
    assert (barrier.kind, barrier.owner, barrier.status, barrier.due_date) == (
        "awaiting_tariff",
        "region",
        "open",
        DUE,
    )
    assert entry.action == "record_barrier"
    assert entry.from_state == entry.to_state == "declined"
    assert entry.data["barrier_owner"] == "region"
    assert scene.declined.state == "declined" and scene.declined.version == version + 1


def test_a_stalled_record_may_get_a_barrier_a_fresh_one_not(scene):
    _record(scene.stalled, scene.irccs2, owner="irccs", kind="training")
    before = _audit_count()
    with pytest.raises(GuardFailed) as refused:
        _record(scene.fresh, scene.irccs_toscana, owner="irccs")
    assert refused.value.details["code"] == "not_stalled"
    # Local evaluation: a record is stalled after 90 days in it; this one has been there 10.
    assert refused.value.details["failure"].details == {"after_days": 90, "stayed_days": 10}
    assert _audit_count() == before
    assert db.session.scalar(select(func.count()).select_from(AdoptionBarrier)) == 1


def test_bad_barrier_data_is_refused_field_by_field(scene):
    with pytest.raises(ValidationFailed) as refused:
        _record(scene.declined, scene.irccs1, owner="mayor", kind="", due=NOW.date())
    assert refused.value.details["fields"] == {
        "barrier_kind": "required",
        "barrier_owner": "invalid_choice",
        "barrier_due_date": "not_in_future",
    }


def test_only_the_record_s_irccs_records_a_barrier(scene):
    with pytest.raises(NotFound):
        _record(scene.declined, scene.irccs2)  # another IRCCS: the record does not exist
    with pytest.raises(PermissionDenied):
        _record(scene.declined, scene.agency)  # the agency resolves, it does not record


def test_escalation_then_resolution_by_the_agency(scene):
    barrier = _barrier(_record(scene.declined, scene.irccs1, owner="irccs", kind="no_budget"))
    entry = fire(
        scene.declined,
        "escalate_barrier",
        scene.irccs1,
        NOW + timedelta(days=1),
        reason="The board refused the budget twice.",
        barrier=barrier.id,
    )
    assert (barrier.status, barrier.escalation_reason) == (
        "escalated",
        "The board refused the budget twice.",
    )
    assert entry.reason == "The board refused the budget twice."
    # Escalated once is enough.
    with pytest.raises(GuardFailed) as again:
        fire(scene.declined, "escalate_barrier", scene.agency, NOW, reason="x", barrier=barrier.id)
    assert again.value.details["code"] == "not_open"
    fire(
        scene.declined,
        "resolve_barrier",
        scene.agency,
        NOW + timedelta(days=9),
        barrier=barrier.id,
        resolution_note="Funded from the innovation fund.",
    )
    db.session.commit()
    assert barrier.status == "resolved"
    assert barrier.resolution_note == "Funded from the innovation fund."
    assert barrier.resolved_at == NOW + timedelta(days=9)


def test_the_region_s_users_resolve_the_barriers_the_region_owns(scene):
    region_owned = _barrier(_record(scene.declined, scene.irccs1))
    irccs_owned = _barrier(_record(scene.declined, scene.irccs1, owner="irccs"))
    db.session.commit()
    # Another region's user is not party to the record at all.
    with pytest.raises(NotFound):
        fire(
            scene.declined,
            "resolve_barrier",
            scene.toscana,
            NOW,
            barrier=region_owned.id,
            resolution_note="x",
        )
    # The region's user may not resolve what the IRCCS owns ...
    with pytest.raises(GuardFailed) as refused:
        fire(
            scene.declined,
            "resolve_barrier",
            scene.lazio,
            NOW,
            barrier=irccs_owned.id,
            resolution_note="x",
        )
    assert refused.value.details["code"] == "not_owner"
    # ... nor escalate, record, or move the record.
    triggers = {spec.trigger for spec in available_transitions(scene.lazio, scene.declined)}
    assert triggers == {"resolve_barrier"}
    fire(
        scene.declined,
        "resolve_barrier",
        scene.lazio,
        NOW,
        barrier=region_owned.id,
        resolution_note="DRG tariff 35.A assigned by regional decree.",
    )
    db.session.commit()
    assert region_owned.status == "resolved" and irccs_owned.status == "open"


def test_a_barrier_of_another_record_is_unknown_here(scene):
    other = _barrier(_record(scene.stalled, scene.irccs2, owner="irccs"))
    with pytest.raises(GuardFailed) as refused:
        fire(
            scene.declined,
            "resolve_barrier",
            scene.agency,
            NOW,
            barrier=other.id,
            resolution_note="x",
        )
    assert refused.value.details["code"] == "unknown_barrier"
    assert other.status == "open"


# --- Notifications -----------------------------------------------------------------------------


def _told(kind: str) -> dict[int, dict]:
    from app.models import Notification

    return {
        n.user_id: n.params
        for n in db.session.scalars(select(Notification).where(Notification.kind == kind))
    }


def test_the_owner_is_told_when_a_barrier_is_recorded_and_the_agency_when_escalated(scene):
    barrier = _barrier(_record(scene.declined, scene.irccs1))  # owned by the region (Lazio)
    told = _told("barrier_recorded")
    assert set(told) == {scene.lazio.id}  # not Toscana's body, not the IRCCS, not the agency
    assert told[scene.lazio.id] == {
        "ref": f"#{scene.declined.request_id}",
        "barrier_kind": "awaiting_tariff",
        "barrier": barrier.id,
    }  # codes only: the description typed never reaches a message
    fire(scene.declined, "escalate_barrier", scene.irccs1, NOW, reason="x", barrier=barrier.id)
    assert set(_told("barrier_escalated")) == {scene.agency.id}


def test_an_overdue_barrier_reminds_its_holder_once(scene, app):
    from app.adoption.barriers import remind_overdue
    from app.notifications.inbox import link_path

    barrier = _barrier(_record(scene.stalled, scene.irccs2, owner="irccs", due=DUE))
    db.session.commit()
    assert remind_overdue(NOW) == 0  # not due yet
    late = datetime(2026, 7, 20, 9, tzinfo=UTC)
    assert remind_overdue(late) == 1
    assert remind_overdue(late + timedelta(days=1)) == 0  # once per barrier and holder
    assert set(_told("barrier_overdue")) == {scene.irccs2.id}
    from app.models import Notification

    notification = db.session.scalars(
        select(Notification).where(Notification.kind == "barrier_overdue")
    ).one()
    with app.test_request_context():
        assert link_path(notification) == f"/adoptions/barriers/{barrier.id}"
    # Escalated, the agency holds it and is reminded in turn.
    fire(scene.stalled, "escalate_barrier", scene.irccs2, late, reason="x", barrier=barrier.id)
    assert remind_overdue(late + timedelta(days=2)) == 1
    assert scene.agency.id in _told("barrier_overdue")
