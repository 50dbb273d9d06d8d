"""Administration views: users, organisations and deadlines. Administrators only.

Thin: form -> `app.accounts.operations` / `app.core.deadline_settings` -> one commit.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app import labels
from app.accounts import operations as accounts
from app.accounts.operations import OrganisationData, UserData
from app.admin import bp
from app.core.deadline_settings import (
    CONFIGURABLE_STATES,
    MINIMUM_STATES,
    REQUEST_DEADLINE_STATES,
    effective_deadlines,
    effective_minimums,
    save_deadline,
    save_minimum,
)
from app.domain.errors import PermissionDenied, ValidationFailed
from app.domain.permissions import can_manage_users
from app.domain.reminders import DEFAULT_DAYS_BEFORE, parse_days_before
from app.errors import form_page
from app.extensions import db
from app.forms.admin import (
    NewUserForm,
    OrganisationForm,
    UserForm,
    days_field_name,
    deadlines_form_class,
    minimum_field_name,
    reminder_field_name,
    reminders_form_class,
    working_field_name,
)
from app.models.types import utcnow
from app.notifications.reminders import days_before_by_state, save_days_before


@bp.before_request
def require_admin():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not can_manage_users(current_user):
        abort(403)
    return None


def _actor():
    return current_user._get_current_object()


def _audit_context() -> dict:
    return {"now": utcnow(), "ip": request.remote_addr}


def _show_field_errors(form: FlaskForm, error: ValidationFailed) -> None:
    """Put the service's per-field messages next to the fields (or above the form).

    Made plain `str` here: a lazy string counts as safe HTML in Jinja (flask_babel's
    LazyString has `__html__`), and these messages may quote names people typed.
    """
    db.session.rollback()
    for name, message in error.details.get("fields", {}).items():
        if name in form:
            form[name].errors = [*form[name].errors, str(message)]
        else:
            form.form_errors.append(str(message))


def _page() -> int:
    return request.args.get("page", 1, type=int)


def _load(get, object_id: int):
    """The user or organisation `get` (a service getter) finds (NotFound: 404)."""
    return get(_actor(), object_id)


def _submit(form: FlaskForm, save, page):
    """Run `save()`, a service call, commit and return its result. A refusal of the input is
    shown on `form` and `page()` drawn again by the error handler, with 200 like the form's
    own validation errors on these pages."""
    form_page(
        lambda _status: page(),
        show=lambda error: _show_field_errors(form, error),
        refusals=(ValidationFailed,),
    )
    result = save()
    db.session.commit()
    return result


def _flash_saved(changed, message: str) -> None:
    if changed:
        flash(message, "success")
    else:
        flash(_("Nothing was changed."), "info")


def _switch_active(set_active, row, active: bool, *, back: str, reactivated, deactivated):
    """Reactivate or deactivate `row` with the service `set_active`, commit and flash what
    happened (a refusal instead, PermissionDenied); then redirect to `back`."""
    back = redirect(back)
    try:
        changed = set_active(_actor(), row, active, **_audit_context())
    except PermissionDenied as error:  # a button, not a form: say why on the page it was on
        db.session.rollback()
        flash(str(error.message), "danger")
        return back
    db.session.commit()
    if changed:
        flash(reactivated if active else deactivated, "success")
    return back


# --- users ---------------------------------------------------------------------------------


@bp.get("/users")
def users():
    search = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    if role not in labels.ROLE_LABELS:
        role = ""
    page = accounts.list_users(_actor(), search=search, role=role, page=_page())
    return render_template("admin/users.html", page=page, search=search, role=role)


def _user_data(form: UserForm) -> UserData:
    return UserData(
        email=form.email.data,
        full_name=form.full_name.data,
        role=form.role.data,
        organisation_id=form.organisation_id.data,
        language=form.language.data,
    )


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = NewUserForm()
    form.set_organisation_choices(accounts.organisation_choices())

    def page():
        return render_template("admin/user_form.html", form=form, user=None)

    if form.validate_on_submit():
        user = _submit(
            form,
            lambda: accounts.create_user(
                _actor(), _user_data(form), form.password.data, **_audit_context()
            ),
            page,
        )
        flash(_("User %(email)s created.", email=user.email), "success")
        return redirect(url_for("admin.users", q=user.email))
    return page()


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = _load(accounts.get_user, user_id)
    form = UserForm(obj=user)
    form.set_organisation_choices(accounts.organisation_choices(include_id=user.organisation_id))

    def page():
        return render_template(
            "admin/user_form.html", form=form, user=user, locked=accounts.is_locked(user, utcnow())
        )

    if form.validate_on_submit():
        changes = _submit(
            form,
            lambda: accounts.update_user(
                _actor(),
                user,
                _user_data(form),
                new_password=form.password.data or None,
                **_audit_context(),
            ),
            page,
        )
        changed = changes or form.password.data
        _flash_saved(changed, _("Changes to %(email)s saved.", email=user.email))
        return redirect(url_for("admin.user_edit", user_id=user.id))
    return page()


def _set_user_active(user_id: int, active: bool):
    user = _load(accounts.get_user, user_id)
    return _switch_active(
        accounts.set_user_active,
        user,
        active,
        back=url_for("admin.user_edit", user_id=user_id),
        reactivated=_("%(email)s can log in again.", email=user.email),
        deactivated=_("%(email)s is deactivated and has been logged out.", email=user.email),
    )


@bp.post("/users/<int:user_id>/deactivate")
def user_deactivate(user_id: int):
    return _set_user_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
def user_reactivate(user_id: int):
    return _set_user_active(user_id, True)


@bp.post("/users/<int:user_id>/unlock")
def user_unlock(user_id: int):
    user = _load(accounts.get_user, user_id)
    if accounts.unlock_user(_actor(), user, **_audit_context()):
        db.session.commit()
        flash(_("%(email)s is unlocked and can log in again.", email=user.email), "success")
    else:
        db.session.commit()
        flash(_("%(email)s was not locked.", email=user.email), "info")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/reset-second-factor")
def user_reset_second_factor(user_id: int):
    user = _load(accounts.get_user, user_id)
    if accounts.reset_second_factor(_actor(), user, **_audit_context()):
        db.session.commit()
        flash(
            _(
                "The second factor of %(email)s is removed and they are logged out; "
                "they set up a new one at their next login.",
                email=user.email,
            ),
            "success",
        )
    else:
        flash(_("%(email)s has no second factor.", email=user.email), "info")
    return redirect(url_for("admin.user_edit", user_id=user_id))


# --- organisations -------------------------------------------------------------------------


@bp.get("/organisations")
def organisations():
    search = request.args.get("q", "").strip()
    kind = request.args.get("kind", "")
    if kind not in labels.ORG_KIND_LABELS:
        kind = ""
    page = accounts.list_organisations(_actor(), search=search, kind=kind, page=_page())
    counts = accounts.user_counts([org.id for org in page.items])
    return render_template(
        "admin/organisations.html", page=page, counts=counts, search=search, kind=kind
    )


def _organisation_data(form: OrganisationForm) -> OrganisationData:
    return OrganisationData(
        name=form.name.data,
        kind=form.kind.data,
        region=form.region.data or None,
        vat_number=form.vat_number.data,
        eudamed_srn=form.eudamed_srn.data,
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
def organisation_new():
    form = OrganisationForm()

    def page():
        return render_template("admin/organisation_form.html", form=form, organisation=None)

    if form.validate_on_submit():
        organisation = _submit(
            form,
            lambda: accounts.create_organisation(
                _actor(), _organisation_data(form), **_audit_context()
            ),
            page,
        )
        flash(_("Organisation %(name)s created.", name=organisation.name), "success")
        return redirect(url_for("admin.organisation_edit", organisation_id=organisation.id))
    return page()


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def organisation_edit(organisation_id: int):
    organisation = _load(accounts.get_organisation, organisation_id)
    form = OrganisationForm(obj=organisation)

    def page():
        return render_template("admin/organisation_form.html", form=form, organisation=organisation)

    if form.validate_on_submit():
        changes = _submit(
            form,
            lambda: accounts.update_organisation(
                _actor(), organisation, _organisation_data(form), **_audit_context()
            ),
            page,
        )
        _flash_saved(changes, _("Changes to %(name)s saved.", name=organisation.name))
        return redirect(url_for("admin.organisation_edit", organisation_id=organisation_id))
    return page()


def _set_organisation_active(organisation_id: int, active: bool):
    organisation = _load(accounts.get_organisation, organisation_id)
    name = organisation.name
    return _switch_active(
        accounts.set_organisation_active,
        organisation,
        active,
        back=url_for("admin.organisation_edit", organisation_id=organisation_id),
        reactivated=_("%(name)s is active again; its users can log in.", name=name),
        deactivated=_("%(name)s is deactivated; its users cannot log in any more.", name=name),
    )


@bp.post("/organisations/<int:organisation_id>/deactivate")
def organisation_deactivate(organisation_id: int):
    return _set_organisation_active(organisation_id, False)


@bp.post("/organisations/<int:organisation_id>/reactivate")
def organisation_reactivate(organisation_id: int):
    return _set_organisation_active(organisation_id, True)


# --- deadlines -----------------------------------------------------------------------------


@bp.route("/deadlines", methods=["GET", "POST"])
def deadlines():
    rules = effective_deadlines(db.session)
    minimums = effective_minimums(db.session)
    form_class = deadlines_form_class(CONFIGURABLE_STATES, MINIMUM_STATES)
    # A POST's form data takes precedence.
    form = form_class(data=_deadline_form_data(rules, minimums))
    if form.validate_on_submit():
        context = _audit_context()
        changed = [
            state
            for state in CONFIGURABLE_STATES
            if save_deadline(
                state,
                form[days_field_name(state)].data,
                form[working_field_name(state)].data,
                actor=_actor(),
                **context,
            )
        ]
        changed += [
            state
            for state in MINIMUM_STATES
            if save_minimum(state, form[minimum_field_name(state)].data, actor=_actor(), **context)
        ]
        db.session.commit()
        _flash_saved(changed, _("Deadlines saved (%(count)d changed).", count=len(changed)))
        return redirect(url_for("admin.deadlines"))
    rows = [
        (
            state,
            form[days_field_name(state)],
            form[working_field_name(state)],
            form[minimum_field_name(state)] if state in MINIMUM_STATES else None,
        )
        for state in CONFIGURABLE_STATES
    ]
    return render_template("admin/deadlines.html", form=form, rows=rows)


def _deadline_form_data(rules, minimums) -> dict:
    data = {minimum_field_name(state): minimums.get(state, 0) for state in MINIMUM_STATES}
    for state in CONFIGURABLE_STATES:
        rule = rules.get(state)
        data[days_field_name(state)] = rule.days if rule else None
        data[working_field_name(state)] = bool(rule and rule.working_days)
    return data


# --- reminders -----------------------------------------------------------------------------


# Reminders go to the holders of request stages (`flask deadlines check`); the regional
# tariff's cases are flagged overdue in the region's work queue instead.
REMINDER_STATES = REQUEST_DEADLINE_STATES


@bp.route("/reminders", methods=["GET", "POST"])
def reminders():
    """Working days before a stage's due date on which its holder is reminded."""
    chosen = days_before_by_state()
    form_class = reminders_form_class(REMINDER_STATES)
    form = form_class(
        data={
            reminder_field_name(state): ", ".join(
                str(n) for n in chosen.get(state, DEFAULT_DAYS_BEFORE)
            )
            for state in REMINDER_STATES
        }
    )
    if form.validate_on_submit():
        changed = [
            state
            for state in REMINDER_STATES
            if save_days_before(state, parse_days_before(form[reminder_field_name(state)].data))
        ]
        db.session.commit()
        _flash_saved(changed, _("Reminders saved (%(count)d changed).", count=len(changed)))
        return redirect(url_for("admin.reminders"))
    rows = [(state, form[reminder_field_name(state)]) for state in REMINDER_STATES]
    return render_template("admin/reminders.html", form=form, rows=rows)
