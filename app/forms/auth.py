"""Login and password-change forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.accounts.passwords import MIN_PASSWORD_LENGTH
from app.forms.base import AppForm


def password_length_rule() -> Length:
    return Length(
        min=MIN_PASSWORD_LENGTH,
        message=_l(
            "The password must be at least %(count)d characters long.", count=MIN_PASSWORD_LENGTH
        ),
    )


class LoginForm(AppForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(message=_l("Enter your email address."))],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class ChangePasswordForm(AppForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Enter a new password.")), password_length_rule()],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Type the new password again.")),
            EqualTo("new_password", message=_l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_new_password(self, field) -> None:
        if field.data and field.data == self.current_password.data:
            raise ValidationError(_l("The new password must differ from the current one."))


class ForgotPasswordForm(AppForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(message=_l("Enter your email address."))],
        render_kw={"autocomplete": "username", "autofocus": True},
    )


class ResetPasswordForm(AppForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Enter a new password.")), password_length_rule()],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password", "autofocus": True},
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Type the new password again.")),
            EqualTo("new_password", message=_l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class SecondFactorForm(AppForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("Enter the code from your authenticator app."))],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"},
    )
    remember = BooleanField(_l("Remember this browser for %(days)d days", days=30))


class EnrolSecondFactorForm(AppForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("Enter the code from your authenticator app."))],
        description=_l("The 6 digits your authenticator app shows after adding the account."),
        render_kw={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "numeric"},
    )


class ConfirmWithCodeForm(AppForm):
    """A sensitive change to one's second factor, confirmed with a current code."""

    code = StringField(
        _l("Current code"),
        validators=[DataRequired(message=_l("Enter the code from your authenticator app."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
