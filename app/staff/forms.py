"""Forms of the staff portal."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, Field, Form, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError


def without_nul(value: str | None) -> str | None:
    """Drop NUL characters, which PostgreSQL text cannot hold (a 500 rather than a message)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a control character (NUL, escape, a line break...), which no search term
    has and PostgreSQL text cannot always hold (NUL)."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def no_control_characters(form: Form, field: Field) -> None:
    """Refuse a search term with control characters, saying so, rather than quietly searching for
    something else (or failing in the database)."""
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError(f"{field.label.text} cannot contain control characters such as NUL. Type it again.")


#: Year-month-day in ASCII digits, as a date input sends it (and people type it).
_ISO_DATE = re.compile(r"([0-9]{1,9})-([0-9]{1,2})-([0-9]{1,2})")


class FilterDateField(DateField):
    """A date filter typed as year-month-day; anything else is refused with what is wrong with it.

    WTForms' DateField says only "Not a valid date value" for every problem; a filter should say
    whether the form, the year or the day of the month is wrong.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        text = valuelist[0].strip() if valuelist and isinstance(valuelist[0], str) else ""
        if not text:
            return
        if has_control_characters(text):
            raise ValueError(
                "A date cannot contain control characters such as NUL. Enter it as year-month-day, like 2026-03-02"
            )
        match = _ISO_DATE.fullmatch(text)
        if match is None:
            raise ValueError("Enter the date as year-month-day, like 2026-03-02")
        year, month, day = (int(part) for part in match.groups())
        if not date.min.year <= year <= date.max.year:
            raise ValueError(f"Enter a year from {date.min.year:04d} to {date.max.year}, like 2026")
        if not 1 <= month <= 12:
            raise ValueError("Enter a month from 01 to 12, like 2026-03-02")
        try:
            self.data = date(year, month, day)
        except ValueError:
            raise ValueError(f"That month has no day {day}. Enter a day that exists, like 2026-03-02") from None


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address", validators=[InputRequired("Enter your email address"), Length(max=254)], filters=[without_nul]
    )
    password = PasswordField("Password", validators=[InputRequired("Enter your password"), Length(max=256)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            InputRequired("Enter the 6-digit code from your authenticator app, or a recovery code"),
            Length(max=40),
        ],
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired("Enter your current password")])
    new_password = PasswordField("New password", validators=[InputRequired("Enter a new password")])
    confirm_password = PasswordField(
        "Confirm new password",
        validators=[
            InputRequired("Enter the new password again"),
            EqualTo("new_password", "The two new passwords are not the same"),
        ],
    )


class ReplaceAuthenticatorForm(FlaskForm):
    """Setting up a new authenticator app when one is set up already: both factors, then the new code."""

    password = PasswordField("Your password", validators=[InputRequired("Enter your password"), Length(max=256)])
    current_code = StringField(
        "Code from your current authenticator app",
        validators=[
            InputRequired("Enter the code from your current authenticator app, or a recovery code"),
            Length(max=40),
        ],
    )
    code = StringField(
        "Code from the new authenticator app",
        validators=[InputRequired("Enter the 6-digit code from the new authenticator app"), Length(max=40)],
    )
