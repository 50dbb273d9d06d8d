"""/account/security: the user's second factor (turn on, new recovery codes, forget remembered
browsers, turn off where the role allows it); /account/sessions: the user's active sessions,
ending one, or "log out everywhere else". Thin views over `app.accounts.second_factor`,
`active_sessions` and `operations`."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import active_sessions, bp, second_factor
from app.accounts import operations as accounts
from app.accounts import session as login_session
from app.extensions import db
from app.forms.auth import ConfirmWithCodeForm
from app.models.types import utcnow

NO_STORE = {"Cache-Control": "no-store"}


def _user():
    return current_user._get_current_object()


@bp.get("/security")
@login_required
def security():
    user = _user()
    page = render_template(
        "account/security.html",
        user=user,
        required=second_factor.is_required_for(user),
        unused_codes=second_factor.unused_recovery_codes(user) if user.has_second_factor else 0,
        form=ConfirmWithCodeForm(),
    )
    return page, 200, NO_STORE


def _confirmed(user, form: ConfirmWithCodeForm) -> bool:
    """The form's current code is right (a wrong one is said, and audited)."""
    if form.validate() and second_factor.verify(
        user, form.code.data, now=utcnow(), ip=request.remote_addr
    ):
        return True
    db.session.commit()  # the failure's audit entry
    flash(_("This code is not correct, or it has been used already."), "danger")
    return False


@bp.post("/security/recovery-codes")
@login_required
def new_recovery_codes():
    user = _user()
    form = ConfirmWithCodeForm()
    if not user.has_second_factor or not _confirmed(user, form):
        return redirect(url_for("account.security"))
    codes = second_factor.replace_recovery_codes(user, utcnow())
    db.session.commit()
    page = render_template(
        "auth/recovery_codes.html", codes=codes, next=url_for("account.security")
    )
    return page, 200, NO_STORE


@bp.post("/security/forget-devices")
@login_required
def forget_devices():
    second_factor.forget_devices(_user(), now=utcnow(), ip=request.remote_addr)
    db.session.commit()
    flash(_("Every remembered browser will be asked for a code at the next login."), "success")
    return redirect(url_for("account.security"))


@bp.get("/sessions")
@login_required
def sessions():
    """ "Active sessions": this user's open sessions (browser, address, started, last seen)."""
    user = _user()
    now = utcnow()
    current = active_sessions.current(user)
    rows = active_sessions.open_sessions(user, now, login_session.idle_limit_minutes(user))
    page = render_template(
        "account/sessions.html", rows=rows, current_id=current.id if current else None
    )
    return page, 200, NO_STORE


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """End one of the user's other sessions (a browser left logged in somewhere)."""
    user = _user()
    now = utcnow()
    active_sessions.end_one(user, session_id, now)  # another user's session: 404
    accounts.audit_own(user, "session_ended", now, request.remote_addr, {"session": session_id})
    db.session.commit()
    flash(_("That session has ended."), "success")
    return redirect(url_for("account.sessions"))


@bp.post("/security/log-out-elsewhere")
@login_required
def log_out_elsewhere():
    """End every other session of the user (other browsers, a forgotten computer)."""
    user = _user()
    now = utcnow()
    ended = active_sessions.end_others(user, now)
    accounts.audit_own(user, "other_sessions_ended", now, request.remote_addr, {"count": ended})
    db.session.commit()
    flash(_("Every other session of yours has ended."), "success")
    return redirect(url_for("account.sessions"))


@bp.post("/security/turn-off")
@login_required
def turn_off():
    user = _user()
    if second_factor.is_required_for(user) or not user.has_second_factor:
        return redirect(url_for("account.security"))
    if not _confirmed(user, ConfirmWithCodeForm()):
        return redirect(url_for("account.security"))
    second_factor.turn_off(user, now=utcnow(), ip=request.remote_addr)
    db.session.commit()
    login_session.forget_second_factor()
    flash(_("The second factor is off."), "info")
    return redirect(url_for("account.security"))
