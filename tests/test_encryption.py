"""Contact details encrypted at rest: Fernet tokens, key rotation with MultiFernet, the name index."""

import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text

from app import crypto
from app.extensions import db
from app.models import AssessmentRequest, AuditEvent
from tests.conftest import StaffAccounts, sqlite_only
from tests.support import staff_pages
from tests.support.booking_pages import (
    SENT,
    VALID_REQUEST,
    post_request,
    requests,
    submit_outcome,
)


@pytest.fixture(autouse=True)
def _restore_keys() -> Iterator[None]:
    """The keys are module-level: give the next test the ones this test started with."""
    saved = crypto._Keys.fernet, crypto._Keys.index_key
    yield
    crypto._Keys.fernet, crypto._Keys.index_key = saved


def use_keys(app: Flask, keys: str) -> None:
    """Reconfigure the app as if it had started with ENCRYPTION_KEYS=keys."""
    app.config["ENCRYPTION_KEYS"] = keys
    crypto.init_app(app)


def raw_tokens(app: Flask) -> dict[str, Any]:
    """The stored ciphertexts, read past the column types."""
    with app.app_context():
        rows = db.session.execute(
            text("SELECT id, name, email, phone, message, name_search_hash FROM assessment_request ORDER BY id")
        ).all()
        recipients = db.session.execute(text("SELECT id, recipient FROM notification ORDER BY id")).all()
        return {"requests": [tuple(r) for r in rows], "recipients": [tuple(r) for r in recipients]}


def flip_a_byte(token: str) -> str:
    data = bytearray(base64.urlsafe_b64decode(token))
    data[len(data) // 2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(data)).decode("ascii")


# --- Tokens --------------------------------------------------------------------------------------


@sqlite_only
def test_round_trip(app: Flask) -> None:
    with app.app_context():
        for plaintext in ("Jordan Émile Quistgaard", "", "604 555 0199", "名前 ✓", "x" * 1000):
            token = crypto.encrypt(plaintext)
            assert plaintext not in token or not plaintext
            assert crypto.decrypt(token) == plaintext
        # A fresh IV each time: equal names do not give equal tokens.
        assert crypto.encrypt("Jordan") != crypto.encrypt("Jordan")


@sqlite_only
def test_tampered_or_foreign_token_is_refused(app: Flask) -> None:
    with app.app_context():
        token = crypto.encrypt("jordan.quistgaard@example.org")
        with pytest.raises(InvalidToken):
            crypto.decrypt(flip_a_byte(token))
        with pytest.raises(InvalidToken):
            crypto.decrypt(token[:-4])
        with pytest.raises(InvalidToken):
            crypto.decrypt(Fernet(Fernet.generate_key()).encrypt(b"made elsewhere").decode("ascii"))


def test_tampered_column_fails_loudly_when_read(app: Flask) -> None:
    client = app.test_client()
    submit_outcome(app, client, "likely")
    assert post_request(client).location == SENT
    with app.app_context():
        token = db.session.execute(text("SELECT phone FROM assessment_request")).scalar_one()
        db.session.execute(text("UPDATE assessment_request SET phone = :phone"), {"phone": flip_a_byte(token)})
        db.session.commit()
    with app.app_context(), pytest.raises(InvalidToken):
        db.session.scalars(select(AssessmentRequest)).one()


# --- Keys ----------------------------------------------------------------------------------------


def test_parse_keys() -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert len(crypto.parse_keys(first)) == 1
    assert len(crypto.parse_keys(f" {first} , {second} ,")) == 2
    for empty in ("", "  ", ",", " , "):
        with pytest.raises(crypto.EncryptionKeyError, match="no encryption key is set"):
            crypto.parse_keys(empty)
    for bad in ("not-a-key", first[:-2], f"{first},nope", base64.urlsafe_b64encode(b"short").decode()):
        with pytest.raises(crypto.EncryptionKeyError, match="not a valid Fernet key") as problem:
            crypto.parse_keys(bad)
        assert "nope" not in str(problem.value) and first not in str(problem.value)  # keys stay out of logs


@sqlite_only
def test_generate_encryption_key_prints_a_usable_key(runner: FlaskCliRunner) -> None:
    outputs = []
    for _ in range(2):
        result = runner.invoke(args=["generate-encryption-key"])
        assert result.exit_code == 0, result.output
        outputs.append(result.output.strip())
        [key] = crypto.parse_keys(outputs[-1])
        assert key.decrypt(key.encrypt(b"ok")) == b"ok"
        assert len(outputs[-1]) == 44
    assert outputs[0] != outputs[1]


def test_development_key_is_kept_private_in_the_instance_folder(tmp_path: Path) -> None:
    key = crypto.development_key(str(tmp_path / "instance"))
    path = tmp_path / "instance" / "encryption.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert crypto.development_key(str(tmp_path / "instance")) == key
    crypto.parse_keys(key)


# --- The name index ------------------------------------------------------------------------------


@sqlite_only
def test_search_hash_is_keyed_and_normalised(app: Flask) -> None:
    key = Fernet.generate_key().decode()
    use_keys(app, key)
    hashed = crypto.search_hash("Jordan Émile Quistgaard")
    assert crypto.search_hash("  jordan   ÉMILE\tquistgaard ") == hashed
    assert crypto.search_hash("Jordan Emile Quistgaard") != hashed
    # Keyed: another key gives another hash, so a stolen database alone cannot test guesses.
    use_keys(app, Fernet.generate_key().decode())
    assert crypto.search_hash("Jordan Émile Quistgaard") != hashed
    # The index key comes from the first key as parse_keys reads it, stray commas or not.
    use_keys(app, f" ,{key}")
    assert crypto.search_hash("Jordan Émile Quistgaard") == hashed


# --- Rotation ------------------------------------------------------------------------------------


def test_rotation_re_encrypts_everything_under_the_new_key(app: Flask, runner: FlaskCliRunner) -> None:
    old = app.config["ENCRYPTION_KEYS"]
    full, partial = app.test_client(), app.test_client()
    first = submit_outcome(app, full, "likely")
    assert post_request(full).location == SENT
    second = submit_outcome(app, partial, "possible")
    assert (
        post_request(partial, name="Ana Bértolo", phone=None, message=None, email="ana.bertolo@example.org").location
        == SENT
    )
    expected = requests(app)
    before = raw_tokens(app)

    new = Fernet.generate_key().decode()
    use_keys(app, f"{new},{old}")
    assert requests(app)[0]["name"] == VALID_REQUEST["name"]  # old tokens still read during the change

    result = runner.invoke(args=["rotate-encryption-key"])
    assert result.exit_code == 0, result.output
    # 2 requests and the 2 confirmations' recipients; the clinic's notification has nothing encrypted.
    assert "re-encrypted 4 row(s)" in result.output

    use_keys(app, new)  # the old key removed
    after = raw_tokens(app)
    assert [r["screening"] for r in requests(app)] == [first, second]
    rotated = requests(app)
    for was, now in zip(expected, rotated, strict=True):
        assert {k: v for k, v in now.items() if k != "name_search_hash"} == {
            k: v for k, v in was.items() if k != "name_search_hash"
        }
        # The index follows the new key, so staff still find people by name.
        assert now["name_search_hash"] == crypto.search_hash(now["name"]) != was["name_search_hash"]
    for old_row, new_row in zip(before["requests"], after["requests"], strict=True):
        for old_token, new_token in zip(old_row[1:5], new_row[1:5], strict=True):
            assert (old_token is None) == (new_token is None)
            if new_token is not None:
                assert new_token != old_token
                with pytest.raises(InvalidToken):
                    Fernet(old).decrypt(new_token.encode())
                Fernet(new).decrypt(new_token.encode())
    assert after["requests"][1][3:5] == (None, None)  # no phone, no message: still none
    recipients = [r for _, r in after["recipients"] if r is not None]
    assert [Fernet(new).decrypt(r.encode()).decode() for r in recipients] == [
        VALID_REQUEST["email"],
        "ana.bertolo@example.org",
    ]

    # Only the old key: nothing reads any more.
    use_keys(app, old)
    with app.app_context(), pytest.raises(InvalidToken):
        db.session.scalars(select(AssessmentRequest)).first()

    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "rotate_encryption_key")).all()
        assert event.detail == {"rows": 4}
        assert event.actor_id is None and event.actor_email == "command line"


@sqlite_only
def test_rotating_twice_is_harmless(app: Flask, runner: FlaskCliRunner) -> None:
    client = app.test_client()
    submit_outcome(app, client, "unlikely")
    assert post_request(client).location == SENT
    expected = requests(app)
    use_keys(app, f"{Fernet.generate_key().decode()},{app.config['ENCRYPTION_KEYS']}")
    for _ in range(2):
        assert runner.invoke(args=["rotate-encryption-key"]).exit_code == 0
    assert [r["name"] for r in requests(app)] == [e["name"] for e in expected]
    with app.app_context():
        assert (
            len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "rotate_encryption_key")).all()) == 2
        )


# --- Authenticator secrets -----------------------------------------------------------------------


def raw_totp_secrets(app: Flask) -> list[str | None]:
    """The staff accounts' TOTP secrets as stored, read past the column type."""
    with app.app_context():
        return list(db.session.scalars(text("SELECT totp_secret FROM staff_user ORDER BY id")))


def sign_in_with_code(app: Flask, secret: str) -> int:
    """Sign in with the password and a code made from `secret`; the status of the code step."""
    client = app.test_client()
    assert staff_pages.sign_in(client).status_code == 303
    return staff_pages.post_form(
        client, staff_pages.TWO_FACTOR, staff_pages.TWO_FACTOR, {"code": pyotp.TOTP(secret).now()}
    ).status_code


def test_totp_secrets_are_stored_encrypted_and_still_sign_in(app: Flask, staff: StaffAccounts) -> None:
    account = staff.create("physio@clinic.example", mfa=True)
    staff.create("other@clinic.example")  # no authenticator app: nothing stored
    secret = staff.totp_secret(account)
    [token, nothing] = raw_totp_secrets(app)
    assert nothing is None
    assert token is not None and secret not in token and token != secret
    assert crypto.decrypt(token) == secret
    with app.app_context():  # nor anywhere else in the database, in clear
        for table in ("staff_user", "audit_event"):
            for row in db.session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 -- fixed names
                assert secret not in str(row), table
    assert sign_in_with_code(app, secret) == 303


def test_rotation_re_encrypts_totp_secrets_so_the_old_key_can_go(
    app: Flask, runner: FlaskCliRunner, staff: StaffAccounts
) -> None:
    old = app.config["ENCRYPTION_KEYS"]
    account = staff.create("physio@clinic.example", mfa=True)
    staff.create("other@clinic.example")
    secret = staff.totp_secret(account)
    [before, _] = raw_totp_secrets(app)

    new = Fernet.generate_key().decode()
    use_keys(app, f"{new},{old}")
    result = runner.invoke(args=["rotate-encryption-key"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 row(s)" in result.output  # the account without an app has nothing to rotate

    [after, nothing] = raw_totp_secrets(app)
    assert nothing is None and after is not None and after != before
    assert Fernet(new).decrypt(after.encode()).decode() == secret
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(after.encode())
    use_keys(app, new)  # the old key removed: the account still signs in with its app
    assert staff.totp_secret(account) == secret
    assert sign_in_with_code(app, secret) == 303
