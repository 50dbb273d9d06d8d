"""Login defences as an attacker meets them: throttling per account and per client address,
temporary lockout (the right password fails until the lock ends or an admin unlocks), the owner
told at the next login, answers that never tell whether an account exists, refused API tokens
throttled per address, and the security events in the audit chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db, limiter
from app.models import AuditEntry, User
from app.models import types as model_types
from tests.browser_support import Clock
from tests.factories import DEFAULT_PASSWORD

WRONG = "not the password at all"
LOCKED_TEXT = "this account is locked for a while"
FAILED_TEXT = "Email or password is not correct"


@pytest.fixture(autouse=True)
def in_english(client):
    """Anonymous pages follow the language switch; pin English so the texts below match."""
    client.post("/language/en", data={"next": "/"})


@pytest.fixture
def clock(monkeypatch):
    """The app's clock, standing still until the test moves it on."""
    frozen = Clock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    monkeypatch.setattr(model_types, "datetime", frozen.datetime_class())
    return frozen


def post_login(client, email: str, password: str, address: str = "192.0.2.10"):
    return client.post(
        "/auth/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def answer(response) -> tuple[int, str]:
    page = response.get_data(as_text=True)
    if LOCKED_TEXT in page:
        return response.status_code, "locked"
    if FAILED_TEXT in page:
        return response.status_code, "failed"
    return response.status_code, "other"


def actions_for(user) -> list[str]:
    query = select(AuditEntry.action).where(
        AuditEntry.entity_type == "user", AuditEntry.entity_id == user.id
    )
    return list(db.session.scalars(query.order_by(AuditEntry.seq)))


def test_repeated_failures_lock_the_account_and_the_right_password_then_fails(client, make, clock):
    user = make.user("manufacturer")
    db.session.commit()
    answers = [answer(post_login(client, user.email, WRONG)) for _ in range(30)]
    assert answers[:4] == [(200, "failed")] * 4
    assert answers[4] == (429, "locked")  # the 5th failure locks
    # Well before the 30th: every later attempt is locked or throttled.
    assert all(status == 429 for status, _ in answers[5:])

    assert post_login(client, user.email, DEFAULT_PASSWORD).status_code == 429

    limiter.reset()  # the rate limits' windows pass (they run on the wall clock)...
    assert answer(post_login(client, user.email, DEFAULT_PASSWORD)) == (429, "locked")
    clock.advance(days=14 / (24 * 60))  # ...but the lock holds: 14 minutes on, still locked
    assert answer(post_login(client, user.email, DEFAULT_PASSWORD, "192.0.2.99")) == (
        429,
        "locked",
    )
    clock.advance(days=2 / (24 * 60))  # past the 15 minutes
    assert post_login(client, user.email, DEFAULT_PASSWORD, "192.0.2.99").status_code == 302

    actions = actions_for(user)
    assert actions.count("login_failed") == 5 and actions.count("account_locked") == 1
    assert actions[-1] == "login"


def test_the_owner_is_told_of_the_lockout_at_the_next_login(client, make, clock):
    user = make.user("manufacturer")
    db.session.commit()
    for _ in range(5):
        post_login(client, user.email, WRONG)
    clock.advance(days=1)
    response = post_login(client, user.email, DEFAULT_PASSWORD)
    home = client.get(response.location).get_data(as_text=True)
    assert "Your account was locked for a while on 2027-03-01 08:00 UTC" in home
    assert "locked for a while on" not in client.get("/").get_data(as_text=True)  # told once


def test_an_administrator_unlocks_a_locked_account(app, client, make, login, clock):
    user = make.user("irccs")
    admin = make.user("admin")
    db.session.commit()
    locked_out = app.test_client()
    for _ in range(5):
        post_login(locked_out, user.email, WRONG)
    login(admin)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'id="user-locked"' in page

    response = client.post(f"/admin/users/{user.id}/unlock")
    assert "is unlocked and can log in again" in client.get(response.location).get_data(
        as_text=True
    )
    assert post_login(locked_out, user.email, DEFAULT_PASSWORD).status_code == 302
    assert "unlock" in actions_for(user)


def test_an_unknown_email_gets_exactly_the_answers_of_a_known_one(client, make, clock):
    user = make.user("manufacturer")
    db.session.commit()
    known = [answer(post_login(client, user.email, WRONG)) for _ in range(7)]
    unknown = [answer(post_login(client, "nobody@example.org", WRONG)) for _ in range(7)]
    assert known == unknown
    assert unknown[-1] == (429, "locked")


def test_an_unknown_email_costs_a_password_hash_like_a_known_one(client, make, monkeypatch):
    """Same work whether the account exists or not, so the time taken tells nothing."""
    from app.accounts import operations

    checked = []
    real = operations.verify_password
    monkeypatch.setattr(
        operations, "verify_password", lambda h, p: checked.append(h is None) or real(h, p)
    )
    user = make.user("manufacturer")
    db.session.commit()
    post_login(client, user.email, WRONG)
    post_login(client, "nobody@example.org", WRONG)
    assert checked == [False, True]


def test_logins_from_one_address_are_throttled_across_accounts(client, make):
    emails = [f"guess{n}@example.org" for n in range(31)]
    statuses = [post_login(client, email, WRONG).status_code for email in emails]
    assert statuses[:30] == [200] * 30  # one try per account: none locked
    assert statuses[30] == 429  # but the address has tried too often


def test_one_account_is_throttled_across_addresses(app, client, make):
    app.config["LOGIN_LOCKOUT_THRESHOLD"] = 100  # only the per-account rate limit here
    user = make.user("manufacturer")
    db.session.commit()
    statuses = [
        post_login(client, user.email, WRONG, address=f"198.51.100.{n}").status_code
        for n in range(11)
    ]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


def test_the_second_factor_step_counts_towards_the_lockout(client, make):
    user = make.user("agency")
    db.session.commit()
    assert post_login(client, user.email, DEFAULT_PASSWORD).location.endswith("/auth/two-factor")
    for _ in range(5):
        client.post("/auth/two-factor", data={"code": "000000"})
    response = client.get("/auth/two-factor")
    assert response.location.endswith("/auth/login")
    db.session.refresh(user)
    assert user.locked_until is not None
    assert "account_locked" in actions_for(user)


def test_wrong_api_tokens_are_throttled_per_address(client, make):
    headers = {"Authorization": "Bearer hta_not-a-real-token"}
    statuses = [client.get("/api/v1/me", headers=headers).status_code for _ in range(21)]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
    other_address = client.get(
        "/api/v1/me", headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.5"}
    )
    assert other_address.status_code == 401


def test_a_deactivated_users_tokens_stay_revoked_after_reactivation(make):
    from app.accounts import api_tokens
    from app.accounts.operations import set_user_active

    now = datetime(2027, 3, 1, tzinfo=UTC)
    user = make.user("manufacturer")
    _token, plain = api_tokens.issue_token(user, "ERP", 30, now)
    set_user_active(None, user, False, now=now)
    set_user_active(None, user, True, now=now + timedelta(days=1))
    assert api_tokens.authenticate(plain, now + timedelta(days=1)).problem == api_tokens.REVOKED


def test_a_deactivated_user_is_refused_like_a_wrong_password(client, make):
    user = make.user("manufacturer", active=False)
    db.session.commit()
    assert answer(post_login(client, user.email, DEFAULT_PASSWORD)) == (200, "failed")
    assert db.session.get(User, user.id).last_login_at is None


def test_a_login_rehashes_a_password_hashed_with_older_parameters(client, make):
    from argon2 import PasswordHasher

    from app.accounts.passwords import needs_rehash

    old_hash = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(DEFAULT_PASSWORD)
    user = make.user("manufacturer", password_hash=old_hash)
    db.session.commit()
    assert post_login(client, user.email, DEFAULT_PASSWORD).status_code == 302
    db.session.refresh(user)
    assert user.password_hash != old_hash and not needs_rehash(user.password_hash)
