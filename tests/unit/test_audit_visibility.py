"""What each party sees of a request's audit trail."""

from types import SimpleNamespace

from app.domain.permissions import can_see_audit_entry


def actor(role):
    return SimpleNamespace(id=1, role=role, organisation_id=1)


def test_manufacturer_does_not_see_conflict_declarations_or_priority_scoring():
    manufacturer = actor("manufacturer")
    assert not can_see_audit_entry(manufacturer, "coi_declaration", "coi_declared")
    assert not can_see_audit_entry(manufacturer, "request", "priority_scores_edited")
    assert can_see_audit_entry(manufacturer, "request", "prioritise")
    assert can_see_audit_entry(manufacturer, "request", "submit")


def test_agency_and_assessors_see_the_whole_trail():
    for role in ("agency", "assessor"):
        assert can_see_audit_entry(actor(role), "coi_declaration", "coi_declared")
        assert can_see_audit_entry(actor(role), "request", "priority_scores_edited")
