"""Fixtures of the page and API tests (the app, client, `make` and `login` come from
tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def as_user(app, login):
    """as_user(user) -> a test client logged in as that user (a new client each call)."""

    def make_client(user):
        client = app.test_client()
        login(user, test_client=client)
        return client

    return make_client
