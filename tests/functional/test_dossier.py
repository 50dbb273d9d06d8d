"""The dossier pages as a manufacturer uses them: create, correct, complete, list and search."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.domain.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import AuditEntry, DeviceRequest, Recommendation
from app.models.types import utcnow
from app.requests.operations import create_draft, update_dossier
from tests.statement_support import counting_statements

# What a browser sends for a complete, valid dossier.
COMPLETE_FORM = {
    "trade_name": "CardioValve X",
    "model": "CVX-23",
    "intended_purpose": "Transcatheter replacement of the aortic valve.",
    "regulation": "mdr",
    "risk_class": "III",
    "basic_udi_di": "8001234CVX23MG",
    "udi_di": "08001234567897",
    "emdn_code": "p0703",
    "repertorio_number": "1234567",
    "notified_body_number": "0123",
    "ce_certificate_number": "CE-2024-001",
    "ce_certificate_issued_on": "2024-01-15",
    "ce_certificate_expires_on": "2029-01-14",
    "is_implantable": "y",
    "condition": "Severe aortic stenosis",
    "severity": "severe",
    "population": "Adults at high surgical risk",
    "eligible_patients_per_year": "4.000",
    "intervention": "Transcatheter valve implantation",
    "care_setting": "inpatient",
    "comparators-0-description": "Surgical aortic valve replacement",
    "outcomes": "All-cause mortality at 1 year",
    "claimed_benefits": "Lower mortality in high-risk patients",
    "unmet_need": "Patients unfit for open surgery",
    "evidence-0-design": "rct",
    "evidence-0-patients": "120",
    "evidence-0-follow_up_months": "12",
    "evidence-0-published_on": "2024-03-01",
    "evidence-0-reference": "Rossi et al. 2024, Lancet",
    "list_price": "18.500,00",
    "acquisition_cost": "18500.00",
    "running_costs_per_year": "1,200.00",
    "budget_impact_3y": "2.500.000",
    "expected_volume_per_year": "150",
    "consent_to_publication": "yes",
    "confidential_fields": ["list_price", "evidence"],
    "coi_declaration": "None.",
    "coi_declared": "y",
}


@pytest.fixture
def manufacturer(make, login):
    user = make.user("manufacturer")
    db.session.commit()
    login(user)
    return user


def page(response) -> str:
    return response.get_data(as_text=True)


def count_requests() -> int:
    return db.session.scalar(select(func.count()).select_from(DeviceRequest))


# --- Creating ---
def test_the_new_request_form_has_the_four_sections(client, manufacturer):
    response = client.get("/requests/new")
    assert response.status_code == 200
    for heading in ("Device", "Clinical question (PICO)", "Economics", "Administration"):
        assert heading in page(response)
    assert 'name="comparators-0-description"' in page(response)
    assert 'name="evidence-0-design"' in page(response)
    assert "<template data-row-template=" in page(response)


def test_a_complete_dossier_is_saved_with_every_value(client, manufacturer):
    response = client.post("/requests/new", data=COMPLETE_FORM)
    assert response.status_code == 302
    saved = db.session.scalars(select(DeviceRequest)).one()
    assert response.headers["Location"].endswith(f"/requests/{saved.id}")
    assert saved.state == "draft"
    assert saved.manufacturer_id == manufacturer.organisation_id
    assert saved.created_by_id == manufacturer.id
    assert saved.emdn_code == "P0703"
    assert saved.list_price == Decimal("18500.00")
    assert saved.running_costs_per_year == Decimal("1200.00")
    assert saved.budget_impact_3y == Decimal("2500000")
    assert saved.eligible_patients_per_year == 4000
    assert saved.consent_to_publication is True
    assert saved.coi_declared is True
    assert saved.is_implantable is True and saved.uses_ai is False
    assert saved.confidential_fields == ["evidence", "list_price"]
    assert [c.description for c in saved.comparators] == ["Surgical aortic valve replacement"]
    assert [(e.design, e.patients, e.reference) for e in saved.evidence] == [
        ("rct", 120, "Rossi et al. 2024, Lancet")
    ]

    # Every field is filled, but the mandatory documents are not uploaded yet: the one
    # completeness message says so, never "nothing is missing" beside it.
    detail = page(client.get(f"/requests/{saved.id}"))
    assert "Nothing is missing" not in detail
    missing = detail.split('data-section="documents"')[1].split("</ul>")[0]
    assert "Instructions for use" in missing


def test_bad_input_is_explained_and_everything_typed_is_kept(client, manufacturer):
    data = COMPLETE_FORM | {"udi_di": "08001234567895", "list_price": "12,34,56"}
    response = client.post("/requests/new", data=data)

    assert response.status_code == 422
    html = page(response)
    assert "The check digit does not match" in html
    assert "Enter an amount in euro, e.g. 1234.50 or 1.234,50." in html
    assert "Nothing was saved yet." in html
    # The summary at the top links to each field in error.
    assert '<a class="alert-link" href="#udi_di">UDI-DI</a>' in html
    assert 'href="#list_price"' in html
    # What the user typed is still there, wrong values included.
    assert 'value="08001234567895"' in html
    assert 'value="12,34,56"' in html
    assert 'value="CardioValve X"' in html
    assert 'value="2.500.000"' in html
    assert "Rossi et al. 2024, Lancet" in html
    assert '<option selected value="III">' in html or 'selected value="III"' in html
    assert count_requests() == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"regulation": "ivdr"}, "This class does not exist under the chosen regulation"),
        ({"basic_udi_di": "8001234CVX23QK"}, "The two check characters at the end do not match"),
        ({"emdn_code": "P070"}, "An EMDN code is the category letter followed by pairs"),
        ({"notified_body_number": "123"}, "The notified body number has exactly 4 digits"),
        ({"repertorio_number": "12A"}, "The repertorio number has digits only"),
        ({"ce_certificate_issued_on": "2999-01-01"}, "The issue date cannot be in the future."),
        ({"ce_certificate_expires_on": "2023-01-01"}, "The expiry date must come after"),
        ({"list_price": "-5"}, "The amount cannot be negative."),
        ({"acquisition_cost": "10.005,123"}, "Use at most two decimals (cents)."),
        ({"expected_volume_per_year": "1.5"}, "Enter a whole number, e.g. 4000."),
        ({"evidence-0-patients": "-3"}, "Enter zero or more."),
        ({"evidence-0-design": ""}, "Please fill this in."),
        ({"severity": "apocalyptic"}, "Choose a value from the list."),
    ],
)
def test_each_rule_has_its_own_message(client, manufacturer, changes, message):
    response = client.post("/requests/new", data=COMPLETE_FORM | changes)
    assert response.status_code == 422
    assert message in page(response)
    assert count_requests() == 0


def test_a_draft_can_be_saved_incomplete_and_shows_what_is_missing(client, manufacturer):
    response = client.post("/requests/new", data={"trade_name": "NeuroStim"})
    assert response.status_code == 302
    draft = db.session.scalars(select(DeviceRequest)).one()
    assert draft.trade_name == "NeuroStim"
    assert draft.consent_to_publication is None
    assert draft.comparators == [] and draft.evidence == []

    html = page(client.get(f"/requests/{draft.id}"))
    assert "Still missing for submission" in html
    assert f'href="/requests/{draft.id}/edit#udi_di"' in html
    assert f'href="/requests/{draft.id}/edit#evidence"' in html
    assert f'href="/requests/{draft.id}/edit#trade_name"' not in html
    for section in ("Device", "Clinical question (PICO)", "Economics", "Administration"):
        assert section in html


def test_the_edit_page_lists_the_missing_fields_as_in_page_links(client, manufacturer, make):
    draft = make.request(manufacturer=manufacturer.organisation, complete=True, udi_di="")
    db.session.commit()
    html = page(client.get(f"/requests/{draft.id}/edit"))
    assert 'href="#udi_di"' in html
    assert 'id="udi_di"' in html


# --- Editing ---
def test_the_edit_form_is_prefilled(client, manufacturer, make):
    draft = make.request(manufacturer=manufacturer.organisation, complete=True)
    manufacturer.language = "it"
    db.session.commit()
    html = page(client.get(f"/requests/{draft.id}/edit"))
    assert 'value="CardioValve X"' in html
    assert 'value="08001234567897"' in html
    assert "Standard surgical care" in html
    assert 'value="18.500,00"' in html  # Italian by default
    assert 'checked class="form-check-input" id="consent_to_publication-0"' in html


def test_editing_replaces_the_lists_and_drops_blank_rows(client, manufacturer, make):
    draft = make.request(manufacturer=manufacturer.organisation, complete=True)
    db.session.commit()
    data = COMPLETE_FORM | {
        "version": str(draft.version),
        "comparators-0-description": "Medical therapy",
        "comparators-3-description": "Balloon valvuloplasty",
        "comparators-4-description": "   ",
        "evidence-0-design": "",
        "evidence-0-patients": "",
        "evidence-0-follow_up_months": "",
        "evidence-0-published_on": "",
        "evidence-0-reference": "",
        "evidence-2-design": "registry",
        "evidence-2-reference": "Italian TAVI registry",
    }
    response = client.post(f"/requests/{draft.id}/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    draft = db.session.get(DeviceRequest, draft.id)
    assert [(c.position, c.description) for c in draft.comparators] == [
        (1, "Medical therapy"),
        (2, "Balloon valvuloplasty"),
    ]
    assert [(e.position, e.design, e.reference) for e in draft.evidence] == [
        (1, "registry", "Italian TAVI registry")
    ]


def test_rows_can_be_added_and_removed_without_javascript(client, manufacturer):
    typed = {"trade_name": "OrthoFix", "comparators-0-description": "Plaster cast"}
    added = client.post("/requests/new", data=typed | {"row_action": "add-comparators"})
    assert added.status_code == 200
    assert 'name="comparators-1-description"' in page(added)
    assert "Plaster cast" in page(added)
    assert count_requests() == 0

    removed = client.post(
        "/requests/new",
        data=typed | {"comparators-1-description": "Surgery", "row_action": "remove-comparators-0"},
    )
    assert removed.status_code == 200
    assert "Plaster cast" not in page(removed)
    assert "Surgery" in page(removed)
    assert count_requests() == 0


def test_a_stale_form_is_refused_and_keeps_the_typed_input(client, manufacturer, make):
    draft = make.request(manufacturer=manufacturer.organisation, complete=True)
    db.session.commit()
    stale_version = draft.version
    draft.trade_name = "Renamed by a colleague"
    db.session.commit()

    data = COMPLETE_FORM | {"version": str(stale_version), "model": "CVX-29"}
    response = client.post(f"/requests/{draft.id}/edit", data=data)
    assert response.status_code == 409
    assert "Someone else saved this dossier" in page(response)
    assert 'value="CVX-29"' in page(response)
    db.session.expire_all()
    assert db.session.get(DeviceRequest, draft.id).model == "CVX-23"


def test_edits_while_completing_the_file_are_audited_field_by_field(client, manufacturer, make):
    request_ = make.request(manufacturer=manufacturer.organisation, complete=True)
    request_.state = "incomplete"
    db.session.commit()
    data = COMPLETE_FORM | {"version": str(request_.version), "model": "CVX-29"}
    data["list_price"] = "19000"

    assert client.post(f"/requests/{request_.id}/edit", data=data).status_code == 302

    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.request_id == request_.id)).one()
    assert entry.action == "dossier_updated"
    assert entry.actor_id == manufacturer.id
    assert entry.changes["model"] == ["CVX-23", "CVX-29"]
    assert entry.changes["list_price"] == ["18500.00", "19000.00"]
    assert "trade_name" not in entry.changes


def test_draft_edits_are_not_audited(client, manufacturer, make):
    draft = make.request(manufacturer=manufacturer.organisation, complete=True)
    db.session.commit()
    data = COMPLETE_FORM | {"version": str(draft.version), "model": "CVX-29"}
    assert client.post(f"/requests/{draft.id}/edit", data=data).status_code == 302
    # Nothing recorded but the login (a security event about the user account).
    not_logins = (
        select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type != "user")
    )
    assert db.session.scalar(not_logins) == 0


def test_a_submitted_dossier_cannot_be_edited(client, manufacturer, make):
    submitted = make.request(manufacturer=manufacturer.organisation, state="intake_review")
    db.session.commit()
    assert client.get(f"/requests/{submitted.id}/edit").status_code == 403
    # A save posted from a page opened before the submission: the form again, saying why.
    version = submitted.version
    posted = client.post(f"/requests/{submitted.id}/edit", data=COMPLETE_FORM)
    assert posted.status_code == 409
    assert "can no longer be edited" in page(posted)
    assert "CardioValve X" in page(posted)
    db.session.expire_all()
    assert db.session.get(DeviceRequest, submitted.id).version == version
    assert "Edit dossier" not in page(client.get(f"/requests/{submitted.id}"))


def test_only_manufacturers_create_requests(client, make, login):
    login(make.user("agency"))
    assert client.get("/requests/new").status_code == 403
    assert client.post("/requests/new", data=COMPLETE_FORM).status_code == 403
    assert count_requests() == 0


# --- Confidential fields ---
def test_confidential_values_are_hidden_from_those_who_are_not_party(client, make, login):
    irccs = make.user("irccs")
    published = make.request(
        complete=True,
        state="adoption_monitoring",
        confidential_fields=["list_price"],
        acquisition_cost=Decimal("17000.00"),
    )
    db.session.add(Recommendation(request=published, outcome="recommended"))
    db.session.commit()
    login(irccs)
    html = page(client.get(f"/requests/{published.id}"))
    assert "CardioValve X" in html
    assert "18.500" not in html and "18,500" not in html
    assert "17,000.00" in html
    assert "Confidential" in html


def test_parties_see_confidential_values_marked_as_such(client, make, login):
    agency = make.user("agency")
    submitted = make.request(
        complete=True, state="intake_review", confidential_fields=["list_price"]
    )
    db.session.commit()
    login(agency)
    html = page(client.get(f"/requests/{submitted.id}"))
    assert "18,500.00" in html
    assert "Confidential" in html
    assert "Still missing for submission" not in html  # the checklist is the manufacturer's


# --- The list ---
def test_the_list_shows_only_the_manufacturers_own_requests(client, manufacturer, make):
    make.request(manufacturer=manufacturer.organisation, trade_name="Mine")
    make.request(trade_name="Theirs")
    db.session.commit()
    html = page(client.get("/requests/"))
    assert "Mine" in html
    assert "Theirs" not in html


def test_search_and_state_filter(client, manufacturer, make):
    org = manufacturer.organisation
    make.request(manufacturer=org, trade_name="CardioValve", model="CV-1")
    make.request(manufacturer=org, trade_name="NeuroStim", emdn_code="J0101")
    make.request(manufacturer=org, trade_name="CardioPatch", state="intake_review")
    db.session.commit()

    html = page(client.get("/requests/?q=cardio"))
    assert "CardioValve" in html and "CardioPatch" in html and "NeuroStim" not in html

    html = page(client.get("/requests/?q=J0101"))
    assert "NeuroStim" in html and "CardioValve" not in html

    html = page(client.get("/requests/?q=cardio&state=draft"))
    assert "CardioValve" in html and "CardioPatch" not in html

    html = page(client.get("/requests/?q=nothing-like-this"))
    assert "No request matches your search." in html


def test_pagination(client, manufacturer, make, app):
    app.config["PAGE_SIZE"] = 3
    for n in range(7):
        make.request(manufacturer=manufacturer.organisation, trade_name=f"Device {n:02d}")
    db.session.commit()

    pages = [page(client.get(f"/requests/?page={n}")) for n in (1, 2, 3)]
    shown = [[f"Device {n:02d}" for n in range(7) if f"Device {n:02d}<" in html] for html in pages]
    assert [len(names) for names in shown] == [3, 3, 1]
    assert sorted(name for names in shown for name in names) == [
        f"Device {n:02d}" for n in range(7)
    ]
    assert "Page 2 of 3" in pages[1]
    assert 'href="/requests/?page=3"' in pages[1]
    # Beyond the last page: an empty page, not an error.
    assert client.get("/requests/?page=99").status_code == 200


def _statements_to_render_the_list(client) -> int:
    db.session.remove()  # start like a real request: nothing cached in the session
    with counting_statements() as statements:
        assert client.get("/requests/").status_code == 200
    return len(statements)


def test_the_list_runs_a_constant_number_of_queries(client, make, login, app):
    app.config["PAGE_SIZE"] = 50
    agency = make.user("agency")
    for _ in range(5):
        make.request(state="intake_review")  # each with its own manufacturer
    db.session.commit()
    login(agency)

    with_5 = _statements_to_render_the_list(client)
    assert page(client.get("/requests/")).count("Manufacturer ") == 5
    for _ in range(25):
        make.request(state="intake_review")
    db.session.commit()
    with_30 = _statements_to_render_the_list(client)

    assert with_5 == with_30 <= 6


def test_login_is_required(client, make):
    draft = make.request()
    db.session.commit()
    for url in (
        "/requests/",
        "/requests/new",
        f"/requests/{draft.id}",
        f"/requests/{draft.id}/edit",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]


# --- The services behind the pages (also used by other callers, e.g. an API) ---
def test_the_service_refuses_what_the_rules_refuse(make):

    owner = make.user("manufacturer")
    draft = make.request(manufacturer=owner.organisation, complete=True)
    with pytest.raises(ValidationFailed) as error:
        update_dossier(owner, draft, {"udi_di": "123", "list_price": Decimal("-1")}, utcnow())
    assert error.value.details["fields"] == {
        "udi_di": "udi_di_length",
        "list_price": "money_negative",
    }
    with pytest.raises(PermissionDenied):
        create_draft(make.user("agency"), {"trade_name": "X"}, utcnow())


def test_the_service_returns_json_safe_changes(make):

    owner = make.user("manufacturer")
    draft = make.request(manufacturer=owner.organisation, complete=True)
    changes = update_dossier(
        owner,
        draft,
        {
            "list_price": Decimal("19000"),
            "ce_certificate_expires_on": date(2030, 1, 1),
            "comparators": [{"description": "Medical therapy"}],
            "trade_name": "CardioValve X",  # unchanged: not reported
        },
        utcnow(),
    )
    assert changes == {
        "list_price": ["18500.00", "19000.00"],
        "ce_certificate_expires_on": ["2029-01-14", "2030-01-01"],
        "comparators": [["Standard surgical care"], ["Medical therapy"]],
    }
