"""Faults through a real server on PostgreSQL: a worker killed mid-request, database
connections terminated while clients fire transitions.

Afterwards what a user would notice must hold: a retry with the same Idempotency-Key succeeds
(no key stuck "in progress"), every request's state agrees with its audit trail and its open
stage record, and the audit chain verifies (checked after every test by the fixture).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from tests.slow.faults import libpq, wait_for_lock_waiters
from tests.slow.server import WORKERS

pytestmark = pytest.mark.slow

RETRY_FOR_SECONDS = 30


def fire_until_done(api, request_id: int, trigger: str, key: str, reason: str = ""):
    """Retry with the same key, as a client would, until an answer that is not "try again";
    returns the last response and the number of attempts."""
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    attempts = 0
    while True:
        attempts += 1
        try:
            response = api.fire(request_id, trigger, key=key, reason=reason)
        except requests.ConnectionError:
            response = None
        retry = response is None or (
            response.status_code in (409, 500, 502, 503)
            and (response.status_code != 409 or "in-progress" in response.json().get("type", ""))
        )
        if not retry or time.monotonic() > deadline:
            return response, attempts
        time.sleep(float((response.headers.get("Retry-After") if response else None) or 0.2))


def test_a_worker_killed_mid_request_leaves_no_key_in_progress(pg_server):
    """Issue 10, bug 3: a worker is SIGKILLed while it holds an Idempotency-Key (its request
    waits for a row lock); a retry with the same key then succeeds, and the action happened
    once."""
    served = pg_server
    people = served.people()
    [request_id] = served.seed.requests(people, "intake_review")
    api = served.api(people.agency)
    key = str(uuid.uuid4())
    with psycopg.connect(libpq(served)) as blocker, ThreadPoolExecutor(1) as pool:
        blocker.execute("SELECT id FROM device_requests WHERE id = %s FOR UPDATE", [request_id])
        attempt = pool.submit(api.fire, request_id, "admit", key=key)
        [client_port] = wait_for_lock_waiters(served, 1)
        worker = served.server.worker_with_local_port(client_port)
        assert worker is not None
        served.server.kill_worker(worker)
        with pytest.raises(requests.ConnectionError):
            attempt.result(timeout=30)
        blocker.rollback()
    retried, attempts = fire_until_done(api, request_id, "admit", key)
    assert retried is not None and retried.status_code == 200, (
        attempts,
        retried is not None and retried.text,
    )
    assert served.seed.request_row(request_id)["state"] == "awaiting_prioritisation"
    assert len(served.seed.audit_entries(request_id, "admit")) == 1
    replayed = api.fire(request_id, "admit", key=key)
    assert replayed.status_code == 200
    assert replayed.headers.get("Idempotent-Replayed") == "true"


def test_workers_killed_and_connections_dropped_under_load(pg_server):
    """Clients walk requests through three agency actions with Idempotency-Keys while workers
    are SIGKILLed and the database's connections terminated; with retries every request ends
    where it should, each action once, states agreeing with audit trails and stages."""
    served = pg_server
    people = served.people()
    ids = served.seed.requests(people, "intake_review", count=24)
    triggers = [("admit", ""), ("start_prioritisation", ""), ("defer", "Waiting for data.")]
    stop = threading.Event()
    kills: Counter = Counter()
    answers: Counter = Counter()
    lock = threading.Lock()

    def client(slice_ids):
        api = served.api(people.agency)
        for request_id in slice_ids:
            for trigger, reason in triggers:
                key = str(uuid.uuid4())
                response, attempts = fire_until_done(api, request_id, trigger, key, reason)
                with lock:
                    answers[response.status_code if response is not None else "no answer"] += 1
                    answers["retries"] += attempts - 1

    def saboteur():
        """From the moment the clients start until they finish: terminate the database's
        connections every 0.1 s, and SIGKILL a worker at once and then every second (once
        its replacement has booted), at most 3 times."""
        with psycopg.connect(libpq(served), autocommit=True) as conn:
            turn = 0
            while not stop.is_set():
                workers = served.server.worker_pids()
                if turn % 10 == 0 and kills["workers"] < 3 and len(workers) == WORKERS:
                    served.server.kill_worker(workers[turn % len(workers)])
                    kills["workers"] += 1
                kills["connections"] += conn.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()[0]
                turn += 1
                stop.wait(0.1)

    with ThreadPoolExecutor(5) as pool:
        sabotage = pool.submit(saboteur)
        clients = [pool.submit(client, ids[i::4]) for i in range(4)]
        for future in clients:
            future.result(timeout=300)
        stop.set()
        sabotage.result()
    served.server.wait_until_ready()
    print(f"faults: {dict(kills)}; answers: {dict(answers)}")
    assert kills["workers"] > 0 and kills["connections"] > 0
    assert answers[200] == len(ids) * len(triggers), answers
    for request_id in ids:
        assert served.seed.request_row(request_id)["state"] == "awaiting_prioritisation"
        actions = [e["action"] for e in served.seed.audit_entries(request_id)]
        assert actions.count("admit") == actions.count("defer") == 1, actions
    assert served.seed.consistency_problems(ids) == []
