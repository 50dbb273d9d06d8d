"""Adoption barriers as declared: the internal transitions of the adoption workflow (who,
from where, with what data), the decline reasons' suggested barriers, the permission
predicates, and the report's figures per region and kind (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from app.domain import permissions
from app.reports.barriers import BarrierFact, barrier_figures
from app.workflow.definitions import ADOPTION_WORKFLOW
from app.workflow.facts import ADOPTION, facts
from app.workflow.states import (
    ADOPTION_STATES,
    BARRIER_KINDS,
    BARRIER_OWNERS,
    DECLINE_BARRIERS,
    DECLINE_REASONS,
)


def _specs(trigger):
    return ADOPTION_WORKFLOW.by_trigger(trigger)


def test_barrier_transitions_are_internal_and_carry_their_data():
    for trigger in ("record_barrier", "resolve_barrier", "escalate_barrier"):
        for spec in _specs(trigger):
            assert spec.internal and spec.sources == (spec.dest,)
    record = _specs("record_barrier")[0]
    assert [(f.name, f.kind, f.required) for f in record.fields] == [
        ("barrier_kind", "choice", True),
        ("barrier_description", "textarea", True),
        ("barrier_owner", "choice", True),
        ("barrier_due_date", "date", True),
    ]
    assert record.fields[0].choices == BARRIER_KINDS
    assert record.fields[2].choices == BARRIER_OWNERS
    assert record.fields[3].future_only
    assert record.guards == ("barrier_recordable",)
    assert _specs("escalate_barrier")[0].reason_required


def test_who_fires_what_and_from_where():
    record_sources = {s for spec in _specs("record_barrier") for s in spec.sources}
    # Declined at once, stalled after a while; never once the device is (or was) in use.
    assert "declined" in record_sources and "not_started" in record_sources
    assert "in_use" not in record_sources and "discontinued" not in record_sources
    assert facts("declined", ADOPTION).barrier_after_days == 0
    assert all(facts(s, ADOPTION).barrier_after_days > 0 for s in record_sources - {"declined"})
    for trigger in ("resolve_barrier", "escalate_barrier"):
        assert {s for spec in _specs(trigger) for s in spec.sources} == set(ADOPTION_STATES)
    assert _specs("record_barrier")[0].roles == {"irccs"}
    assert _specs("resolve_barrier")[0].roles == {"irccs", "agency", "assessor"}
    assert _specs("escalate_barrier")[0].roles == {"irccs", "agency"}


def test_each_suggested_barrier_comes_from_a_decline_reason():
    assert set(DECLINE_BARRIERS) <= set(DECLINE_REASONS)
    for kind, owner in DECLINE_BARRIERS.values():
        assert kind in BARRIER_KINDS and owner in BARRIER_OWNERS
    assert DECLINE_BARRIERS["awaiting_regional_tariff"] == ("awaiting_tariff", "region")


def _org(kind, region, id_=1):
    return SimpleNamespace(id=id_, kind=kind, region=region)


def _user(role, organisation):
    return SimpleNamespace(
        id=9, role=role, organisation_id=organisation.id, organisation=organisation
    )


def test_the_permission_predicates():
    irccs = _org("irccs", "lazio", 1)
    adoption = SimpleNamespace(request_id=1, irccs_id=1, irccs=irccs)
    own = _user("irccs", irccs)
    other = _user("irccs", _org("irccs", "lazio", 2))
    region = _user("assessor", _org("regional_body", "lazio", 3))
    other_region = _user("assessor", _org("regional_body", "toscana", 4))
    agency = _user("agency", _org("agency", None, 5))
    owned_by_region = SimpleNamespace(owner="region", status="open")
    owned_by_irccs = SimpleNamespace(owner="irccs", status="open")
    resolved = SimpleNamespace(owner="region", status="resolved")

    assert permissions.is_region_of(region, adoption)
    assert not permissions.is_region_of(other_region, adoption)
    assert not permissions.can_view_adoption(region, adoption)  # the barrier, not the record
    assert permissions.can_view_barrier(region, adoption, owned_by_region)
    assert not permissions.can_view_barrier(region, adoption, owned_by_irccs)
    assert not permissions.can_view_barrier(other, adoption, owned_by_irccs)
    assert permissions.can_resolve_barrier(region, adoption, owned_by_region)
    assert not permissions.can_resolve_barrier(region, adoption, owned_by_irccs)
    assert not permissions.can_resolve_barrier(agency, adoption, resolved)
    assert permissions.can_resolve_barrier(own, adoption, owned_by_irccs)
    assert permissions.can_escalate_barrier(own, adoption, owned_by_region)
    assert permissions.can_escalate_barrier(agency, adoption, owned_by_irccs)
    assert not permissions.can_escalate_barrier(region, adoption, owned_by_region)


NOW = datetime(2026, 6, 1, 10, tzinfo=UTC)


def _fact(region, kind, status, recorded_ago, due_in, resolved_ago=None):
    return BarrierFact(
        region,
        kind,
        status,
        (NOW + timedelta(days=due_in)).date(),
        NOW - timedelta(days=recorded_ago),
        None if resolved_ago is None else NOW - timedelta(days=resolved_ago),
    )


def test_the_figures_per_region_and_kind():
    facts_ = [
        _fact("lazio", "training", "open", 10, -1),  # overdue
        _fact("lazio", "no_budget", "resolved", 30, -5, resolved_ago=10),  # 20 days
        _fact("lazio", "no_budget", "escalated", 6, 3),
        _fact("lazio", "no_budget", "open", 2, 3),
        _fact("abruzzo", "other", "resolved", 9, 9, resolved_ago=0),
    ]
    rows = barrier_figures(facts_, NOW, date(2026, 6, 1))
    assert rows == [
        ("abruzzo", "other", 1, 0, 0, 1, 0, None, 9.0),
        ("lazio", "no_budget", 3, 1, 1, 1, 0, 4.0, 20.0),
        ("lazio", "training", 1, 1, 0, 0, 1, 10.0, None),
    ]
    assert barrier_figures([], NOW, date(2026, 6, 1)) == []
