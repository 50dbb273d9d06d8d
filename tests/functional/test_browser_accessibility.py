"""Accessibility in a real browser: axe-core (tests/vendor/axe-core, `make vendor`) runs on every
page type, for every role, in Italian and in English, against the demo data (every request and
adoption state, through the workflow): no serious or critical violation of WCAG 2.1 A/AA.

And a manufacturer fills the dossier form with the keyboard alone: a wrong value sent back
puts the focus on the field to correct, which names its message (aria-describedby); corrected
and sent again, the draft is saved. The home pages' charts carry their text alternative.

One demo app and one Chromium for the module; each role logs in once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Adoption, DeviceRequest, InformationRound, Organisation, Reimbursement, User
from tests.browser_support import BROWSER, REQUEST_PAGE, new_page, serving
from tests.demo_site import DEMO_PEOPLE, demo_app, log_in_demo

pytestmark = BROWSER

AXE = (Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js").read_text()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
LANGUAGES = ("it", "en")
# Request states whose page the agency checks (the main stops of a request's life).
MAIN_STATES = (
    "intake_review",
    "incomplete",
    "prioritisation",
    "assessment",
    "information_requested",
    "factual_accuracy_check",
    "consultation",
    "adoption_monitoring",
    "suspended",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    app = demo_app(tmp_path_factory.mktemp("a11y"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def demo_url(demo):
    with serving(demo) as url:
        yield url


def _first(query):
    return db.session.scalars(query.limit(1)).first()


@pytest.fixture(scope="module")
def paths(demo) -> dict[str, list[str]]:
    """The pages each role checks (and the anonymous visitor's, under None)."""
    with demo.app_context():
        by_state = {
            state: _first(select(DeviceRequest.id).where(DeviceRequest.state == state))
            for state in MAIN_STATES
        }
        assessor_org = db.session.scalar(
            select(User.organisation_id).where(User.email == DEMO_PEOPLE["assessor"][0])
        )
        maker_org = db.session.scalar(
            select(User.organisation_id).where(User.email == DEMO_PEOPLE["manufacturer"][0])
        )
        irccs_org = db.session.scalar(
            select(User.organisation_id).where(User.email == DEMO_PEOPLE["irccs"][0])
        )
        # The body's requests, and one whose Core Model checklist is filled in.
        body_requests = db.session.scalars(
            select(DeviceRequest.id).where(DeviceRequest.assigned_body_id == assessor_org)
        ).all()
        assessed = _first(
            select(DeviceRequest.id).where(
                DeviceRequest.assigned_body_id == assessor_org,
                DeviceRequest.state.in_(
                    ("assessment", "factual_accuracy_check", "appraisal", "consultation")
                ),
            )
        )
        with_rounds = _first(select(InformationRound.request_id))
        own = _first(
            select(DeviceRequest.id).where(
                DeviceRequest.manufacturer_id == maker_org, DeviceRequest.state != "draft"
            )
        )
        own_draft = _first(
            select(DeviceRequest.id).where(
                DeviceRequest.manufacturer_id == maker_org, DeviceRequest.state == "draft"
            )
        )
        adoption = db.session.execute(
            select(Adoption.id, Adoption.request_id)
            .where(Adoption.irccs_id == irccs_org)
            .order_by((Adoption.state == "in_use").desc(), Adoption.id)
            .limit(1)
        ).first()
        published = by_state["adoption_monitoring"]
        # A regional tariff case of the demo assessor's region (its body acts for the region).
        tariff_case = _first(
            select(Reimbursement.id)
            .join(Organisation, Organisation.region == Reimbursement.region)
            .where(Organisation.id == assessor_org)
            .order_by(Reimbursement.id)
        )
        db.session.remove()
    request_pages = [f"/requests/{rid}" for rid in by_state.values() if rid]
    return {
        None: [
            "/auth/login",
            "/register/",
            f"/register/{published}",
            "/register/figures",
            "/register/adoption",
            "/register/rules",
        ],
        "admin": [
            "/",
            "/admin/users",
            "/admin/organisations",
            "/admin/deadlines",
            "/admin/reminders",
            "/account/security",
        ],
        "agency": [
            "/",
            "/work/",
            "/requests/",
            *request_pages,
            f"/requests/{by_state['intake_review']}/documents",
            f"/requests/{with_rounds}/information",
            "/requests/prioritisation",
            f"/requests/{by_state['prioritisation']}/prioritisation",
            "/adoptions/",
            f"/adoptions/{adoption.id}",
            "/reports/",
            "/reports/timing",
            "/reports/adoption",
            "/inbox/",
            "/register/moderation",
            "/work/workflow",
            "/account/tokens",
            f"/reimbursements/{tariff_case}",
        ],
        "assessor": [
            "/",
            "/work/",
            *(f"/requests/{rid}" for rid in body_requests),
            f"/requests/{assessed}/assessment",
            f"/reimbursements/{tariff_case}",
        ],
        "irccs": [
            "/",
            "/adoptions/",
            f"/adoptions/{adoption.id}",
            f"/requests/{adoption.request_id}/adoptions/{adoption.id}/usage",
        ],
        "manufacturer": [
            "/",
            "/requests/new",
            f"/requests/{own_draft}/edit",
            f"/requests/{own}",
            f"/requests/{own}/documents",
        ],
    }


@pytest.fixture(scope="module")
def pages(chromium, demo_url):
    """One page per role (None: anonymous), logged in once, kept for the module."""
    opened: dict = {}

    def page_for(role):
        if role not in opened:
            page = new_page(chromium, demo_url)
            if role is not None:
                log_in_demo(page, role)
            opened[role] = page
        return opened[role]

    yield page_for
    for page in opened.values():
        page.context.close()


def choose_language(page, code: str) -> None:
    """Switch the interface language with the header's language menu."""
    page.goto("/")
    page.locator("#lang-menu").click()
    with page.expect_navigation():
        page.locator(f'header button[lang="{code}"]').click()
    assert page.locator("html").get_attribute("lang") == code


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is."""
    # Evaluated through the DevTools protocol: the page's Content-Security-Policy, which
    # refuses inline scripts, does not apply (and stays on for everything else).
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


def describe(url: str, violations: list[dict]) -> list[str]:
    return [
        f"{url}: {v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in violations
    ]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", [None, "admin", "agency", "assessor", "irccs", "manufacturer"])
def test_every_page_type_has_no_serious_accessibility_violation(pages, paths, role, language):
    page = pages(role)
    choose_language(page, language)
    found = []
    for path in paths[role]:
        response = page.goto(path)
        assert response.ok, f"{path}: {response.status}"
        found += describe(path, axe_violations(page))
    assert not found, "\n".join(found)


def test_the_dossier_form_with_errors_has_no_serious_accessibility_violation(pages):
    page = pages("manufacturer")
    for language in LANGUAGES:
        choose_language(page, language)
        page.goto("/requests/new")
        page.fill("#trade_name", "Valvola di prova")
        page.fill("#udi_di", "123")
        with page.expect_navigation():
            page.locator('button[name="save"]').click()
        assert page.locator("#form-error-summary").is_visible()
        assert not describe("/requests/new (errors)", axe_violations(page))


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def tab_to(page, selector: str, limit: int = 200) -> None:
    """Press Tab until the element has the focus (as a keyboard user moves through a form)."""
    for _ in range(limit):
        if page.evaluate("s => !!document.activeElement?.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus by Tab")


def test_the_dossier_form_works_by_keyboard_alone_and_announces_its_errors(pages):
    page = pages("manufacturer")
    choose_language(page, "en")
    page.goto("/requests/new")
    tab_to(page, "#trade_name")
    page.keyboard.type("Keyboard Valve")
    tab_to(page, "#regulation")
    page.keyboard.press("ArrowDown")  # the first regulation
    tab_to(page, "#udi_di")
    page.keyboard.type("123")  # not a valid UDI-DI
    tab_to(page, 'button[name="save"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Sent back: the summary says what to correct; the focus is on the wrong field, which
    # names its message, and nothing typed is lost.
    assert "Nothing was saved yet" in page.locator("#form-error-summary").inner_text()
    assert focused_id(page) == "udi_di"
    field = page.locator("#udi_di")
    assert field.get_attribute("aria-invalid") == "true"
    message_ids = field.get_attribute("aria-describedby").split()
    messages = " ".join(page.locator(f"#{i}").inner_text() for i in message_ids)
    assert "UDI" in messages
    assert page.input_value("#trade_name") == "Keyboard Valve"

    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")  # no UDI-DI yet: a draft may leave it empty
    tab_to(page, 'button[name="save"]')
    with page.expect_navigation(url=REQUEST_PAGE):
        page.keyboard.press("Enter")
    assert "Keyboard Valve" in page.locator("h1").inner_text()


@pytest.mark.parametrize("role", ["agency", "assessor", "irccs", "manufacturer"])
def test_each_home_shows_charts_with_a_text_alternative(pages, role):
    page = pages(role)
    choose_language(page, "en")
    charts = page.locator("figure.dash-chart svg[role=img]")
    assert charts.count() >= 1
    for index in range(charts.count()):
        svg = charts.nth(index)
        title_id = svg.get_attribute("aria-labelledby").split()[0]
        assert page.locator(f"#{title_id}").text_content().strip()
        # The same figures as a table, one switch away.
        details = svg.locator("xpath=ancestor::div[1]").locator("details")
        details.locator("summary").click()
        assert details.locator("tbody tr").count() >= 1
