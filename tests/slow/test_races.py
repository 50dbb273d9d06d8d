"""Races through a real server (gunicorn, 3 workers): clients in threads, released together.

What a user would notice: two people acting on the same thing at once get one result, the
other a clear "someone changed it" (409 / 412), never both a success, never a duplicate line
in the audit trail, never a change slipped in after the request moved on.
"""

from __future__ import annotations

import uuid
from collections import Counter
from functools import partial

import psycopg
import pytest

from tests.document_support import pdf_bytes
from tests.slow.clients import all_at_once
from tests.slow.faults import libpq, wait_for_lock_waiters

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
    """Four agency clients admit the same request at once: two through the API (with and
    without If-Match), two through the web page (its form carries the version): one success
    (200 or a redirect), the others 409/412; one audit entry per request."""
    people = server.people()
    ids = server.seed.requests(people, "intake_review", count=6)
    outcomes: Counter = Counter()
    webs = [server.web(people.agency) for _ in range(2)]
    for request_id in ids:
        version = server.api(people.agency).version(request_id)
        page, action = f"/requests/{request_id}", f"/requests/{request_id}/actions/admit"
        forms = [web.form(page, action) for web in webs]
        calls = [
            partial(server.api(people.agency).fire, request_id, "admit", if_match=version),
            partial(server.api(people.agency).fire, request_id, "admit"),
            *(partial(web.post, action, form) for web, form in zip(webs, forms, strict=True)),
        ]
        statuses = [r.status_code for r in all_at_once(calls)]
        outcomes[tuple(statuses)] += 1
        assert sum(status in (200, 302) for status in statuses) == 1, statuses
        assert set(statuses) <= {200, 302, 409, 412}, statuses
        assert len(server.seed.audit_entries(request_id, "admit")) == 1
    assert server.seed.consistency_problems(ids) == []


def test_one_idempotency_key_from_many_clients_acts_once(server):
    """Four clients send the same action with the same Idempotency-Key at once: it happens
    once; every client gets its result (at once or as a replay) or 409 "in progress", and a
    retry then gets the same result."""
    people = server.people()
    ids = server.seed.requests(people, "intake_review", count=4)
    for request_id in ids:
        key = str(uuid.uuid4())
        calls = [
            partial(server.api(people.agency).fire, request_id, "admit", key=key) for _ in range(4)
        ]
        responses = all_at_once(calls)
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {200, 409} and 200 in statuses, statuses
        assert all("in-progress" in r.json()["type"] for r in responses if r.status_code == 409)
        results = {r.text for r in responses if r.status_code == 200}
        assert len(results) == 1
        retry = server.api(people.agency).fire(request_id, "admit", key=key)
        assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
        assert retry.text in results
        assert len(server.seed.audit_entries(request_id, "admit")) == 1


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


def test_sending_answers_and_withdrawing_at_once_one_wins(server):
    """The manufacturer's two people at once, from the same page: one sends the answers to
    the assessor's questions, the other withdraws the request (If-Match: the version they saw).
    One of them happens; the other is told the request moved on (409 or 412); state, audit
    trail and stages agree."""
    people = server.people()
    ids = server.seed.requests(people, "information_requested", count=4)
    sender, withdrawer = server.api(people.manufacturer), server.api(people.colleague)
    winners: Counter = Counter()
    for request_id in ids:
        rounds = f"/requests/{request_id}/information-rounds/1"
        saved = sender.put(f"{rounds}/questions/1/answer", {"text": "Twelve months."})
        assert saved.status_code == 200, saved.text
        seen = withdrawer.version(request_id)
        send = partial(sender.post, f"{rounds}/send", {})
        withdraw = partial(
            withdrawer.fire, request_id, "withdraw", reason="Market exit.", if_match=seen
        )
        sent, withdrawn = all_at_once([send, withdraw])
        statuses = (sent.status_code, withdrawn.status_code)
        assert statuses in ((200, 412), (409, 200)), (sent.text, withdrawn.text)
        state = server.seed.request_row(request_id)["state"]
        winners[state] += 1
        assert state == ("assessment" if sent.status_code == 200 else "withdrawn")
        actions = [e["action"] for e in server.seed.audit_entries(request_id)]
        assert ("answer_information" in actions) != ("withdraw" in actions), actions
    assert server.seed.consistency_problems(ids) == []


def test_two_deadline_checks_report_each_overdue_stage_as_new_once(pg_server):
    """Issue 10, bug 6: cron fires `flask deadlines check` on two machines at once; each
    overdue stage is reported as NEW by one of them, not both. (Both runs are held at their
    first read of the stages by a table lock, then let go together. On SQLite the commands'
    write transactions run one after the other, so they cannot overlap.)"""
    served = pg_server
    people = served.people()
    for _round in range(2):
        ids = served.seed.requests(people, "intake_review", count=3)
        check = ["deadlines", "check", "--now", "2027-06-01"]
        with psycopg.connect(libpq(served)) as gate:
            gate.execute("LOCK TABLE stage_records IN ACCESS EXCLUSIVE MODE")
            runs = [served.server.flask_in_background(*check) for _ in range(2)]
            wait_for_lock_waiters(served, 2)
        outputs = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], [err for _out, err in outputs]
        new = [{line for line in out.splitlines() if line.endswith("NEW")} for out, _ in outputs]
        assert new[0].isdisjoint(new[1]), new[0] & new[1]
        for request_id in ids:
            reported = [line for line in new[0] | new[1] if f"(request {request_id})" in line]
            assert len(reported) == 1, reported
