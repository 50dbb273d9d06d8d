"""Account services, deadline settings and the create-admin command, against the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.accounts import operations as accounts
from app.accounts.operations import OrganisationData, UserData
from app.accounts.passwords import verify_password
from app.core.audit import verify_chain
from app.core.deadline_settings import (
    CONFIGURABLE_STATES,
    effective_deadlines,
    save_deadline,
)
from app.domain.deadlines import DEFAULT_DEADLINES, DeadlineRule
from app.domain.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import AuditEntry, DeadlineSetting, User
from tests.factories import DEFAULT_PASSWORD

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PASSWORD = "a good long password"


# --- authentication ---------------------------------------------------------------------------


def test_authenticate_records_the_login_time(make):
    user = make.user("agency")
    assert accounts.authenticate(user.email.upper(), DEFAULT_PASSWORD, now=NOW).user is user
    assert user.last_login_at == NOW


def test_unknown_email_still_checks_a_password_hash(make, monkeypatch):
    """Same work for an unknown email as for a known one, so timing reveals nothing."""
    calls = []

    def spy(password_hash, password):
        calls.append(password_hash)
        return verify_password(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", spy)
    inactive = make.user("agency", active=False)
    assert accounts.authenticate("ghost@example.org", DEFAULT_PASSWORD, now=NOW).user is None
    assert accounts.authenticate(inactive.email, DEFAULT_PASSWORD, now=NOW).user is None
    assert calls == [None, inactive.password_hash]
    assert inactive.last_login_at is None


def test_changing_ones_password_rotates_the_session_token_and_is_audited(make):
    user = make.user("assessor")
    token = user.session_token
    with pytest.raises(ValidationFailed) as caught:
        accounts.change_own_password(user, "wrong", PASSWORD, now=NOW)
    assert "current_password" in caught.value.details["fields"]
    assert user.session_token == token

    accounts.change_own_password(user, DEFAULT_PASSWORD, PASSWORD, now=NOW)
    assert user.session_token != token
    assert verify_password(user.password_hash, PASSWORD)
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.changes) == ("change_password", user.id, {})


# --- users --------------------------------------------------------------------------------------


def test_create_user_normalises_the_email_and_audits_without_the_hash(make):
    admin = make.user("admin")
    company = make.org("manufacturer")
    user = accounts.create_user(
        admin,
        UserData(" Laura@Example.ORG ", " Laura Neri ", "manufacturer", company.id, "en"),
        PASSWORD,
        now=NOW,
        ip="192.0.2.7",
    )
    assert (user.email, user.full_name, user.language) == ("laura@example.org", "Laura Neri", "en")
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.changes["organisation_id"] == [None, company.id]
    assert entry.ip == "192.0.2.7"
    assert not any("hash" in name or "password" in name for name in entry.changes)


@pytest.mark.parametrize(
    ("role", "kind", "field"),
    [
        ("manufacturer", "agency", "organisation_id"),
        ("assessor", "irccs", "organisation_id"),
        ("irccs", "regional_body", "organisation_id"),
        ("admin", "agency", "organisation_id"),
    ],
)
def test_role_must_fit_the_organisation_kind(make, role, kind, field):
    admin = make.user("admin")
    organisation = make.org(kind)
    data = UserData("x@example.org", "X", role, organisation.id)
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(admin, data, PASSWORD, now=NOW)
    assert field in caught.value.details["fields"]


def test_duplicate_email_is_refused_whatever_the_case(make):
    admin = make.user("admin")
    existing = make.user("agency", email="dup@example.org")
    data = UserData("DUP@example.org", "Y", "agency", existing.organisation_id)
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(admin, data, PASSWORD, now=NOW)
    assert set(caught.value.details["fields"]) == {"email"}


def test_short_initial_password_is_refused(make):
    admin = make.user("admin")
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(admin, UserData("z@example.org", "Z", "admin", None), "short", now=NOW)
    assert "password" in caught.value.details["fields"]


def test_only_admins_manage_users(make):
    agency_user = make.user("agency")
    with pytest.raises(PermissionDenied):
        accounts.list_users(agency_user)
    with pytest.raises(PermissionDenied):
        accounts.create_user(
            agency_user, UserData("q@example.org", "Q", "admin", None), PASSWORD, now=NOW
        )


def test_update_user_returns_and_audits_only_what_changed(make):
    admin = make.user("admin")
    user = make.user("irccs", full_name="Before")
    data = UserData(user.email, "After", "irccs", user.organisation_id, user.language)
    assert accounts.update_user(admin, user, data, now=NOW) == {"full_name": ["Before", "After"]}
    assert accounts.update_user(admin, user, data, now=NOW) == {}
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 1


def test_moving_a_user_to_another_organisation_updates_the_relationship(make):
    admin = make.user("admin")
    user = make.user("manufacturer")
    other = make.org("manufacturer", active=False)
    data = UserData(user.email, user.full_name, "manufacturer", other.id, "it")
    accounts.update_user(admin, user, data, now=NOW)
    assert user.organisation is other
    assert not user.is_active


def test_deactivation_rotates_the_token_and_admins_cannot_deactivate_themselves(make):
    admin = make.user("admin")
    user = make.user("agency")
    token = user.session_token
    assert accounts.set_user_active(admin, user, False, now=NOW) is True
    assert user.session_token != token and not user.is_active
    assert accounts.set_user_active(admin, user, False, now=NOW) is False
    with pytest.raises(PermissionDenied):
        accounts.set_user_active(admin, admin, False, now=NOW)


# --- organisations ------------------------------------------------------------------------------


def test_create_organisation_normalises_identifiers(make):
    admin = make.user("admin")
    org = accounts.create_organisation(
        admin,
        OrganisationData(
            "  Valvole   Spa ", "manufacturer", "lazio", "00488410010", "it-ar-000000007"
        ),
        now=NOW,
    )
    assert (org.name, org.region, org.vat_number, org.eudamed_srn) == (
        "Valvole Spa",
        None,
        "IT00488410010",
        "IT-AR-000000007",
    )


def test_organisation_rules_are_enforced_by_the_service(make):
    admin = make.user("admin")
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_organisation(admin, OrganisationData("Body", "regional_body"), now=NOW)
    assert set(caught.value.details["fields"]) == {"region"}
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_organisation(admin, OrganisationData("Maker", "manufacturer"), now=NOW)
    assert set(caught.value.details["fields"]) == {"vat_number"}
    with pytest.raises(ValidationFailed):
        accounts.create_organisation(
            admin, OrganisationData("Maker", "manufacturer", vat_number="123"), now=NOW
        )


def test_deactivating_an_organisation_ends_its_users_sessions(make):
    admin = make.user("admin")
    org = make.org("irccs")
    members = [make.user("irccs", organisation=org) for _ in range(2)]
    tokens = [member.session_token for member in members]
    accounts.set_organisation_active(admin, org, False, now=NOW)
    assert all(m.session_token != t for m, t in zip(members, tokens, strict=True))
    assert not any(member.is_active for member in members)
    accounts.set_organisation_active(admin, org, True, now=NOW)
    assert all(member.is_active for member in members)


def test_organisation_list_is_paginated_and_counts_users_in_one_query(app, make):
    admin = make.user("admin")
    orgs = [make.org("agency", name=f"Org {n:02d}") for n in range(5)]
    make.user("agency", organisation=orgs[0])
    page = accounts.list_organisations(admin, page=2, per_page=2)
    assert [org.name for org in page.items] == ["Org 02", "Org 03"]
    assert page.total == 5
    assert accounts.user_counts([orgs[0].id, orgs[1].id]) == {orgs[0].id: 1}


def test_admin_changes_keep_the_audit_chain_valid(make):
    admin = make.user("admin")
    org = accounts.create_organisation(admin, OrganisationData("Agenzia", "agency"), now=NOW)
    user = accounts.create_user(
        admin, UserData("chain@example.org", "C", "agency", org.id), PASSWORD, now=NOW
    )
    accounts.set_user_active(admin, user, False, now=NOW)
    save_deadline("assessment", 60, False, actor=admin, now=NOW)
    db.session.commit()
    report = verify_chain()
    assert report.ok and report.checked == 4


# --- deadline settings --------------------------------------------------------------------------


def test_effective_deadlines_are_the_defaults_without_settings(app):
    assert effective_deadlines(db.session) == DEFAULT_DEADLINES


def test_saved_deadlines_override_the_defaults(make):
    admin = make.user("admin")
    assert save_deadline("assessment", 60, True, actor=admin, now=NOW) is True
    assert save_deadline("consultation", None, False) is True
    assert save_deadline("awaiting_prioritisation", 45, False) is True
    rules = effective_deadlines(db.session)
    assert rules["assessment"] == DeadlineRule(60, working_days=True)
    assert rules["consultation"] == DeadlineRule(None)
    assert rules["awaiting_prioritisation"] == DeadlineRule(45)
    assert rules["intake_review"] == DEFAULT_DEADLINES["intake_review"]
    entry = db.session.scalars(select(AuditEntry)).one()  # only the call given `now`
    assert entry.changes == {"days": [90, 60], "working_days": [False, True]}


def test_saving_an_unchanged_deadline_writes_nothing(app):
    assert save_deadline("intake_review", 15, False) is False
    assert db.session.scalar(select(func.count()).select_from(DeadlineSetting)) == 0


@pytest.mark.parametrize(("state", "days"), [("draft", 5), ("archived", 5), ("assessment", 0)])
def test_invalid_deadline_is_refused(app, state, days):
    with pytest.raises(ValueError):
        save_deadline(state, days, False)


def test_every_state_with_a_default_is_configurable():
    assert set(DEFAULT_DEADLINES) <= set(CONFIGURABLE_STATES)


# --- flask create-admin -------------------------------------------------------------------------


def test_create_admin_prompts_for_the_password_twice(runner):
    result = runner.invoke(
        args=["create-admin", "Boss@Example.org", "--name", "Boss"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Administrator boss@example.org created." in result.output
    user = db.session.scalars(select(User)).one()
    assert (user.role, user.organisation_id, user.full_name) == ("admin", None, "Boss")
    assert verify_password(user.password_hash, PASSWORD)
    assert PASSWORD not in result.output


def test_create_admin_refuses_a_taken_email_and_a_short_password(runner, make):
    make.user("agency", email="taken@example.org")
    db.session.commit()
    result = runner.invoke(
        args=["create-admin", "TAKEN@example.org"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 1
    assert "Another user already has this email address." in result.output
    result = runner.invoke(args=["create-admin", "new@example.org"], input="short\nshort\n")
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_create_admin_refuses_a_malformed_email(runner):
    result = runner.invoke(args=["create-admin", "not-an-email"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 2
    assert db.session.scalar(select(func.count(User.id))) == 0
