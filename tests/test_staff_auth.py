"""Signing in to the staff portal: two-factor codes, enrolment, sessions, time-outs, rate limits."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import argon2
import pyotp
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from app import credentials
from app.extensions import db
from app.models import AuditEvent, StaffUser
from tests.conftest import (
    STAFF_PASSWORD,
    Clock,
    StaffAccounts,
    csrf_token_from,
    sqlite_only,
)
from tests.support.journey import session_data
from tests.support.staff_pages import (
    ENROL,
    PASSWORD,
    QUEUE,
    SIGN_IN,
    TWO_FACTOR,
    headers_without_tokens,
    is_signed_in,
    post_form,
    sign_in,
    sign_out,
    text_of,
    token,
    without_csrf_tokens,
)

EMAIL = "physio@clinic.example"


def path(response: TestResponse) -> str:
    assert response.location is not None, f"no redirect ({response.status_code})"
    return urlsplit(response.location).path


def enter_code(client: FlaskClient, code: str, **kwargs: object) -> TestResponse:
    """Post a code to the two-factor page (which must be open to this client)."""
    return post_form(client, TWO_FACTOR, TWO_FACTOR, {"code": code}, **kwargs)


def user(app: Flask, user_id: int) -> StaffUser:
    with app.app_context():
        found = db.session.get(StaffUser, user_id)
        assert found is not None
        db.session.expunge(found)
        return found


def middle_of_a_step(clock: Clock) -> None:
    """Move the frozen clock on to the middle of a 30-second TOTP step, so no code is near a boundary."""
    clock.now = (clock.now // 30 + 1) * 30 + 15


def at_the_code_step(app: Flask, staff: StaffAccounts, mfa_user: int, clock: Clock) -> tuple[FlaskClient, pyotp.TOTP]:
    """A client at the code step of the two-factor account (`mfa_user`, whose password it gave),
    with that account's authenticator app, and the clock in the middle of a TOTP step."""
    middle_of_a_step(clock)
    client = app.test_client()
    sign_in(client)
    return client, pyotp.TOTP(staff.totp_secret(mfa_user))


# ---- Two-factor sign-in ---------------------------------------------------------------------


@pytest.fixture
def mfa_user(staff: StaffAccounts) -> int:
    return staff.create(EMAIL, "physio", mfa=True)


@sqlite_only
def test_the_password_alone_does_not_sign_in_an_account_with_two_factor(
    app: Flask, client: FlaskClient, mfa_user: int
) -> None:
    response = sign_in(client)
    assert response.status_code == 303 and path(response) == TWO_FACTOR
    assert not is_signed_in(client)
    for page in ("/staff/screenings/IMS-AAAAAAAA", PASSWORD):
        assert path(client.get(page)) == SIGN_IN
    assert client.get(TWO_FACTOR).status_code == 200
    assert not is_signed_in(client)


@sqlite_only
def test_a_correct_code_signs_in(app: Flask, client: FlaskClient, staff: StaffAccounts, mfa_user: int) -> None:
    sign_in(client)
    response = enter_code(client, pyotp.TOTP(staff.totp_secret(mfa_user)).now())
    assert response.status_code == 303 and path(response) == QUEUE
    assert is_signed_in(client)


@sqlite_only
def test_a_wrong_code_does_not_sign_in(app: Flask, client: FlaskClient, staff: StaffAccounts, mfa_user: int) -> None:
    sign_in(client)
    right = pyotp.TOTP(staff.totp_secret(mfa_user)).now()
    for wrong in (f"{(int(right) + 1) % 10**6:06d}", "", right + "0"):
        response = enter_code(client, wrong)
        assert response.status_code in (400, 401), wrong
        assert not is_signed_in(client)
    assert "That code is not right" in text_of(enter_code(client, "000000" if right != "000000" else "111111"))


def test_a_code_cannot_be_used_twice(app: Flask, staff: StaffAccounts, mfa_user: int, clock: Clock) -> None:
    middle_of_a_step(clock)
    code = pyotp.TOTP(staff.totp_secret(mfa_user)).at(clock.now)
    first, thief = app.test_client(), app.test_client()
    sign_in(first)
    sign_in(thief)
    assert enter_code(first, code).status_code == 303
    assert is_signed_in(first)
    assert enter_code(thief, code).status_code == 401  # replayed within its 30 seconds
    assert not is_signed_in(thief)
    clock.advance(seconds=30)  # still within the allowed drift, but already used
    assert enter_code(thief, code).status_code == 401
    assert not is_signed_in(thief)
    # An older code than the one used is refused too; the next one is accepted.
    older = pyotp.TOTP(staff.totp_secret(mfa_user)).at(clock.now - 60)
    assert enter_code(thief, older).status_code == 401
    assert enter_code(thief, pyotp.TOTP(staff.totp_secret(mfa_user)).at(clock.now)).status_code == 303


@sqlite_only
def test_digits_of_other_scripts_are_a_wrong_code_not_an_error(app: Flask, client: FlaskClient, mfa_user: int) -> None:
    sign_in(client)
    for code in ("١٢٣٤٥٦", "１２３４５６", "123\u0664\u0665\u0666"):  # Arabic-Indic, full-width, mixed
        assert enter_code(client, code).status_code == 401, code


@sqlite_only
def test_codes_more_than_one_step_away_are_refused(
    app: Flask, staff: StaffAccounts, mfa_user: int, clock: Clock
) -> None:
    client, totp = at_the_code_step(app, staff, mfa_user, clock)
    for offset in (-90, -60, 60, 90):
        assert enter_code(client, totp.at(clock.now + offset)).status_code == 401, offset
        assert not is_signed_in(client)
    # One step of clock drift either way is allowed (the phone a little slow, then a little fast).
    assert enter_code(client, totp.at(clock.now - 30)).status_code == 303
    other = app.test_client()
    sign_in(other)
    assert enter_code(other, totp.at(clock.now + 30)).status_code == 303


def test_a_recovery_code_works_once(app: Flask, staff: StaffAccounts, mfa_user: int) -> None:
    with app.app_context():
        account = db.session.get(StaffUser, mfa_user)
        assert account is not None
        codes = credentials.new_recovery_codes(account)
        db.session.commit()
    assert len(codes) == 10 and len(set(codes)) == 10
    client = app.test_client()
    sign_in(client)
    assert enter_code(client, codes[0]).status_code == 303
    assert is_signed_in(client)
    sign_out(client)
    sign_in(client)
    assert enter_code(client, codes[0]).status_code == 401
    assert not is_signed_in(client)
    # Another code, typed in capitals without its dashes, still works.
    assert enter_code(client, codes[1].replace("-", "").upper()).status_code == 303
    assert len(user(app, mfa_user).recovery_code_hashes) == 8


@sqlite_only
def test_the_password_step_expires_after_five_minutes(
    app: Flask, staff: StaffAccounts, mfa_user: int, clock: Clock
) -> None:
    totp = pyotp.TOTP(staff.totp_secret(mfa_user))
    late, in_time = app.test_client(), app.test_client()
    sign_in(late)
    sign_in(in_time)
    clock.advance(minutes=4, seconds=59)
    assert enter_code(in_time, totp.at(clock.now)).status_code == 303
    clock.advance(seconds=2)
    assert path(late.get(TWO_FACTOR)) == SIGN_IN
    response = late.post(TWO_FACTOR, data={"code": totp.at(clock.now + 30), "csrf_token": token(late, SIGN_IN)})
    assert response.status_code == 302 and path(response) == SIGN_IN
    assert not is_signed_in(late)


@sqlite_only
def test_the_code_step_needs_the_password_step_first(
    app: Flask, client: FlaskClient, staff: StaffAccounts, mfa_user: int
) -> None:
    code = pyotp.TOTP(staff.totp_secret(mfa_user)).now()
    assert path(client.get(TWO_FACTOR)) == SIGN_IN
    response = client.post(TWO_FACTOR, data={"code": code, "csrf_token": token(client)})
    assert path(response) == SIGN_IN
    assert not is_signed_in(client)


@sqlite_only
def test_the_password_step_cannot_set_up_a_new_authenticator_instead_of_the_code(
    app: Flask, client: FlaskClient, staff: StaffAccounts, mfa_user: int
) -> None:
    """Someone with only the password must not replace the authenticator app at the set-up page."""
    secret = staff.totp_secret(mfa_user)
    sign_in(client)
    page = client.get(ENROL)
    assert page.status_code in (302, 303) and path(page) == TWO_FACTOR
    attacker_secret = pyotp.random_base32()
    with client.session_transaction() as session:
        session["staff_enrolling_secret"] = attacker_secret
    response = client.post(
        ENROL, data={"code": pyotp.TOTP(attacker_secret).now(), "csrf_token": token(client, TWO_FACTOR)}
    )
    assert response.status_code in (302, 303) and path(response) == TWO_FACTOR
    assert not is_signed_in(client)
    assert user(app, mfa_user).totp_secret == secret


@sqlite_only
def test_a_disabled_account_cannot_finish_the_code_step(
    app: Flask, client: FlaskClient, staff: StaffAccounts, mfa_user: int
) -> None:
    sign_in(client)
    with app.app_context():
        db.session.execute(update(StaffUser).values(active=False))
        db.session.commit()
    assert path(client.get(TWO_FACTOR)) == SIGN_IN
    response = client.post(
        TWO_FACTOR, data={"code": pyotp.TOTP(staff.totp_secret(mfa_user)).now(), "csrf_token": token(client)}
    )
    assert path(response) == SIGN_IN
    assert not is_signed_in(client)


# ---- Enrolment ------------------------------------------------------------------------------


def secret_on(page: TestResponse) -> str:
    match = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.get_data(as_text=True))
    assert match, "no secret on the set-up page"
    return match.group(1)


def test_when_two_factor_is_required_a_new_account_must_enrol(
    app: Flask, client: FlaskClient, staff: StaffAccounts
) -> None:
    app.config["STAFF_MFA_REQUIRED"] = True
    account = staff.create(EMAIL)
    response = sign_in(client)
    assert response.status_code == 303 and path(response) == ENROL
    assert not is_signed_in(client)
    assert path(client.get(TWO_FACTOR)) == SIGN_IN  # no app yet: the code page is no way in

    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r"<svg\b[^>]*>.*<path\b.*</svg>", html, re.DOTALL), "no inline SVG QR code"
    assert "<img" not in html and "https://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "QR code for your authenticator app" in html
    secret = secret_on(page)
    assert len(secret) >= 32
    assert client.get(ENROL).get_data(as_text=True).count(secret) >= 1  # the same secret until confirmed

    wrong = post_form(client, ENROL, ENROL, {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 400 and "That code is not right" in text_of(wrong)
    assert not is_signed_in(client)

    done = post_form(client, ENROL, ENROL, {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{4}(?:-[0-9a-f]{4}){3})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    # They can be downloaded as a text file made from this very page (nothing kept to fetch later)...
    download = re.search(
        r'href="data:text/plain;charset=utf-8,([^"]+)" download="([^"]+)"', done.get_data(as_text=True)
    )
    assert download is not None and download.group(2) == "ims-screen-recovery-codes.txt"
    assert unquote(unescape(download.group(1))).splitlines()[2:] == codes
    assert "no-store" in done.headers["Cache-Control"]
    assert is_signed_in(client)
    stored = user(app, account)
    assert stored.totp_secret == secret and len(stored.recovery_code_hashes) == 10
    # Neither the secret nor the codes are left in the session cookie.
    cookie = str(session_data(app, client))
    assert secret not in cookie and not any(code in cookie for code in codes)

    # From now on the password is followed by a code, and a recovery code works.
    sign_out(client)
    assert path(sign_in(client)) == TWO_FACTOR
    assert enter_code(client, codes[3]).status_code == 303
    assert is_signed_in(client)


@sqlite_only
def test_an_account_that_has_enrolled_is_asked_for_its_code_when_two_factor_is_required(
    app: Flask, client: FlaskClient, mfa_user: int
) -> None:
    app.config["STAFF_MFA_REQUIRED"] = True
    assert path(sign_in(client)) == TWO_FACTOR


@sqlite_only
def test_without_the_requirement_a_signed_in_account_can_set_up_two_factor(
    app: Flask, physio_client: FlaskClient
) -> None:
    page = physio_client.get(ENROL)
    assert page.status_code == 200
    secret = secret_on(page)
    assert post_form(physio_client, ENROL, ENROL, {"code": pyotp.TOTP(secret).now()}).status_code == 200
    sign_out(physio_client)
    assert path(sign_in(physio_client)) == TWO_FACTOR


# ---- A new authenticator app for an account that has one -----------------------------------


@pytest.fixture
def two_devices(app: Flask, staff: StaffAccounts, mfa_user: int, clock: Clock) -> tuple[FlaskClient, FlaskClient]:
    """The account signed in with its code on a laptop and on a phone; the clock then a step later."""
    middle_of_a_step(clock)
    totp = pyotp.TOTP(staff.totp_secret(mfa_user))
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        assert sign_in(device).status_code == 303
        assert enter_code(device, totp.at(clock.now)).status_code == 303
        clock.advance(seconds=30)
    return laptop, phone


def open_replacement(client: FlaskClient) -> str:
    """Open the page for a new app (the account has one); return the new app's secret shown there."""
    page = client.get(ENROL)
    assert page.status_code == 200
    assert "Change your authenticator app" in text_of(page)
    return secret_on(page)


def replace_app(client: FlaskClient, **data: str) -> TestResponse:
    return post_form(client, ENROL, ENROL, data)


def another_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def recovery_codes_for(app: Flask, user_id: int) -> list[str]:
    with app.app_context():
        account = db.session.get(StaffUser, user_id)
        assert account is not None
        codes = credentials.new_recovery_codes(account)
        db.session.commit()
        return codes


def replacement_events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action.startswith("two_factor_")).order_by(AuditEvent.id)
            )
        )
        db.session.expunge_all()
        return found


def test_a_new_authenticator_app_ends_every_other_session_and_keeps_this_one(
    app: Flask, staff: StaffAccounts, mfa_user: int, clock: Clock, two_devices: tuple[FlaskClient, FlaskClient]
) -> None:
    laptop, phone = two_devices
    old = pyotp.TOTP(staff.totp_secret(mfa_user))
    copied = session_cookie(app, laptop)
    new = pyotp.TOTP(open_replacement(laptop))
    done = replace_app(laptop, password=STAFF_PASSWORD, current_code=old.at(clock.now), code=new.at(clock.now))
    assert done.status_code == 200, text_of(done)[:300]
    codes = re.findall(r"<li><code>([0-9a-f]{4}(?:-[0-9a-f]{4}){3})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert is_signed_in(laptop)  # this session carries on
    assert not is_signed_in(phone)  # every other one has ended
    assert not is_signed_in(with_cookie(app, copied))  # including a copy of this one from before
    assert user(app, mfa_user).totp_secret == new.secret
    [event] = replacement_events(app)
    assert (event.action, event.actor_id, event.detail) == ("two_factor_replaced", mfa_user, {"method": "totp"})
    # From now on only the new app signs in, and the code just used for it does not work twice.
    other = app.test_client()
    assert sign_in(other).status_code == 303
    assert enter_code(other, new.at(clock.now)).status_code == 401
    clock.advance(seconds=30)
    assert enter_code(other, old.at(clock.now)).status_code == 401
    assert enter_code(other, new.at(clock.now)).status_code == 303
    sign_out(other)
    assert sign_in(other).status_code == 303
    assert enter_code(other, codes[0]).status_code == 303  # the new recovery codes work


@sqlite_only
@pytest.mark.parametrize(
    ("fields", "message", "audited"),
    [
        ({"current_code": "old", "code": "new"}, "Enter your password", None),
        (
            {"password": "not my password at all", "current_code": "old", "code": "new"},
            "Your password is not right",
            "password",
        ),
        ({"password": STAFF_PASSWORD, "code": "new"}, "Enter the code from your current authenticator app", None),
        (
            {"password": STAFF_PASSWORD, "current_code": "wrong old", "code": "new"},
            "That code is not right",
            "current_code",
        ),
        ({"password": STAFF_PASSWORD, "current_code": "new", "code": "new"}, "That code is not right", "current_code"),
        (
            {"password": STAFF_PASSWORD, "current_code": "old", "code": "wrong new"},
            "The code from the new app is not right",
            "code",
        ),
        (
            {"password": STAFF_PASSWORD, "current_code": "old"},
            "Enter the 6-digit code from the new authenticator app",
            None,
        ),
    ],
)
def test_a_new_authenticator_app_is_refused_without_the_password_and_a_current_code(
    app: Flask,
    staff: StaffAccounts,
    mfa_user: int,
    clock: Clock,
    two_devices: tuple[FlaskClient, FlaskClient],
    fields: dict[str, str],
    message: str,
    audited: str | None,
) -> None:
    laptop, phone = two_devices
    secret = staff.totp_secret(mfa_user)
    old, new = pyotp.TOTP(secret), pyotp.TOTP(open_replacement(laptop))
    codes = {"old": old.at(clock.now), "new": new.at(clock.now)}
    codes |= {"wrong old": another_code(codes["old"]), "wrong new": another_code(codes["new"])}
    data = {name: codes.get(value, value) if name != "password" else value for name, value in fields.items()}
    response = replace_app(laptop, **data)
    assert response.status_code == 400
    assert message in text_of(response) and "There is a problem" in text_of(response)
    assert user(app, mfa_user).totp_secret == secret
    assert is_signed_in(laptop) and is_signed_in(phone)
    events = replacement_events(app)
    if audited is None:
        assert events == []
    else:
        assert [(e.action, e.actor_id, e.detail) for e in events] == [
            ("two_factor_change_refused", mfa_user, {"reason": audited})
        ]
    # The current code was not spent by the refusal (unless it was the one refused).
    assert enter_code_after_sign_in(app, old.at(clock.now)) == 303


def enter_code_after_sign_in(app: Flask, code: str) -> int:
    client = app.test_client()
    assert sign_in(client).status_code == 303
    return enter_code(client, code).status_code


@sqlite_only
def test_a_recovery_code_can_stand_in_for_the_current_app_once(
    app: Flask, staff: StaffAccounts, mfa_user: int, clock: Clock, two_devices: tuple[FlaskClient, FlaskClient]
) -> None:
    laptop, _ = two_devices
    codes = recovery_codes_for(app, mfa_user)
    new = pyotp.TOTP(open_replacement(laptop))
    # A mistyped new code spends no recovery code.
    refused = replace_app(laptop, password=STAFF_PASSWORD, current_code=codes[0], code=another_code(new.at(clock.now)))
    assert refused.status_code == 400
    assert len(user(app, mfa_user).recovery_code_hashes) == 10
    done = replace_app(laptop, password=STAFF_PASSWORD, current_code=codes[0], code=new.at(clock.now))
    assert done.status_code == 200 and is_signed_in(laptop)
    assert user(app, mfa_user).totp_secret == new.secret
    assert replacement_events(app)[-1].detail == {"method": "recovery_code"}
    # Once: the code is spent, and the other old codes went with the old app.
    clock.advance(seconds=30)
    newer = pyotp.TOTP(open_replacement(laptop))
    for old_code in (codes[0], codes[1]):
        again = replace_app(laptop, password=STAFF_PASSWORD, current_code=old_code, code=newer.at(clock.now))
        assert again.status_code == 400 and "That code is not right" in text_of(again)
    assert user(app, mfa_user).totp_secret == new.secret


@sqlite_only
def test_guessing_at_the_new_app_page_is_rate_limited(
    app: Flask, staff: StaffAccounts, mfa_user: int, clock: Clock, two_devices: tuple[FlaskClient, FlaskClient]
) -> None:
    laptop, _ = two_devices
    old, new = pyotp.TOTP(staff.totp_secret(mfa_user)), pyotp.TOTP(open_replacement(laptop))
    for attempt in range(5):
        assert (
            replace_app(
                laptop, password=f"guess number {attempt}!", current_code=old.at(clock.now), code=new.at(clock.now)
            ).status_code
            == 400
        )
    assert (
        replace_app(laptop, password=STAFF_PASSWORD, current_code=old.at(clock.now), code=new.at(clock.now)).status_code
        == 429
    )


# ---- Sessions -------------------------------------------------------------------------------


def session_cookie(app: Flask, client: FlaskClient) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser holding a copy of a session cookie."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


@sqlite_only
def test_signing_in_starts_a_new_session(app: Flask, client: FlaskClient, staff: StaffAccounts) -> None:
    staff.create(EMAIL)
    client.get(SIGN_IN)
    with client.session_transaction() as session:
        session["planted_by_attacker"] = "x"
    before = session_cookie(app, client)
    assert sign_in(client).status_code == 303
    after = session_cookie(app, client)
    assert after != before
    data = session_data(app, client)
    assert "planted_by_attacker" not in data and "csrf_token" not in data
    assert data["_user_id"].startswith(f"{user_id(app, EMAIL)}:")
    assert not is_signed_in(with_cookie(app, before))  # the pre-sign-in cookie stays anonymous
    assert is_signed_in(with_cookie(app, after))


def user_id(app: Flask, email: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))
        assert found is not None
        return found


def test_signing_out_ends_every_session_of_the_account(app: Flask, staff: StaffAccounts) -> None:
    staff.create(EMAIL)
    staff.create("colleague@clinic.example")
    laptop, phone, colleague = app.test_client(), app.test_client(), app.test_client()
    for client, email in ((laptop, EMAIL), (phone, EMAIL), (colleague, "colleague@clinic.example")):
        assert sign_in(client, email).status_code == 303
    copied = session_cookie(app, laptop)
    assert is_signed_in(with_cookie(app, copied))
    response = sign_out(laptop)
    assert response.status_code == 303 and path(response) == SIGN_IN
    assert not is_signed_in(laptop)
    assert not is_signed_in(with_cookie(app, copied))  # a stolen copy is dead too
    assert not is_signed_in(phone)  # and the other device
    assert is_signed_in(colleague)  # other accounts are untouched
    assert sign_in(phone).status_code == 303 and is_signed_in(phone)


@sqlite_only
def test_sign_out_is_a_post(app: Flask, physio_client: FlaskClient) -> None:
    assert physio_client.get("/staff/sign-out").status_code == 405
    assert is_signed_in(physio_client)


def change_password(client: FlaskClient, current: str, new: str, confirm: str | None = None) -> TestResponse:
    return post_form(
        client,
        PASSWORD,
        PASSWORD,
        {"current_password": current, "new_password": new, "confirm_password": new if confirm is None else confirm},
    )


NEW_PASSWORD = "granite otter lantern mist"


def test_changing_the_password_ends_every_session(app: Flask, staff: StaffAccounts) -> None:
    staff.create(EMAIL)
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here)
    sign_in(elsewhere)
    copied = session_cookie(app, here)
    response = change_password(here, STAFF_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303 and path(response) == SIGN_IN
    for client in (here, elsewhere, with_cookie(app, copied)):
        assert not is_signed_in(client)
    assert sign_in(here).status_code == 401
    assert sign_in(here, password=NEW_PASSWORD).status_code == 303


@sqlite_only
@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not my password at all", NEW_PASSWORD, None, "Your current password is not right"),
        (STAFF_PASSWORD, "too short", None, "at least 12 characters"),
        (STAFF_PASSWORD, "password1234", None, "too common"),
        (STAFF_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "not the same"),
        (STAFF_PASSWORD, EMAIL, None, "email address"),
    ],
)
def test_a_refused_password_change_keeps_the_password_and_the_sessions(
    app: Flask, physio_client: FlaskClient, current: str, new: str, confirm: str | None, message: str
) -> None:
    other = app.test_client()
    sign_in(other)
    response = change_password(physio_client, current, new, confirm)
    assert response.status_code == 400
    assert message in text_of(response)
    assert is_signed_in(physio_client) and is_signed_in(other)
    assert sign_in(app.test_client(), password=new).status_code == 401
    assert sign_in(app.test_client()).status_code == 303


def test_disabling_an_account_ends_its_sessions_at_once(app: Flask, physio_client: FlaskClient) -> None:
    assert is_signed_in(physio_client)
    with app.app_context():
        db.session.execute(update(StaffUser).where(StaffUser.email == EMAIL).values(active=False))
        db.session.commit()
    assert not is_signed_in(physio_client)
    response = sign_in(app.test_client())
    assert response.status_code == 401 and "The email address or password is not right" in text_of(response)


@sqlite_only
def test_an_idle_session_times_out(app: Flask, staff: StaffAccounts, clock: Clock) -> None:
    staff.create(EMAIL)
    client = app.test_client()
    sign_in(client)
    for _ in range(4):  # activity keeps the session alive well past the idle limit
        clock.advance(minutes=29)
        assert is_signed_in(client)
    clock.advance(minutes=30, seconds=1)
    response = client.get(QUEUE)
    assert response.status_code == 302 and path(response) == SIGN_IN
    assert "timed out" in text_of(client.get(SIGN_IN))
    assert not is_signed_in(client)
    assert "_user_id" not in session_data(app, client)


@sqlite_only
def test_a_timed_out_session_is_not_shown_as_signed_in_on_a_missing_staff_page(
    app: Flask, staff: StaffAccounts, clock: Clock
) -> None:
    # A staff page that does not exist shows the portal's menu to the signed-in: not to a session
    # past its idle limit, which ends there as on any staff page.
    staff.create(EMAIL)
    client = app.test_client()
    sign_in(client)
    assert "Sign out" in text_of(client.get("/staff/no-such-page"))
    clock.advance(minutes=30, seconds=1)
    missing = client.get("/staff/no-such-page")
    assert missing.status_code == 404 and "Sign out" not in text_of(missing)
    assert not is_signed_in(client)


@sqlite_only
def test_the_idle_limit_comes_from_the_configuration(app: Flask, staff: StaffAccounts, clock: Clock) -> None:
    app.config["STAFF_IDLE_MINUTES"] = 5
    staff.create(EMAIL)
    client = app.test_client()
    sign_in(client)
    clock.advance(minutes=4)
    assert is_signed_in(client)
    clock.advance(minutes=5, seconds=1)
    assert not is_signed_in(client)


@sqlite_only
def test_a_session_ends_after_the_absolute_limit_even_when_active(
    app: Flask, staff: StaffAccounts, clock: Clock
) -> None:
    staff.create(EMAIL)
    client = app.test_client()
    sign_in(client)
    for _ in range(8 * 3 - 1):  # a request every 20 minutes for 7 h 40 min
        clock.advance(minutes=20)
        assert is_signed_in(client)
    clock.advance(minutes=20, seconds=1)  # 8 hours and a second after signing in
    assert not is_signed_in(client)
    assert sign_in(client).status_code == 303 and is_signed_in(client)


@sqlite_only
def test_a_session_without_its_clocks_is_refused(app: Flask, physio_client: FlaskClient) -> None:
    with physio_client.session_transaction() as session:
        del session["staff_signed_in_at"]
    assert not is_signed_in(physio_client)


@sqlite_only
def test_a_timed_out_session_cannot_set_up_a_new_authenticator(app: Flask, staff: StaffAccounts, clock: Clock) -> None:
    """The set-up page is reachable before signing in, but a timed-out session must not use it."""
    staff.create(EMAIL)
    client = app.test_client()
    sign_in(client)
    clock.advance(minutes=31)
    response = client.get(ENROL)
    assert response.status_code == 302 and path(response) == SIGN_IN
    assert not is_signed_in(client)


@sqlite_only
@pytest.mark.parametrize("asked_for", ["/staff/?outcome=likely", "/staff/overview", "/staff/?reference=IMS-?"])
def test_after_signing_in_the_page_asked_for_opens(
    app: Flask, client: FlaskClient, staff: StaffAccounts, asked_for: str
) -> None:
    staff.create(EMAIL)
    asked = client.get(asked_for)
    assert path(asked) == SIGN_IN
    # The page's address as asked for: no "?" added to one without a query.
    assert parse_qs(urlsplit(asked.location).query)["next"] == [asked_for]
    sign_in_page = asked.location
    html = client.get(sign_in_page).get_data(as_text=True)
    response = client.post(
        sign_in_page, data={"email": EMAIL, "password": STAFF_PASSWORD, "csrf_token": csrf_token_from(html)}
    )
    assert response.status_code == 303 and response.location == asked_for


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/staff/",
        "https://evil.example/",
        "/staff//evil.example",
        "/\\evil.example",
        "/staff/\\\\evil.example",
        "javascript:alert(1)",
        "/",
        "/staff/\r\nSet-Cookie: session=x",
        "/staff/\t/\t/evil.example",
    ],
)
def test_sign_in_never_redirects_to_another_site(
    app: Flask, client: FlaskClient, staff: StaffAccounts, target: str
) -> None:
    staff.create(EMAIL)
    response = client.post(
        SIGN_IN,
        query_string={"next": target},
        data={"email": EMAIL, "password": STAFF_PASSWORD, "csrf_token": token(client)},
    )
    assert response.status_code == 303 and response.location == QUEUE


# ---- Rate limiting --------------------------------------------------------------------------


@sqlite_only
def test_five_failures_for_one_account_block_the_sixth_attempt_until_the_window_ends(
    app: Flask, staff: StaffAccounts, clock: Clock
) -> None:
    staff.create(EMAIL)
    staff.create("colleague@clinic.example")
    attacker = app.test_client()
    for attempt in range(5):
        email = EMAIL if attempt % 2 else EMAIL.upper()  # the account, however it is typed
        assert sign_in(attacker, email, f"guess number {attempt}!").status_code == 401
    blocked = sign_in(attacker)
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    # The owner, from another address, is held up too (a window, not a lock-out) ...
    owner = app.test_client()
    assert sign_in(owner, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 429
    assert not is_signed_in(owner)
    # ... while other accounts sign in from the same address.
    assert sign_in(app.test_client(), "colleague@clinic.example").status_code == 303
    clock.advance(minutes=14)
    assert sign_in(owner).status_code == 429
    clock.advance(minutes=1, seconds=1)
    assert sign_in(owner).status_code == 303
    assert is_signed_in(owner)


#: Ways of typing the test account's address that reach the same account.
EMAIL_VARIANTS = (
    EMAIL + "\x00",
    "\x00" + EMAIL,
    EMAIL.upper(),
    "Physio@Clinic.Example",
    "  " + EMAIL + "\t\r\n",
    "phy sio@clinic.example",
    "physio@clinic.\u200bexample",  # a zero-width space (a format character)
    "\uff50hysio@clinic.example",  # a full-width "p" (NFKC)
    "physio\x07@clinic.example\x1b",
)


@sqlite_only
def test_variants_of_an_email_count_against_the_same_account(app: Flask, staff: StaffAccounts, clock: Clock) -> None:
    """NUL, other control characters, case and white space must not buy a fresh counter."""
    staff.create(EMAIL)
    attacker = app.test_client()
    for attempt, variant in enumerate(EMAIL_VARIANTS[:5]):
        assert sign_in(attacker, variant, f"guess number {attempt}!").status_code in (400, 401), repr(variant)
    assert sign_in(attacker).status_code == 429
    for variant in EMAIL_VARIANTS:
        assert sign_in(app.test_client(), variant).status_code == 429, repr(variant)
    clock.advance(minutes=15, seconds=1)
    assert sign_in(attacker, EMAIL_VARIANTS[-1], "another guess!").status_code == 401
    assert sign_in(attacker, EMAIL_VARIANTS[-2]).status_code == 303  # the lookup agrees with the key


@sqlite_only
@pytest.mark.parametrize("variant", EMAIL_VARIANTS)
def test_each_variant_alone_counts_against_the_account(app: Flask, staff: StaffAccounts, variant: str) -> None:
    staff.create(EMAIL)
    for attempt in range(5):
        assert sign_in(app.test_client(), variant, f"guess number {attempt}!").status_code in (400, 401)
    assert sign_in(app.test_client()).status_code == 429


def test_the_same_normalisation_stores_and_finds_an_account(app: Flask) -> None:
    assert credentials.normalise_email(" Stra\u00dfe@Clinic.Example\x00") == "strasse@clinic.example"
    with app.app_context():
        user = credentials.create_staff("  Dana.Lee@Clinic.Example\u200b", "Dana", "physio", STAFF_PASSWORD)
        db.session.commit()
        assert user.email == "dana.lee@clinic.example"
        for variant in ("DANA.LEE@clinic.example", "dana.lee@clinic.example\x00", " dana .lee@clinic.example"):
            assert credentials.find_staff(variant) == user
        with pytest.raises(ValueError, match="already an account"):
            credentials.create_staff("dana.lee@clinic.example\t", "Dana", "physio", STAFF_PASSWORD)


@sqlite_only
def test_twenty_failures_from_one_address_block_it(app: Flask, staff: StaffAccounts, clock: Clock) -> None:
    staff.create(EMAIL)
    address = {"REMOTE_ADDR": "198.51.100.9"}
    client = app.test_client()
    for attempt in range(20):
        response = sign_in(client, f"someone{attempt}@clinic.example", "a wrong password!", environ_base=address)
        assert response.status_code == 401, attempt
    assert sign_in(client, environ_base=address).status_code == 429  # even the right password
    assert sign_in(app.test_client(), environ_base={"REMOTE_ADDR": "198.51.100.10"}).status_code == 303
    clock.advance(minutes=15, seconds=1)
    assert sign_in(client, environ_base=address).status_code == 303


@sqlite_only
def test_successful_sign_ins_do_not_count_towards_the_limits(app: Flask, staff: StaffAccounts) -> None:
    staff.create(EMAIL)
    for _ in range(25):
        assert sign_in(app.test_client()).status_code == 303
    # Nor does posting the form again when already signed in (a second tab): it is no failure.
    signed_in = app.test_client()
    sign_in(signed_in)
    for _ in range(6):
        response = signed_in.post(
            SIGN_IN, data={"email": EMAIL, "password": "anything at all", "csrf_token": token(signed_in, QUEUE)}
        )
        assert response.status_code == 302 and path(response) == QUEUE
    client = app.test_client()
    for attempt in range(4):
        assert sign_in(client, password=f"wrong {attempt} password").status_code == 401
    assert sign_in(client).status_code == 303


@sqlite_only
def test_five_wrong_codes_block_the_code_step_of_that_account(
    app: Flask, staff: StaffAccounts, mfa_user: int, clock: Clock
) -> None:
    client, totp = at_the_code_step(app, staff, mfa_user, clock)
    wrong = f"{(int(totp.at(clock.now)) + 500) % 10**6:06d}"
    for _ in range(5):
        assert enter_code(client, wrong).status_code == 401
    assert enter_code(client, totp.at(clock.now)).status_code == 429
    fresh = app.test_client()  # starting again with the password does not reset the count
    assert sign_in(fresh).status_code == 303
    assert enter_code(fresh, totp.at(clock.now)).status_code == 429
    assert not is_signed_in(fresh)
    clock.advance(minutes=15, seconds=1)
    assert sign_in(fresh).status_code == 303
    assert enter_code(fresh, totp.at(clock.now)).status_code == 303


def test_the_failure_is_the_same_for_an_unknown_email_a_wrong_password_and_a_disabled_account(
    app: Flask, staff: StaffAccounts, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same page, the same headers and the same password-hashing work, so that neither the answer
    nor the time it takes tells which addresses have an account (ASVS 6.3.8).

    The work is counted, not timed (a timed test is flaky): exactly one argon2 verification each
    time, at the same cost. The emails are equally long (equal Content-Length), each attempt comes
    from its own address and the clock stands still (equal rate-limit headers).
    """
    staff.create(EMAIL)
    staff.create("former@clinic.example")
    with app.app_context():
        db.session.execute(update(StaffUser).where(StaffUser.email == "former@clinic.example").values(active=False))
        db.session.commit()
    verified: list[str] = []  # the hash each argon2 verification ran against
    real_verify = PasswordHasher.verify

    def recording_verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real_verify(hasher, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", recording_verify)
    failures = []
    attempts = [
        ("nobody@clinic.example", STAFF_PASSWORD),
        (EMAIL, "the wrong password"),
        ("former@clinic.example", STAFF_PASSWORD),
    ]
    for number, (email, password) in enumerate(attempts, start=1):
        verified.clear()
        response = sign_in(app.test_client(), email, password, environ_base={"REMOTE_ADDR": f"192.0.2.{number}"})
        assert response.status_code == 401
        assert "The email address or password is not right" in text_of(response)
        assert len(verified) == 1, f"{email}: {len(verified)} password verifications"
        page = without_csrf_tokens(response.get_data(as_text=True))
        assert STAFF_PASSWORD not in page and "the wrong password" not in page
        failures.append(
            {
                "cost": argon2.extract_parameters(verified[0]),
                "page": page.replace(email, "EMAIL"),
                "headers": headers_without_tokens(response),
            }
        )
    assert failures[0] == failures[1] == failures[2]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in_failed")).all()
        assert sorted(e.actor_email or "" for e in events) == sorted(email for email, _ in attempts)


def test_a_nul_character_in_the_email_is_an_ordinary_failure(app: Flask, staff: StaffAccounts) -> None:
    """PostgreSQL text cannot hold NUL: the sign-in must not reach it with one (a 500 before)."""
    staff.create(EMAIL)
    for email in ("physio\x00@clinic.example", "\x00", EMAIL + "\x00x"):
        response = sign_in(app.test_client(), email, "a wrong password")
        assert response.status_code in (400, 401), repr(email)
    assert sign_in(app.test_client(), "physio@clinic.\x00example").status_code == 303  # NUL dropped, as typed
