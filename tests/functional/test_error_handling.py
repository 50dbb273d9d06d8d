"""The one error mapping (`app.errors`): a domain error that a view lets through is answered with
the status it declares, as problem+json under /api/v1, as the error page in the user's language,
or, on a form page, as the form again with what the user typed; the session is rolled back
first, and a concurrent write caught at flush (StaleDataError) is a conflict."""

from __future__ import annotations

import json

import pytest
from flask import get_flashed_messages
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app.accounts import api_tokens
from app.api.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE
from app.domain import errors as domain_errors
from app.errors import answer_domain_error, form_page
from app.extensions import db
from app.models import ApiToken, AuditEntry
from app.models.types import utcnow

DOMAIN_ERRORS = [
    domain_errors.DomainError,
    domain_errors.NotFound,
    domain_errors.CoiDeclarationRequired,
    domain_errors.PermissionDenied,
    domain_errors.Conflict,
    domain_errors.InvalidTransition,
    domain_errors.GuardFailed,
    domain_errors.ValidationFailed,
]


def text(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def user(make, login):
    # With a second factor: API tokens are created only from a session that passed one.
    user = make.user("manufacturer", second_factor=True)
    db.session.commit()
    login(user)
    return user


def test_every_domain_error_is_subclassed_here():
    declared = {
        value
        for value in vars(domain_errors).values()
        if isinstance(value, type) and issubclass(value, domain_errors.DomainError)
    }
    assert declared == set(DOMAIN_ERRORS)


@pytest.mark.parametrize("error_class", DOMAIN_ERRORS, ids=lambda c: c.__name__)
def test_under_the_api_a_domain_error_is_the_problem_it_declares(app, error_class):
    with app.test_request_context("/api/v1/requests/1/actions/submit", method="POST"):
        response = app.make_response(answer_domain_error(error_class("refused", request_id=1)))
    assert response.status_code == error_class.http_status
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    body = json.loads(response.get_data(as_text=True))
    assert body["type"] == TYPE_BASE + error_class.problem_type
    assert body["status"] == error_class.http_status
    if error_class is domain_errors.GuardFailed:
        # A guard's message is written for the user (app/core/guards.py): it is the detail.
        assert body["detail"] == "refused"
    else:
        assert "refused" not in json.dumps(body)  # a developer's message is never shown


def test_a_refusal_with_no_form_is_the_error_page_in_the_users_language(client, make, login):
    italian = make.user("manufacturer", language="it")
    someone_else = make.user("manufacturer")
    token, _plain = api_tokens.issue_token(someone_else, "Theirs", 30, utcnow())
    db.session.commit()
    login(italian)

    response = client.post(f"/account/tokens/{token.id}/revoke")

    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "Non trovato" in text(response)
    assert "Questa pagina non esiste oppure non hai i permessi" in text(response)


@pytest.mark.parametrize(
    ("error", "flashed"),
    [
        # Italian, the language of a visitor: a message written for users is translated...
        (domain_errors.ValidationFailed(_l("Write your comment.")), "Scrivi il tuo commento."),
        # ... and a developer's note is replaced by the form's sentence.
        (
            domain_errors.GuardFailed("a developer's note"),
            "Correggi gli errori indicati di seguito.",
        ),
    ],
)
def test_a_form_page_flashes_a_refusal_it_does_not_show_itself(app, error, flashed):
    with app.test_request_context("/requests/1/comments", method="POST"):
        form_page(lambda status: ("the form again", status))
        answer = answer_domain_error(error)
        assert answer == ("the form again", 422)
        assert get_flashed_messages() == [flashed]


def test_a_refused_form_comes_back_with_the_input_kept_and_nothing_saved(client, user, monkeypatch):
    issue_token = api_tokens.issue_token

    def issue_then_refuse(actor, *args, **kwargs):
        issue_token(actor, *args, **kwargs)  # the token and its audit entry, flushed
        raise domain_errors.ValidationFailed("refused", fields={"name": "too_long"})

    monkeypatch.setattr(api_tokens, "issue_token", issue_then_refuse)
    audit_entries = count(AuditEntry)

    response = client.post("/account/tokens", data={"name": "ERP export", "lifetime": "90"})

    assert response.status_code == 422
    assert "At most 100 characters." in text(response)
    assert 'value="ERP export"' in text(response)
    db.session.expire_all()
    assert count(ApiToken) == 0
    assert count(AuditEntry) == audit_entries


def test_a_refusal_rolls_back_what_the_operation_had_written(client, user, monkeypatch):
    token, _plain = api_tokens.issue_token(user, "Mine", 30, utcnow())
    db.session.commit()
    audit_entries = count(AuditEntry)
    revoke_token = api_tokens.revoke_token

    def revoke_then_conflict(*args, **kwargs):
        revoke_token(*args, **kwargs)  # revoked and audited, flushed
        raise domain_errors.Conflict("someone else was first")

    monkeypatch.setattr(api_tokens, "revoke_token", revoke_then_conflict)

    response = client.post(f"/account/tokens/{token.id}/revoke")

    assert response.status_code == 409
    assert "Changed by someone else" in text(response)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert count(AuditEntry) == audit_entries


def test_a_concurrent_write_caught_at_flush_is_a_conflict_page(client, user, monkeypatch):
    token, _plain = api_tokens.issue_token(user, "Mine", 30, utcnow())
    db.session.commit()

    def stale(*_args, **_kwargs):
        raise StaleDataError("UPDATE statement on table 'api_tokens' expected to update 1 row")

    monkeypatch.setattr(api_tokens, "revoke_token", stale)

    response = client.post(f"/account/tokens/{token.id}/revoke")

    assert response.status_code == 409
    assert "Someone else changed this item while you were working on it" in text(response)


def test_a_concurrent_write_on_a_form_page_keeps_the_input(client, user, make, monkeypatch):
    draft = make.request(manufacturer=user.organisation)
    db.session.commit()

    def stale(*_args, **_kwargs):
        raise StaleDataError("UPDATE statement on table 'requests' expected to update 1 row")

    monkeypatch.setattr("app.requests.views.update_dossier", stale)

    response = client.post(
        f"/requests/{draft.id}/edit",
        data={"version": str(draft.version), "trade_name": "OrthoFix Two"},
    )

    assert response.status_code == 409
    assert "Someone else saved this dossier" in text(response)
    assert 'value="OrthoFix Two"' in text(response)
