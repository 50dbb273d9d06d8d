"""Adoption barriers on the pages: the IRCCS records one after declining (the form offers the
barrier its decline reason points to), escalates it; the region's users resolve the region's
barriers from their work queue; every other party gets a 404; the owner's queue flags what is
overdue; no template runs a query."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Adoption, AdoptionBarrier
from app.models.types import utcnow
from tests.statement_support import statements_while_rendering


@pytest.fixture
def scene(make):
    """A record declined by IRCCS Roma (Lazio) while awaiting a regional tariff; the Lazio
    and Toscana regional bodies; IRCCS Pisa (Toscana); the agency."""
    request = make.request(trade_name="HeartPatch")
    roma = make.org("irccs", region="lazio", name="IRCCS Roma")
    pisa = make.org("irccs", region="toscana", name="IRCCS Pisa")
    declined = Adoption(
        request_id=request.id,
        irccs_id=roma.id,
        state="declined",
        decline_reason="awaiting_regional_tariff",
        state_changed_at=utcnow() - timedelta(days=2),
    )
    db.session.add(declined)
    db.session.flush()
    scene = type("Scene", (), {})()
    scene.adoption = declined
    scene.roma = make.user("irccs", organisation=roma)
    scene.pisa = make.user("irccs", organisation=pisa)
    scene.lazio = make.user("assessor", organisation=make.org("regional_body", region="lazio"))
    scene.toscana = make.user("assessor", organisation=make.org("regional_body", region="toscana"))
    scene.agency = make.user("agency")
    db.session.commit()
    return scene


def _form_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else ""


def _selected(html: str, name: str) -> str:
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    return re.search(r'<option selected value="([^"]*)"', select_html).group(1)


def _record(client, scene, owner="region", due=None, description="No regional tariff yet."):
    page = client.get(f"/adoptions/{scene.adoption.id}").get_data(as_text=True)
    version = _form_value(page, "record_barrier-expected_version")
    due = due or (date.today() + timedelta(days=60))
    return client.post(
        f"/adoptions/{scene.adoption.id}/actions/record_barrier",
        data={
            "record_barrier-expected_version": version,
            "record_barrier-barrier_kind": "awaiting_tariff",
            "record_barrier-barrier_description": description,
            "record_barrier-barrier_owner": owner,
            "record_barrier-barrier_due_date": due.isoformat(),
        },
    )


def _only_barrier() -> AdoptionBarrier:
    return db.session.scalars(select(AdoptionBarrier)).one()


def test_after_declining_the_irccs_is_offered_the_matching_barrier_and_records_it(scene, as_user):
    client = as_user(scene.roma)
    page = client.get(f"/adoptions/{scene.adoption.id}").get_data(as_text=True)
    assert "No barrier recorded." in page
    # The decline reason "awaiting a regional tariff" points to that barrier, owned by the region.
    assert _selected(page, "record_barrier-barrier_kind") == "awaiting_tariff"
    assert _selected(page, "record_barrier-barrier_owner") == "region"

    response = _record(client, scene)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No regional tariff yet." in page
    assert "Awaiting a regional tariff" in page and "The region" in page
    barrier = _only_barrier()
    assert (barrier.kind, barrier.owner, barrier.status) == ("awaiting_tariff", "region", "open")


def test_a_due_date_in_the_past_is_refused_with_a_clear_message(scene, as_user):
    client = as_user(scene.roma)
    response = _record(client, scene, due=date.today() - timedelta(days=1))
    assert response.status_code == 422
    assert "Choose a date after today." in response.get_data(as_text=True)
    assert db.session.scalars(select(AdoptionBarrier)).all() == []


def test_the_irccs_escalates_and_the_agency_resolves(scene, as_user):
    irccs = as_user(scene.roma)
    _record(irccs, scene, owner="irccs")
    barrier = _only_barrier()
    page = irccs.get(f"/adoptions/{scene.adoption.id}").get_data(as_text=True)
    version = _form_value(page, "escalate_barrier-expected_version")
    response = irccs.post(
        f"/adoptions/{scene.adoption.id}/actions/escalate_barrier",
        data={
            "escalate_barrier-expected_version": version,
            "escalate_barrier-barrier": str(barrier.id),
            "escalate_barrier-reason": "The region does not answer.",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert _only_barrier().status == "escalated"

    agency = as_user(scene.agency)
    queue = agency.get("/work/").get_data(as_text=True)
    assert f'data-barrier="{barrier.id}"' in queue  # escalated: in the agency's queue
    page = agency.get(f"/adoptions/{scene.adoption.id}").get_data(as_text=True)
    version = _form_value(page, "resolve_barrier-expected_version")
    response = agency.post(
        f"/adoptions/{scene.adoption.id}/actions/resolve_barrier",
        data={
            "resolve_barrier-expected_version": version,
            "resolve_barrier-barrier": str(barrier.id),
            "resolve_barrier-resolution_note": "Tariff code agreed with the region.",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert _only_barrier().status == "resolved"
    assert "Tariff code agreed with the region." in agency.get(
        f"/adoptions/{scene.adoption.id}"
    ).get_data(as_text=True)


def test_the_region_resolves_its_barrier_from_its_queue(scene, as_user):
    _record(as_user(scene.roma), scene, owner="region")
    barrier = _only_barrier()
    region = as_user(scene.lazio)
    queue = region.get("/work/").get_data(as_text=True)
    assert f"/adoptions/barriers/{barrier.id}" in queue
    # The region reads the barrier, not the record (its prices are the IRCCS's).
    assert region.get(f"/adoptions/{scene.adoption.id}").status_code == 404
    page = region.get(f"/adoptions/barriers/{barrier.id}").get_data(as_text=True)
    assert "No regional tariff yet." in page
    assert "Escalate to the agency" not in page  # the region only resolves
    response = region.post(
        f"/adoptions/barriers/{barrier.id}/actions/resolve_barrier",
        data={
            "resolve_barrier-expected_version": _form_value(
                page, "resolve_barrier-expected_version"
            ),
            "resolve_barrier-barrier": str(barrier.id),
            "resolve_barrier-resolution_note": "Regional decree 12/2026: tariff 35.A.",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert _only_barrier().status == "resolved"
    assert f'data-barrier="{barrier.id}"' not in region.get("/work/").get_data(as_text=True)


def test_other_parties_get_404(scene, as_user):
    _record(as_user(scene.roma), scene, owner="irccs")
    irccs_owned = _only_barrier()
    barrier_url = f"/adoptions/barriers/{irccs_owned.id}"
    # Another IRCCS, another region, and the region itself for a barrier it does not own.
    for user in (scene.pisa, scene.toscana, scene.lazio):
        client = as_user(user)
        assert client.get(barrier_url).status_code == 404
        assert client.get(f"/adoptions/{scene.adoption.id}").status_code == 404
        response = client.post(
            f"{barrier_url}/actions/resolve_barrier",
            data={
                "resolve_barrier-barrier": str(irccs_owned.id),
                "resolve_barrier-resolution_note": "x",
            },
        )
        assert response.status_code == 404
    db.session.expire_all()
    assert _only_barrier().status == "open"


def test_the_owner_s_queue_flags_an_overdue_barrier(scene, as_user):
    client = as_user(scene.roma)
    _record(client, scene, owner="irccs")
    barrier = _only_barrier()
    barrier.due_date = date.today() - timedelta(days=3)  # it was due three days ago
    db.session.commit()
    queue = client.get("/work/").get_data(as_text=True)
    row = re.search(rf'<tr class="([^"]*)" data-barrier="{barrier.id}">(.*?)</tr>', queue, re.S)
    assert row and row.group(1) == "table-overdue" and "Overdue" in row.group(2)


def test_no_statement_runs_while_the_barrier_pages_render(scene, as_user, app):
    _record(as_user(scene.roma), scene, owner="region")
    barrier = _only_barrier()
    irccs, agency, region = as_user(scene.roma), as_user(scene.agency), as_user(scene.lazio)
    record = f"/adoptions/{scene.adoption.id}"
    for client, url in (
        (irccs, record),
        (agency, record),
        (region, f"/adoptions/barriers/{barrier.id}"),
        (region, "/work/"),
        (irccs, "/work/"),
    ):
        db.session.remove()
        with statements_while_rendering(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        assert statements == [], (url, statements)


def test_a_record_that_has_not_stalled_says_when_a_barrier_can_be_recorded(scene, as_user):
    fresh = Adoption(
        request_id=scene.adoption.request_id,
        irccs_id=scene.pisa.organisation_id,
        state="local_evaluation",
        state_changed_at=utcnow() - timedelta(days=5),
    )
    db.session.add(fresh)
    db.session.commit()
    page = as_user(scene.pisa).get(f"/adoptions/{fresh.id}").get_data(as_text=True)
    assert 'data-trigger="record_barrier"' not in page
    assert "stayed 90 days in this state without moving (it has been 5 days)" in page


def test_the_queue_row_shows_the_barrier_s_cells(scene, as_user):
    """The queue reads a barrier's row as plain columns: the same cells as the record's
    objects give (kind, device title, IRCCS and region, status, due date, not overdue)."""
    from app.adoption.barriers import queue_barriers

    client = as_user(scene.lazio)
    _record(as_user(scene.roma), scene, owner="region", due=date(2031, 5, 4))
    barrier = _only_barrier()
    queue = client.get("/work/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    row = re.search(rf'<tr class="([^"]*)" data-barrier="{barrier.id}">(.*?)</tr>', queue, re.S)
    assert row and row.group(1) == ""
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in row.group(2).split("</td>")
    ]
    adoption = barrier.adoption
    assert cells[1] == adoption.request.title == "HeartPatch"
    assert cells[2] == "IRCCS Roma (Lazio)"
    assert cells[4] == "4 May 2031"
    assert f'href="/adoptions/barriers/{barrier.id}"' in row.group(2)
    [found] = queue_barriers(scene.lazio, utcnow())
    assert (found.id, found.kind, found.status, found.due_date, found.overdue) == (
        barrier.id,
        barrier.kind,
        barrier.status,
        barrier.due_date,
        False,
    )
    assert queue_barriers(scene.toscana, utcnow()) == []
