"""Assignment and conflicts of interest: the body-choice page (region, open and late
assessments in one query), the assessor's declaration before any dossier page, exclusion by a
declared conflict until the agency overrides it, and accept/decline only when cleared."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.fire import fire
from app.domain.errors import GuardFailed
from app.extensions import db
from app.models import AuditEntry, CoiDeclaration, DeviceRequest, StageRecord
from app.models.types import utcnow
from tests.assessment_support import (  # noqa: F401 (fixtures)
    NOW,
    assessment_hooks_only,
    declare,
    reload,
    request_in,
    statements_for,
)
from tests.functional.test_request_access import request_urls
from tests.page_support import post_action

pytestmark = pytest.mark.usefixtures("assessment_hooks_only")

DECLARATION_ENDPOINT_SUFFIX = "/coi"


def offered(page: str) -> set[str]:
    return set(re.findall(r'data-trigger="([a-z_]+)"', page))


# --- Without a declaration, no dossier ----------------------------------------------------------


def test_an_undeclared_assessor_cannot_open_any_dossier_url(app, cast, make, as_user):
    req = request_in(make, cast, "assignment", intended_purpose="SECRET-PURPOSE")
    client = as_user(cast.assessor)
    for method, url in request_urls(app, req.id):
        if url.endswith(DECLARATION_ENDPOINT_SUFFIX):
            continue
        response = client.open(url, method=method, data={"reason": "x"})
        assert response.status_code in (302, 404), (method, url, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].endswith(f"/requests/{req.id}/coi"), url
        assert "SECRET-PURPOSE" not in response.get_data(as_text=True)
    req = reload(req)
    assert req.state == "assignment"
    assert req.assigned_body_id == cast.body.id


def test_the_dossier_redirects_to_the_declaration_which_shows_only_name_and_manufacturer(
    cast, make, as_user
):
    req = request_in(
        make, cast, "assignment", trade_name="CardioValve", intended_purpose="SECRET-PURPOSE"
    )
    client = as_user(cast.assessor)
    response = client.get(f"/requests/{req.id}", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == f"/requests/{req.id}/coi"
    assert "CardioValve" in page
    assert "Valvetech Srl" in page
    assert "SECRET-PURPOSE" not in page
    assert "CVX-23" not in page  # the model: nothing of the dossier beyond the name
    assert 'name="conflict"' in page


def test_an_undeclared_assessor_still_finds_the_request_in_lists(cast, make, as_user):
    request_in(make, cast, "assignment", trade_name="FindMe")
    assert "FindMe" in as_user(cast.assessor).get("/requests/").get_data(as_text=True)


def test_declaring_none_lets_the_assessor_in(cast, make, as_user):
    req = request_in(make, cast, "assignment")
    client = as_user(cast.assessor)
    response = client.post(f"/requests/{req.id}/coi", data={"conflict": "none"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{req.id}")
    page = client.get(f"/requests/{req.id}")
    assert page.status_code == 200
    assert {"accept_assignment", "decline_assignment"} <= offered(page.get_data(as_text=True))
    declaration = db.session.scalars(select(CoiDeclaration)).one()
    assert (declaration.has_conflict, declaration.user_id) == (False, cast.assessor.id)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "coi_declared")).one()
    assert entry.request_id == req.id


def test_each_assessor_declares_for_themselves(cast, make, as_user):
    req = request_in(make, cast, "assessment")
    declare(req, cast.assessor)
    assert as_user(cast.assessor).get(f"/requests/{req.id}").status_code == 200
    colleague = as_user(cast.colleague)
    assert colleague.get(f"/requests/{req.id}").status_code == 302


def test_a_conflict_needs_a_description(cast, make, as_user):
    req = request_in(make, cast, "assignment")
    response = as_user(cast.assessor).post(
        f"/requests/{req.id}/coi", data={"conflict": "conflict", "description": " "}
    )
    assert response.status_code == 422
    assert "Describe the conflict." in response.get_data(as_text=True)
    assert db.session.scalars(select(CoiDeclaration)).all() == []


def test_a_declared_conflict_keeps_the_assessor_out_until_the_agency_overrides_it(
    cast, make, as_user
):
    req = request_in(make, cast, "assignment", trade_name="ConflictDevice")
    assessor = as_user(cast.assessor)
    response = assessor.post(
        f"/requests/{req.id}/coi",
        data={"conflict": "conflict", "description": "Consultant for Valvetech until 2024."},
    )
    assert response.status_code == 302
    assert assessor.get(f"/requests/{req.id}").status_code == 404
    assert "ConflictDevice" not in assessor.get("/requests/").get_data(as_text=True)
    status_page = assessor.get(f"/requests/{req.id}/coi").get_data(as_text=True)
    assert "You cannot see this request" in status_page
    # Taking the conflict back is not the assessor's call.
    retry = assessor.post(f"/requests/{req.id}/coi", data={"conflict": "none"})
    assert retry.status_code == 409
    assert assessor.get(f"/requests/{req.id}").status_code == 404

    declaration = db.session.scalars(select(CoiDeclaration)).one()
    agency = as_user(cast.agency)
    page = agency.get(f"/requests/{req.id}/assignment").get_data(as_text=True)
    assert "Consultant for Valvetech until 2024." in page
    url = f"/requests/{req.id}/coi/{declaration.id}/override"
    refused = agency.post(url, data={f"o{declaration.id}-reason": ""})
    assert refused.status_code == 422
    assert "Write the reason for the override." in refused.get_data(as_text=True)
    assert assessor.get(f"/requests/{req.id}").status_code == 404

    done = agency.post(url, data={f"o{declaration.id}-reason": "Ended two years ago; no shares."})
    assert done.status_code == 302
    assert assessor.get(f"/requests/{req.id}").status_code == 200
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "coi_overridden")
    ).one()
    assert entry.reason == "Ended two years ago; no shares."
    assert entry.actor_id == cast.agency.id
    assert entry.request_id == req.id


def test_a_none_can_become_a_conflict_later(cast, make, as_user):
    req = request_in(make, cast, "assessment")
    declare(req, cast.assessor)
    client = as_user(cast.assessor)
    response = client.post(
        f"/requests/{req.id}/coi",
        data={"conflict": "conflict", "description": "My spouse joined Valvetech."},
    )
    assert response.status_code == 302
    assert client.get(f"/requests/{req.id}").status_code == 404
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "coi_amended")).one()
    assert entry.changes["has_conflict"] == [False, True]


@pytest.mark.parametrize(
    "who", ["agency", "manufacturer", "other_manufacturer", "other_assessor", "irccs", "admin"]
)
def test_the_declaration_page_is_only_for_assessors_of_the_assigned_body(cast, make, as_user, who):
    req = request_in(make, cast, "assignment")
    client = as_user(getattr(cast, who))
    assert client.get(f"/requests/{req.id}/coi").status_code == 404
    assert client.post(f"/requests/{req.id}/coi", data={"conflict": "none"}).status_code == 404
    assert db.session.scalars(select(CoiDeclaration)).all() == []


def test_no_declaration_before_the_body_is_assigned(cast, make, as_user):
    req = request_in(make, cast, "assignment", assigned=False)
    assert as_user(cast.assessor).get(f"/requests/{req.id}/coi").status_code == 404


# --- Accept or decline: only when cleared -------------------------------------------------------


def test_accept_and_decline_are_refused_to_an_assessor_who_is_not_cleared(cast, make):
    req = request_in(make, cast, "assignment")
    for trigger, reason in (("accept_assignment", ""), ("decline_assignment", "Too busy.")):
        with pytest.raises(GuardFailed) as refused:
            fire(req, trigger, cast.assessor, NOW, reason=reason)
        assert refused.value.details["code"] == "coi_not_cleared"
    declare(req, cast.colleague, conflict="Shares in Valvetech.")
    with pytest.raises(GuardFailed):
        fire(req, "accept_assignment", cast.colleague, NOW)
    db.session.rollback()
    assert reload(req).state == "assignment"


def test_a_cleared_assessor_accepts_and_the_assessment_starts(cast, make, as_user):
    req = request_in(make, cast, "assignment")
    declare(req, cast.assessor)
    client = as_user(cast.assessor)
    response = post_action(client, req, "accept_assignment")
    assert response.status_code == 302
    assert reload(req).state == "assessment"


def test_an_overridden_conflict_may_accept(cast, make):
    req = request_in(make, cast, "assignment")
    declare(req, cast.assessor, conflict="Past consultancy.", overridden=True)
    fire(req, "accept_assignment", cast.assessor, NOW)
    db.session.commit()
    assert reload(req).state == "assessment"


def test_a_declined_assignment_goes_back_to_the_agency_to_pick_another_body(cast, make, as_user):
    req = request_in(make, cast, "assignment")
    declare(req, cast.assessor)
    client = as_user(cast.assessor)
    refused = post_action(client, req, "decline_assignment")
    assert refused.status_code == 422  # the reason is required
    response = post_action(
        client, req, "decline_assignment", reason="No cardiology expertise this quarter."
    )
    assert response.status_code == 302
    req = reload(req)
    assert (req.state, req.assigned_body_id) == ("assignment", None)
    page = as_user(cast.agency).get(f"/requests/{req.id}/assignment").get_data(as_text=True)
    row = page.split(f'data-body-id="{cast.body.id}"')[1].split("</tr>")[0]
    assert "declined this request" in row


# --- The body-choice page ---------------------------------------------------------------------


def late_request(make, cast, body, state="assessment"):
    req = request_in(make, cast, state, assigned=False, assigned_body=body)
    db.session.add(
        StageRecord(
            request_id=req.id,
            state=state,
            entered_at=utcnow() - timedelta(days=100),
            due_at=utcnow() - timedelta(days=10),
        )
    )
    db.session.commit()
    return req


def on_time_request(make, cast, body, state="information_requested"):
    req = request_in(make, cast, state, assigned=False, assigned_body=body)
    db.session.add(
        StageRecord(
            request_id=req.id,
            state=state,
            entered_at=utcnow() - timedelta(days=1),
            due_at=utcnow() + timedelta(days=20),
        )
    )
    db.session.commit()
    return req


def body_row(page: str, body_id: int) -> str:
    return page.split(f'data-body-id="{body_id}"')[1].split("</tr>")[0]


def test_the_body_choice_page_shows_region_open_and_late_assessments(cast, make, as_user):
    req = request_in(make, cast, "assignment", assigned=False)
    late_request(make, cast, cast.body)
    on_time_request(make, cast, cast.body)
    request_in(make, cast, "appraisal", assigned=False, assigned_body=cast.body)  # not open
    make.org("regional_body", name="Closed Body", active=False)
    db.session.commit()
    page = as_user(cast.agency).get(f"/requests/{req.id}/assignment").get_data(as_text=True)
    lombardy = body_row(page, cast.body.id)
    assert "Lombardia" in lombardy
    assert re.search(r'class="text-end open-count">2<', lombardy)
    assert re.search(r'late-count"><span class="badge text-bg-danger">1<', lombardy)
    veneto = body_row(page, cast.other_body.id)
    assert "Veneto" in veneto
    assert re.search(r'class="text-end open-count">0<', veneto)
    assert "Closed Body" not in page


def test_the_agency_assigns_a_body_from_the_page(cast, make, as_user):
    req = request_in(make, cast, "assignment", assigned=False)
    response = as_user(cast.agency).post(
        f"/requests/{req.id}/assignment",
        data={"regional_body": str(cast.other_body.id), "expected_version": str(req.version)},
    )
    assert response.status_code == 302
    assert reload(req).assigned_body_id == cast.other_body.id
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "assign_body")).one()
    assert entry.data["regional_body"] == cast.other_body.id


def test_an_inactive_or_unknown_body_is_refused(cast, make, as_user):
    req = request_in(make, cast, "assignment", assigned=False)
    closed = make.org("regional_body", name="Closed Body", active=False)
    db.session.commit()
    agency = as_user(cast.agency)
    for body_id in (closed.id, cast.irccs_org.id, "nonsense"):
        response = agency.post(
            f"/requests/{req.id}/assignment",
            data={"regional_body": str(body_id), "expected_version": str(req.version)},
        )
        assert response.status_code == 422, body_id
    assert reload(req).assigned_body_id is None


def test_the_body_choice_page_costs_the_same_statements_for_3_or_10_bodies(cast, make, as_user):
    req = request_in(make, cast, "assignment", assigned=False)
    agency = as_user(cast.agency)
    url = f"/requests/{req.id}/assignment"
    first = statements_for(agency, url)
    for i in range(8):
        body = make.org("regional_body", name=f"Body {i}", region="toscana")
        late_request(make, cast, body)
        on_time_request(make, cast, body)
    db.session.commit()
    assert statements_for(agency, url) == first


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("manufacturer", 403),
        ("other_manufacturer", 404),
        ("assessor", 403),  # cleared assessor of the body: sees the request, not this page
        ("other_assessor", 404),
        ("irccs", 404),
        ("admin", 404),
    ],
)
def test_the_assignment_page_and_overrides_are_the_agencys(cast, make, as_user, who, status):
    req = request_in(make, cast, "assignment")
    declare(req, cast.assessor)
    declaration = declare(req, cast.colleague, conflict="Shares.")
    client = as_user(getattr(cast, who))
    assert client.get(f"/requests/{req.id}/assignment").status_code == status
    posted = client.post(
        f"/requests/{req.id}/assignment",
        data={"regional_body": str(cast.other_body.id), "expected_version": str(req.version)},
    )
    assert posted.status_code == status
    override = client.post(
        f"/requests/{req.id}/coi/{declaration.id}/override",
        data={f"o{declaration.id}-reason": "Because."},
    )
    assert override.status_code == status
    assert reload(req).assigned_body_id == cast.body.id
    assert reload(declaration).overridden_at is None


def test_an_override_of_another_requests_declaration_is_404(cast, make, as_user):
    req = request_in(make, cast, "assessment")
    other = request_in(make, cast, "assessment")
    declaration = declare(other, cast.assessor, conflict="Shares.")
    response = as_user(cast.agency).post(
        f"/requests/{req.id}/coi/{declaration.id}/override",
        data={f"o{declaration.id}-reason": "Because."},
    )
    assert response.status_code == 404
    assert reload(declaration).overridden_at is None
    assert db.session.get(DeviceRequest, other.id) is not None
