"""The administrator's pages: users, organisations and deadlines, through the real forms."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.deadline_settings import effective_deadlines
from app.extensions import db
from app.models import AuditEntry, DeadlineSetting, Organisation, User
from tests.factories import DEFAULT_PASSWORD

ADMIN_PAGES = [
    "/admin/users",
    "/admin/users/new",
    "/admin/organisations",
    "/admin/organisations/new",
    "/admin/deadlines",
]
INITIAL_PASSWORD = "initial password 123"


@pytest.fixture
def admin(make, login):
    user = make.user("admin", language="en", email="admin@example.org")
    db.session.commit()
    login(user)
    return user


def page_of(response) -> str:
    return response.get_data(as_text=True)


def is_logged_in(test_client) -> bool:
    return test_client.get("/auth/password").status_code == 200


def audit_entries(entity_type: str, entity_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.seq)
        )
    )


# --- who may open the pages ------------------------------------------------------------------


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize("role", ["manufacturer", "agency", "assessor", "irccs"])
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_other_roles_are_refused(client, make, login, role, path):
    login(make.user(role))
    assert client.get(path).status_code == 403


def test_other_roles_cannot_post_either(client, make, login):
    target = make.user("manufacturer")
    login(make.user("agency"))
    assert client.post(f"/admin/users/{target.id}/deactivate").status_code == 403
    db.session.refresh(target)
    assert target.active


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_opens_every_page(client, admin, path):
    assert client.get(path).status_code == 200


def test_unknown_user_or_organisation_is_404(client, admin):
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get("/admin/organisations/999999").status_code == 404


def test_status_badges_agree_with_the_noun_in_italian(client, make, login):
    admin = make.user("admin", language="it", email="amministratore@example.org")
    make.org("manufacturer", name="Valvetech Srl")
    db.session.commit()
    login(admin)
    assert ">Attiva</span>" in page_of(client.get("/admin/organisations"))  # l'organizzazione
    assert ">Attivo</span>" in page_of(client.get("/admin/users"))  # l'utente


# --- user list ------------------------------------------------------------------------------


def test_user_list_searches_and_pages(app, client, make, admin):
    app.config["PAGE_SIZE"] = 2
    company = make.org("manufacturer", name="Cardiotech Srl")
    make.user("manufacturer", organisation=company, email="anna@cardiotech.it")
    make.user("manufacturer", organisation=company, email="bruno@cardiotech.it")
    make.user("manufacturer", organisation=company, email="carla@cardiotech.it")
    make.user("agency", email="dario@agenzia.example.org", full_name="Dario Verdi")
    db.session.commit()

    first = page_of(client.get("/admin/users", query_string={"q": "cardiotech"}))
    assert "anna@cardiotech.it" in first and "bruno@cardiotech.it" in first
    assert "carla@cardiotech.it" not in first
    assert "dario@agenzia" not in first
    second = page_of(client.get("/admin/users", query_string={"q": "cardiotech", "page": 2}))
    assert "carla@cardiotech.it" in second

    by_name = page_of(client.get("/admin/users", query_string={"q": "verdi"}))
    assert "dario@agenzia.example.org" in by_name
    by_role = page_of(client.get("/admin/users", query_string={"role": "agency"}))
    assert "dario@agenzia.example.org" in by_role and "anna@cardiotech.it" not in by_role


def test_user_list_search_treats_wildcards_literally(client, make, admin):
    make.user("agency", email="plain@example.org")
    db.session.commit()
    assert "plain@example.org" not in page_of(client.get("/admin/users?q=%25"))


# --- creating users ---------------------------------------------------------------------------


def user_form(**overrides) -> dict:
    return {
        "email": "new.person@example.org",
        "full_name": "New Person",
        "role": "manufacturer",
        "organisation_id": "",
        "language": "it",
        "password": INITIAL_PASSWORD,
        "confirm_password": INITIAL_PASSWORD,
    } | overrides


def edit_form(user: User, **changes) -> dict:
    """The edit form of `user` as it stands, no new password, with `changes`."""
    current = {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "organisation_id": user.organisation_id or "",
        "language": user.language,
        "password": "",
        "confirm_password": "",
    }
    return user_form(**(current | changes))


def test_admin_creates_a_user_who_can_then_log_in(app, client, make, admin):
    company = make.org("manufacturer")
    db.session.commit()
    response = client.post(
        "/admin/users/new",
        data=user_form(email="New.Person@Example.org", organisation_id=company.id),
    )
    assert response.status_code == 302
    user = db.session.scalars(select(User).where(User.email == "new.person@example.org")).one()
    assert (user.role, user.organisation_id, user.active) == ("manufacturer", company.id, True)
    assert "User new.person@example.org created." in page_of(client.get(response.location))

    [entry] = audit_entries("user", user.id)
    assert entry.action == "create"
    assert entry.actor_id == admin.id
    assert entry.changes["email"] == [None, "new.person@example.org"]
    assert "password_hash" not in entry.changes
    assert user.password_hash not in str(entry.changes)

    newcomer = app.test_client()
    newcomer.post(
        "/auth/login", data={"email": "new.person@example.org", "password": INITIAL_PASSWORD}
    )
    assert is_logged_in(newcomer)


def test_admin_creates_another_admin_without_organisation(client, admin):
    response = client.post("/admin/users/new", data=user_form(role="admin", email="a2@x.org"))
    assert response.status_code == 302
    assert db.session.scalars(select(User).where(User.email == "a2@x.org")).one().role == "admin"


def test_duplicate_email_in_another_case_is_refused_and_input_kept(client, make, admin):
    make.user("agency", email="taken@example.org")
    agency = make.org("agency")
    db.session.commit()
    response = client.post(
        "/admin/users/new",
        data=user_form(
            email="TAKEN@Example.ORG",
            full_name="Giulia Bianchi",
            role="agency",
            organisation_id=agency.id,
        ),
    )
    assert response.status_code == 200
    page = page_of(response)
    assert "Another user already has this email address." in page
    assert 'value="TAKEN@Example.ORG"' in page
    assert 'value="Giulia Bianchi"' in page
    assert f'<option selected value="{agency.id}">' in page
    assert db.session.scalar(select(User).where(User.full_name == "Giulia Bianchi")) is None


def test_role_that_does_not_fit_the_organisation_is_refused(client, make, admin):
    irccs = make.org("irccs", name="IRCCS San Matteo")
    db.session.commit()
    response = client.post(
        "/admin/users/new", data=user_form(role="assessor", organisation_id=irccs.id)
    )
    assert response.status_code == 200
    page = page_of(response)
    assert "must belong to an organisation of kind Regional HTA body" in page
    assert "IRCCS San Matteo is of kind IRCCS" in page
    assert 'value="new.person@example.org"' in page


def test_names_quoted_in_messages_are_escaped(client, make, admin):
    irccs = make.org("irccs", name="<b>Bold</b> IRCCS")
    db.session.commit()
    response = client.post(
        "/admin/users/new", data=user_form(role="manufacturer", organisation_id=irccs.id)
    )
    page = page_of(response)
    assert "&lt;b&gt;Bold&lt;/b&gt; IRCCS is of kind IRCCS" in page
    assert "<b>Bold</b>" not in page


def test_non_admin_role_needs_an_organisation(client, admin):
    response = client.post("/admin/users/new", data=user_form(role="irccs"))
    assert "Choose the organisation this IRCCS works for." in page_of(response)


def test_admin_cannot_belong_to_an_organisation(client, make, admin):
    agency = make.org("agency")
    db.session.commit()
    response = client.post(
        "/admin/users/new", data=user_form(role="admin", organisation_id=agency.id)
    )
    assert "An administrator belongs to no organisation." in page_of(response)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short", "confirm_password": "short"}, "at least 12 characters"),
        ({"confirm_password": "something different"}, "The two passwords are not the same."),
        ({"password": "", "confirm_password": ""}, "Set an initial password."),
        ({"email": "not-an-email"}, "This is not a valid email address."),
        ({"full_name": ""}, "Enter the person"),
    ],
)
def test_new_user_form_reports_each_bad_field(client, make, admin, changes, message):
    company = make.org("manufacturer")
    db.session.commit()
    response = client.post("/admin/users/new", data=user_form(organisation_id=company.id) | changes)
    assert response.status_code == 200
    page = page_of(response)
    assert message in page
    assert "is-invalid" in page


# --- editing, deactivating users -------------------------------------------------------------


def test_admin_edits_a_user_and_the_change_is_audited(client, make, admin):
    body = make.org("regional_body")
    user = make.user("assessor", organisation=body, full_name="Old Name", language="it")
    db.session.commit()
    edit = page_of(client.get(f"/admin/users/{user.id}"))
    assert 'value="Old Name"' in edit

    response = client.post(
        f"/admin/users/{user.id}",
        data=edit_form(user, full_name="New Name", language="en"),
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.full_name, user.language) == ("New Name", "en")
    [entry] = audit_entries("user", user.id)
    assert entry.action == "update"
    assert entry.changes == {"full_name": ["Old Name", "New Name"], "language": ["it", "en"]}


def test_admin_sets_a_new_password_which_ends_the_users_sessions(
    app, client, make, admin, login, as_user
):
    user = make.user("agency")
    db.session.commit()
    their_browser = as_user(user)

    response = client.post(
        f"/admin/users/{user.id}",
        data=edit_form(user, password="brand new password", confirm_password="brand new password"),
    )
    assert response.status_code == 302
    assert not is_logged_in(their_browser)
    login(user, password="brand new password", test_client=app.test_client())


def test_edit_to_an_email_taken_by_someone_else_is_refused(client, make, admin):
    make.user("agency", email="first@example.org")
    second = make.user("agency", email="second@example.org")
    db.session.commit()
    response = client.post(
        f"/admin/users/{second.id}",
        data=edit_form(second, email="First@example.org"),
    )
    assert response.status_code == 200
    assert "Another user already has this email address." in page_of(response)
    db.session.refresh(second)
    assert second.email == "second@example.org"


def test_deactivating_a_user_ends_their_session_and_blocks_login(
    app, client, make, admin, login, as_user
):
    user = make.user("irccs")
    db.session.commit()
    their_browser = as_user(user)

    response = client.post(f"/admin/users/{user.id}/deactivate")
    assert response.status_code == 302
    assert "is deactivated and has been logged out" in page_of(client.get(response.location))
    assert not is_logged_in(their_browser)
    retry = app.test_client()
    retry.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert not is_logged_in(retry)
    actions = [e.action for e in audit_entries("user", user.id)]
    assert actions == ["login", "deactivate", "login_failed"]

    client.post(f"/admin/users/{user.id}/reactivate")
    login(user, test_client=app.test_client())


def test_admin_cannot_deactivate_themselves(client, admin):
    response = client.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account." in page_of(response)
    db.session.refresh(admin)
    assert admin.active
    assert is_logged_in(client)


def test_admin_cannot_change_their_own_role(client, make, admin):
    agency = make.org("agency")
    db.session.commit()
    response = client.post(
        f"/admin/users/{admin.id}",
        data=edit_form(admin, role="agency", organisation_id=agency.id),
    )
    assert "You cannot change your own role." in page_of(response)
    db.session.refresh(admin)
    assert admin.role == "admin"


# --- organisations ----------------------------------------------------------------------------


def org_form(**overrides) -> dict:
    return {
        "name": "Medidev Italia Srl",
        "kind": "manufacturer",
        "region": "",
        "vat_number": "00488410010",
        "eudamed_srn": "it-mf-000012345",
    } | overrides


def test_admin_creates_a_manufacturer_with_normalised_identifiers(client, admin):
    response = client.post("/admin/organisations/new", data=org_form())
    assert response.status_code == 302
    org = db.session.scalars(
        select(Organisation).where(Organisation.name == "Medidev Italia Srl")
    ).one()
    assert (org.vat_number, org.eudamed_srn, org.region) == (
        "IT00488410010",
        "IT-MF-000012345",
        None,
    )
    [entry] = audit_entries("organisation", org.id)
    assert entry.action == "create"
    assert entry.changes["vat_number"] == [None, "IT00488410010"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"vat_number": "00488410011"}, "vat_number", "This is not a valid Italian VAT number"),
        ({"vat_number": "DE123456789"}, "vat_number", "Enter an Italian VAT number"),
        ({"vat_number": "1234"}, "vat_number", "An Italian VAT number has 11 digits"),
        ({"vat_number": ""}, "vat_number", "A manufacturer must have a VAT number."),
        ({"eudamed_srn": "IT-MF-123"}, "eudamed_srn", "for example IT-MF-000012345"),
        ({"name": ""}, "name", "Enter the organisation"),
    ],
)
def test_bad_organisation_input_is_refused_and_kept(client, admin, changes, field, message):
    response = client.post("/admin/organisations/new", data=org_form(**changes))
    assert response.status_code == 200
    page = page_of(response)
    assert message in page
    assert f'id="{field}-error"' in page
    for name in ("vat_number", "eudamed_srn"):
        assert f'value="{org_form(**changes)[name]}"' in page
    assert db.session.scalar(select(Organisation)) is None or field == "name"


@pytest.mark.parametrize("kind", ["regional_body", "irccs"])
def test_regional_bodies_and_irccs_need_a_region(client, admin, kind):
    response = client.post(
        "/admin/organisations/new",
        data=org_form(name="Ente", kind=kind, vat_number="", eudamed_srn=""),
    )
    assert "must have a region" in page_of(response)
    response = client.post(
        "/admin/organisations/new",
        data=org_form(name="Ente", kind=kind, region="toscana", vat_number="", eudamed_srn=""),
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Organisation)).one().region == "toscana"


def test_region_is_dropped_for_kinds_without_one(client, admin):
    client.post(
        "/admin/organisations/new",
        data=org_form(name="Agenzia", kind="agency", region="lazio", vat_number="", eudamed_srn=""),
    )
    assert db.session.scalars(select(Organisation)).one().region is None


def test_duplicate_organisation_name_or_vat_is_refused(client, make, admin):
    make.org("manufacturer", name="Existing Spa", vat_number="IT00488410010")
    db.session.commit()
    response = client.post("/admin/organisations/new", data=org_form(name="existing spa"))
    page = page_of(response)
    assert "Another organisation already has this name." in page
    assert "Existing Spa already has this VAT number." in page


def test_admin_edits_an_organisation(client, make, admin):
    org = make.org("irccs", name="IRCCS Uno", region="lombardia")
    db.session.commit()
    assert 'value="IRCCS Uno"' in page_of(client.get(f"/admin/organisations/{org.id}"))
    response = client.post(
        f"/admin/organisations/{org.id}",
        data=org_form(
            name="IRCCS Uno", kind="irccs", region="veneto", vat_number="", eudamed_srn=""
        ),
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.region == "veneto"
    assert audit_entries("organisation", org.id)[-1].changes == {"region": ["lombardia", "veneto"]}


def test_kind_of_an_organisation_with_users_cannot_change(client, make, admin):
    body = make.org("regional_body", name="ARS Toscana", region="toscana")
    make.user("assessor", organisation=body)
    db.session.commit()
    response = client.post(
        f"/admin/organisations/{body.id}",
        data=org_form(
            name="ARS Toscana", kind="irccs", region="toscana", vat_number="", eudamed_srn=""
        ),
    )
    assert response.status_code == 200
    assert "its kind cannot change" in page_of(response)
    db.session.refresh(body)
    assert body.kind == "regional_body"


def test_deactivating_an_organisation_locks_out_its_users(app, client, make, admin, login, as_user):
    company = make.org("manufacturer")
    user = make.user("manufacturer", organisation=company)
    db.session.commit()
    their_browser = as_user(user)

    response = client.post(f"/admin/organisations/{company.id}/deactivate")
    assert response.status_code == 302
    assert not is_logged_in(their_browser)
    retry = app.test_client()
    retry.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert not is_logged_in(retry)

    client.post(f"/admin/organisations/{company.id}/reactivate")
    login(user, test_client=app.test_client())


def test_organisation_list_searches_filters_and_counts_users(client, make, admin):
    lab = make.org("manufacturer", name="Biolab Srl", vat_number="IT00488410010")
    make.user("manufacturer", organisation=lab)
    make.user("manufacturer", organisation=lab)
    make.org("irccs", name="IRCCS Gaslini", region="liguria")
    db.session.commit()
    page = page_of(client.get("/admin/organisations", query_string={"q": "00488410010"}))
    assert "Biolab Srl" in page and "Gaslini" not in page
    assert '<td class="text-end">2</td>' in page
    page = page_of(client.get("/admin/organisations", query_string={"kind": "irccs"}))
    assert "IRCCS Gaslini" in page and "Liguria" in page and "Biolab" not in page


# --- deadlines --------------------------------------------------------------------------------


def test_deadlines_page_shows_the_defaults(client, admin):
    page = page_of(client.get("/admin/deadlines"))
    assert 'name="days_intake_review" type="number" value="15"' in page
    assert 'id="working_factual_accuracy_check" name="working_factual_accuracy_check"' in page


def deadline_form(**overrides) -> dict:
    data = {}
    for state, rule in effective_deadlines(db.session).items():
        data[f"days_{state}"] = "" if rule.days is None else str(rule.days)
        if rule.working_days:
            data[f"working_{state}"] = "y"
    return data | overrides


def test_saving_deadlines_changes_the_effective_deadlines(client, admin):
    form = deadline_form(days_assessment="120", days_consultation="", working_appraisal="y")
    form["days_appraisal"] = "20"
    form.pop("working_factual_accuracy_check")
    response = client.post("/admin/deadlines", data=form)
    assert response.status_code == 302
    assert "Deadlines saved (4 changed)." in page_of(client.get(response.location))

    rules = effective_deadlines(db.session)
    assert (rules["assessment"].days, rules["assessment"].working_days) == (120, False)
    assert rules["consultation"].days is None
    assert (rules["appraisal"].days, rules["appraisal"].working_days) == (20, True)
    assert rules["factual_accuracy_check"].working_days is False
    assert rules["intake_review"].days == 15  # untouched default, no row written
    assert db.session.get(DeadlineSetting, "intake_review") is None
    page = page_of(client.get("/admin/deadlines"))
    assert 'name="days_assessment" type="number" value="120"' in page

    entries = list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "deadline_setting"))
    )
    assert {e.data["state"]: e.changes for e in entries}["assessment"] == {"days": [90, 120]}


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "99999"])
def test_bad_deadline_is_refused_and_kept(client, admin, bad):
    response = client.post("/admin/deadlines", data=deadline_form(days_assessment=bad))
    assert response.status_code == 200
    page = page_of(response)
    assert 'id="days_assessment-error"' in page
    assert f'value="{bad}"' in page
    assert effective_deadlines(db.session)["assessment"].days == 90
