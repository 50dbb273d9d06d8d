"""Shared by the browser tests (headless Chromium driven by Playwright).

- `live_app`, `base_url`: the app served in a thread on a free localhost port, on its own
  SQLite file, with CSRF protection ON (the testing config turns it off); one per test module.
- `chromium`: one headless Chromium per test module; `page`: a fresh anonymous page;
  `people.page_for(person)`: a page logged in through the real login form, one browser
  context (cookies) per person, kept for the module.
- `clock`: the live app's clock, standing still until the test moves it on, so that days
  pass between two steps of a journey.
- `seed(live_app, build)`: users and organisations (everything else is done in the browser).
- Page helpers read what a user sees (state badge, timeline, audit trail) and act as a user
  does (open an action and send its form, fill a dossier, upload the missing documents).

The fixtures are a plugin of the suite (`pytest_plugins` in tests/conftest.py); browser test
modules set `pytestmark = BROWSER` (marked `browser`, skipped without /usr/bin/chromium).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from werkzeug.serving import make_server

from app import create_app
from app.accounts.second_factor import code_at
from app.extensions import db
from app.i18n import DATETIME_PATTERNS
from app.models import types as model_types
from app.models.schema_extras import install_schema_extras
from tests.document_support import pdf_bytes
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
ROME = ZoneInfo("Europe/Rome")
REQUEST_PAGE = re.compile(r".*/requests/[0-9]+$")
# How long a page may take to answer or show what the test waits for.
TIMEOUT_MS = 15_000

BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@dataclass(frozen=True)
class Person:
    """A user as the browser tests know them: plain values, usable outside the app context."""

    email: str
    name: str
    totp_secret: str | None = None

    @classmethod
    def of(cls, user) -> Person:
        return cls(email=user.email, name=user.display_name, totp_secret=user.totp_secret)


def seed(app, build: Callable[[Factories], Any]) -> Any:
    """Run `build(make)` in the app's context and commit: users and organisations only (the
    journeys do everything else in the browser). Return plain values, not rows."""
    with app.app_context():
        result = build(Factories(db.session))
        db.session.commit()
        db.session.remove()
    return result


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve `app` in a thread on a free localhost port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The app with CSRF enabled on a fresh SQLite file of its own (one per test module)."""
    tmp = tmp_path_factory.mktemp("browser")
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'browser.sqlite3'}",
            "INSTANCE_DIR": str(tmp / "instance"),
            "WTF_CSRF_ENABLED": True,
            # The journeys move the app's clock on by days between two steps of one logged-in
            # person: session timeouts are tested apart (tests/functional/test_sessions.py).
            "SESSION_IDLE_MINUTES": 0,
            "SESSION_IDLE_MINUTES_PRIVILEGED": 0,
            "SESSION_ABSOLUTE_HOURS": 0,
        },
    )
    with app.app_context():
        db.create_all()
        install_schema_extras(db.session.connection())
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


class Clock:
    """The live app's clock, standing still at `start` until the test moves it on, so that a
    journey's days pass between two steps and the pages show exact, known moments.

    Every "now" of the app comes from `app.models.types.utcnow`, which reads `datetime.now` of
    that module: the `clock` fixture puts this clock there (the live app runs in this process).
    """

    def __init__(self, start: datetime):
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, days: float) -> None:
        self.moment += timedelta(days=days)

    def datetime_class(self) -> type[datetime]:
        clock = self

        class ClockDatetime(datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.moment.astimezone(tz) if tz else clock.moment.replace(tzinfo=None)

        return ClockDatetime


# A Monday morning in Rome (09:00 CET).
CLOCK_START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def clock():
    """The live app's clock for the whole module, from CLOCK_START: `clock.advance(days=5)`."""
    frozen = Clock(CLOCK_START)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model_types, "datetime", frozen.datetime_class())
        yield frozen


@pytest.fixture(scope="module")
def base_url(live_app):
    with serving(live_app) as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the whole test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


# What Chromium reported about blocked content (Content-Security-Policy violations) since the
# last check; `no_csp_violation` fails the test that caused one.
CSP_VIOLATIONS: list[str] = []


def _watch_csp(message) -> None:
    if "Content Security Policy" in message.text:
        where = message.location or {}
        CSP_VIOLATIONS.append(f"{where.get('url')}:{where.get('lineNumber')}: {message.text}")


def new_page(chromium, base_url: str):
    """A page in a browser context of its own (no cookies shared with any other page)."""
    context = chromium.new_context(
        base_url=base_url, accept_downloads=True, reduced_motion="reduce"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", _watch_csp)
    return page


@pytest.fixture(autouse=True)
def no_csp_violation():
    """Fail a test during which Chromium reported a Content-Security-Policy violation."""
    CSP_VIOLATIONS.clear()
    yield
    violations, CSP_VIOLATIONS[:] = list(CSP_VIOLATIONS), []
    assert not violations, violations


@pytest.fixture
def page(chromium, base_url):
    """A fresh anonymous page; its context is closed after the test."""
    fresh = new_page(chromium, base_url)
    yield fresh
    fresh.context.close()


def log_in(page, email: str, totp_secret: str | None = None) -> None:
    """Log in through the login form, as a person does; with a second factor, type the code
    an authenticator app would show at the app's clock."""
    page.goto("/auth/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', DEFAULT_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(lambda url: "/auth/login" not in url)
    if totp_secret is not None and page.url.endswith("/auth/two-factor"):
        page.fill('input[name="code"]', code_at(totp_secret, model_types.utcnow()))
        page.click('main form button[type="submit"]')
        page.wait_for_url(lambda url: "/auth/two-factor" not in url)


class People:
    """One logged-in page per person, kept for the whole module (log in once)."""

    def __init__(self, chromium, base_url: str):
        self._chromium = chromium
        self._base_url = base_url
        self._pages: dict[str, Any] = {}

    def page_for(self, person: Person):
        page = self._pages.get(person.email)
        if page is None:
            page = new_page(self._chromium, self._base_url)
            log_in(page, person.email, person.totp_secret)
            self._pages[person.email] = page
        return page

    def close(self) -> None:
        for page in self._pages.values():
            page.context.close()
        self._pages.clear()


@pytest.fixture(scope="module")
def people(chromium, base_url):
    crowd = People(chromium, base_url)
    yield crowd
    crowd.close()


# --- Reading and acting on pages, as a person would --------------------------------------------


def submit(page, button, url: str | re.Pattern | None = None) -> None:
    """Click a submit button and wait for the page the server answers with (optionally at
    `url`)."""
    with page.expect_navigation(url=url) if url is not None else page.expect_navigation():
        button.click()


def open_action(page, trigger: str, prefix: str = "wf-action"):
    """Open the collapsed form of a workflow action in the panel; return its accordion item."""
    item = page.locator(f'.accordion-item[data-trigger="{trigger}"]')
    body = item.locator(f"#{prefix}-{trigger}")
    if not body.is_visible():
        item.locator(".accordion-button").click()
        body.wait_for(state="visible")
    return item


def text_of(locator) -> str:
    """The visible text with runs of white space folded (what a reader sees)."""
    return " ".join(locator.inner_text().split())


def act(page, trigger: str, prefix: str = "wf-action", **fields: str) -> None:
    """Open an action's form (workflow panel or adoption record), fill in its fields (select
    options by value) and send it; wait for the page that answers."""
    item = open_action(page, trigger, prefix)
    for name, value in fields.items():
        control = item.locator(f'[name="{trigger}-{name}"]')
        if control.evaluate("element => element.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    submit(page, item.locator('form button[type="submit"]'))


def state_shown(page) -> str:
    """The state badge of the request's workflow panel, or of the adoption record."""
    return text_of(page.locator("#workflow .state-badge, main > div > .state-badge").first)


def _table(page, selector: str) -> list[dict[str, str]]:
    table = page.locator(selector)
    headers = [text_of(th) for th in table.locator("thead th").all()]
    return [
        dict(zip(headers, (text_of(td) for td in row.locator("td").all()), strict=True))
        for row in table.locator("tbody tr").all()
    ]


def timeline(page) -> list[dict[str, str]]:
    """The stage timeline of the request page, one dict per row keyed by column title."""
    return _table(page, "table.stage-timeline")


def audit_trail(page) -> list[dict[str, str]]:
    """The audit trail (request page or adoption record), oldest first, keyed by column title."""
    return _table(page, "table.audit-trail")


def stage_rows(page, label: str) -> list[dict[str, str]]:
    """The timeline rows of the stage labelled `label` (its "Manufacturer's time" badge apart)."""
    return [r for r in timeline(page) if r["Stage"].removesuffix(" Manufacturer's time") == label]


# The audit trail's columns, as titled in each language.
AUDIT_COLUMNS = {
    "en": {"when": "When", "who": "Who", "action": "Action", "states": "State"},
    "it": {"when": "Quando", "who": "Chi", "action": "Azione", "states": "Stato"},
}


def assert_step(page, when: datetime, *, state, who, action, states=None, language="en"):
    """What a user reads after a step: the new state, and the last audit-trail row naming who
    did it (name and role), what, when, and for a change of state from which to which."""
    assert state_shown(page) == state
    row = audit_trail(page)[-1]
    column = AUDIT_COLUMNS[language]
    assert row[column["who"]] == who
    assert row[column["action"]] == action
    assert row[column["when"]] == shown_moment(when, language)
    if states is not None:
        assert row[column["states"]] == states


def shown_moment(moment: datetime, language: str) -> str:
    """A moment as the pages show it to a user reading `language` (Europe/Rome, day first:
    app.i18n.DATETIME_PATTERNS)."""
    pattern = DATETIME_PATTERNS.get(language, "short")
    return " ".join(format_datetime(moment, pattern, tzinfo=ROME, locale=language).split())


# --- The manufacturer's dossier -----------------------------------------------------------------


def fill_complete_dossier(page, trade_name: str = "CardioValve X") -> None:
    """Fill every field the submission needs on the dossier form, as a manufacturer types."""
    page.fill("#trade_name", trade_name)
    page.fill("#model", "CVX-23")
    page.fill("#intended_purpose", "Transcatheter replacement of the aortic valve.")
    page.select_option("#regulation", "mdr")
    page.select_option("#risk_class", "III")
    page.fill("#basic_udi_di", "8001234CVX23MG")
    page.fill("#udi_di", "08001234567897")
    page.fill("#emdn_code", "P0703")
    page.fill("#repertorio_number", "1234567")
    page.fill("#notified_body_number", "0123")
    page.fill("#ce_certificate_number", "CE-2024-001")
    page.fill("#ce_certificate_issued_on", "2024-01-15")
    page.fill("#ce_certificate_expires_on", "2029-01-14")
    page.check("#is_implantable")
    page.fill("#condition", "Severe aortic stenosis")
    page.select_option("#severity", "severe")
    page.fill("#population", "Adults at high surgical risk")
    page.fill("#eligible_patients_per_year", "4000")
    page.fill("#intervention", "Transcatheter valve implantation")
    page.select_option("#care_setting", "inpatient")
    page.fill("#comparators-0-description", "Surgical aortic valve replacement")
    page.fill("#outcomes", "All-cause mortality at 1 year; stroke")
    page.fill("#claimed_benefits", "Lower mortality than surgery in high-risk patients")
    page.fill("#unmet_need", "Patients unfit for open surgery")
    page.select_option("#evidence-0-design", "rct")
    page.fill("#evidence-0-patients", "120")
    page.fill("#evidence-0-follow_up_months", "12")
    page.fill("#evidence-0-reference", "Rossi et al. 2024, Lancet")
    page.fill("#list_price", "18.500,00")
    page.fill("#acquisition_cost", "18500")
    page.fill("#running_costs_per_year", "1200")
    page.fill("#budget_impact_3y", "2500000")
    page.fill("#expected_volume_per_year", "600")
    page.check('input[name="consent_to_publication"][value="yes"]')
    page.fill("#coi_declaration", "No conflicts.")
    page.check("#coi_declared")


def upload_file(page, title: str, data: bytes, filename: str = "document.pdf") -> None:
    """On the upload page (document type chosen): give a title and a file, send."""
    page.fill("#title", title)
    page.set_input_files("#file", {"name": filename, "mimeType": "application/pdf", "buffer": data})
    submit(page, page.locator('main form button[type="submit"]'))


def upload_missing_documents(page) -> list[str]:
    """From the request page, follow each "still missing" document link and upload a PDF;
    back on the request page, return the document types uploaded (as labelled)."""
    request_url = page.url
    uploaded = []
    missing = page.locator("#missing [data-section=documents] li a")
    while missing.count():
        link = missing.first
        kind = text_of(link)
        assert kind not in uploaded, f"the upload of {kind!r} did not take"
        submit(page, link)
        upload_file(page, kind, pdf_bytes(kind))
        uploaded.append(kind)
        page.goto(request_url)
    return uploaded


def draft_and_submit(page, trade_name: str) -> str:
    """The manufacturer drafts a complete dossier, uploads the mandatory documents and submits
    the request; returns the request page's URL."""
    page.goto("/requests/new")
    fill_complete_dossier(page, trade_name)
    submit(page, page.locator('button[name="save"]'), REQUEST_PAGE)
    upload_missing_documents(page)
    act(page, "submit")
    return page.url
