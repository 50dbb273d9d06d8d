"""Designated centres after publication (issue 13, item 1), through the real pages: a
restricted recommendation opens records only at its designated centres; another IRCCS asks to
be added; the agency refuses or designates it (it then gets its adoption record); every step
is in the audit trail with its reason."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import select

from app.adoption import designation
from app.core import transition_hooks
from app.core.fire import fire
from app.extensions import db
from app.models import Adoption, AuditEntry, DesignationRequest
from tests.page_support import post_action
from tests.workflow_support import CONSULTED, STEP, keep_only_guards_of, make_cast, walk_to


@pytest.fixture(autouse=True)
def only_the_designation_area(monkeypatch):
    """`fire` with the kernel's and this area's guards and hooks only (the walk needs no
    documents, scores or notifications)."""
    transition_hooks.load_hook_modules()
    for registry in ("_before", "_after", "_audit_data"):
        monkeypatch.setattr(transition_hooks, registry, defaultdict(list))
    keep_only_guards_of(monkeypatch, ("app.core.guards", designation.__name__))
    transition_hooks.after("request", "ask_designation")(designation.record_ask)
    transition_hooks.after("request", "designate_centre")(designation.designate)
    transition_hooks.after("request", "refuse_designation")(designation.refuse)


RESTRICTED = {
    "outcome": "recommended_restricted",
    "rationale": "Only in cardiac surgery centres.",
    "conditions": "Centres with a heart team.",
    "designation_criteria": "IRCCS with cardiac surgery on site.",
}


@pytest.fixture
def restricted(make):
    """Published with restrictions: the cast's IRCCS is designated, the other one is not."""
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "appraisal", cast) + STEP
    centres = [cast.irccs_org.id]
    fire(
        request, "open_consultation", cast.agency, moment, designated_centres=centres, **RESTRICTED
    )
    fire(
        request,
        "publish",
        cast.agency,
        moment + CONSULTED,
        designated_centres=centres,
        **RESTRICTED,
    )
    db.session.commit()
    return cast, request


def _records(request) -> list[int]:
    db.session.expire_all()
    query = select(Adoption.irccs_id).where(Adoption.request_id == request.id)
    return sorted(db.session.scalars(query))


def test_only_the_designated_centre_gets_a_record_and_sees_itself_listed(restricted, as_user):
    cast, request = restricted
    assert _records(request) == [cast.irccs_org.id]
    page = as_user(cast.other_irccs).get(f"/requests/{request.id}").get_data(as_text=True)
    assert 'id="designated-centres"' in page and cast.irccs_org.name in page
    assert "IRCCS with cardiac surgery on site." in page
    assert "Ask to be a designated centre" in page
    # The designated IRCCS cannot ask: the action is shown blocked with why.
    own = as_user(cast.irccs).get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Your IRCCS is already a designated centre for this device." in own


def test_an_irccs_asks_and_the_agency_refuses_then_designates(restricted, as_user):
    cast, request = restricted
    other = as_user(cast.other_irccs)
    asked = post_action(other, request, "ask_designation", reason="We have a cardiac surgery unit.")
    assert asked.status_code == 302
    ask = db.session.scalars(select(DesignationRequest)).one()
    assert (ask.irccs_id, ask.status) == (cast.other_irccs_org.id, "pending")
    again = post_action(other, request, "ask_designation", reason="Again.")
    assert again.status_code == 422
    assert "waiting for the agency" in again.get_data(as_text=True)

    agency = as_user(cast.agency)
    page = agency.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Asking to be added" in page and cast.other_irccs_org.name in page
    refused = post_action(
        agency,
        request,
        "refuse_designation",
        irccs=str(cast.other_irccs_org.id),
        reason="No heart team on site.",
    )
    assert refused.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(DesignationRequest)).one().status == "refused"
    assert _records(request) == [cast.irccs_org.id]

    assert post_action(other, request, "ask_designation", reason="Team hired.").status_code == 302
    designated = post_action(
        agency, request, "designate_centre", irccs=str(cast.other_irccs_org.id)
    )
    assert designated.status_code == 302
    assert _records(request) == sorted([cast.irccs_org.id, cast.other_irccs_org.id])
    db.session.expire_all()
    assert db.session.scalars(select(DesignationRequest)).one().status == "accepted"
    # Designating it twice is refused with a message on the field.
    twice = post_action(agency, request, "designate_centre", irccs=str(cast.other_irccs_org.id))
    assert twice.status_code == 422
    assert "already a designated centre" in twice.get_data(as_text=True)

    actions = [
        tuple(row)
        for row in db.session.execute(
            select(AuditEntry.action, AuditEntry.reason)
            .where(AuditEntry.request_id == request.id)
            .order_by(AuditEntry.seq)
        )
    ]
    assert [a for a, _ in actions][-4:] == [
        "ask_designation",
        "refuse_designation",
        "ask_designation",
        "designate_centre",
    ]
    assert ("refuse_designation", "No heart team on site.") in actions


def test_no_ask_without_designated_centres(make, as_user):
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "adoption_monitoring", cast)
    db.session.commit()
    response = post_action(as_user(cast.other_irccs), request, "ask_designation", reason="?")
    assert response.status_code == 422
    assert "designates no centre" in response.get_data(as_text=True)
