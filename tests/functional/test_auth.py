"""Logging in and out, and changing one's password, through the real pages."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.factories import DEFAULT_PASSWORD

LOGIN_ERROR = "Email or password is not correct"
NEW_PASSWORD = "a much longer new secret"


def in_english(client) -> None:
    """Anonymous pages follow the header switch; pin English so the texts below match."""
    client.post("/language/en", data={"next": "/"})


def is_logged_in(client) -> bool:
    response = client.get("/auth/password")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    return False


def post_login(client, email: str, password: str):
    return client.post("/auth/login", data={"email": email, "password": password})


def test_login_page_has_email_and_password_fields(client):
    in_english(client)
    response = client.get("/auth/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="email"' in page
    assert 'type="password"' in page


def test_login_with_correct_password_opens_the_home_page(client, make):
    user = make.user("manufacturer", language="en")
    db.session.commit()
    response = post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_logged_in(client)
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_email_letter_case_does_not_matter(client, make):
    user = make.user("manufacturer", email="Maria.Rossi@example.org")
    db.session.commit()
    assert post_login(client, "  MARIA.ROSSI@EXAMPLE.ORG ", DEFAULT_PASSWORD).status_code == 302
    assert is_logged_in(client)
    assert user.email == "Maria.Rossi@example.org"


def _login_error(response) -> str:
    page = response.get_data(as_text=True)
    start = page.index('id="login-error"')
    return page[start : page.index("</div>", start)]


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make):
    user = make.user("manufacturer")
    db.session.commit()
    in_english(client)
    wrong_password = post_login(client, user.email, "not the password at all")
    unknown_email = post_login(client, "nobody@example.org", DEFAULT_PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 200
    assert LOGIN_ERROR in wrong_password.get_data(as_text=True)
    assert _login_error(wrong_password) == _login_error(unknown_email)
    # What the person typed stays in the form.
    assert 'value="nobody@example.org"' in unknown_email.get_data(as_text=True)
    assert not is_logged_in(client)


def test_deactivated_user_gets_the_same_message(client, make):
    user = make.user("assessor", active=False)
    db.session.commit()
    in_english(client)
    response = post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert LOGIN_ERROR in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_user_of_a_deactivated_organisation_cannot_log_in(client, make):
    organisation = make.org("irccs", active=False)
    user = make.user("irccs", organisation=organisation)
    db.session.commit()
    in_english(client)
    response = post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert LOGIN_ERROR in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_empty_form_asks_for_both_fields(client):
    in_english(client)
    response = post_login(client, "", "")
    page = response.get_data(as_text=True)
    assert "Enter your email address." in page
    assert "Enter your password." in page
    assert "is-invalid" in page


def test_login_follows_a_local_next_page(client, make):
    user = make.user("manufacturer")
    db.session.commit()
    response = client.post(
        "/auth/login?next=/auth/password",
        data={"email": user.email, "password": DEFAULT_PASSWORD},
    )
    assert response.headers["Location"] == "/auth/password"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_ignores_a_next_page_on_another_site(client, make, target):
    user = make.user("manufacturer")
    db.session.commit()
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": user.email, "password": DEFAULT_PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_protected_page_sends_anonymous_visitors_to_login_and_back(client, make):
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_logged_in_user_visiting_login_goes_home(client, make, login):
    login(make.user("agency"))
    assert client.get("/auth/login").headers["Location"] == "/"


def test_logout_is_post_only(client, make, login):
    login(make.user("agency"))
    assert client.get("/auth/logout").status_code == 405
    assert is_logged_in(client)


def test_a_session_cookie_copied_before_logout_no_longer_works(app, client, make, login):
    user = make.user("manufacturer")
    db.session.commit()
    login(user)
    assert is_logged_in(client)
    stolen = client.get_cookie("session").value

    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert not is_logged_in(client)

    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/auth/password")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_user_language_preference_is_used_after_login(client, make):
    english = make.user("manufacturer", language="en")
    db.session.commit()
    client.post("/language/it", data={"next": "/"})
    post_login(client, english.email, DEFAULT_PASSWORD)
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


# --- password change -------------------------------------------------------------------------


def change_password(client, current: str, new: str, again: str | None = None):
    return client.post(
        "/auth/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if again is None else again,
        },
    )


def test_wrong_current_password_is_refused(client, make, login):
    user = make.user("agency", language="en")
    db.session.commit()
    login(user)
    response = change_password(client, "this is not it", NEW_PASSWORD)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The current password is not correct." in page
    assert "is-invalid" in page
    client.post("/auth/logout")
    login(user)  # the old password still works


@pytest.mark.parametrize(
    ("new", "again", "message"),
    [
        ("short", None, "at least 12 characters"),
        (NEW_PASSWORD, "something else entirely", "The two new passwords are not the same."),
        (DEFAULT_PASSWORD, None, "must differ from the current one"),
    ],
)
def test_unacceptable_new_password_is_refused(client, make, login, new, again, message):
    login(make.user("agency", language="en"))
    response = change_password(client, DEFAULT_PASSWORD, new, again)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_password_change_swaps_passwords_and_ends_other_sessions(app, client, make, login):
    user = make.user("assessor", language="en")
    db.session.commit()
    other_device = app.test_client()
    login(user)
    login(user, test_client=other_device)
    assert is_logged_in(other_device)

    response = change_password(client, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client), "the session that changed the password stays logged in"
    assert not is_logged_in(other_device), "every other session ends"

    fresh = app.test_client()
    in_english(fresh)
    assert LOGIN_ERROR in post_login(fresh, user.email, DEFAULT_PASSWORD).get_data(as_text=True)
    assert post_login(fresh, user.email, NEW_PASSWORD).status_code == 302
