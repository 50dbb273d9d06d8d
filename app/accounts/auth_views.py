"""Login (password, then the second factor or its enrolment), logout and password change:
thin views over `app.accounts.operations`, `second_factor` and `session`."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import active_sessions, password_reset
from app.accounts import auth_bp as bp
from app.accounts import operations as accounts
from app.accounts import second_factor as factor
from app.accounts import session as login_session
from app.domain.errors import ValidationFailed
from app.extensions import db
from app.forms.auth import (
    ChangePasswordForm,
    EnrolSecondFactorForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    SecondFactorForm,
)
from app.main.views import safe_next
from app.models.types import utcnow
from app.security import (
    limit_login,
    limit_password_change,
    limit_password_reset,
    limit_second_factor,
)

ENROLMENT_KEY = "enrolment_key"  # the session key of the key being enrolled
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/login", methods=["GET", "POST"])
@limit_login
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    failed = locked = False
    if form.validate_on_submit():
        now = utcnow()
        attempt = accounts.authenticate(
            form.email.data, form.password.data, now=now, ip=request.remote_addr
        )
        db.session.commit()
        user = attempt.user
        if user is not None:
            session.pop("lang", None)  # the stored preference decides the language from now on
            next_url = request.args.get("next")
            device_token = request.cookies.get(factor.REMEMBERED_DEVICE_COOKIE)
            if user.has_second_factor and factor.is_remembered_device(user, device_token, now):
                login_session.complete_login(user, now, second_factor=True)
                db.session.commit()
                return redirect(safe_next(next_url))
            if user.has_second_factor or factor.is_required_for(user):
                login_session.begin_pending_login(user, now, next_url)
                step = "auth.second_factor" if user.has_second_factor else "auth.enrol"
                return redirect(url_for(step))
            login_session.complete_login(user, now, second_factor=False)
            db.session.commit()
            return redirect(safe_next(next_url))
        failed, locked = not attempt.locked, attempt.locked
    status = 429 if locked else 200
    page = render_template(
        "auth/login.html",
        form=form,
        failed=failed,
        locked=locked,
        next=request.args.get("next", ""),
    )
    return page, status


@bp.route("/two-factor", methods=["GET", "POST"])
@limit_second_factor
def second_factor():  # the endpoint "auth.second_factor"
    now = utcnow()
    user = login_session.pending_login_user(now)
    if user is None or not user.has_second_factor:
        return redirect(url_for("auth.login"))
    if accounts.is_locked(user, now):
        session.clear()
        flash(_("Too many failed attempts: this account is locked for a while."), "danger")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    days = factor.remember_days()
    form.remember.label.text = _("Remember this browser for %(days)d days", days=days)
    failed = False
    if form.validate_on_submit():
        ok = accounts.check_second_factor(user, form.code.data, now=now, ip=request.remote_addr)
        if ok:
            next_url = login_session.pending_next_url()
            login_session.complete_login(user, now, second_factor=True)
            db.session.commit()
            response = redirect(safe_next(next_url))
            if form.remember.data:
                _set_remembered_device(response, user, now, days)
            return response
        db.session.commit()
        failed = True
    page = render_template("auth/second_factor.html", form=form, failed=failed)
    return page, 200, NO_STORE


def _set_remembered_device(response, user, now, days: int) -> None:
    response.set_cookie(
        factor.REMEMBERED_DEVICE_COOKIE,
        factor.remembered_device_token(user, now),
        max_age=days * 24 * 3600,
        path=url_for("auth.login").rsplit("/", 1)[0],
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@limit_second_factor
def enrol():
    """Enrolment: at the first login of a role that requires it (pending login), or from the
    account's security page (logged in)."""
    now = utcnow()
    pending = login_session.pending_login_user(now)
    user = pending or (
        current_user._get_current_object() if current_user.is_authenticated else None
    )
    if user is None:
        return redirect(url_for("auth.login"))
    if user.has_second_factor:
        return redirect(url_for("account.security"))
    secret = session.get(ENROLMENT_KEY) or factor.new_secret()
    session[ENROLMENT_KEY] = secret
    form = EnrolSecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = factor.enrol(user, secret, form.code.data, now=now, ip=request.remote_addr)
        except ValidationFailed as error:
            db.session.rollback()
            form.code.errors = [*form.code.errors, *error.details.get("fields", {}).values()]
        else:
            next_url = login_session.pending_next_url() if pending else url_for("account.security")
            session.pop(ENROLMENT_KEY, None)
            login_session.complete_login(user, now, second_factor=True)
            db.session.commit()
            page = render_template(
                "auth/recovery_codes.html", codes=codes, next=safe_next(next_url or None)
            )
            return page, 200, NO_STORE
    uri = factor.provisioning_uri(user, secret)
    page = render_template(
        "auth/enrol.html",
        form=form,
        qr_svg=factor.qr_code_svg(uri),
        secret=secret,
        required=factor.is_required_for(user),
    )
    return page, 200, NO_STORE


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # This session only: the user's other browsers stay logged in.
        active_sessions.end_current(current_user._get_current_object(), utcnow())
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limit_password_change
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


# --- "Forgot your password?" ---------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@limit_password_reset
def forgot_password():
    """Ask for a reset link: the same answer whether or not the email has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.email.data, now=utcnow(), ip=request.remote_addr)
        db.session.commit()
        flash(
            _(
                "If an account has this email address, a link to set a new password is on its "
                "way. It works once, within %(minutes)d minutes.",
                minutes=current_app.config["PASSWORD_RESET_MINUTES"],
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limit_password_reset
def reset_password(token: str):
    now = utcnow()
    user = password_reset.user_for_token(token, now)
    if user is None:
        page = render_template("auth/reset_link_invalid.html")
        return page, 400, NO_STORE
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.reset_password(
                user, form.new_password.data, now=now, ip=request.remote_addr
            )
        except ValidationFailed as error:
            db.session.rollback()
            for name, message in error.details.get("fields", {}).items():
                form[name].errors = [*form[name].errors, str(message)]
        else:
            db.session.commit()
            session.clear()
            flash(_("Your password has been changed: log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    page = render_template("auth/reset_password.html", form=form, token=token)
    # The link's token is in the address: never sent on as a Referer, never cached.
    return page, 200, {**NO_STORE, "Referrer-Policy": "no-referrer"}
