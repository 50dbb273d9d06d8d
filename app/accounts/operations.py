"""Accounts and organisations: logging in, passwords, and the administrator's use cases.

Services load, check permission, act, write the audit entry and flush; the view or CLI
commits. Rule breaches the form cannot see (a taken email, a role that does not fit the
organisation) raise `ValidationFailed` with `details["fields"]`: field name -> message, which
the view shows next to the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import labels
from app.accounts import active_sessions, lockout
from app.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    PERSONAL,
    TOO_COMMON,
    TOO_FEW_CHARACTERS,
    TOO_SHORT,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from app.core.audit import record_audit
from app.domain import identifiers
from app.domain.errors import NotFound, PermissionDenied, ValidationFailed
from app.domain.permissions import can_manage_users
from app.domain.vocab import ROLE_ORG_KIND, OrgKind, Role
from app.extensions import db
from app.models import ApiToken, Organisation, RecoveryCode, User

REGIONAL_KINDS = frozenset({OrgKind.REGIONAL_BODY, OrgKind.IRCCS})
EMAIL_TAKEN = _l("Another user already has this email address.")
NAME_TAKEN = _l("Another organisation already has this name.")


@dataclass
class UserData:
    """What the administrator edits on a user (the password travels separately)."""

    email: str
    full_name: str
    role: str
    organisation_id: int | None
    language: str = "it"


@dataclass
class OrganisationData:
    name: str
    kind: str
    region: str | None = None
    vat_number: str | None = None
    eudamed_srn: str | None = None


# --- logging in and out -------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalars(
        select(User)
        .options(joinedload(User.organisation))
        .where(func.lower(User.email) == normalise_email(email))
    ).one_or_none()


@dataclass(frozen=True)
class LoginAttempt:
    """What a login attempt came to: the user when email, password and account are all good;
    `locked` when the account (or that email) is locked for now, whatever the password."""

    user: User | None
    locked: bool = False


def authenticate(
    email: str, password: str, *, now: datetime, ip: str | None = None
) -> LoginAttempt:
    """Check a login: the password is verified in every case (against a dummy hash for an
    unknown email), so the answer takes the same time whatever was wrong, and an unknown email
    is answered exactly like a known one, lockout included (`app.accounts.lockout`).

    Logins and failures of existing accounts are audited; a failure that locks the account
    is audited as such. Successful logins rehash a password hashed with older parameters.
    """
    user = find_user_by_email(email)
    email_key = normalise_email(email)
    password_ok = verify_password(user.password_hash if user else None, password or "")
    if lockout.is_locked(user, email_key, now):
        return LoginAttempt(None, locked=True)
    if user is None or not password_ok or not user.is_active:
        locked = lockout.record_failure(user, email_key, now)
        if user is not None:
            _audit_self(user, "login_failed", now, ip)
            if locked:
                _audit_self(user, "account_locked", now, ip, data={"until": str(user.locked_until)})
        db.session.flush()
        return LoginAttempt(None, locked=locked)
    lockout.clear(user, email_key)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    _audit_self(user, "login", now, ip)
    db.session.flush()
    return LoginAttempt(user)


def is_locked(user: User, now: datetime) -> bool:
    return lockout.is_locked(user, normalise_email(user.email), now)


def check_second_factor(user: User, code: str, *, now: datetime, ip: str | None = None) -> bool:
    """The second step of a login: a wrong code counts towards the account's lockout."""
    from app.accounts import second_factor

    if second_factor.verify(user, code, now=now, ip=ip):
        return True
    if lockout.record_failure(user, normalise_email(user.email), now):
        _audit_self(user, "account_locked", now, ip, data={"until": str(user.locked_until)})
    db.session.flush()
    return False


def audit_own(user: User, action: str, now: datetime, ip, data: dict | None = None) -> None:
    """An audit entry about `user`'s own account, by `user` (a security event)."""
    _audit_self(user, action, now, ip, data)


def _audit_self(user: User, action: str, now: datetime, ip, data: dict | None = None) -> None:
    """An audit entry about `user`'s own account, with `user` as the actor."""
    record_audit(
        user, entity_type="user", entity_id=user.id, action=action, now=now, ip=ip, data=data
    )


def end_sessions(user: User, now: datetime, *, keep_current: bool = False) -> None:
    """Invalidate every session cookie of `user` (deactivation, password change or reset,
    second factor reset); with `keep_current`, this browser's session row stays open (its
    cookie is then renewed with the new token by the view)."""
    user.rotate_session_token()
    if keep_current:
        active_sessions.end_others(user, now)
    else:
        active_sessions.end_all(user, now)
    db.session.flush()


def change_own_password(
    user: User, current_password: str, new_password: str, *, now: datetime, ip: str | None = None
) -> None:
    """Check the current password, store the new one and end every other session."""
    if not verify_password(user.password_hash, current_password or ""):
        raise ValidationFailed(
            "wrong current password",
            fields={"current_password": _l("The current password is not correct.")},
        )
    check_password(new_password, field="new_password", email=user.email, full_name=user.full_name)
    user.password_hash = hash_password(new_password)
    end_sessions(user, now, keep_current=True)
    record_audit(
        user, entity_type="user", entity_id=user.id, action="change_password", now=now, ip=ip
    )


PASSWORD_PROBLEMS = {
    TOO_SHORT: lambda: _l(
        "The password must be at least %(count)d characters long.", count=MIN_PASSWORD_LENGTH
    ),
    TOO_COMMON: lambda: _l("This password is too common: choose another."),
    PERSONAL: lambda: _l("The password must not contain your name or your email address."),
    TOO_FEW_CHARACTERS: lambda: _l("The password repeats too few characters: mix more of them."),
}


def check_password(password: str, *, field: str, email: str = "", full_name: str = "") -> None:
    """Raise ValidationFailed on `field` when `password` breaks the password policy."""
    problem = password_problem(password, email=email, full_name=full_name)
    if problem is not None:
        raise ValidationFailed("password refused", fields={field: PASSWORD_PROBLEMS[problem]()})


# --- administration: permission and loading ------------------------------------------------


def require_admin(actor) -> None:
    """`actor=None` is the system (CLI); anybody else must be an administrator."""
    if actor is not None and not can_manage_users(actor):
        raise PermissionDenied(_l("Only administrators can do this."))


def get_user(actor, user_id: int) -> User:
    require_admin(actor)
    user = db.session.get(User, user_id, options=[joinedload(User.organisation)])
    if user is None:
        raise NotFound("user not found")
    return user


def get_organisation(actor, organisation_id: int) -> Organisation:
    require_admin(actor)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("organisation not found")
    return organisation


def _like(search: str) -> str:
    escaped = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(query: Select, search: str, *columns) -> Select:
    """`query` narrowed to the rows where one of `columns` contains `search` (any case,
    wildcards taken literally); all rows when `search` is blank."""
    if not search.strip():
        return query
    pattern = _like(search)
    return query.where(or_(*(func.lower(column).like(pattern, escape="\\") for column in columns)))


def _paginate(query: Select, page: int, per_page: int | None) -> Pagination:
    per_page = per_page or current_app.config["PAGE_SIZE"]
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def list_users(
    actor, *, search: str = "", role: str = "", page: int = 1, per_page: int | None = None
) -> Pagination:
    """Users matching `search` (email, name or organisation name), by email."""
    require_admin(actor)
    query = select(User).outerjoin(User.organisation).options(joinedload(User.organisation))
    query = _matching(query, search, User.email, User.full_name, Organisation.name)
    if role:
        query = query.where(User.role == role)
    return _paginate(query.order_by(func.lower(User.email)), page, per_page)


def list_organisations(
    actor, *, search: str = "", kind: str = "", page: int = 1, per_page: int | None = None
) -> Pagination:
    """Organisations matching `search` (name, VAT number or SRN), by name."""
    require_admin(actor)
    query = _matching(
        select(Organisation),
        search,
        Organisation.name,
        Organisation.vat_number,
        Organisation.eudamed_srn,
    )
    if kind:
        query = query.where(Organisation.kind == kind)
    return _paginate(query.order_by(func.lower(Organisation.name)), page, per_page)


def user_counts(organisation_ids: list[int]) -> dict[int, int]:
    """Organisation id -> number of users, for a page of organisations (one query)."""
    if not organisation_ids:
        return {}
    rows = db.session.execute(
        select(User.organisation_id, func.count(User.id))
        .where(User.organisation_id.in_(organisation_ids))
        .group_by(User.organisation_id)
    )
    return dict(rows.all())


def organisation_choices(include_id: int | None = None) -> list[Organisation]:
    """Organisations a user may be put in: the active ones, plus `include_id` (the user's
    current one, even if deactivated), by name."""
    condition = Organisation.active.is_(True)
    if include_id is not None:
        condition = or_(condition, Organisation.id == include_id)
    return list(
        db.session.scalars(select(Organisation).where(condition).order_by(Organisation.name))
    )


# --- administration: users ---------------------------------------------------------------


def _email_taken(email: str, exclude_id: int | None = None) -> bool:
    query = select(User.id).where(func.lower(User.email) == normalise_email(email))
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    return db.session.scalars(query.limit(1)).first() is not None


def _role_org_errors(role: str, organisation: Organisation | None) -> dict[str, str]:
    expected_kind = ROLE_ORG_KIND[Role(role)]
    role_label = labels.ROLE_LABELS[role]
    if expected_kind is None:
        if organisation is not None:
            return {"organisation_id": _l("An administrator belongs to no organisation.")}
        return {}
    if organisation is None:
        return {
            "organisation_id": _l(
                "Choose the organisation this %(role)s works for.", role=role_label
            )
        }
    if organisation.kind != expected_kind:
        return {
            "organisation_id": _l(
                "A user with the role %(role)s must belong to an organisation of kind "
                "%(kind)s; %(name)s is of kind %(actual)s.",
                role=role_label,
                kind=labels.ORG_KIND_LABELS[expected_kind],
                name=organisation.name,
                actual=labels.ORG_KIND_LABELS[organisation.kind],
            )
        }
    return {}


def _validate_user(data: UserData, *, exclude_id: int | None = None) -> Organisation | None:
    errors: dict[str, str] = {}
    organisation = None
    if data.organisation_id is not None:
        organisation = db.session.get(Organisation, data.organisation_id)
        if organisation is None:
            errors["organisation_id"] = _l("This organisation does not exist.")
    if "organisation_id" not in errors:
        errors |= _role_org_errors(data.role, organisation)
    if _email_taken(data.email, exclude_id):
        errors["email"] = EMAIL_TAKEN
    if errors:
        raise ValidationFailed("invalid user", fields=errors)
    return organisation


def _flush_or_field_error(field: str, message) -> None:
    """Flush inside a savepoint; a unique index hit by a concurrent writer becomes a field error."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise ValidationFailed("duplicate", fields={field: message}) from None


def _add_new(actor, row, entity_type: str, values: dict, *, unique_field: str, taken, now, ip):
    """Add a new user or organisation made of `values`, flush it (a unique index hit becomes
    an error on `unique_field`) and audit its creation."""
    db.session.add(row)
    _flush_or_field_error(unique_field, taken)
    record_audit(
        actor,
        entity_type=entity_type,
        entity_id=row.id,
        action="create",
        now=now,
        changes={name: [None, value] for name, value in values.items()},
        ip=ip,
    )
    return row


def _set_active(actor, row, entity_type: str, active: bool, *, logged_out, now, ip) -> bool:
    """Set `row.active`; deactivating ends the sessions of the users `logged_out()` returns.
    False if nothing changed; otherwise the change is audited."""
    if row.active == active:
        return False
    row.active = active
    if not active:
        for user in logged_out():
            end_sessions(user, now)
            _revoke_api_tokens(user, now)
    db.session.flush()
    record_audit(
        actor,
        entity_type=entity_type,
        entity_id=row.id,
        action="reactivate" if active else "deactivate",
        now=now,
        changes={"active": [not active, active]},
        ip=ip,
    )
    return True


def _revoke_api_tokens(user: User, now: datetime) -> None:
    """A deactivated user's API tokens end for good: reactivation does not bring them back."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def unlock_user(actor, user: User, *, now: datetime, ip: str | None = None) -> bool:
    """End a temporary lockout; False if the account was not locked."""
    require_admin(actor)
    if user.locked_until is None or user.locked_until <= now:
        lockout.clear(user, normalise_email(user.email))
        return False
    lockout.clear(user, normalise_email(user.email))
    db.session.flush()
    record_audit(actor, entity_type="user", entity_id=user.id, action="unlock", now=now, ip=ip)
    return True


def reset_second_factor(actor, user: User, *, now: datetime, ip: str | None = None) -> bool:
    """Remove `user`'s second factor, recovery codes and remembered devices and end their
    sessions: at the next login they enrol again (mandatory roles) or log in with the password
    alone. False if the user had no second factor."""
    require_admin(actor)
    if not user.has_second_factor:
        return False
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.remembered_devices_generation += 1
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    end_sessions(user, now)
    db.session.flush()
    record_audit(
        actor,
        entity_type="user",
        entity_id=user.id,
        action="second_factor_reset",
        now=now,
        ip=ip,
    )
    return True


def _user_values(data: UserData) -> dict:
    return {
        "email": normalise_email(data.email),
        "full_name": data.full_name.strip(),
        "role": data.role,
        "organisation_id": data.organisation_id,
        "language": data.language,
    }


def create_user(
    actor, data: UserData, password: str, *, now: datetime, ip: str | None = None
) -> User:
    require_admin(actor)
    check_password(password, field="password", email=data.email, full_name=data.full_name)
    _validate_user(data)
    values = _user_values(data)
    user = User(**values, password_hash=hash_password(password), active=True)
    return _add_new(
        actor, user, "user", values, unique_field="email", taken=EMAIL_TAKEN, now=now, ip=ip
    )


def update_user(
    actor,
    user: User,
    data: UserData,
    *,
    new_password: str | None = None,
    now: datetime,
    ip: str | None = None,
) -> dict:
    """Apply `data`; returns the audited changes {field: [old, new]} (empty if nothing changed).
    A new password, when given, replaces the old one and ends the user's sessions."""
    require_admin(actor)
    if actor is not None and actor.id == user.id and data.role != user.role:
        raise ValidationFailed("own role", fields={"role": _l("You cannot change your own role.")})
    if new_password:
        check_password(new_password, field="password", email=data.email, full_name=data.full_name)
    organisation = _validate_user(data, exclude_id=user.id)
    changes = _apply(user, _user_values(data))
    if "organisation_id" in changes:
        user.organisation = organisation  # keep the loaded relationship in step with the id
    if new_password:
        user.password_hash = hash_password(new_password)
        end_sessions(user, now)
    _flush_or_field_error("email", EMAIL_TAKEN)
    if changes or new_password:
        record_audit(
            actor,
            entity_type="user",
            entity_id=user.id,
            action="update",
            now=now,
            changes=changes,
            data={"password_reset": True} if new_password else None,
            ip=ip,
        )
    return changes


def set_user_active(
    actor, user: User, active: bool, *, now: datetime, ip: str | None = None
) -> bool:
    """Deactivate (ending the user's sessions) or reactivate; False if nothing changed."""
    require_admin(actor)
    if not active and actor is not None and actor.id == user.id:
        raise PermissionDenied(_l("You cannot deactivate your own account."))
    return _set_active(actor, user, "user", active, logged_out=lambda: [user], now=now, ip=ip)


def _apply(obj, values: dict) -> dict:
    """Set attributes, returning {field: [old, new]} for those that changed."""
    changes = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = [old, new]
            setattr(obj, name, new)
    return changes


# --- administration: organisations -------------------------------------------------------


def _organisation_values(data: OrganisationData) -> dict:
    """Normalised column values; identifiers go through the domain validators."""
    vat = (data.vat_number or "").strip()
    srn = (data.eudamed_srn or "").strip()
    return {
        "name": " ".join(data.name.split()),
        "kind": data.kind,
        "region": (data.region or None) if data.kind in REGIONAL_KINDS else None,
        "vat_number": identifiers.validate_vat_number(vat) if vat else None,
        "eudamed_srn": identifiers.validate_eudamed_srn(srn) if srn else None,
    }


def _validate_organisation(values: dict, *, existing: Organisation | None = None) -> None:
    errors: dict[str, str] = {}
    exclude = [] if existing is None else [Organisation.id != existing.id]
    if values["kind"] in REGIONAL_KINDS and not values["region"]:
        errors["region"] = _l("Regional HTA bodies and IRCCS must have a region.")
    if values["kind"] == OrgKind.MANUFACTURER and not values["vat_number"]:
        errors["vat_number"] = _l("A manufacturer must have a VAT number.")
    name_taken = select(Organisation.id).where(
        func.lower(Organisation.name) == values["name"].lower(), *exclude
    )
    if db.session.scalars(name_taken.limit(1)).first() is not None:
        errors["name"] = NAME_TAKEN
    if values["vat_number"]:
        vat_taken = select(Organisation.name).where(
            Organisation.vat_number == values["vat_number"], *exclude
        )
        holder = db.session.scalars(vat_taken.limit(1)).first()
        if holder is not None:
            errors["vat_number"] = _l("%(name)s already has this VAT number.", name=holder)
    if existing is not None and values["kind"] != existing.kind and existing.users:
        errors["kind"] = _l(
            "This organisation has users, so its kind cannot change (their roles depend on it)."
        )
    if errors:
        raise ValidationFailed("invalid organisation", fields=errors)


def create_organisation(
    actor, data: OrganisationData, *, now: datetime, ip: str | None = None
) -> Organisation:
    require_admin(actor)
    values = _organisation_values(data)
    _validate_organisation(values)
    organisation = Organisation(**values, active=True)
    return _add_new(
        actor,
        organisation,
        "organisation",
        values,
        unique_field="name",
        taken=NAME_TAKEN,
        now=now,
        ip=ip,
    )


def update_organisation(
    actor, organisation: Organisation, data: OrganisationData, *, now: datetime, ip=None
) -> dict:
    """Apply `data`; returns the audited changes {field: [old, new]}."""
    require_admin(actor)
    values = _organisation_values(data)
    _validate_organisation(values, existing=organisation)
    changes = _apply(organisation, values)
    _flush_or_field_error("name", NAME_TAKEN)
    if changes:
        record_audit(
            actor,
            entity_type="organisation",
            entity_id=organisation.id,
            action="update",
            now=now,
            changes=changes,
            ip=ip,
        )
    return changes


def set_organisation_active(
    actor, organisation: Organisation, active: bool, *, now: datetime, ip: str | None = None
) -> bool:
    """Deactivating an organisation locks out its users and ends their sessions."""
    require_admin(actor)
    return _set_active(
        actor,
        organisation,
        "organisation",
        active,
        logged_out=lambda: organisation.users,
        now=now,
        ip=ip,
    )
