"""Staff credentials: passwords (argon2id), authenticator-app codes (TOTP) and recovery codes.

Small functions over `StaffUser`; the views in `app.staff` call them and commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from functools import cache
from pathlib import Path

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, or_, select, update
from zxcvbn import zxcvbn

from app import clock
from app.clock import utcnow
from app.extensions import db
from app.models import ROLES, StaffUser

#: NIST SP 800-63B and ASVS 6.2: length, not composition rules; 12 is the clinic's floor.
MIN_PASSWORD_LENGTH = 12
#: Long passphrases are welcome; the cap only stops absurd inputs from costing a hash.
MAX_PASSWORD_LENGTH = 256

#: argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile (64 MiB, t=3).
_hasher = PasswordHasher()

#: A hash to verify against when the email is unknown, so that a wrong email costs the same
#: time as a wrong password and timing does not reveal which addresses have accounts. Made once
#: with `_hasher` (of a password nobody holds) and written here rather than computed at import,
#: which cost every process 0.13 s: each gunicorn worker, and `flask notify` every minute.
#: test_staff_accounts checks that its parameters are still `_hasher`'s, so it costs the same.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$vCfCMOrpXnS3dOs4ejfXxQ$imWkkOFB6mknjHJ9TbYvfGfqd4SppA7Bhi0PUSYW788"

RECOVERY_CODE_COUNT = 10

#: zxcvbn's scale runs 0-4; 3 means "safely unguessable" (about 10^8 guesses or more), enough
#: against an online attacker and slow against a stolen argon2 hash.
MIN_PASSWORD_SCORE = 3
#: zxcvbn's own limit (its matching grows fast with length); the rest of a longer password only
#: adds strength, so judging its beginning never accepts a weak one.
_ESTIMATED_LENGTH = 72


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "common-passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """Why a new password is not acceptable, in words for the person choosing it; None if it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters. A few unrelated words make a good password."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if password.lower() in _common_passwords():
        return "This password is too common. Choose one that others are unlikely to use."
    if email and password.lower() == email.lower():
        return "Do not use your email address as your password."
    return _guessability_problem(password, [email, *email.split("@"), name, *name.split()])


def _guessability_problem(password: str, user_inputs: list[str]) -> str | None:
    """zxcvbn's verdict on repeats ("aaaa…", "abcabc…"), sequences, keyboard walks, dates and the
    person's own name or address, none of which a length rule or a list of common passwords
    catches."""
    estimate = zxcvbn(password[:_ESTIMATED_LENGTH], user_inputs=[text for text in user_inputs if text])
    if estimate["score"] >= MIN_PASSWORD_SCORE:
        return None
    if any(match.get("dictionary_name") == "user_inputs" for match in estimate["sequence"]):
        why = "It is built from your name or email address"
    else:
        # zxcvbn's warning says what makes it guessable, e.g. 'Repeats like "aaa" are easy to guess'.
        why = estimate["feedback"]["warning"] or "It follows a pattern that is quick to guess"
    return f"This password is too easy to guess. {why.rstrip('.')}. A few unrelated words make a good password."


def hash_password(password: str) -> str:
    return _hasher.hash(password)


#: Longer than any email address (254), so that cutting the input short never changes one that
#: could belong to an account; it only bounds the work on absurd inputs.
_EMAIL_INPUT_LIMIT = 1024


def normalise_email(email: str) -> str:
    """The one form of an email address used to store it, look it up and key its rate limits.

    Unicode NFKC (full-width "ｐ" is "p"), case folded, with control and format characters (NUL,
    zero-width spaces) and white space removed anywhere. Every variant that reaches an account
    therefore counts against that account's limit: the two can never disagree.
    """
    folded = unicodedata.normalize("NFKC", email[:_EMAIL_INPUT_LIMIT]).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch)[0] != "C")


def find_staff(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def check_password(email: str, password: str) -> StaffUser | None:
    """The active account with this email and password, or None (same cost either way)."""
    user = find_staff(email)
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):  # parameters were raised since
        user.password_hash = _hasher.hash(password)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_staff(email: str, name: str, role: str, password: str) -> StaffUser:
    """Add an account; raise ValueError with a readable reason when the details are not acceptable."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise ValueError("Enter an email address, like name@clinic.ca.")
    if not name.strip():
        raise ValueError("Enter the person's name.")
    if role not in ROLES:
        raise ValueError(f"The role must be one of: {', '.join(ROLES)}.")
    if find_staff(email) is not None:
        raise ValueError("There is already an account with this email address.")
    if (problem := password_problem(password, email, name)) is not None:
        raise ValueError(problem)
    user = StaffUser(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    return user


def staff_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StaffUser)) or 0


def change_password(user: StaffUser, new_password: str) -> None:
    """Set a new password and end every session of the account (the current one signs in again)."""
    if (problem := password_problem(new_password, user.email, user.name)) is not None:
        raise ValueError(problem)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    end_all_sessions(user)


def end_all_sessions(user: StaffUser) -> None:
    """Invalidate every session cookie of this account, on every device, at once."""
    user.session_version += 1


# ---- Authenticator app (TOTP, RFC 6238) -----------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: StaffUser, secret: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the enrolment QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def verify_totp(user: StaffUser, code: str, secret: str | None = None, now: float | None = None) -> bool:
    """Check a 6-digit code, allowing one 30-second step of clock drift; each code works once.

    `secret` is the one being enrolled, when the account has none yet.
    """
    secret = secret or user.totp_secret
    if secret is None:
        return False
    step = _matching_step(secret, code, now)
    return step is not None and _use_step(user, step)


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (of the current one and its neighbours) whose code is `code`, if any."""
    code = "".join(code.split())
    # isascii: Arabic-Indic and other digits pass isdigit(), and compare_digest refuses non-ASCII text.
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = clock.timestamp() if now is None else now
    current_step = int(now // totp.interval)
    for step in (current_step - 1, current_step, current_step + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def _use_step(user: StaffUser, step: int) -> bool:
    """Record a TOTP step as used, unless it (or a later one) already was.

    One conditional UPDATE, so two requests racing with the same code cannot both succeed.
    """
    used = db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id, or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return False  # replayed, or older than a code already used
    user.totp_last_step = step
    return True


class ChangeRefused(ValueError):
    """An account change refused for a reason the person can fix; `field` is the form field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def replace_authenticator(
    user: StaffUser, *, password: str, current_code: str, new_secret: str, new_code: str, now: float | None = None
) -> tuple[str, list[str]]:
    """Move an enrolled account to a new authenticator app; return how the current one was proven
    ("totp" or "recovery_code") and the new recovery codes. Raise ChangeRefused otherwise.

    The password and the current app (or an unused recovery code) show it is the account holder,
    not someone at a screen left signed in; the new app's code shows the new app works. That code
    is checked before the current factor is spent, so a mistyped new code wastes no recovery code.
    Every session of the account ends (the caller signs its own one in again).
    """
    if check_password(user.email, password) is None:
        raise ChangeRefused("password", "Your password is not right")
    new_step = _matching_step(new_secret, new_code, now)
    if new_step is None:
        raise ChangeRefused(
            "code",
            "The code from the new app is not right. Check the time on your phone is correct, then try the newest code",
        )
    if verify_totp(user, current_code, now=now):
        method = "totp"
    elif use_recovery_code(user, current_code):
        method = "recovery_code"
    else:
        raise ChangeRefused(
            "current_code",
            "That code is not right, or it has already been used. Enter the "
            "newest code from your current app, or an unused recovery code",
        )
    user.totp_secret = new_secret
    # The new app's code has been used now: it must not sign in as well.
    user.totp_last_step = max(user.totp_last_step or 0, new_step)
    codes = new_recovery_codes(user)  # the old ones belonged with the old app
    end_all_sessions(user)
    return method, codes


def new_recovery_codes(user: StaffUser) -> list[str]:
    """Replace the account's recovery codes; return the new ones, to be shown once."""
    codes = [_format_code(secrets.token_hex(8)) for _ in range(RECOVERY_CODE_COUNT)]  # 64 bits each
    user.recovery_code_hashes = [_code_hash(code) for code in codes]
    return codes


def use_recovery_code(user: StaffUser, code: str) -> bool:
    """Accept an unused recovery code once."""
    digest = _code_hash(code)
    for stored in list(user.recovery_code_hashes):
        if hmac.compare_digest(stored, digest):
            user.recovery_code_hashes.remove(stored)
            return True
    return False


def _format_code(hex_digits: str) -> str:
    return "-".join(hex_digits[i : i + 4] for i in range(0, len(hex_digits), 4))


def _code_hash(code: str) -> str:
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalised.encode("ascii", "ignore")).hexdigest()
