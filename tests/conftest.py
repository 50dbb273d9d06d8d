"""Shared fixtures: `app`, `client`, `runner`, `db_session`, `make` (factories), `login`.

The schema is created once per test session on the test database: a temporary SQLite file,
or PostgreSQL when TEST_DATABASE_URL is set (CI sets it). Every test then starts from empty
tables, so tests are independent of each other and of their order.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text

from app import create_app
from app.accounts import second_factor as factor
from app.extensions import db
from app.models.schema_extras import install_schema_extras
from app.models.types import utcnow
from tests.factories import DEFAULT_PASSWORD, Factories
from tests.report_history import build_history

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")

# The browser tests' fixtures (live app, Chromium, logged-in people): tests/browser_support.py.
pytest_plugins = ["tests.browser_support"]

# The suite explores the same examples on every run, so CI never turns red on a case a
# developer never saw. Set HYPOTHESIS_PROFILE=explore to search new examples locally.
settings.register_profile("suite", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", max_examples=500, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def _database_url(tmp_dir: Path) -> str:
    return POSTGRES_URL or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def _schema_url():
    with tempfile.TemporaryDirectory(prefix="hta-test-") as tmp:
        url = _database_url(Path(tmp))
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            _drop_everything()
            db.create_all()
            install_schema_extras(db.session.connection())
            db.session.commit()
        yield url, tmp
        with app.app_context():
            _drop_everything()
            db.engine.dispose()


def _drop_everything() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP SCHEMA public CASCADE"))
        db.session.execute(text("CREATE SCHEMA public"))
        db.session.commit()
    else:
        db.drop_all()


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(_schema_url, tmp_path):
    url, _ = _schema_url
    app = create_app(
        "testing",
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(tmp_path / "instance")},
    )
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    """Factories that add and flush rows: make.org(...), make.user(...), make.request(...)."""
    return Factories(db.session)


@pytest.fixture
def history(app, make):
    """The known report history (tests/report_history.py), committed."""
    built = build_history(make, db.session)
    db.session.commit()
    return built


@pytest.fixture
def login(client):
    """login(user) logs the test client in through the real login form, and through the
    second-factor form (typing the current code) for a user who has one. A code works once,
    so a user logging in again (another client) comes from a remembered browser instead."""
    coded: set[int] = set()

    def do_login(user, password: str = DEFAULT_PASSWORD, test_client=None):
        target = test_client or client
        if user.id in coded:
            target.set_cookie(
                factor.REMEMBERED_DEVICE_COOKIE,
                factor.remembered_device_token(user, utcnow()),
                path="/auth",
            )
        response = target.post("/auth/login", data={"email": user.email, "password": password})
        assert response.status_code in (302, 303), response.data[:500]
        if response.headers["Location"].endswith("/auth/two-factor"):
            code = factor.code_at(user.totp_secret, utcnow())
            response = target.post("/auth/two-factor", data={"code": code})
            assert response.status_code in (302, 303), response.data[:500]
            coded.add(user.id)
        return response

    return do_login


def pytest_collection_modifyitems(config, items):
    if POSTGRES_URL.startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
