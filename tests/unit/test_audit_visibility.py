"""What each party sees of a request's audit trail, and of its dossier (the redaction rules)."""

from types import SimpleNamespace

from app.domain.redaction import Relation, public_view, view_of, visible_audit_entries

MANUFACTURER_ORG, BODY, IRCCS = 10, 20, 30


def actor(role, organisation_id=1):
    return SimpleNamespace(id=1, role=role, organisation_id=organisation_id)


def request(**fields):
    values = {
        "manufacturer_id": MANUFACTURER_ORG,
        "state": "adoption_monitoring",
        "assigned_body_id": BODY,
        "confidential_fields": ["budget_impact_3y"],
    }
    return SimpleNamespace(**(values | fields))


def entry(entity_type, action):
    return SimpleNamespace(entity_type=entity_type, action=action)


TRAIL = [
    entry("request", "submit"),
    entry("request", "prioritise"),
    entry("coi_declaration", "coi_declared"),
    entry("request", "priority_scores_edited"),
    entry("adoption", "usage_reported"),
    entry("document", "document_uploaded"),
]


def actions_seen_by(user) -> list[str]:
    return [e.action for e in visible_audit_entries(view_of(user, request()), TRAIL)]


def test_manufacturer_does_not_see_internal_entries_nor_adoption_figures():
    seen = actions_seen_by(actor("manufacturer", MANUFACTURER_ORG))
    assert seen == ["submit", "prioritise", "document_uploaded"]


def test_assessors_see_internal_entries_but_not_adoption_figures():
    seen = actions_seen_by(actor("assessor", BODY))
    assert "coi_declared" in seen and "priority_scores_edited" in seen
    assert "usage_reported" not in seen


def test_agency_and_the_system_see_the_whole_trail():
    assert actions_seen_by(actor("agency")) == [e.action for e in TRAIL]
    assert actions_seen_by(None) == [e.action for e in TRAIL]


def test_nobody_else_sees_any_entry():
    for user in (
        actor("irccs", IRCCS),
        actor("manufacturer", 99),
        actor("assessor", 99),
        actor("admin", None),
        SimpleNamespace(is_authenticated=False, role=None, organisation_id=None),
    ):
        assert actions_seen_by(user) == []


def test_confidential_fields_are_hidden_from_everyone_but_the_parties():
    for user in (actor("manufacturer", MANUFACTURER_ORG), actor("agency"), actor("assessor", BODY)):
        assert view_of(user, request()).shows("budget_impact_3y")
    assert view_of(actor("agency"), request(state="draft")).relation is Relation.OTHER
    for user in (actor("irccs", IRCCS), actor("manufacturer", 99), actor("assessor", 99)):
        view = view_of(user, request())
        assert not view.shows("budget_impact_3y")
        assert view.shows("list_price")


def test_the_public_sees_only_fields_that_may_be_public_and_not_marked():
    view = public_view(request(confidential_fields=["claimed_benefits"]))
    assert view.shows("trade_name") and view.shows("condition")
    assert not view.shows("claimed_benefits")
    assert not view.shows("list_price")  # commercial: never public, marked or not
    assert not view.shows("udi_di")


def test_an_irccs_reads_its_own_adoption_figures_only():
    view = view_of(actor("irccs", IRCCS), request())
    assert view.sees_adoption_figures(IRCCS)
    assert not view.sees_adoption_figures(IRCCS + 1)
    assert view_of(actor("agency"), request()).sees_adoption_figures(IRCCS + 1)
    assert not view_of(actor("manufacturer", MANUFACTURER_ORG), request()).sees_adoption_figures(
        IRCCS
    )
