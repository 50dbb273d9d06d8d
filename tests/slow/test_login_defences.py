"""Issue 12's "done when", against a production-configured gunicorn server (3 workers, the
rate limits and lockout counted in Redis, as in production with several app servers):

- 30 wrong passwords for one account are answered 429 (locked or throttled) well before the
  30th, and then the right password fails too, until the lock ends;
- an administrator made with `flask create-admin`, and an agency user the administrator makes
  on the admin pages, must each enrol a second factor at the first login and reach no other
  page before;
- every HTML page reached (anonymous and logged in, by following the pages' own links)
  carries the Content-Security-Policy, the frame headers and HSTS.

This module starts its own server: the shared one (conftest.py) raises the login limits for
the other slow tests; here they are the production defaults, with a lockout of one minute.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import redis

from app.accounts import second_factor
from tests.slow.clients import Web, page_forms
from tests.slow.server import LiveServer, postgres_available, scratch_database

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "a long operator secret 2027"
WRONG = "not the password at all"
RAISED_LIMITS = (
    "LOGIN_LIMIT_PER_ADDRESS",
    "LOGIN_LIMIT_PER_ACCOUNT",
    "SECOND_FACTOR_LIMIT",
    "API_TOKEN_FAILURE_LIMIT",
)
SECRET = re.compile(r'id="totp-secret">\s*([A-Z2-7]+)\s*<')


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def server():
    if not postgres_available():
        pytest.skip("needs a PostgreSQL server (TEST_DATABASE_URL or HTA_SLOW_PG_URL)")
    if not _redis_available():
        pytest.skip("needs Redis at 127.0.0.1:6379 (the shared rate limit storage)")
    env = {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"hta-slow-{secrets.token_hex(4)}",
        "LOGIN_LOCKOUT_MINUTES": "1",
    }
    with scratch_database("postgresql") as url:
        live = LiveServer(url, env=env)
        for name in RAISED_LIMITS:
            live.env.pop(name, None)  # the production defaults (config.py)
        with live:
            yield live
            assert live.server_errors() == [], live.log()[-5000:]


def create_admin(server, email: str) -> None:
    result = server.flask(
        "create-admin", email, "--name", "Marta Ferri", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def post_login(web: Web, email: str, password: str):
    fields = web.form("/auth/login", "/auth/login")
    return web.post("/auth/login", fields | {"email": email, "password": password})


def enrol(web: Web) -> None:
    """The enrolment page's key, the current code, the recovery codes page."""
    page = web.get("/auth/two-factor/setup")
    key = SECRET.search(page.text).group(1)
    fields = web.form("/auth/two-factor/setup", "/auth/two-factor/setup")
    code = second_factor.code_at(key, datetime.now(UTC))
    response = web.post("/auth/two-factor/setup", fields | {"code": code})
    assert response.status_code == 200 and 'id="recovery-codes"' in response.text


def field_errors(html: str) -> list[str]:
    return re.findall(r'class="invalid-feedback[^"]*"[^>]*>([^<]+)<', html) or [html[-2000:]]


def form_with(web: Web, page: str, field: str) -> dict[str, str]:
    """The fields of the page's form that has `field` (the admin forms post to their page)."""
    for form in page_forms(web.get(page).text):
        if any(name == field for name, _value in form["fields"]):
            return dict(form["fields"])
    raise AssertionError(f"no form with {field!r} on {page}")


def reaches_nothing_before_enrolling(web: Web) -> None:
    """Every page that needs a login sends the pending user back to log in (the home page
    shows them only its anonymous face)."""
    assert 'action="/auth/logout"' not in web.get("/").text
    for path in ("/work/", "/requests/", "/reports/", "/admin/users", "/account/sessions"):
        response = web.get(path, allow_redirects=False)
        assert response.status_code in (302, 303), (path, response.status_code)
        assert "/auth/" in response.headers["Location"], path


def test_thirty_wrong_passwords_lock_the_account_until_the_lock_ends(server):
    email = "locked-out@example.org"
    create_admin(server, email)
    web = Web(server.base_url)
    statuses = [post_login(web, email, WRONG).status_code for _ in range(30)]
    first_refusal = statuses.index(429)
    assert first_refusal <= 9, statuses  # well before the 30th
    assert set(statuses[first_refusal:]) == {429}, statuses
    # The right password fails while the lock holds (from another browser too).
    assert post_login(Web(server.base_url), email, PASSWORD).status_code == 429
    time.sleep(62)  # LOGIN_LOCKOUT_MINUTES=1, and the per-minute limits' windows pass
    response = post_login(web, email, PASSWORD)
    assert response.status_code == 302, response.text[:300]
    assert response.headers["Location"].endswith("/auth/two-factor/setup")


def test_users_made_by_flask_and_by_the_admin_pages_enrol_before_anything(server):
    boss_email = "boss@example.org"
    create_admin(server, boss_email)
    boss = Web(server.base_url)
    response = post_login(boss, boss_email, PASSWORD)
    assert response.headers["Location"].endswith("/auth/two-factor/setup")
    reaches_nothing_before_enrolling(boss)
    response = post_login(boss, boss_email, PASSWORD)  # (the pending login was dropped)
    enrol(boss)

    fields = form_with(boss, "/admin/organisations/new", "name")
    response = boss.post(
        "/admin/organisations/new",
        # (a browser sends a select's first option when none is marked selected)
        {"region": ""} | fields | {"name": "Agenzia Slow Test", "kind": "agency"},
    )
    assert response.status_code == 302, field_errors(response.text)
    organisation_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    fields = form_with(boss, "/admin/users/new", "full_name")
    agent_email = "agente@example.org"
    response = boss.post(
        "/admin/users/new",
        fields
        | {
            "email": agent_email,
            "full_name": "Agente Nuovo",
            "role": "agency",
            "organisation_id": organisation_id,
            "language": "en",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert response.status_code == 302, field_errors(response.text)

    agent = Web(server.base_url)
    response = post_login(agent, agent_email, PASSWORD)
    assert response.headers["Location"].endswith("/auth/two-factor/setup")
    reaches_nothing_before_enrolling(agent)
    post_login(agent, agent_email, PASSWORD)
    enrol(agent)
    assert agent.get("/work/", allow_redirects=False).status_code == 200
    assert_headers_on_every_page(agent, boss)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _same_site_links(base: str, page_url: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        url = urljoin(page_url, href)
        parts = urlsplit(url)
        if url.startswith(base) and "logout" not in parts.path:
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def assert_headers_on_every_page(*browsers: Web, limit: int = 80) -> None:
    anonymous = Web(browsers[0].base)
    checked = 0
    for web in (anonymous, *browsers):
        queue, seen = ["/", "/auth/login", "/register/", "/no-such-page"], set()
        while queue and len(seen) < limit:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            response = web.get(path, allow_redirects=False)
            if not response.headers.get("Content-Type", "").startswith("text/html"):
                continue
            headers = response.headers
            csp = headers.get("Content-Security-Policy", "")
            assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
            assert headers.get("X-Frame-Options") == "DENY", path
            assert headers.get("X-Content-Type-Options") == "nosniff", path
            assert headers.get("Strict-Transport-Security", "").startswith("max-age="), path
            checked += 1
            if response.status_code == 200:
                queue += _same_site_links(web.base, web.base + path, response.text)
    assert checked > 20
