"""Login, logout and password change: thin views over `app.accounts.operations`."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import auth_bp as bp
from app.accounts import operations as accounts
from app.domain.errors import ValidationFailed
from app.extensions import db
from app.forms.auth import ChangePasswordForm, LoginForm
from app.main.views import safe_next
from app.models.types import utcnow


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data, now=utcnow())
        if user is not None:
            db.session.commit()
            # The stored preference decides the language from now on (app.i18n).
            session.pop("lang", None)
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        db.session.rollback()
        failed = True
    return render_template(
        "auth/login.html", form=form, failed=failed, next=request.args.get("next", "")
    )


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.end_sessions(current_user._get_current_object())
        db.session.commit()
        logout_user()
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_own_password(
                user,
                form.current_password.data,
                form.new_password.data,
                now=utcnow(),
                ip=request.remote_addr,
            )
        except ValidationFailed as error:
            db.session.rollback()
            for name, message in error.details.get("fields", {}).items():
                form[name].errors = [*form[name].errors, str(message)]
        else:
            db.session.commit()
            login_user(user)  # this session carries the new token; every other one has ended
            flash(_("Your password has been changed. Other sessions have been logged out."))
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)
