"""Sessions on the app's clock: idle timeout (shorter for agency and administrators),
absolute timeout, a new session at login (nothing from before carries over, the pre-login
CSRF token included) and at the second factor; and the cookie flags in production."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app import create_app
from app.extensions import db
from app.models import types as model_types
from tests.browser_support import Clock
from tests.factories import DEFAULT_PASSWORD

MINUTE = 1 / (24 * 60)


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    monkeypatch.setattr(model_types, "datetime", frozen.datetime_class())
    return frozen


def logged_in(client) -> bool:
    return client.get("/auth/password").status_code == 200


@pytest.mark.parametrize(("role", "idle_minutes"), [("agency", 30), ("manufacturer", 120)])
def test_a_session_ends_after_the_idle_time_of_the_role(
    client, make, login, clock, role, idle_minutes
):
    login(make.user(role))
    clock.advance(days=(idle_minutes - 1) * MINUTE)
    assert logged_in(client)  # activity: the idle time starts again
    clock.advance(days=(idle_minutes - 1) * MINUTE)
    assert logged_in(client)
    clock.advance(days=(idle_minutes + 1) * MINUTE)
    response = client.get("/auth/password")
    assert response.status_code == 302 and "/auth/login" in response.location
    assert "Your session has ended" in client.get(response.location).get_data(as_text=True)
    assert not logged_in(client)


def test_a_session_ends_after_the_absolute_time_even_when_active(client, make, login, clock):
    login(make.user("irccs"))
    for _ in range(12 * 4 - 1):  # active every 15 minutes for almost 12 hours
        clock.advance(days=15 * MINUTE)
        assert logged_in(client)
    clock.advance(days=20 * MINUTE)
    assert not logged_in(client)


def test_login_starts_a_new_session(app, client, make):
    user = make.user("manufacturer")
    db.session.commit()
    with client.session_transaction() as before:
        before["csrf_token"] = "pre-login-token"
        before["planted"] = "by an attacker"
    client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    with client.session_transaction() as after:
        assert "csrf_token" not in after and "planted" not in after
        assert after["_user_id"].startswith(f"{user.id}:")


def test_the_second_factor_starts_a_new_session_again(client, make, clock):
    from app.accounts.second_factor import code_at

    user = make.user("agency")
    db.session.commit()
    client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    with client.session_transaction() as pending:
        assert "_user_id" not in pending  # not logged in between the two steps
        pending["planted"] = "between the steps"
    client.post("/auth/two-factor", data={"code": code_at(user.totp_secret, clock.now())})
    with client.session_transaction() as after:
        assert "planted" not in after and "second_factor_at" in after


def test_production_cookies_are_secure_httponly_and_samesite(tmp_path):
    app = create_app(
        "production",
        {
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}",
            "ALLOW_SQLITE_IN_PRODUCTION": True,
            "INSTANCE_DIR": str(tmp_path),
        },
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["HSTS_SECONDS"] >= 365 * 24 * 3600
    response = app.test_client().get("/auth/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_log_out_everywhere_else_keeps_only_this_session(app, client, make, login):
    user = make.user("manufacturer")
    db.session.commit()
    login(user)
    elsewhere = app.test_client()
    login(user, test_client=elsewhere)
    response = client.post("/account/security/log-out-elsewhere")
    assert response.status_code == 302
    assert logged_in(client)
    assert not logged_in(elsewhere)
