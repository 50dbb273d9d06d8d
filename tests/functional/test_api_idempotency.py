"""Idempotency-Key: a retry returns the first result without acting twice; the same key with
another body is refused (422); a duplicate sent while the first is still running gets 409."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.api import idempotency
from app.extensions import db
from app.models import AuditEntry, DeviceRequest, IdempotencyRecord
from tests.api_support import Api, api_for, assert_problem, token_for
from tests.workflow_support import no_area_hooks  # noqa: F401 (fixture)

BODY = {"trade_name": "Retry Valve"}


def count_requests() -> int:
    return db.session.scalar(select(func.count()).select_from(DeviceRequest))


def transitions_logged() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.request_id.is_not(None))
    )


def key(value: str) -> dict:
    return {"Idempotency-Key": value}


def test_a_retry_returns_the_first_result_without_creating_twice(client, make):
    api = api_for(client, make.user("manufacturer"))
    first = api.post("/requests", BODY, headers=key("abc-1"))
    retry = api.post("/requests", BODY, headers=key("abc-1"))
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count_requests() == 1
    other = api.post("/requests", BODY, headers=key("abc-2"))
    assert other.status_code == 201 and count_requests() == 2


def test_the_same_key_with_another_body_is_refused(client, make):
    api = api_for(client, make.user("manufacturer"))
    assert api.post("/requests", BODY, headers=key("k")).status_code == 201
    assert_problem(
        api.post("/requests", {"trade_name": "Other"}, headers=key("k")),
        422,
        "idempotency-key-reused",
    )
    assert count_requests() == 1


def test_keys_belong_to_their_user(client, make):
    one = api_for(client, make.user("manufacturer"))
    two = api_for(client, make.user("manufacturer"))
    assert one.post("/requests", BODY, headers=key("shared")).status_code == 201
    assert two.post("/requests", BODY, headers=key("shared")).status_code == 201
    assert count_requests() == 2


def test_a_refusal_is_replayed_too(client, make):
    api = api_for(client, make.user("manufacturer", language="en"))
    bad = {"udi_di": "08001234567895"}
    first = api.post("/requests", bad, headers=key("bad-1"))
    retry = api.post("/requests", bad, headers=key("bad-1"))
    assert first.status_code == retry.status_code == 422
    assert retry.get_json() == first.get_json()
    assert retry.mimetype == "application/problem+json"


def test_firing_twice_with_one_key_fires_once(client, make, no_area_hooks):  # noqa: F811
    user = make.user("manufacturer")
    request = make.request(manufacturer=user.organisation, complete=True)
    db.session.commit()
    api = api_for(client, user)
    path = f"/requests/{request.id}/transitions/submit"
    first = api.post(path, {}, headers=key("submit-1"))
    retry = api.post(path, {}, headers=key("submit-1"))
    assert first.status_code == retry.status_code == 200
    assert retry.get_json() == first.get_json()
    assert transitions_logged() == 1
    without_key = api.post(path, {})
    assert_problem(without_key, 409, "invalid-transition")
    assert_problem(
        api.post(f"/requests/{request.id}/transitions/withdraw", {}, headers=key("submit-1")),
        422,
        "idempotency-key-reused",
    )


@pytest.mark.postgres
@pytest.mark.own_app  # two threads, each with its own connection: real commits
def test_a_concurrent_duplicate_answers_409_and_nothing_is_done_twice(app, make, monkeypatch):
    """Two threads send the same key: while the first is still working, the second gets 409;
    afterwards a retry gets the first one's result. (The first thread pauses right after its
    claim, inside its transaction: the key's lock is held until it commits. On SQLite write
    transactions run one at a time, so a duplicate waits and then replays the first answer:
    tests/slow/test_races.py sends one key from many clients on both databases.)"""
    token = token_for(make.user("manufacturer"))
    entered, release = threading.Event(), threading.Event()
    real_claim = idempotency.claim

    def slow_claim(*args, **kwargs):
        result = real_claim(*args, **kwargs)
        if threading.current_thread().name == "first":
            entered.set()
            release.wait(20)
        return result

    monkeypatch.setattr(idempotency, "claim", slow_claim)
    results = {}

    def send(name: str):
        # Each thread is a client of its own, with its own app context and session.
        results[name] = Api(app.test_client(), token).post("/requests", BODY, headers=key("same"))

    first = threading.Thread(target=send, args=("first",), name="first")
    first.start()
    try:
        assert entered.wait(20)
        second = threading.Thread(target=send, args=("second",), name="second")
        second.start()
        second.join(20)
    finally:
        release.set()
        first.join(20)
    second = results["second"]
    problem = assert_problem(second, 409, "idempotency-in-progress")
    assert second.headers["Retry-After"] == "1" and problem["detail"]
    assert results["first"].status_code == 201
    retry = Api(app.test_client(), token).post("/requests", BODY, headers=key("same"))
    assert retry.get_json() == results["first"].get_json()
    db.session.expire_all()
    assert count_requests() == 1


def test_a_key_is_forgotten_after_24_hours(client, make):
    api = api_for(client, make.user("manufacturer"))
    assert api.post("/requests", BODY, headers=key("old")).status_code == 201
    record = db.session.scalars(select(IdempotencyRecord)).one()
    assert record.expires_at - record.created_at == timedelta(hours=24)
    record.expires_at = record.created_at - timedelta(seconds=1)
    db.session.commit()
    again = api.post("/requests", BODY, headers=key("old"))
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count_requests() == 2


def test_an_unexpected_error_releases_the_key(client, make, monkeypatch):
    api = api_for(client, make.user("manufacturer"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("app.api.requests.create_draft", broken)
    with pytest.raises(RuntimeError):
        api.post("/requests", BODY, headers=key("boom"))
    assert db.session.scalars(select(IdempotencyRecord)).all() == []
    monkeypatch.undo()
    assert api.post("/requests", BODY, headers=key("boom")).status_code == 201


@pytest.mark.parametrize("value", ["", "x" * 256, "naïve"])
def test_a_malformed_key_is_refused(client, make, value):
    api = api_for(client, make.user("manufacturer"))
    problem = assert_problem(api.post("/requests", BODY, headers=key(value)), 400, "bad-request")
    assert "Idempotency-Key" in problem["errors"]
    assert count_requests() == 0
