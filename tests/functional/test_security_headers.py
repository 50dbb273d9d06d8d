"""Security headers on every kind of response (pages, the public register, error pages, the
API, downloads, static files), `Cache-Control: no-store` on whatever a logged-in user receives,
and no inline script, event handler or style attribute left in any template (the CSP would
block them; the browser suite fails on any violation Chromium reports)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import app as app_package
from app.extensions import db

APP_DIR = Path(app_package.__file__).parent
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=\"|javascript:", re.IGNORECASE
)


def assert_security_headers(response) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'", csp)
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # production only (test_sessions.py)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/auth/login",
        "/register/",
        "/register/register.csv",
        "/no-such-page",
        "/api/v1/me",
        "/api/v1/openapi.json",
        "/static/app.css",
    ],
)
def test_anonymous_responses_carry_the_headers(client, url):
    response = client.get(url)
    response.close()
    assert_security_headers(response)
    assert response.headers.get("Cache-Control") != "no-store" or url.startswith("/api")


def test_what_a_logged_in_user_gets_is_never_stored(client, make, login):
    manufacturer = make.user("manufacturer")
    draft = make.request(manufacturer=manufacturer.organisation, complete=True)
    db.session.commit()
    login(manufacturer)
    for url in ("/", f"/requests/{draft.id}", "/work/", "/account/security"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", url
    static = client.get("/static/app.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_report_downloads_are_never_stored(client, make, login):
    login(make.user("agency"))
    for url in (
        "/reports/timing.csv",
        "/reports/timing.xlsx",
        "/reports/timing.pdf",
        "/reports/adoption.csv",
        "/reports/adoption.xlsx",
        "/reports/adoption.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Content-Disposition"].startswith("attachment"), url


def test_each_response_has_its_own_nonce(client):
    first = client.get("/auth/login").headers["Content-Security-Policy"]
    second = client.get("/auth/login").headers["Content-Security-Policy"]
    assert first != second


def test_no_template_has_inline_script_handlers_or_style():
    # Email bodies (notifications/email*.html) are read by mail clients, not under the app's
    # CSP; mail clients need inline style.
    found = [
        f"{path.relative_to(APP_DIR)}: {match.group(0)}"
        for path in APP_DIR.rglob("*.html")
        if not path.name.startswith("email")
        for match in INLINE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
