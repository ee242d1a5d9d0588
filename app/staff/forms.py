"""Forms of the staff portal."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length


def without_nul(value: str | None) -> str | None:
    """Drop NUL characters, which PostgreSQL text cannot hold (a 500 rather than a message)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[InputRequired("Enter your email address"), Length(max=254)],
                       filters=[without_nul])
    password = PasswordField("Password", validators=[InputRequired("Enter your password"), Length(max=256)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[InputRequired("Enter the 6-digit code from your authenticator app, or a recovery code"),
                    Length(max=40)],
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired("Enter your current password")])
    new_password = PasswordField("New password", validators=[InputRequired("Enter a new password")])
    confirm_password = PasswordField(
        "Confirm new password",
        validators=[InputRequired("Enter the new password again"),
                    EqualTo("new_password", "The two new passwords are not the same")],
    )
