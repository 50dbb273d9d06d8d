"""Races through a real server (gunicorn, 3 workers): clients in threads, released together.

What a user would notice: two people acting on the same thing at once get one result, the
other a clear "someone changed it" (409 / 412), never both a success, never a duplicate line
in the audit trail, never a change slipped in after the request moved on.
"""

from __future__ import annotations

import uuid
from collections import Counter
from functools import partial

import pytest

from tests.document_support import pdf_bytes
from tests.slow.clients import all_at_once

pytestmark = pytest.mark.slow

ROUNDS = 12


def test_the_server_answers_the_api_and_the_web(server):
    people = server.people()
    [request_id] = server.seed.requests(people, "intake_review")
    api = server.api(people.agency)
    response = api.get(f"/requests/{request_id}")
    assert response.status_code == 200
    assert response.json()["state"] == "intake_review"
    page = server.web(people.agency).get(f"/requests/{request_id}")
    assert page.status_code == 200


def test_same_action_from_many_clients_one_wins(server):
    """N agency clients admit the same request at once (half with If-Match, half without):
    one 200, the others 409/412; one audit entry per request."""
    people = server.people()
    ids = server.seed.requests(people, "intake_review", count=6)
    outcomes: Counter = Counter()
    for request_id in ids:
        version = server.api(people.agency).version(request_id)
        clients = [server.api(people.agency) for _ in range(4)]
        calls = [
            partial(c.fire, request_id, "admit", if_match=version if i % 2 else None)
            for i, c in enumerate(clients)
        ]
        statuses = sorted(r.status_code for r in all_at_once(calls))
        outcomes[tuple(statuses)] += 1
        assert statuses.count(200) == 1, statuses
        assert set(statuses) <= {200, 409, 412}, statuses
        assert len(server.seed.audit_entries(request_id, "admit")) == 1
    assert server.seed.consistency_problems(ids) == []


def test_if_match_holds_under_the_lock_for_a_state_keeping_action(pg_server):
    """Issue 10, bug 1: `assign_body` keeps the state. Three clients with the same If-Match:
    exactly one assignment per round, the others 412; with different bodies no assignment is
    silently overwritten."""
    served = pg_server
    people = served.people()
    [request_id] = served.seed.requests(people, "assignment")
    before = len(served.seed.audit_entries(request_id, "assign_body"))
    winners = []
    for round_number in range(ROUNDS):
        version = served.api(people.agency).version(request_id)
        clients = [served.api(people.agency) for _ in range(3)]
        bodies = [people.bodies[(round_number + i) % 2] for i in range(3)]
        calls = [
            partial(c.fire, request_id, "assign_body", {"regional_body": b}, if_match=version)
            for c, b in zip(clients, bodies, strict=True)
        ]
        responses = all_at_once(calls)
        statuses = [r.status_code for r in responses]
        assert sorted(statuses) == [200, 412, 412], (round_number, statuses)
        winner = bodies[statuses.index(200)]
        winners.append(winner)
        assert served.seed.request_row(request_id)["assigned_body_id"] == winner
    entries = served.seed.audit_entries(request_id, "assign_body")
    assert len(entries) == before + ROUNDS
    assert [e["data"]["regional_body"] for e in entries[before:]] == winners


def test_an_upload_never_lands_after_the_submission(pg_server):
    """Issue 10, bug 2: the manufacturer uploads a document on the web while the request is
    submitted through the API. Either the upload comes first (and is in the submitted file) or
    it is refused; never a document added to a submitted request."""
    served = pg_server
    people = served.people()
    ids = served.seed.requests(people, "draft_ready", count=ROUNDS)
    web = served.web(people.manufacturer)
    api = served.api(people.manufacturer)
    late = []
    outcomes: Counter = Counter()
    for request_id in ids:
        page = f"/requests/{request_id}/documents/upload"
        fields = web.form(page, "/documents/upload")
        fields |= {"doc_type": "study", "title": "Late study " + uuid.uuid4().hex[:6]}
        files = {"file": ("study.pdf", pdf_bytes("late study"), "application/pdf")}

        def upload(fields=fields, page=page, files=files):
            return web.post(page, data=fields, files=files)

        def submit(request_id=request_id):
            return api.fire(request_id, "submit")

        uploaded, submitted = all_at_once([upload, submit])
        assert submitted.status_code == 200, submitted.text
        outcomes[uploaded.status_code] += 1
        entries = served.seed.audit_entries(request_id)
        submit_seq = next(e["seq"] for e in entries if e["action"] == "submit")
        late += [e for e in entries if e["entity_type"] == "document" and e["seq"] > submit_seq]
    assert late == [], f"{len(late)} uploads after submission ({dict(outcomes)})"
    # Too late: the form again (409) saying why, with what was typed; never a bare error page.
    assert set(outcomes) <= {302, 409}, outcomes
