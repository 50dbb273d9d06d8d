"""Login limits hold across app servers that share Redis (`RATELIMIT_STORAGE_URI=redis://...`).

Two real gunicorn servers, each its own process, on one SQLite file and one Redis: attempts
spread over both count together, per client address and per account (an unknown email too,
whose lockout lives in the limiter's storage alone). Skipped, and saying so, without Redis at
127.0.0.1:6379.
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from app.models.schema_extras import install_schema_extras
from tests.factories import DEFAULT_PASSWORD, Factories

REDIS = ("127.0.0.1", 6379)
ROOT = Path(__file__).resolve().parents[2]


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not _redis_reachable(), reason="needs Redis at 127.0.0.1:6379 (CI starts it)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str]):
    """One app server in its own process; yields its port."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Wait for an answer, not only the open port: gunicorn listens before its worker has
        # imported the app, which takes over 10 s on a loaded machine (the posts' timeout).
        deadline = time.monotonic() + 120
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def post_login(port: int, email: str, password: str) -> int:
    """The status of a login form post (redirects not followed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/auth/login",
            body=urllib.parse.urlencode({"email": email, "password": password}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def two_servers(tmp_path):
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": database, "INSTANCE_DIR": str(tmp_path)}
    )
    with app.app_context():
        db.create_all()
        install_schema_extras(db.session.connection())
        email = Factories(db.session).user("manufacturer").email
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RATELIMIT_", "LOGIN_", "TEST_DATABASE_URL"))
    } | {
        "HTA_ENV": "testing",
        "TEST_DATABASE_URL": database,
        "HTA_INSTANCE_DIR": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "RATELIMIT_KEY_PREFIX": f"hta-test-{secrets.token_hex(6)}",
        "LOGIN_LIMIT_PER_ADDRESS": "8/minute",
    }
    with ExitStack() as stack:
        first = stack.enter_context(gunicorn(env))
        second = stack.enter_context(gunicorn(env))
        yield first, second, email


def test_login_limits_and_lockout_hold_across_two_servers(two_servers):
    first, second, email = two_servers
    # An unknown email: its failures are counted only in Redis; 3 + 2 reach the lockout.
    unknown = [
        post_login(server, "nobody@example.org", "wrong password!")
        for server in (first, first, first, second)
    ]
    assert unknown == [200, 200, 200, 200]
    assert post_login(second, "nobody@example.org", "wrong password!") == 429

    # The address has now posted 5 times; the limit is 8 per minute, across both servers.
    assert post_login(first, email, "wrong password!") == 200
    assert post_login(second, email, "wrong password!") == 200
    assert post_login(first, email, DEFAULT_PASSWORD) == 302  # the 8th: allowed, logs in
    assert post_login(second, email, DEFAULT_PASSWORD) == 429  # the 9th, on the other server
    assert post_login(first, email, DEFAULT_PASSWORD) == 429
