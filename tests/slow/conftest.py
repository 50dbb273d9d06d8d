"""Fixtures of the slow tests: one live gunicorn server per database kind for the whole run.

`pg_server` / `sqlite_server` (and `server`, parametrised over both) yield a `Served`: the
LiveServer, a Seeder writing to its database, and helpers. Tests create their own people and
requests, so they share the server without sharing data. After each test the server must not
have logged a server error, and `flask audit verify` must pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.accounts.second_factor import REMEMBERED_DEVICE_COOKIE
from tests.slow.clients import Api, Web
from tests.slow.data import People, Seeder
from tests.slow.server import LiveServer, postgres_available, scratch_database


@dataclass
class Served:
    server: LiveServer
    seed: Seeder
    backend: str
    # Person id -> the "remember this browser" cookie of their first login with a second
    # factor: a code works once per 30 seconds, and tests log the same person in often.
    remembered: dict = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def api(self, person) -> Api:
        return Api(self.base_url, person.token)

    def web(self, person) -> Web:
        web = Web(self.base_url)
        if person.id in self.remembered:
            web.http.cookies.set(REMEMBERED_DEVICE_COOKIE, self.remembered[person.id])
        web.login(person.email, person.password, person.totp_secret)
        cookie = web.http.cookies.get(REMEMBERED_DEVICE_COOKIE)
        if cookie:
            self.remembered[person.id] = cookie
        return web

    def people(self) -> People:
        return self.seed.people()

    def audit_verify(self) -> str:
        result = self.server.flask("audit", "verify")
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def _serve(backend: str):
    with scratch_database(backend) as url, LiveServer(url) as server:
        seeder = Seeder(server)
        try:
            yield Served(server, seeder, backend)
        finally:
            seeder.close()


@pytest.fixture(scope="session")
def _pg_served():
    if not postgres_available():
        pytest.skip("needs a PostgreSQL server (TEST_DATABASE_URL or HTA_SLOW_PG_URL)")
    yield from _serve("postgresql")


@pytest.fixture(scope="session")
def _sqlite_served():
    yield from _serve("sqlite")


def _checked(served: Served):
    errors_before = len(served.server.server_errors())
    yield served
    new_errors = served.server.server_errors()[errors_before:]
    assert new_errors == [], "the server logged errors:\n" + served.server.log()[-5000:]
    served.audit_verify()


@pytest.fixture
def pg_server(_pg_served):
    yield from _checked(_pg_served)


@pytest.fixture
def sqlite_server(_sqlite_served):
    yield from _checked(_sqlite_served)


@pytest.fixture(params=["postgresql", "sqlite"])
def server(request):
    served = request.getfixturevalue(
        "_pg_served" if request.param == "postgresql" else "_sqlite_served"
    )
    yield from _checked(served)
