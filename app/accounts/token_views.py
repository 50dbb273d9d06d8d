"""/account/tokens: the user's personal API tokens (create, list, revoke).

A new token is shown once, in the response to the form that created it (never stored in
the session or a flash message, which live in a cookie); only its hash is kept.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import api_tokens, bp
from app.accounts.session import second_factor_passed
from app.domain.errors import ValidationFailed
from app.errors import form_page
from app.extensions import db
from app.forms.account import TokenForm
from app.models.types import utcnow

NO_STORE = "no-store"
TOKEN_ERRORS = {
    "too_many_tokens": lambda: _(
        "You have %(count)s active tokens, the most allowed: revoke one first.",
        count=api_tokens.MAX_ACTIVE_TOKENS,
    ),
    "required": lambda: _("Give the token a name, e.g. the script that uses it."),
    "too_long": lambda: _("At most 100 characters."),
}


def _actor():
    return current_user._get_current_object()


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    response = render_template(
        "account/tokens.html",
        form=form,
        tokens=api_tokens.tokens_of(_actor()),
        new_token=new_token,
        now=utcnow(),
    )
    return response, status, {"Cache-Control": NO_STORE}


@bp.get("/tokens")
@login_required
def tokens():
    return _page(TokenForm())


@bp.post("/tokens")
@login_required
def create_token():
    if not second_factor_passed():
        flash(_("Log in with a second factor to create API tokens: turn it on here first."), "info")
        return redirect(url_for("account.security"))
    form = TokenForm()
    if not form.validate():
        return _page(form, status=422)
    form_page(
        lambda status: _page(form, status=status),
        show=lambda error: _show_errors(form, error),
        refusals=(ValidationFailed,),
    )
    _token, plain = api_tokens.issue_token(
        _actor(), form.name.data, form.lifetime_days(), utcnow(), ip=request.remote_addr
    )
    db.session.commit()
    return _page(TokenForm(formdata=None), new_token=plain)


def _show_errors(form: TokenForm, error: ValidationFailed) -> None:
    for name, code in (error.details.get("fields") or {}).items():
        field = form.lifetime if name == "lifetime" else form.name
        message = TOKEN_ERRORS.get(code, lambda: _("This value is not valid."))()
        field.errors = [*field.errors, message]


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = api_tokens.revoke_token(_actor(), token_id, utcnow(), ip=request.remote_addr)
    db.session.commit()
    flash(_("Token “%(name)s” revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("account.tokens"))
