"""A manufacturer drafts a request in a real browser (headless Chromium via Playwright).

The app runs in a thread on a free localhost port, on its own temporary SQLite file, with
CSRF protection ON (tests/browser_support.py): the journey proves that every form the
manufacturer submits carries its token, that the client-side row template works, and that a
validation error keeps what was typed.
"""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import DeviceRequest
from tests.browser_support import BROWSER, Person, log_in, seed

pytestmark = BROWSER


@pytest.fixture(scope="module")
def manufacturer(live_app) -> Person:
    return seed(live_app, lambda make: Person.of(make.user("manufacturer", language="en")))


def test_a_manufacturer_corrects_a_bad_udi_di_and_saves_the_draft(live_app, page, manufacturer):
    log_in(page, manufacturer.email)

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
