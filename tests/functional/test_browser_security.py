"""Security in a real browser: an agency user created without a second factor is made to set
one up at the first login (QR code, key, code typed) and reaches no other page before; the
pages that draw with scripts (the workflow diagram) work under the Content-Security-Policy,
which Chromium enforces (every browser test fails on a reported violation)."""

from __future__ import annotations

import pytest

from app.accounts.second_factor import code_at
from app.models import types as model_types
from tests.browser_support import BROWSER, Person, log_in, seed

pytestmark = BROWSER


@pytest.fixture(scope="module")
def new_agency_user(live_app) -> Person:
    return seed(
        live_app,
        lambda make: Person.of(
            make.user("agency", language="en", second_factor=False, full_name="Nuova Agenzia")
        ),
    )


@pytest.fixture(scope="module")
def assessor(live_app) -> Person:
    return seed(live_app, lambda make: Person.of(make.user("assessor", language="en")))


def test_an_agency_user_enrols_a_second_factor_before_any_other_page(page, new_agency_user):
    log_in(page, new_agency_user.email)
    assert page.url.endswith("/auth/two-factor/setup")
    assert page.locator("#totp-qr svg").count() == 1
    key = page.inner_text("#totp-secret").strip()

    page.goto("/work/")
    assert "/auth/login" in page.url  # nothing else before enrolling

    log_in(page, new_agency_user.email)
    assert page.url.endswith("/auth/two-factor/setup")
    key = page.inner_text("#totp-secret").strip()
    page.fill('input[name="code"]', code_at(key, model_types.utcnow()))
    page.click('main form button[type="submit"]')
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("#recovery-codes-continue")
    page.goto("/work/")
    assert page.url.endswith("/work/")


def test_the_workflow_diagram_draws_under_the_content_security_policy(page, assessor):
    log_in(page, assessor.email, assessor.totp_secret)
    response = page.goto("/work/workflow")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".mermaid svg g.node")
    diagram = page.locator(".mermaid svg").first
    assert diagram.bounding_box()["width"] > 300
    # Mermaid's own styles apply (through CSSOM and the nonce): the states are filled, not black.
    fill = diagram.locator("g.node rect").first.evaluate("r => getComputedStyle(r).fill")
    assert fill not in ("rgb(0, 0, 0)", "none"), fill
