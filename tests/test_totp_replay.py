"""A TOTP code works once, even when two requests race with it."""

from __future__ import annotations

import time

import pyotp
from flask import Flask

from app import credentials
from app.extensions import db
from app.models import StaffUser
from tests.conftest import StaffAccounts


def test_two_requests_racing_with_one_code_cannot_both_pass(app: Flask, staff: StaffAccounts) -> None:
    user_id = staff.create("racer@clinic.example", mfa=True)
    secret = staff.totp_secret(user_id)
    now = time.time()
    code = pyotp.TOTP(secret).at(now)
    with app.app_context():
        first = db.session.get(StaffUser, user_id)
        # The second request read the account before the first one recorded the code.
        second = StaffUser(id=user_id, totp_secret=secret, totp_last_step=None)
        assert credentials.verify_totp(first, code, now=now) is True
        assert credentials.verify_totp(second, code, now=now) is False
        db.session.commit()
        assert db.session.get(StaffUser, user_id).totp_last_step == int(now // 30)
