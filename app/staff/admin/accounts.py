"""Staff accounts: add one, disable or re-enable it, reset its two-factor sign-in."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from app import audit, credentials
from app.extensions import db
from app.models import ROLES, StaffUser
from app.staff.admin import bp
from app.staff.auth import to_sign_in
from app.staff.queue import choices

ROLE_LABELS = {"physio": "Physiotherapist", "admin": "Admin"}
assert set(ROLE_LABELS) == set(ROLES)


def _acceptable_password(form: NewAccountForm, field: PasswordField) -> None:
    if (
        problem := credentials.password_problem(
            field.data or "", credentials.normalise_email(form.email.data or ""), form.name.data or ""
        )
    ) is not None:
        raise ValidationError(problem)


class NewAccountForm(FlaskForm):
    """A new staff account. The messages are `create_staff`'s, which has the last word."""

    name = StringField("Full name", validators=[InputRequired("Enter the person's name."), Length(max=120)])
    email = EmailField(
        "Email address",
        validators=[InputRequired("Enter an email address, like name@clinic.ca."), Length(max=254)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    role = SelectField("Role", choices=choices(ROLE_LABELS), default="physio", validators=[InputRequired()])
    # new-password: a password manager must not fill in the admin's own password here.
    password = PasswordField(
        "Initial password", validators=[_acceptable_password], render_kw={"autocomplete": "new-password"}
    )


def _account_field_for(form: NewAccountForm, problem: str) -> StringField | PasswordField | SelectField:
    """The field a `create_staff` message is about, so it is shown beside that field."""
    if problem == credentials.password_problem(
        form.password.data or "", credentials.normalise_email(form.email.data or ""), form.name.data or ""
    ):
        return form.password
    lowered = problem.lower()
    if "role" in lowered:
        return form.role
    if "email" in lowered:
        return form.email
    return form.name


def _render_accounts(
    form: NewAccountForm | None = None, problem: str | None = None, status: int = 200
) -> ResponseReturnValue:
    accounts = db.session.scalars(
        select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.name, StaffUser.id)
    ).all()
    return render_template(
        "staff/admin/accounts.html",
        accounts=accounts,
        form=form or NewAccountForm(formdata=None),
        problem=problem,
        role_labels=ROLE_LABELS,
    ), status


@bp.get("/accounts")
def accounts() -> ResponseReturnValue:
    """Every staff account, with the form to add one and buttons to disable, re-enable or reset."""
    return _render_accounts()


@bp.post("/accounts")
def add_account() -> ResponseReturnValue:
    """Add an account; the person sets up two-factor sign-in when they first sign in."""
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user = credentials.create_staff(
                form.email.data or "", form.name.data or "", form.role.data or "", form.password.data or ""
            )
        except ValueError as problem:
            _account_field_for(form, str(problem)).errors.append(str(problem))
        else:
            _record("create_account", user, role=user.role)
            return _back_to_accounts(
                f"Account created for {user.name} ({user.email}). Give them the initial password in person "
                "or by phone; they set up two-factor sign-in when they first sign in."
            )
    return _render_accounts(form=form, status=400)


def _account_or_404(account_id: int) -> StaffUser:
    user = db.session.get(StaffUser, account_id)
    if user is None:
        abort(404)
    return user


def _is_me(user: StaffUser) -> bool:
    return user.id == current_user.id


def _record(action: str, user: StaffUser, **detail: Any) -> None:
    """Audit `action` on `user`'s account and commit it with the change it describes."""
    audit.record(action, account_id=user.id, account_email=user.email, **detail)
    db.session.commit()


def _back_to_accounts(message: str) -> ResponseReturnValue:
    """Send the admin back to the accounts page, which shows `message`."""
    flash(message, "success")
    return redirect(url_for("staff_admin.accounts"), code=303)


@bp.post("/accounts/<int:account_id>/disable")
def disable_account(account_id: int) -> ResponseReturnValue:
    """Stop an account from signing in; every session it has ends at once."""
    user = _account_or_404(account_id)
    if _is_me(user):
        return _render_accounts(problem="You cannot disable your own account. Ask another admin to do it.", status=400)
    if user.active:
        user.active = False
        credentials.end_all_sessions(user)
        _record("disable_account", user)
    return _back_to_accounts(f"The account of {user.name} ({user.email}) is disabled. They are signed out everywhere.")


@bp.post("/accounts/<int:account_id>/enable")
def enable_account(account_id: int) -> ResponseReturnValue:
    """Let a disabled account sign in again (its old sessions stay ended)."""
    user = _account_or_404(account_id)
    if not user.active:
        user.active = True
        _record("enable_account", user)
    return _back_to_accounts(f"The account of {user.name} ({user.email}) is active again.")


@bp.post("/accounts/<int:account_id>/reset-two-factor")
def reset_two_factor(account_id: int) -> ResponseReturnValue:
    """For a lost phone: forget the authenticator app and recovery codes; sessions end; they enrol again."""
    user = _account_or_404(account_id)
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_code_hashes = []
    credentials.end_all_sessions(user)
    _record("reset_two_factor", user)
    if _is_me(user):
        return to_sign_in("Your two-factor sign-in was reset. Sign in again, then set up your authenticator app.")
    return _back_to_accounts(
        f"Two-factor sign-in of {user.name} ({user.email}) was reset and they are signed out everywhere. "
        "They set up their authenticator app again when they next sign in."
    )
