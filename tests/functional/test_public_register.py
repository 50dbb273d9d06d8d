"""The public transparency register: list, request page, figures, CSV and Atom feed.

Test data is built row by row (requests, stage records, recommendations), independently of the
workflow service. The central test plants a unique marker in every place the public must never
see (confidential fields, reasons, audit data, emails, unpublished requests and drafts) and
fetches every public page, the CSV and the feed.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

import pytest

from app.core.audit import record_audit
from app.domain.deadlines import DEFAULT_DEADLINES, due_at
from app.domain.dossier_fields import CONFIDENTIAL_CAPABLE_FIELDS
from app.extensions import db
from app.models import ConsultationComment, Recommendation, StageRecord
from app.models.types import utcnow
from tests.statement_support import counting_statements

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# The usual road through the workflow; a history follows it up to the request's state.
MAIN_PATH = (
    "intake_review",
    "awaiting_prioritisation",
    "prioritisation",
    "assignment",
    "assessment",
    "factual_accuracy_check",
    "appraisal",
    "consultation",
    "adoption_monitoring",
)
STAGE_DAYS = 10


@pytest.fixture(autouse=True)
def english(client):
    """Read the pages in English (the source language), whatever the default locale."""
    set_language(client, "en")


def set_language(client, code):
    response = client.post(f"/language/{code}", data={"next": "/"})
    assert response.status_code in (302, 303)


# --- building data -----------------------------------------------------------------------------


def add_stage(request, state, entered, left=None, *, due=None, no_deadline=False):
    rule = DEFAULT_DEADLINES.get(state)
    if due is None and not no_deadline:
        due = due_at(rule, entered)
    record = StageRecord(
        request_id=request.id, state=state, entered_at=entered, left_at=left, due_at=due
    )
    db.session.add(record)
    return record


def history(request, path, *, last_entered_days_ago=5, stage_days=STAGE_DAYS):
    """Stage records along `path`: each earlier stage lasted `stage_days`; the last is open."""
    now = utcnow()
    start = now - timedelta(days=last_entered_days_ago + stage_days * (len(path) - 1))
    request.submitted_at = start
    for position, state in enumerate(path):
        entered = start + timedelta(days=stage_days * position)
        left = None if position == len(path) - 1 else entered + timedelta(days=stage_days)
        add_stage(request, state, entered, left)
    db.session.flush()


def path_to(state):
    if state in MAIN_PATH:
        return MAIN_PATH[: MAIN_PATH.index(state) + 1]
    return (*MAIN_PATH[:5], state)  # e.g. assessment -> withdrawn/suspended/not_recommended


def public_request(make, state="assessment", *, path=None, consent=True, **fields):
    """A submitted, admitted request with consent, in `state`, with a stage history."""
    request = make.request(complete=True, consent_to_publication=consent, **fields)
    request.state = state
    request.receipt_number = request.receipt_number or f"HTA-2026-{request.id:05d}"
    history(request, path or path_to(state))
    return request


def recommend(request, outcome="recommended", rationale="Good value.", *, published=True, **f):
    recommendation = Recommendation(
        request=request,
        outcome=outcome,
        rationale=rationale,
        published_at=utcnow() - timedelta(days=1) if published else None,
        **f,
    )
    db.session.add(recommendation)
    db.session.flush()
    return recommendation


def fresh():
    """Commit the test's rows; the commit expires them, so a page loads everything itself."""
    db.session.commit()


def page(client, url, status=200):
    fresh()
    response = client.get(url)
    assert response.status_code == status, response.data[:500]
    return response.get_data(as_text=True)


def csv_rows(response):
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- the list ----------------------------------------------------------------------------------


def test_the_register_is_public_and_linked_from_the_navbar(client):
    home = page(client, "/")
    assert "/register/" in home and "Public register" in home
    assert "Public register" in page(client, "/register/")


def test_the_list_shows_admitted_consented_requests_with_their_key_facts(client, make):
    manufacturer = make.org("manufacturer", name="Acme Medical S.p.A.")
    public_request(
        make,
        "assessment",
        manufacturer=manufacturer,
        trade_name="CardioValve X",
        emdn_code="P0703",
        risk_class="III",
    )
    html = page(client, "/register/")
    assert "CardioValve X" in html
    assert "Acme Medical S.p.A." in html
    assert "P0703" in html
    assert ">III<" in html
    assert "Assessment" in html


@pytest.mark.parametrize("state", ["draft", "intake_review", "incomplete", "inadmissible"])
def test_requests_that_did_not_pass_intake_are_not_listed(client, make, state):
    request = make.request(complete=True, trade_name="NotAdmitted Device")
    request.state = state
    if state != "draft":
        history(request, ("intake_review", state) if state != "intake_review" else (state,))
    html = page(client, "/register/")
    assert "NotAdmitted Device" not in html
    page(client, f"/register/{request.id}", status=404)


@pytest.mark.parametrize("consent", [False, None])
def test_requests_without_consent_are_not_listed(client, make, consent):
    request = public_request(make, consent=consent, trade_name="Secretive Device")
    assert "Secretive Device" not in page(client, "/register/")
    page(client, f"/register/{request.id}", status=404)


@pytest.mark.parametrize("state", ["withdrawn", "suspended"])
def test_withdrawn_or_suspended_requests_appear_only_if_they_had_been_admitted(client, make, state):
    before = public_request(
        make, state, path=("intake_review", state), trade_name="Before Intake Device"
    )
    after = public_request(make, state, trade_name="After Intake Device")
    html = page(client, "/register/")
    assert "After Intake Device" in html
    assert "Before Intake Device" not in html
    page(client, f"/register/{before.id}", status=404)
    page(client, f"/register/{after.id}")


def test_search_finds_by_device_manufacturer_emdn_or_reference(client, make):
    acme = make.org("manufacturer", name="Acme Medical")
    one = public_request(make, trade_name="NeuroStim", manufacturer=acme, emdn_code="J0101")
    public_request(make, trade_name="OrthoFix", emdn_code="P0901")
    for term in ("neurostim", "ACME", "J0101", one.receipt_number):
        html = page(client, f"/register/?q={term}")
        assert "NeuroStim" in html, term
        assert "OrthoFix" not in html, term


def test_search_does_not_look_into_dossier_text(client, make):
    public_request(make, trade_name="Quiet", intended_purpose="zebra-purpose-text")
    html = page(client, "/register/?q=zebra-purpose")
    assert "Quiet" not in html
    assert "No request matches." in html


def test_filters_by_stage_outcome_and_risk_class(client, make):
    public_request(make, "assessment", trade_name="InAssessment", risk_class="IIa")
    done = public_request(make, "adoption_monitoring", trade_name="Recommended One")
    recommend(done, "recommended_restricted")
    assert "Recommended One" not in page(client, "/register/?stage=assessment")
    assert "InAssessment" in page(client, "/register/?stage=assessment")
    html = page(client, "/register/?outcome=recommended_restricted")
    assert "Recommended One" in html and "InAssessment" not in html
    html = page(client, "/register/?risk_class=IIa")
    assert "InAssessment" in html and "Recommended One" not in html


def test_the_list_is_paginated(app, client, make):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        public_request(make, trade_name=f"Paged Device {n}")
    first = page(client, "/register/")
    assert sum(f"Paged Device {n}" in first for n in range(5)) == 2
    assert "page=3" in first
    third = page(client, "/register/?page=3")
    assert sum(f"Paged Device {n}" in third for n in range(5)) == 1


def test_the_list_shows_days_in_stage_and_each_stage_deadline(client, make):
    request = make.request(complete=True, trade_name="Timed Device")
    request.state = "assignment"
    now = utcnow()
    request.submitted_at = now - timedelta(days=200)
    add_stage(request, "intake_review", now - timedelta(days=200), now - timedelta(days=190))
    add_stage(
        request, "awaiting_prioritisation", now - timedelta(days=190), now - timedelta(days=180)
    )
    # Prioritisation took 120 days against 90: missed.
    add_stage(request, "prioritisation", now - timedelta(days=180), now - timedelta(days=60))
    # Assignment open for 60 days against 15: overdue.
    add_stage(request, "assignment", now - timedelta(days=60))
    html = page(client, "/register/")
    assert "Prioritisation: Deadline missed" in html
    assert "Admissibility check: Deadline met" in html
    assert "Assignment to a regional HTA body: Overdue" in html
    row = html[html.index("Timed Device") :]
    assert re.search(r">\s*60(\.0)?\s*<div>", row), row[:1500]


def test_the_list_shows_the_published_recommendation_only(client, make):
    published = public_request(make, "adoption_monitoring", trade_name="Published One")
    recommend(published, "recommended", "Clear benefit for patients at high risk.")
    draft = public_request(make, "appraisal", trade_name="Under Appraisal")
    recommend(draft, "not_recommended", "draft-text-not-public", published=False)
    html = page(client, "/register/")
    assert "Clear benefit for patients at high risk." in html
    assert "draft-text-not-public" not in html


# --- the request page --------------------------------------------------------------------------


def test_request_page_shows_the_key_events_with_dates_and_deadlines(client, make):
    request = public_request(make, "consultation", trade_name="Timeline Device")
    html = page(client, f"/register/{request.id}")
    assert "Key events" in html
    for label in (
        "Admissibility check",
        "Prioritisation",
        "Assessment",
        "Appraisal by the committee",
        "Public consultation",
    ):
        assert label in html
    assert "Deadline met" in html
    assert "On track" in html


def test_request_page_shows_the_published_recommendation(client, make):
    request = public_request(make, "adoption_monitoring")
    recommend(
        request,
        "recommended_with_evidence_generation",
        "Use while registry data are collected.",
        conditions="Only in centres with a heart team.",
        evidence_requirements="Two-year registry follow-up.",
    )
    html = page(client, f"/register/{request.id}")
    assert "Recommended with evidence generation" in html
    assert "Use while registry data are collected." in html
    assert "Only in centres with a heart team." in html
    assert "Two-year registry follow-up." in html
    assert "Recommendation published" in html


def test_request_page_marks_confidential_fields_and_shows_the_others(client, make):
    request = public_request(
        make,
        intended_purpose="Open purpose text",
        claimed_benefits="Hidden benefits text",
        list_price=Decimal("45678.00"),
        confidential_fields=["claimed_benefits", "list_price"],
    )
    html = page(client, f"/register/{request.id}")
    assert "Open purpose text" in html
    assert "Hidden benefits text" not in html
    assert "45,678" not in html and "45.678" not in html
    assert "18,500.00" not in html  # commercial figures are never public
    assert "Confidential" in html


def test_request_page_has_a_documents_section_empty_until_documents_exist(client, make):
    request = public_request(make)
    assert "No document has been published yet." in page(client, f"/register/{request.id}")


def test_unknown_request_is_404(client):
    page(client, "/register/999999", status=404)


# --- figures -----------------------------------------------------------------------------------


def test_figures_show_median_days_per_stage_and_counts(client, make):
    now = utcnow()
    for days in (10, 20, 60):
        request = public_request(make, "assignment", path=("awaiting_prioritisation",))
        add_stage(
            request, "prioritisation", now - timedelta(days=days + 5), now - timedelta(days=5)
        )
    old = public_request(make, "assignment", path=("awaiting_prioritisation",))
    # Ended more than 12 months ago: not counted.
    add_stage(old, "prioritisation", now - timedelta(days=900), now - timedelta(days=800))
    hidden = public_request(make, "assignment", consent=False, path=("awaiting_prioritisation",))
    add_stage(hidden, "prioritisation", now - timedelta(days=505), now - timedelta(days=5))
    done = public_request(make, "not_recommended", path=("appraisal", "not_recommended"))
    recommend(done, "not_recommended")
    html = page(client, "/register/figures")
    row = html[html.index("Median days per stage") :]
    prioritisation = row[row.index("Prioritisation") :][:300]
    assert ">3<" in prioritisation  # three visits
    assert ">20<" in prioritisation  # median of 10, 20, 60
    per_stage = html[html.index("Requests per current stage") :]
    assert re.search(r"Assignment to a regional HTA body</a></td><td[^>]*>4<", per_stage)
    per_outcome = html[html.index("Published recommendations per outcome") :]
    assert re.search(r"Not recommended</a></td><td[^>]*>1<", per_outcome)


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_download_is_utf8_with_bom_and_neutralises_formulas(client, make):
    public_request(make, trade_name='=HYPERLINK("http://evil")', model="+1", emdn_code="P0703")
    public_request(make, trade_name="Città Valve", model="@SUM(A1)")
    fresh()
    response = client.get("/register/register.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Reference", "Device", "Model", "Manufacturer"]
    devices = {row[1]: row for row in body}
    assert '\'=HYPERLINK("http://evil")' in devices
    assert devices['\'=HYPERLINK("http://evil")'][2] == "'+1"
    assert devices["Città Valve"][2] == "'@SUM(A1)"
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_csv_has_outcome_and_recommendation_text_when_published(client, make):
    request = public_request(make, "adoption_monitoring", trade_name="Exported")
    recommend(request, "recommended", "Exported rationale.")
    fresh()
    rows = csv_rows(client.get("/register/register.csv"))
    header = rows[0]
    row = dict(zip(header, rows[1], strict=True))
    assert row["Outcome"] == "Recommended"
    assert row["Recommendation"] == "Exported rationale."
    assert row["Page"].endswith(f"/register/{request.id}")


def test_csv_follows_the_list_filters(client, make):
    public_request(make, "assessment", trade_name="Kept")
    public_request(make, "appraisal", trade_name="Dropped")
    fresh()
    rows = csv_rows(client.get("/register/register.csv?stage=assessment"))
    assert [row[1] for row in rows[1:]] == ["Kept"]


# --- Atom --------------------------------------------------------------------------------------


def test_atom_feed_lists_published_recommendations_as_valid_atom(client, make):
    published = public_request(make, "adoption_monitoring", trade_name='Valve <b>&"Co"')
    recommend(published, "recommended", "Rationale with <tags> & ampersands.")
    draft = public_request(make, "consultation", trade_name="Draft Only")
    recommend(draft, "recommended", published=False)
    hidden = public_request(make, "adoption_monitoring", consent=False, trade_name="No Consent")
    recommend(hidden, "recommended")
    fresh()
    response = client.get("/register/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    body = response.data
    assert body.startswith(b"<?xml")
    feed = ET.fromstring(body)  # noqa: S314 (our own output)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{tag}") is not None, tag
    assert RFC3339.match(feed.find(f"{ATOM}updated").text)
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link and self_link[0].get("href").endswith("/register/feed.atom")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    for tag in ("id", "title", "updated", "published", "link", "summary"):
        assert entry.find(f"{ATOM}{tag}") is not None, tag
    assert 'Valve <b>&"Co"' in entry.find(f"{ATOM}title").text
    assert entry.find(f"{ATOM}summary").text == "Rationale with <tags> & ampersands."
    assert RFC3339.match(entry.find(f"{ATOM}updated").text)
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/register/{published.id}")
    assert b"<tags>" not in body  # escaped in the XML text


def test_empty_feed_is_still_valid(client):
    fresh()
    feed = ET.fromstring(client.get("/register/feed.atom").data)  # noqa: S314
    assert feed.find(f"{ATOM}entry") is None
    assert RFC3339.match(feed.find(f"{ATOM}updated").text)


# --- nothing private ever leaks ----------------------------------------------------------------

MONEY_MARKERS = {
    "list_price": Decimal("987651.11"),
    "acquisition_cost": Decimal("987652.22"),
    "running_costs_per_year": Decimal("987653.33"),
    "budget_impact_3y": Decimal("987654.44"),
}
VOLUME_MARKER = 876549


def marker(name: str) -> str:
    return f"mk{name.replace('_', '')}zz"


def money_forms(value: Decimal) -> list[str]:
    whole = int(value)
    return [
        str(whole),
        f"{whole:,}",
        f"{whole:,}".replace(",", "."),
        f"{whole:,}".replace(",", " "),
    ]


def plant_confidential_request(make, state="consultation"):
    """A public request with every confidential-capable field marked confidential and filled
    with a marker."""
    fields = {
        "intended_purpose": marker("intended_purpose"),
        "claimed_benefits": marker("claimed_benefits"),
        "expected_volume_per_year": VOLUME_MARKER,
        "coi_declaration": marker("coi_declaration"),
        "ce_certificate_number": marker("ce_cert"),
        **MONEY_MARKERS,
    }
    request = public_request(
        make,
        state,
        trade_name="Public Device",
        confidential_fields=list(CONFIDENTIAL_CAPABLE_FIELDS),
        **fields,
    )
    request.evidence[0].reference = marker("evidence")
    return request


def plant_private_everything(make):
    agency_user = make.user("agency", email=f"{marker('agencyemail')}@example.org")
    manufacturer_user = make.user("manufacturer", email=f"{marker('mfremail')}@example.org")
    request = plant_confidential_request(make, "consultation")
    request.created_by = manufacturer_user
    recommend(request, "recommended", "Draft rationale open for comment.", published=False)
    # Reasons and audit data of the request: internal.
    record_audit(
        agency_user,
        entity_type="request",
        entity_id=request.id,
        request_id=request.id,
        action="prioritise",
        now=utcnow(),
        reason=marker("auditreason"),
        data={"note": marker("auditdata")},
    )
    # Consultation comments: private email; pending and rejected texts; rejection reason.
    db.session.add_all(
        [
            ConsultationComment(
                request_id=request.id,
                author_name="Maria",
                author_email=f"{marker('commentemail')}@example.org",
                text="A published comment.",
                status="published",
                answer="Thanks.",
            ),
            ConsultationComment(
                request_id=request.id, text=marker("pendingcomment"), status="pending"
            ),
            ConsultationComment(
                request_id=request.id,
                text=marker("rejectedcomment"),
                status="rejected",
                moderation_reason=marker("rejectionreason"),
            ),
        ]
    )
    # An unpublished draft recommendation outside consultation.
    appraisal = public_request(make, "appraisal", trade_name="Appraised Device")
    recommend(appraisal, "not_recommended", marker("unpublisheddraft"), published=False)
    # Requests the public must not see at all.
    for name, state, consent in (
        ("unconsented", "adoption_monitoring", False),
        ("unanswered", "adoption_monitoring", None),
        ("draftonly", "draft", True),
        ("intake", "intake_review", True),
        ("incompletefile", "incomplete", True),
        ("inadmissiblefile", "inadmissible", True),
    ):
        hidden = make.request(
            complete=True,
            consent_to_publication=consent,
            trade_name=marker(name),
            model=marker(name + "model"),
            manufacturer=make.org("manufacturer", name=marker(name + "org")),
        )
        hidden.state = state
        if state != "draft":
            history(hidden, ("intake_review",) if state == "intake_review" else path_to(state))
        if state == "adoption_monitoring":
            recommend(hidden, "recommended", marker(name + "rec"))
    db.session.flush()
    return request, appraisal


def public_urls(request_ids):
    urls = [
        "/register/",
        "/register/?q=mk",
        "/register/?stage=adoption_monitoring",
        "/register/figures",
        "/register/register.csv",
        "/register/feed.atom",
    ]
    return urls + [f"/register/{request_id}" for request_id in request_ids]


def test_no_confidential_or_private_data_on_any_public_page_csv_or_feed(client, make):
    request, appraisal = plant_private_everything(make)
    fresh()
    pages = {}
    for language in ("en", "it"):
        set_language(client, language)
        for url in public_urls([request.id, appraisal.id]):
            response = client.get(url)
            assert response.status_code == 200, url
            pages[language, url] = response.get_data(as_text=True)
    everything = "\n".join(pages.values())
    # The public parts are there ...
    assert "Public Device" in everything
    assert "Draft rationale open for comment." in pages["en", f"/register/{request.id}"]
    assert "A published comment." in pages["en", f"/register/{request.id}"]
    # ... and no marker of anything private is.
    leaked = sorted(set(re.findall(r"mk[a-z]+zz", everything)))
    assert leaked == []
    assert "@example.org" not in everything
    for value in MONEY_MARKERS.values():
        for form in money_forms(value):
            assert form not in everything, form
    for form in money_forms(Decimal(VOLUME_MARKER)):
        assert form not in everything, form


def test_every_confidential_capable_field_is_covered_by_the_leak_test():
    planted = {"intended_purpose", "claimed_benefits", "expected_volume_per_year", "evidence"}
    assert set(CONFIDENTIAL_CAPABLE_FIELDS) <= planted | set(MONEY_MARKERS)


# --- constant number of SQL statements ---------------------------------------------------------


def _statements(client, url):
    fresh()
    with counting_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


def _populate(make, count):
    ids = []
    for n in range(count):
        request = public_request(make, "adoption_monitoring", trade_name=f"Bulk {n}")
        recommend(request, "recommended", f"Rationale {n}")
        db.session.add(
            ConsultationComment(request_id=request.id, text="ok", status="published", answer="a")
        )
        ids.append(request.id)
    return ids


@pytest.mark.parametrize(
    "url",
    ["/register/", "/register/figures", "/register/register.csv", "/register/feed.atom", "detail"],
)
def test_pages_run_a_constant_number_of_sql_statements(app, client, make, url):
    app.config["PAGE_SIZE"] = 50
    ids = _populate(make, 2)
    target = f"/register/{ids[0]}" if url == "detail" else url
    small = _statements(client, target)
    _populate(make, 12)
    large = _statements(client, target)
    assert small == large, (small, large)


def test_feed_and_csv_links_come_from_the_configured_address_not_the_host_header(app, client, make):
    """A forged Host header must not put another site's links in what the register publishes
    (feed readers and spreadsheets follow them)."""
    request = public_request(make, "adoption_monitoring", trade_name="Linked")
    recommend(request, "recommended")
    fresh()
    app.config["BASE_URL"] = "https://hta.example.org"
    forged = {"Host": "evil.example.com"}
    body = client.get("/register/feed.atom", headers=forged).get_data(as_text=True)
    feed = ET.fromstring(body)  # noqa: S314 (our own output)
    hrefs = [link.get("href") for link in feed.iter(f"{ATOM}link")]
    assert hrefs and all(href.startswith("https://hta.example.org/register") for href in hrefs)
    assert feed.find(f"{ATOM}id").text.startswith("https://hta.example.org/")
    assert "evil.example.com" not in body
    rows = csv_rows(client.get("/register/register.csv", headers=forged))
    links = [cell for cell in rows[1] if "://" in cell]
    assert links == [f"https://hta.example.org/register/{request.id}"]
