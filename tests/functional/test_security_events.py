"""Permission denials on objects are security events in the audit chain: a user refused a
request or an adoption record that exists (on a page, in an action, through the API) leaves
one entry about themselves, at most one per object a minute; the refused request's own
history (read by its parties) does not show it; a request that does not exist leaves none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.audit import verify_chain
from app.extensions import db, limiter
from app.models import AuditEntry
from tests.api_support import Api, token_for


@pytest.fixture
def foreign_request(make, cast):
    """A draft of one manufacturer, which another manufacturer may not see."""
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    db.session.commit()
    return request


def denials(user) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "access_denied", AuditEntry.actor_id == user.id)
            .order_by(AuditEntry.seq)
        )
    )


def test_a_refused_request_page_is_audited_once_a_minute(client, cast, login, foreign_request):
    intruder = cast.other_manufacturer
    login(intruder)
    for _ in range(3):
        assert client.get(f"/requests/{foreign_request.id}").status_code == 404
    (entry,) = denials(intruder)
    assert (entry.entity_type, entry.entity_id, entry.request_id) == ("user", intruder.id, None)
    assert entry.data == {
        "object": "request",
        "object_id": foreign_request.id,
        "status": 404,
        "method": "GET",
        "path": f"/requests/{foreign_request.id}",
    }
    limiter.reset()  # the minute passes (the window runs on the limiter's storage clock)
    client.get(f"/requests/{foreign_request.id}")
    assert len(denials(intruder)) == 2
    assert verify_chain().ok


def test_each_object_tried_leaves_its_own_entry(client, make, cast, login, foreign_request):
    second = make.request(manufacturer=cast.manufacturer_org)
    db.session.commit()
    login(cast.other_manufacturer)
    client.get(f"/requests/{foreign_request.id}")
    client.get(f"/requests/{second.id}")
    client.get("/requests/999999")  # does not exist: nothing to audit
    objects = [entry.data["object_id"] for entry in denials(cast.other_manufacturer)]
    assert objects == [foreign_request.id, second.id]


def test_a_refused_action_is_audited(client, cast, login, foreign_request):
    login(cast.other_manufacturer)
    response = client.post(f"/requests/{foreign_request.id}/actions/submit")
    assert response.status_code == 404
    (entry,) = denials(cast.other_manufacturer)
    assert entry.data["method"] == "POST" and entry.data["object_id"] == foreign_request.id


def test_the_api_refusal_is_audited(client, cast, foreign_request):
    api = Api(client, token_for(cast.other_manufacturer))
    assert api.get(f"/requests/{foreign_request.id}").status_code == 404
    (entry,) = denials(cast.other_manufacturer)
    assert entry.data["path"] == f"/api/v1/requests/{foreign_request.id}"


def test_the_refused_requests_parties_do_not_see_who_tried(client, cast, login, foreign_request):
    login(cast.other_manufacturer)
    client.get(f"/requests/{foreign_request.id}")
    in_its_history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.request_id == foreign_request.id)
    ).all()
    assert all(entry.action != "access_denied" for entry in in_its_history)
