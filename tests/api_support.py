"""Shared by the API tests: tokens for users and a small client that sends them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from app.accounts.api_tokens import issue_token
from app.extensions import db
from app.models import CoiDeclaration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"


def token_for(user, *, lifetime_days: int | None = 90, name: str = "script", now=None) -> str:
    """A new token of `user`, committed (the API reads it in its own transaction)."""
    _token, plain = issue_token(user, name, lifetime_days, now or datetime.now(UTC))
    db.session.commit()
    return plain


class Api:
    """The test client with a bearer token: api.get("/requests") -> /api/v1/requests."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return headers | (extra or {})

    def url(self, path: str) -> str:
        return path if path.startswith("/api/") else "/api/v1" + path

    def get(self, path: str, **kwargs):
        return self.client.get(
            self.url(path), headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def send(self, method: str, path: str, body=None, *, headers: dict | None = None, **kwargs):
        if body is not None and "data" not in kwargs:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return self.client.open(
            self.url(path), method=method, headers=self.headers(headers), **kwargs
        )

    def post(self, path: str, body=None, **kwargs):
        return self.send("POST", path, body, **kwargs)

    def patch(self, path: str, body=None, **kwargs):
        return self.send("PATCH", path, body, **kwargs)

    def put(self, path: str, body=None, **kwargs):
        return self.send("PUT", path, body, **kwargs)


def api_for(client, user, **kwargs) -> Api:
    return Api(client, token_for(user, **kwargs))


def clear_coi(assessor, request) -> None:
    """The assessor declares no conflict of interest for the request (so they may open it)."""
    db.session.add(
        CoiDeclaration(
            request_id=request.id, user_id=assessor.id, has_conflict=False, description=""
        )
    )
    db.session.flush()


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["type"] == f"/api/v1/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body
