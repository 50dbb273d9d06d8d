"""A manufacturer drafts a request in a real browser (headless Chromium via Playwright).

The app runs in a thread on a free localhost port, on its own temporary SQLite file, with
CSRF protection ON (the testing config turns it off): the journey proves that every form the
manufacturer submits carries its token, that the client-side row template works, and that a
validation error keeps what was typed.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import DeviceRequest
from app.models.schema_extras import install_schema_extras
from tests.factories import DEFAULT_PASSWORD, Factories

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def live_app(tmp_path):
    """The app with CSRF enabled on a fresh SQLite file, and one manufacturer user."""
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'browser.sqlite3'}",
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "WTF_CSRF_ENABLED": True,
        },
    )
    with app.app_context():
        db.create_all()
        install_schema_extras(db.session.connection())
        user = Factories(db.session).user("manufacturer", language="en")
        db.session.commit()
        app.config["TEST_USER_EMAIL"] = user.email
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def base_url(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def page(base_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(base_url=base_url)
            context.set_default_timeout(15_000)
            yield context.new_page()
            context.close()
        finally:
            browser.close()


def log_in(page, email: str) -> None:
    page.goto("/auth/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', DEFAULT_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(lambda url: "/auth/login" not in url)


def test_a_manufacturer_corrects_a_bad_udi_di_and_saves_the_draft(live_app, page):
    log_in(page, live_app.config["TEST_USER_EMAIL"])

    page.goto("/requests/new")
    assert page.locator('#dossier-form input[name="csrf_token"]').count() == 1
    page.fill("#trade_name", "CardioValve X")
    page.fill("#model", "CVX-23")
    page.select_option("#regulation", "mdr")
    # Only the MDR classes are offered once the MDR is chosen.
    assert page.locator('#risk_class option[value="A"]').evaluate("o => o.hidden") is True
    page.select_option("#risk_class", "III")
    page.fill("#udi_di", "08001234567895")  # wrong check digit
    page.fill("#list_price", "1.234,50")
    page.fill("#comparators-0-description", "Surgical valve replacement")
    page.click('[data-add-row="comparators"]')  # a new row, added without a round trip
    page.fill("#comparators-1-description", "Balloon valvuloplasty")
    page.click('button[name="save"]')

    error = page.locator("#udi_di-error")
    error.wait_for()
    assert "check digit does not match" in error.inner_text()
    assert page.input_value("#udi_di") == "08001234567895"
    assert page.input_value("#trade_name") == "CardioValve X"
    assert page.input_value("#list_price") == "1.234,50"
    assert page.input_value("#risk_class") == "III"
    assert page.input_value("#comparators-1-description") == "Balloon valvuloplasty"
    with live_app.app_context():
        assert db.session.query(DeviceRequest).count() == 0

    page.fill("#udi_di", "08001234567897")
    page.click('button[name="save"]')
    page.wait_for_url(re.compile(r".*/requests/[0-9]+$"))
    assert "Draft saved" in page.content()
    assert "Still missing for submission" in page.content()

    page.goto("/requests/")
    row = page.locator("table tbody tr", has_text="CardioValve X")
    assert row.count() == 1
    with live_app.app_context():
        saved = db.session.query(DeviceRequest).one()
        assert saved.udi_di == "08001234567897"
        assert str(saved.list_price) == "1234.50"
        assert [c.description for c in saved.comparators] == [
            "Surgical valve replacement",
            "Balloon valvuloplasty",
        ]
        db.session.remove()
