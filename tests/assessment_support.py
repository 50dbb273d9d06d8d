"""Shared by the prioritisation, conflict-of-interest, assessment and usage tests: a cast of
English-speaking users around requests put directly in a state, logged-in clients, the
assessment area's own transition hooks (without the other areas'), and a statement counter.

Fixtures (import them into a test module): `assessment_hooks_only`; `cast`
(tests/cast_support.py) comes from tests/conftest.py, `as_user` from tests/functional/conftest.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest

from app.core import transition_hooks
from app.domain.core_model import DOMAINS
from app.extensions import db
from app.models import (
    Adoption,
    CoiDeclaration,
    DeviceRequest,
    DomainAssessment,
    Recommendation,
    User,
)
from tests.cast_support import Cast, make_cast  # noqa: F401 (re-exported)
from tests.statement_support import counting_statements
from tests.workflow_support import keep_only_guards_of

ASSESSMENT_HOOK_MODULES = (
    "app.assessment.coi",
    "app.assessment.core_model",
    "app.assessment.prioritisation",
)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def assessment_hooks_only(app, monkeypatch):
    """Run `fire` with this area's hooks and guards only, and the kernel's guards (other areas
    test theirs: e.g. the mandatory documents before submitting)."""

    def only_ours(table):
        kept = defaultdict(list)
        for key, hooks in table.items():
            kept[key] = [h for h in hooks if h.__module__ in ASSESSMENT_HOOK_MODULES]
        return kept

    monkeypatch.setattr(transition_hooks, "_before", only_ours(transition_hooks._before))
    monkeypatch.setattr(transition_hooks, "_after", only_ours(transition_hooks._after))
    keep_only_guards_of(monkeypatch, ("app.core.guards", *ASSESSMENT_HOOK_MODULES))


def request_in(make, cast: Cast, state: str, *, assigned: bool | None = None, **fields):
    """A complete request of the cast's manufacturer, put directly in `state` (the body is
    assigned from the assignment on, unless `assigned` says otherwise)."""
    if assigned is None:
        assigned = state not in ("awaiting_prioritisation", "prioritisation", "intake_review")
    values = {"state": state, "submitted_at": NOW}
    if assigned:
        values["assigned_body"] = cast.body
    request = make.request(manufacturer=cast.manufacturer_org, complete=True, **(values | fields))
    db.session.commit()
    return request


def declare(request: DeviceRequest, user: User, *, conflict: str = "", overridden=False):
    """A declaration row ("none" when `conflict` is empty)."""
    declaration = CoiDeclaration(
        request_id=request.id,
        user_id=user.id,
        has_conflict=bool(conflict),
        description=conflict,
        declared_at=NOW,
    )
    if overridden:
        declaration.override_reason = "Past collaboration ended years ago."
        declaration.overridden_at = NOW
    db.session.add(declaration)
    db.session.commit()
    return declaration


def all_domains(request: DeviceRequest, status: str = "done", *, skip=()):
    for domain in DOMAINS:
        if domain in skip:
            continue
        db.session.add(
            DomainAssessment(
                request_id=request.id,
                domain=domain,
                status=status,
                findings=f"Findings on {domain}.",
                conclusion=f"Conclusion on {domain}.",
            )
        )
    db.session.commit()


def published_with_adoptions(make, cast: Cast, *, states=("in_use", "in_use"), **fields):
    """A request with a published positive recommendation; the IRCCS's and the other IRCCS's
    adoption records in `states` (first use recorded)."""
    request = request_in(make, cast, "adoption_monitoring", **fields)
    recommendation = Recommendation(
        request_id=request.id, outcome="recommended", rationale="r", published_at=NOW
    )
    db.session.add(recommendation)
    records = []
    for org, state in zip((cast.irccs_org, cast.other_irccs_org), states, strict=False):
        adoption = Adoption(request_id=request.id, irccs_id=org.id, state=state)
        if state in ("in_use", "discontinued"):
            adoption.first_use_at = NOW
        records.append(adoption)
    db.session.add_all(records)
    db.session.commit()
    return request, records


def reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def statements_for(client, url: str) -> int:
    """SQL statements of one GET of `url` (from a fresh session), which must answer 200."""
    db.session.remove()
    with counting_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements)
