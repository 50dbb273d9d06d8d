"""What every page pays before its own work: loading the logged-in user, its organisation and
this browser's session row (one statement), and translating its words (the request's
catalogue looked up once, yet a language chosen within the request, or forced for an email,
still applies)."""

from __future__ import annotations

from flask_babel import force_locale, gettext

from app.extensions import db
from tests.statement_support import counting_statements


def _user_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM users" in s or "FROM user_sessions" in s]


def test_a_page_loads_the_user_and_its_session_row_in_one_statement(make, as_user):
    agency = make.user("agency")
    client = as_user(agency)
    db.session.remove()
    with counting_statements() as statements:
        assert client.get("/requests/").status_code == 200
    loading = _user_statements(statements)
    assert len(loading) == 1
    assert "user_sessions" in loading[0] and "organisations" in loading[0]
    assert not [s for s in statements if s.lstrip().startswith("SELECT organisations.")]


def test_an_ended_session_still_logs_the_browser_out(app, make, as_user, login):
    irccs = make.user("irccs")
    first, second = as_user(irccs), app.test_client()
    login(irccs, test_client=second)
    assert second.post("/account/security/log-out-elsewhere").status_code in (302, 303)
    answer = first.get("/requests/")
    assert answer.status_code in (302, 303) and "/auth/login" in answer.headers["Location"]
    assert second.get("/requests/").status_code == 200


def test_the_words_follow_a_language_forced_within_the_request(app):
    with app.test_request_context("/"):
        italian = gettext("Requests")
        with force_locale("en"):
            assert gettext("Requests") == "Requests"
        assert gettext("Requests") == italian != "Requests"


def test_switching_language_shows_the_next_page_in_it(client, make, login):
    user = make.user("agency", language="it")
    login(user)
    assert "Richieste" in client.get("/requests/").get_data(as_text=True)
    client.post("/language/en", data={"next": "/requests/"})
    assert ">Requests<" in client.get("/requests/").get_data(as_text=True)


def test_flask_babel_finds_the_namespace_of_this_app_context(app):
    import flask_babel
    from flask import g

    from app.i18n import babel_context

    assert flask_babel._get_current_context is babel_context
    with app.app_context():
        namespace = babel_context()
        assert namespace is g._flask_babel is babel_context()
        with app.app_context():  # another context: its own namespace, its own locale
            assert babel_context() is not namespace
            with force_locale("en"):
                assert gettext("Requests") == "Requests"
        assert babel_context() is namespace


def test_every_hook_and_view_still_passes_through_ensure_sync_as_itself(app):
    class View:
        def get(self):
            return "ok"

    async def coroutine_view():
        return "ok"

    first, second = View(), View()
    assert app.ensure_sync(first.get) == first.get
    assert app.ensure_sync(second.get) == second.get  # (the answer kept for View.get)
    assert app.ensure_sync(test_every_hook_and_view_still_passes_through_ensure_sync_as_itself) is (
        test_every_hook_and_view_still_passes_through_ensure_sync_as_itself
    )
    try:
        wrapped = app.ensure_sync(coroutine_view)
    except RuntimeError:  # (Flask's async support needs asgiref, not installed here)
        wrapped = None
    assert wrapped is not coroutine_view
