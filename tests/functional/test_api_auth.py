"""Personal API tokens: the profile page, how a token authenticates, when it stops working,
the rate limit, and CSRF (the API reads no cookies, so it needs no CSRF token)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.api_tokens import hash_token
from app.extensions import db
from app.models import ApiToken, AuditEntry
from tests.api_support import Api, api_for, assert_problem, token_for

TOKEN_IN_PAGE = re.compile(r'value="(hta_[A-Za-z0-9_-]{43})"')


# --- The token page -----------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(client, make, login):
    user = make.user("manufacturer", second_factor=True)
    db.session.commit()
    login(user)
    page = client.post("/account/tokens", data={"name": "ERP export", "lifetime": "30"})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    plain = TOKEN_IN_PAGE.search(page.get_data(as_text=True)).group(1)
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hash_token(plain) and plain not in stored.token_hash
    assert stored.name == "ERP export" and stored.prefix == plain[:10]
    assert stored.expires_at - stored.created_at == timedelta(days=30)

    again = client.get("/account/tokens").get_data(as_text=True)
    assert plain not in again and "ERP export" in again and stored.prefix in again
    assert Api(client, plain).get("/me").get_json()["user"]["id"] == user.id
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "api_token_created" in actions


def test_the_token_page_refuses_a_nameless_token_and_keeps_the_choice(client, make, login):
    login(make.user("irccs", language="en", second_factor=True))
    page = client.post("/account/tokens", data={"name": " ", "lifetime": "365"})
    assert page.status_code == 422
    assert "Give the token a name" in page.get_data(as_text=True)
    assert db.session.scalars(select(ApiToken)).all() == []


def test_the_user_menu_links_to_the_token_page(client, make, login):
    login(make.user("agency"))
    assert 'href="/account/tokens"' in client.get("/").get_data(as_text=True)


def test_a_revoked_token_answers_401_at_once(client, make, login):
    user = make.user("manufacturer")
    plain = token_for(user)
    api = Api(client, plain)
    assert api.get("/me").status_code == 200
    login(user)
    token = db.session.scalars(select(ApiToken)).one()
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    refused = api.get("/me")
    assert_problem(refused, 401, "unauthorized")
    assert (
        'error="invalid_token", error_description="revoked"' in refused.headers["WWW-Authenticate"]
    )


def test_nobody_revokes_someone_elses_token(client, make, login):
    owner, other = make.user("manufacturer"), make.user("manufacturer")
    token_for(owner)
    token = db.session.scalars(select(ApiToken)).one()
    login(other)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_the_token_page_needs_a_login(client):
    assert client.get("/account/tokens").status_code == 302


# --- Authentication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer hta_not-a-real-token-at-all-0000000000000000", "Basic dXNlcjpwdw=="],
)
def test_a_missing_or_unknown_token_answers_401_with_a_bearer_challenge(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/requests", headers=headers)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="HTA Tracker API"')


def test_an_expired_token_answers_401(client, make):
    user = make.user("agency")
    plain = token_for(user, lifetime_days=30, now=datetime.now(UTC) - timedelta(days=31))
    response = Api(client, plain).get("/requests")
    assert_problem(response, 401, "unauthorized")
    assert 'error_description="expired"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("deactivate", ["user", "organisation"])
def test_a_deactivated_user_or_organisation_stops_the_token(client, make, deactivate):
    user = make.user("manufacturer")
    api = api_for(client, user)
    assert api.get("/me").status_code == 200
    (user if deactivate == "user" else user.organisation).active = False
    db.session.commit()
    assert_problem(api.get("/me"), 401, "unauthorized")


def test_a_browser_session_is_not_enough(client, make, login):
    """The API reads the token only: a logged-in browser calling it gets 401."""
    login(make.user("agency"))
    assert client.get("/requests/").status_code == 200
    assert_problem(client.get("/api/v1/requests"), 401, "unauthorized")


def test_the_token_acts_as_its_user_and_records_its_use(client, make):
    user = make.user("irccs", full_name="Anna Neri")
    api = api_for(client, user)
    me = api.get("/me").get_json()
    assert me["user"]["role"] == "irccs" and me["user"]["full_name"] == "Anna Neri"
    assert me["organisation"]["id"] == user.organisation_id
    assert me["token"]["last_used_at"] is not None
    db.session.expire_all()
    assert db.session.scalars(select(ApiToken)).one().last_used_at is not None


def test_post_needs_no_csrf_token_even_with_csrf_on(app, client, make):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make.user("manufacturer")
    api = api_for(client, user)
    response = api.post("/requests", {"trade_name": "No CSRF needed"})
    assert response.status_code == 201, response.get_data(as_text=True)
    # ...while the web pages still want their CSRF token.
    assert client.post("/account/tokens", data={"name": "x", "lifetime": "30"}).status_code == 400


# --- Rate limit -----------------------------------------------------------------------------


def test_too_many_requests_answer_429_with_retry_after(app, client, make):
    app.config["API_RATE_LIMIT"] = "3/minute"
    api = api_for(client, make.user("agency"))
    first = api.get("/me")
    assert first.headers["RateLimit-Limit"] == "3"
    assert first.headers["RateLimit-Remaining"] == "2"
    assert [api.get("/me").status_code for _ in range(2)] == [200, 200]
    limited = api.get("/me")
    problem = assert_problem(limited, 429, "rate-limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert problem["detail"]


def test_the_limit_is_per_token(app, client, make):
    app.config["API_RATE_LIMIT"] = "1/hour"
    one, two = api_for(client, make.user("agency")), api_for(client, make.user("agency"))
    assert one.get("/me").status_code == 200
    assert one.get("/me").status_code == 429
    assert two.get("/me").status_code == 200


def test_no_limit_when_disabled(app, client, make):
    app.config["API_RATE_LIMIT"] = ""
    api = api_for(client, make.user("agency"))
    assert all(api.get("/me").status_code == 200 for _ in range(5))
    assert "RateLimit-Limit" not in api.get("/me").headers


def test_the_user_is_read_once_per_api_request(client, make):
    """Authentication commits the rate counter and the last-used time without expiring the
    user it has just checked: the view does not read the user again."""
    from tests.statement_support import counting_statements

    user = make.user("agency", full_name="Lia Bassi")
    api = api_for(client, user)
    assert api.get("/me").status_code == 200
    with counting_statements() as statements:
        me = api.get("/me").get_json()
    users = [s for s in statements if re.search(r"\b(FROM|JOIN) users\b", s, re.I)]
    assert len(users) == 1, users
    assert me["user"]["full_name"] == "Lia Bassi" and me["user"]["role"] == "agency"
    with counting_statements() as statements:
        assert api.get("/requests").status_code == 200
    assert len([s for s in statements if re.search(r"\b(FROM|JOIN) users\b", s, re.I)]) == 1
