"""The second factor (TOTP) as users meet it: enrolment at the first login of a role that
requires it (and no page before), login with a code that works once, recovery codes that work
once, a remembered browser that expires and can be forgotten, the administrator's reset
(audited), the optional second factor of other roles, and API tokens only after a second
factor."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts import second_factor as factor
from app.extensions import db
from app.models import AuditEntry, RecoveryCode
from app.models import types as model_types
from tests.browser_support import Clock
from tests.factories import DEFAULT_PASSWORD

START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
SECRET_ON_PAGE = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
CODES_ON_PAGE = re.compile(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>")


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock(START)
    monkeypatch.setattr(model_types, "datetime", frozen.datetime_class())
    return frozen


def password_step(client, user):
    response = client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return response.location


def logged_in(client) -> bool:
    return client.get("/auth/password").status_code == 200


def actions(user) -> list[str]:
    query = select(AuditEntry.action).where(
        AuditEntry.entity_type == "user", AuditEntry.entity_id == user.id
    )
    return list(db.session.scalars(query.order_by(AuditEntry.seq)))


def enrol(client, now) -> list[str]:
    """Go through the enrolment page as a person does; returns the recovery codes shown."""
    page = client.get("/auth/two-factor/setup").get_data(as_text=True)
    assert "<svg" in page  # the QR code, inline
    secret = SECRET_ON_PAGE.search(page).group(1)
    response = client.post("/auth/two-factor/setup", data={"code": factor.code_at(secret, now)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return CODES_ON_PAGE.findall(response.get_data(as_text=True))


@pytest.mark.parametrize("role", ["agency", "assessor", "admin"])
def test_a_role_that_requires_it_enrols_at_first_login_and_sees_nothing_before(
    client, make, clock, role
):
    user = make.user(role, second_factor=False)
    db.session.commit()
    assert password_step(client, user).endswith("/auth/two-factor/setup")
    for page in ("/work/", "/requests/", "/reports/", "/account/tokens", "/admin/users"):
        assert client.get(page).status_code == 302, page
    assert not logged_in(client)

    codes = enrol(client, clock.now())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert logged_in(client)
    db.session.refresh(user)
    assert user.has_second_factor
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # hashed
    assert "second_factor_enrolled" in actions(user)


def test_a_user_made_with_flask_create_admin_enrols_at_first_login(runner, client, clock):
    result = runner.invoke(
        args=["create-admin", "boss@example.org"], input="a long admin secret\n" * 2
    )
    assert result.exit_code == 0, result.output
    response = client.post(
        "/auth/login", data={"email": "boss@example.org", "password": "a long admin secret"}
    )
    assert response.location.endswith("/auth/two-factor/setup")


def test_a_code_logs_in_once_only(app, client, make, clock):
    user = make.user("agency")
    db.session.commit()
    code = factor.code_at(user.totp_secret, clock.now())
    assert password_step(client, user).endswith("/auth/two-factor")
    assert client.post("/auth/two-factor", data={"code": code}).status_code == 302
    assert logged_in(client)

    other_browser = app.test_client()
    password_step(other_browser, user)
    refused = other_browser.post("/auth/two-factor", data={"code": code})
    assert refused.status_code == 200 and not logged_in(other_browser)
    clock.advance(days=31 / 86400)  # the next 30-second step: a new code
    next_code = factor.code_at(user.totp_secret, clock.now())
    assert other_browser.post("/auth/two-factor", data={"code": next_code}).status_code == 302
    assert logged_in(other_browser)
    assert actions(user).count("second_factor_failed") == 1


def test_a_recovery_code_logs_in_once(app, client, make, clock):
    user = make.user("assessor", second_factor=False)
    db.session.commit()
    password_step(client, user)
    codes = enrol(client, clock.now())
    client.post("/auth/logout")

    first, second = app.test_client(), app.test_client()
    password_step(first, user)
    assert first.post("/auth/two-factor", data={"code": codes[3].upper()}).status_code == 302
    password_step(second, user)
    assert second.post("/auth/two-factor", data={"code": codes[3]}).status_code == 200
    assert not logged_in(second)
    assert factor.unused_recovery_codes(db.session.get(type(user), user.id)) == 9


def test_a_remembered_browser_skips_the_code_for_30_days_until_forgotten(app, client, make, clock):
    user = make.user("agency")
    db.session.commit()
    password_step(client, user)
    code = factor.code_at(user.totp_secret, clock.now())
    client.post("/auth/two-factor", data={"code": code, "remember": "y"})
    assert client.get_cookie(factor.REMEMBERED_DEVICE_COOKIE, path="/auth") is not None

    client.post("/auth/logout")
    clock.advance(days=29)
    assert password_step(client, user) == "/"  # no code asked
    client.post("/auth/logout")
    clock.advance(days=2)  # 31 days after: asked again
    assert password_step(client, user).endswith("/auth/two-factor")

    # Remembered again, then forgotten from the security page.
    code = factor.code_at(user.totp_secret, clock.now())
    client.post("/auth/two-factor", data={"code": code, "remember": "y"})
    client.post("/account/security/forget-devices")
    client.post("/auth/logout")
    assert password_step(client, user).endswith("/auth/two-factor")


def test_a_forged_remembered_browser_cookie_is_ignored(client, make, clock):
    user = make.user("agency")
    db.session.commit()
    client.set_cookie(factor.REMEMBERED_DEVICE_COOKIE, "forged.token", path="/auth")
    assert password_step(client, user).endswith("/auth/two-factor")


def test_an_administrator_resets_a_second_factor_audited(app, client, make, login, clock):
    admin = make.user("admin")
    user = make.user("agency")
    db.session.commit()
    their_browser = app.test_client()
    login(user, test_client=their_browser)
    login(admin)
    response = client.post(f"/admin/users/{user.id}/reset-second-factor")
    assert "they set up a new one at their next login" in client.get(response.location).get_data(
        as_text=True
    )
    assert not logged_in(their_browser)  # their sessions ended
    assert password_step(their_browser, user).endswith("/auth/two-factor/setup")
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "second_factor_reset")
    ).one()
    assert entry.entity_id == user.id and entry.actor_id == admin.id


def test_other_roles_may_log_in_without_and_turn_it_on_and_off(client, make, clock):
    user = make.user("manufacturer")
    db.session.commit()
    assert password_step(client, user) == "/"
    assert "Off: only your password" in client.get("/account/security").get_data(as_text=True)
    enrol(client, clock.now())
    client.post("/auth/logout")
    assert password_step(client, user).endswith("/auth/two-factor")
    clock.advance(days=1 / 2880)
    code = factor.code_at(db.session.get(type(user), user.id).totp_secret, clock.now())
    client.post("/auth/two-factor", data={"code": code})
    clock.advance(days=1 / 2880)
    code = factor.code_at(db.session.get(type(user), user.id).totp_secret, clock.now())
    client.post("/account/security/turn-off", data={"code": code})
    client.post("/auth/logout")
    assert password_step(client, user) == "/"


def test_api_tokens_are_created_only_after_a_second_factor(client, make, login, clock):
    user = make.user("manufacturer")
    db.session.commit()
    login(user)
    response = client.post("/account/tokens", data={"name": "ERP", "lifetime": "30"})
    assert response.status_code == 302 and response.location.endswith("/account/security")
    client.post("/auth/logout")

    agency = make.user("agency")
    db.session.commit()
    login(agency)
    assert client.post("/account/tokens", data={"name": "ERP", "lifetime": "30"}).status_code == 200


def test_the_demo_prints_the_keys_and_flask_totp_code_prints_the_current_code(runner, clock):
    seeded = runner.invoke(args=["seed-demo", "--copies", "1"])
    assert seeded.exit_code == 0, seeded.output
    line = next(line for line in seeded.output.splitlines() if "agenzia@demo.hta" in line)
    key = line.split("key ")[1].strip()
    printed = runner.invoke(args=["totp", "code", "agenzia@demo.hta"])
    assert printed.output.strip() == factor.code_at(key, clock.now())
    assert "produttore@demo.hta" in seeded.output and "key" not in next(
        line for line in seeded.output.splitlines() if "produttore@demo.hta" in line
    )


def test_flask_totp_code_is_refused_in_production(app, make):
    user = make.user("agency")
    db.session.commit()
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["totp", "code", user.email])
    assert result.exit_code != 0 and "Refused in production" in result.output


def test_the_qr_code_is_inline_svg_without_style_or_script():
    svg = factor.qr_code_svg("otpauth://totp/HTA%20Tracker:a%40b.it?secret=ABC&issuer=HTA")
    assert svg.startswith("<svg") and "style" not in svg and "<script" not in svg
    assert timedelta(days=factor.MAX_REMEMBER_DAYS) == timedelta(days=30)
