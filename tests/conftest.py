"""Shared fixtures: `app`, `client`, `runner`, `make` (factories), `login`, `cast` (one user
per role), `history`, `count_statements`.

One app serves the whole test session, on one schema created once: a temporary SQLite file,
or PostgreSQL when TEST_DATABASE_URL is set (CI sets it).

Each test runs inside a transaction that is rolled back at its end, so every test starts from
empty tables and tests are independent of each other and of their order. The test holds one
connection with an outer transaction; `db.session` is bound to it with
`join_transaction_mode="create_savepoint"`, so the code's own `commit()` only releases a
SAVEPOINT and its `rollback()` returns to one. Views, CLI commands and the test client run
in the test's thread and share that connection.

A test that needs its data committed for real (other threads or processes read it, it holds
connections of its own, it adds routes to the app, it breaks its connection on purpose) is
marked `@pytest.mark.own_app`: it gets a new app of its own, its commits are real, and every
table is emptied afterwards.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_sqlalchemy.session import Session as FlaskSession
from hypothesis import settings
from sqlalchemy import text

from app import create_app
from app.accounts import second_factor as factor
from app.extensions import db
from app.models.schema_extras import install_schema_extras
from app.models.types import utcnow
from tests.cast_support import make_cast
from tests.factories import DEFAULT_PASSWORD, Factories
from tests.report_history import build_history
from tests.statement_support import counting_statements

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")

OWN_APP = "own_app"

# The browser tests' fixtures (live app, Chromium, logged-in people): tests/browser_support.py.
pytest_plugins = ["tests.browser_support"]

# The suite explores the same examples on every run, so CI never turns red on a case a
# developer never saw. Set HYPOTHESIS_PROFILE=explore to search new examples locally.
settings.register_profile("suite", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", max_examples=500, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"{OWN_APP}: a new app of its own whose commits are real (tables emptied afterwards), "
        "for tests whose data other connections, threads or processes must see",
    )


def _database_url(tmp_dir: Path) -> str:
    return POSTGRES_URL or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


class _OneConnectionSession(FlaskSession):
    """Flask-SQLAlchemy's session, except that a `bind` given to the session factory (the
    test's connection) wins over the app's engine. That connection belongs to the test's
    thread: another thread (a racer, a live server) must not share it unknowingly."""

    owner_thread: int | None = None

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.bind is not None:
            if threading.get_ident() != self.owner_thread:
                raise RuntimeError(
                    "another thread used the test's connection: mark the test "
                    f"@pytest.mark.{OWN_APP} (real commits, a connection per thread)"
                )
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@pytest.fixture(scope="session")
def _schema_url():
    with tempfile.TemporaryDirectory(prefix="hta-test-") as tmp:
        url = _database_url(Path(tmp))
        app = create_app(
            "testing", {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(Path(tmp) / "app")}
        )
        with app.app_context():
            _drop_everything()
            db.create_all()
            install_schema_extras(db.session.connection())
            db.session.commit()
        yield url, tmp, app
        with app.app_context():
            db.session.remove()
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


@pytest.fixture(scope="session")
def _session_app(_schema_url):
    """The one app of the test session, with its configuration as created."""
    _, _, app = _schema_url
    factory = db.session.session_factory
    original_class, original_options = factory.class_, dict(factory.kw)
    factory.class_ = type("Session", (_OneConnectionSession,), {})
    yield app, dict(app.config)
    factory.class_ = original_class
    factory.kw.clear()
    factory.kw.update(original_options)


def clear_report_cache() -> None:
    # Imported here: importing the app's modules before create_app() would be circular.
    from app.reports_pages.queries import clear_cache

    clear_cache()


def reset_rate_limits() -> None:
    """Rate limits and failed-login counts live in the limiter's storage, which the session's
    one app keeps: each test starts with none."""
    from app.extensions import limiter

    limiter.reset()


@pytest.fixture
def app(request, _schema_url, _session_app, tmp_path):
    clear_report_cache()
    reset_rate_limits()
    if request.node.get_closest_marker(OWN_APP):
        yield from _own_app(_schema_url[0], tmp_path)
    else:
        yield from _app_in_a_rolled_back_transaction(*_session_app, tmp_path)
    clear_report_cache()


def _own_app(url: str, tmp_path: Path) -> Iterator:
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


def _app_in_a_rolled_back_transaction(app, pristine_config: dict, tmp_path: Path) -> Iterator:
    # What a test changed of the shared app is put back: its configuration, its files.
    app.config.clear()
    app.config.update(pristine_config)
    app.instance_path = str(tmp_path / "instance")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.extensions.pop("document_store", None)  # the store under the previous test's folder
    ctx = app.app_context()
    ctx.push()
    factory_options = dict(db.session.session_factory.kw)
    connection = db.engine.connect()
    # The one BEGIN of the test (IMMEDIATE on SQLite: app/extensions.py); the session only
    # adds SAVEPOINTs inside it, so the SQLite hooks never issue a second BEGIN.
    outer = connection.begin()
    if connection.dialect.name == "sqlite":
        # As if every request's transaction began here: a web request trusted to only read
        # that writes is caught, as app/sqlite_reads.py does on a deferred transaction.
        connection.info["sqlite_deferred"] = True
    db.session.remove()
    _OneConnectionSession.owner_thread = threading.get_ident()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield app
    finally:
        db.session.remove()
        db.session.session_factory.kw.clear()
        db.session.session_factory.kw.update(factory_options)
        if outer.is_active:
            outer.rollback()
        connection.info.pop("sqlite_deferred", None)
        connection.close()
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
def cast(make):
    """One organisation and user per role, and the second parties (tests/cast_support.py),
    committed."""
    people = make_cast(make)
    db.session.commit()
    return people


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


@pytest.fixture
def count_statements(app):
    """`with count_statements() as statements:` -> the app's SQL statements run in the block
    (tests/statement_support.py)."""
    return counting_statements


RUN_SLOW = os.environ.get("RUN_SLOW") == "1"
SLOW_NOTE = (
    "slow tests (a real gunicorn server: races, killed workers, fuzzing; tests/slow) skipped: "
    "set RUN_SLOW=1 to run them (.ci/run does)"
)


def pytest_collection_modifyitems(config, items):
    if not RUN_SLOW:
        skip_slow = pytest.mark.skip(reason=SLOW_NOTE)
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip_slow)
    if POSTGRES_URL.startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    return None if RUN_SLOW else f"NOTE: {SLOW_NOTE}"
