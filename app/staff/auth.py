"""Signing in to the staff portal: password, then authenticator-app code; enrolment; sign-out.

A password alone never signs anyone in when the account has two-factor sign-in, or when the
configuration requires it: the account waits in `session[PENDING]` for the second step.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from app import audit, clock, credentials
from app.extensions import db, limiter
from app.models import StaffUser
from app.staff.access import LAST_SEEN, SIGNED_IN_AT, load_user
from app.staff.forms import CodeForm, PasswordChangeForm, ReplaceAuthenticatorForm, SignInForm

bp = Blueprint("staff_auth", __name__, url_prefix="/staff")

#: Session keys: the account that passed the password step, when, and a secret being enrolled.
PENDING, PENDING_AT, ENROLLING = "staff_pending", "staff_pending_at", "staff_enrolling_secret"
#: The staff page asked for before signing in (e.g. a screening linked from an email).
NEXT = "staff_next"

#: Minutes between the password step and the code step before the password is asked again.
PENDING_MINUTES = 5

#: Failed attempts allowed per window, per account and per address. A window, not a lock: an
#: attacker can slow a real user down for minutes, never lock them out for good.
ACCOUNT_LIMIT = "5 per 15 minutes"
ADDRESS_LIMIT = "20 per 15 minutes"


def _failed(response: Response) -> bool:
    """Only failed attempts count towards the limits (400 or 401; success redirects with 303, and a
    post from someone already signed in is sent on with 302)."""
    return response.status_code >= 400


def _email_key() -> str:
    # The account's own form of the address (as looked up), so that "Email\x00 " is the same account.
    return "sign-in:" + credentials.normalise_email(request.form.get("email", ""))[:254]


def _pending_key() -> str:
    return "two-factor:" + str(session.get(PENDING, "none"))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(ACCOUNT_LIMIT, key_func=_email_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(ADDRESS_LIMIT, methods=["POST"], deduct_when=_failed)
def sign_in() -> ResponseReturnValue:
    """Step one: email and password. The same message whether the email or the password was wrong."""
    if current_user.is_authenticated:
        return redirect(url_for("staff.queue"))
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("staff/sign_in.html", form=form), 400 if form.is_submitted() else 200
    user = credentials.check_password(form.email.data or "", form.password.data or "")
    if user is None:
        audit.record("sign_in_failed", email=credentials.normalise_email(form.email.data or "")[:254])
        db.session.commit()
        form.password.errors.append("The email address or password is not right")
        return render_template("staff/sign_in.html", form=form), 401
    db.session.commit()  # a rehashed password, if argon2's parameters were raised
    session.clear()  # nothing from before the sign-in survives it (session fixation)
    if (target := _safe_next(request.args.get("next"))) is not None:
        session[NEXT] = target
    if user.totp_secret is None and not current_app.config["STAFF_MFA_REQUIRED"]:
        return _complete_sign_in(user, method="password")
    session[PENDING], session[PENDING_AT] = user.get_id(), int(clock.timestamp())
    if user.totp_secret is None:
        return redirect(url_for("staff_auth.enrol"), code=303)
    return redirect(url_for("staff_auth.two_factor"), code=303)


def _pending_user() -> StaffUser | None:
    """The account waiting for its second step, if the wait has not timed out."""
    user_id, started = session.get(PENDING), session.get(PENDING_AT, 0)
    if not isinstance(user_id, str) or clock.timestamp() - started > PENDING_MINUTES * 60:
        return None
    return load_user(user_id)


@bp.route("/two-factor", methods=["GET", "POST"])
@limiter.limit(ACCOUNT_LIMIT, key_func=_pending_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(ADDRESS_LIMIT, methods=["POST"], deduct_when=_failed)
def two_factor() -> ResponseReturnValue:
    """Step two: a code from the authenticator app, or a one-time recovery code."""
    user = _pending_user()
    if user is None or user.totp_secret is None:
        flash("Please sign in again.", "info")
        return redirect(url_for("staff_auth.sign_in"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("staff/two_factor.html", form=form), 400 if form.is_submitted() else 200
    code = form.code.data or ""
    if credentials.verify_totp(user, code):
        return _complete_sign_in(user, method="totp")
    if credentials.use_recovery_code(user, code):
        return _complete_sign_in(user, method="recovery_code")
    audit.record("sign_in_failed", actor=user, step="second_factor")
    db.session.commit()
    form.code.errors.append("That code is not right, or it has already been used")
    return render_template("staff/two_factor.html", form=form), 401


def _enrolment_key() -> str:
    account = current_user.get_id() if current_user.is_authenticated else session.get(PENDING, "none")
    return "two-factor-set-up:" + str(account).split(":")[0]


@bp.route("/two-factor/set-up", methods=["GET", "POST"])
@limiter.limit(ACCOUNT_LIMIT, key_func=_enrolment_key, methods=["POST"], deduct_when=_failed)
def enrol() -> ResponseReturnValue:
    """Set up an authenticator app: scan the QR code, confirm with a code, keep the recovery codes."""
    # The account itself, not the current_user proxy: login_user must not be handed the proxy.
    user = current_user._get_current_object() if current_user.is_authenticated else _pending_user()
    if user is None:
        return redirect(url_for("staff_auth.sign_in"))
    if not current_user.is_authenticated and user.totp_secret is not None:
        # The password step of an account with an app ends with its code: setting up a new app
        # here would sign in with the password alone.
        return redirect(url_for("staff_auth.two_factor"))
    secret = session.get(ENROLLING)
    if not isinstance(secret, str):
        secret = session[ENROLLING] = credentials.new_totp_secret()
    if user.totp_secret is not None:
        return _replace_authenticator(user, secret)
    form = CodeForm()
    if form.validate_on_submit():
        if credentials.verify_totp(user, form.code.data or "", secret=secret):
            user.totp_secret = secret
            codes = credentials.new_recovery_codes(user)
            session.pop(ENROLLING, None)
            audit.record("two_factor_enrolled", actor=user)
            if not current_user.is_authenticated:
                _complete_sign_in(user, method="totp_enrolment")
            else:
                db.session.commit()
            # Shown once, in this response only (never stored in the session or a URL).
            return render_template("staff/recovery_codes.html", codes=codes)
        form.code.errors.append(
            "That code is not right. Check the time on your phone is correct, then try the newest code"
        )
    return _enrolment_page(user, form, secret)


def _replace_authenticator(user: StaffUser, secret: str) -> ResponseReturnValue:
    """A new authenticator app for a signed-in account that has one: only with the password and the
    current app's code (or a recovery code), since a screen left signed in must not be enough to
    take the account over. Every other session then ends; this one stays signed in."""
    form = ReplaceAuthenticatorForm()
    if form.validate_on_submit():
        try:
            method, codes = credentials.replace_authenticator(
                user,
                password=form.password.data or "",
                current_code=form.current_code.data or "",
                new_secret=secret,
                new_code=form.code.data or "",
            )
        except credentials.ChangeRefused as refusal:
            form[refusal.field].errors.append(str(refusal))
            audit.record("two_factor_change_refused", actor=user, reason=refusal.field)
            db.session.commit()
        else:
            session.pop(ENROLLING, None)
            audit.record("two_factor_replaced", actor=user, method=method)
            db.session.commit()
            # The session version was raised, ending every session; this one takes the new version.
            login_user(user)
            return render_template("staff/recovery_codes.html", codes=codes)
    return _enrolment_page(user, form, secret)


def _enrolment_page(user: StaffUser, form: CodeForm | ReplaceAuthenticatorForm, secret: str) -> ResponseReturnValue:
    """The set-up page: the QR code of `secret`, and `form` (400 when it was posted with errors)."""
    # Imported here, as only enrolment needs it: it is a twelfth of what every worker imports at boot.
    import segno

    uri = credentials.totp_uri(user, secret, issuer=f"IMS Screen ({current_app.config['CLINIC_NAME']})")
    # segno draws the URI as QR modules (path data), never as text: the SVG holds nothing typed by anyone.
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#0b0c0c", light="#ffffff", title="QR code for your authenticator app"
    )
    qr_svg = Markup(svg)  # noqa: S704
    status = 400 if form.is_submitted() and form.errors else 200
    replacing = isinstance(form, ReplaceAuthenticatorForm)
    return render_template("staff/enrol.html", form=form, qr_svg=qr_svg, secret=secret, replacing=replacing), status


def _complete_sign_in(user: StaffUser, method: str) -> ResponseReturnValue:
    """Finish signing in: a fresh session carrying only the account and its clocks."""
    target = _safe_next(session.get(NEXT)) or url_for("staff.queue")
    session.clear()
    login_user(user)
    now = int(clock.timestamp())
    session[SIGNED_IN_AT], session[LAST_SEEN] = now, now
    audit.record("sign_in", actor=user, method=method)
    db.session.commit()
    return redirect(target, code=303)


def _safe_next(target: str | None) -> str | None:
    """A staff page to return to after signing in; never another site (open redirect)."""
    if (
        target and target.startswith("/staff/") and "//" not in target and "\\" not in target and target.isprintable()
    ):  # a newline would break the Location header (a 500)
        return target
    return None


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """Sign out everywhere: every session of this account ends on the server side."""
    user: StaffUser = current_user
    credentials.end_all_sessions(user)
    audit.record("sign_out", actor=user)
    db.session.commit()
    return to_sign_in("You have signed out.")


def to_sign_in(message: str) -> ResponseReturnValue:
    """Sign this browser out, forget its session, and send it to the sign-in page with `message`."""
    logout_user()
    session.clear()
    flash(message, "info")
    return redirect(url_for("staff_auth.sign_in"), code=303)


def _account_key() -> str:
    return "password-change:" + (current_user.get_id() if current_user.is_authenticated else "none")


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(ACCOUNT_LIMIT, key_func=_account_key, methods=["POST"], deduct_when=_failed)
def change_password() -> ResponseReturnValue:
    """Change the password after re-entering the current one; every session then ends."""
    user: StaffUser = current_user
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if credentials.check_password(user.email, form.current_password.data or "") is None:
            form.current_password.errors.append("Your current password is not right")
        else:
            try:
                credentials.change_password(user, form.new_password.data or "")
            except ValueError as problem:
                form.new_password.errors.append(str(problem))
            else:
                audit.record("password_changed", actor=user)
                db.session.commit()
                return to_sign_in("Your password has been changed. Please sign in with the new password.")
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template("staff/password.html", form=form), status
