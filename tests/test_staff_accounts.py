"""Staff accounts: no default accounts, `flask create-staff`, and how passwords are chosen and kept."""

from __future__ import annotations

import itertools

import pytest
from argon2 import PasswordHasher, Type
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from app import credentials
from app.extensions import db
from app.models import AuditEvent, StaffUser
from tests.conftest import STAFF_PASSWORD, StaffAccounts, sqlite_only
from tests.support.staff_pages import is_signed_in, post_form, sign_in, text_of

NEW_PASSWORD = "tundra violin pepper kettle"
#: A password of 12+ characters that is on the common-passwords list.
COMMON_PASSWORD = "password1234"


def create_staff(
    runner: FlaskCliRunner,
    *options: str,
    password: str = NEW_PASSWORD,
    email: str = "new@clinic.example",
    role: str = "physio",
) -> Result:
    return runner.invoke(
        args=["create-staff", "--email", email, "--name", "New Person", "--role", role, "--password-stdin", *options],
        input=password + "\n",
    )


def accounts(app: Flask) -> list[StaffUser]:
    with app.app_context():
        users = list(db.session.scalars(select(StaffUser)))
        db.session.expunge_all()
        return users


# ---- No default accounts; the create-staff command -----------------------------------------


def test_a_migrated_database_has_no_staff_accounts(app: Flask) -> None:
    assert accounts(app) == []
    client = app.test_client()
    for email, password in [
        ("admin@clinic.example", "admin"),
        ("admin", "admin"),
        ("admin@example.com", "password"),
        ("staff@clinic.example", "changeme"),
    ]:
        response = sign_in(client, email, password)
        assert response.status_code in (400, 401)
    assert not is_signed_in(client)


def test_create_staff_reads_the_password_from_stdin_and_the_account_can_sign_in(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = create_staff(runner, role="admin", email="New.Person@Clinic.example")
    assert result.exit_code == 0, result.output
    assert "Created admin account for new.person@clinic.example" in result.output
    assert NEW_PASSWORD not in result.output
    [user] = accounts(app)
    assert (user.email, user.name, user.role, user.active) == ("new.person@clinic.example", "New Person", "admin", True)
    assert user.password_hash.startswith("$argon2id$")
    assert user.totp_secret is None
    client = app.test_client()
    assert sign_in(client, "new.person@clinic.example", NEW_PASSWORD).status_code == 303
    assert is_signed_in(client)


@sqlite_only
def test_the_interactive_password_prompt_hides_the_password_and_asks_twice(app: Flask, runner: FlaskCliRunner) -> None:
    args = ["create-staff", "--email", "new@clinic.example", "--name", "New Person", "--role", "physio"]
    result = runner.invoke(args=args, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and "Repeat the password" in result.output
    assert NEW_PASSWORD not in result.output  # hidden input is not echoed
    assert [u.email for u in accounts(app)] == ["new@clinic.example"]


@sqlite_only
def test_a_mistyped_confirmation_creates_nothing(app: Flask, runner: FlaskCliRunner) -> None:
    args = ["create-staff", "--email", "new@clinic.example", "--name", "New Person", "--role", "physio"]
    result = runner.invoke(args=args, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}x\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert accounts(app) == []


@sqlite_only
def test_the_password_cannot_be_given_as_an_argument(app: Flask, runner: FlaskCliRunner) -> None:
    for option in ("--password", "-p"):
        result = runner.invoke(
            args=[
                "create-staff",
                "--email",
                "new@clinic.example",
                "--name",
                "N",
                "--role",
                "physio",
                option,
                NEW_PASSWORD,
            ]
        )
        assert result.exit_code == 2
        assert "No such option" in result.output
    assert accounts(app) == []


def test_the_common_password_used_below_is_on_the_list() -> None:
    assert COMMON_PASSWORD in credentials._common_passwords()
    assert len(COMMON_PASSWORD) >= credentials.MIN_PASSWORD_LENGTH


@sqlite_only
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("eleven char", "at least 12 characters"),
        ("", "at least 12 characters"),
        (COMMON_PASSWORD, "too common"),
        (COMMON_PASSWORD.upper(), "too common"),
        ("new@clinic.example", "email address"),
        ("x" * 257, "at most 256"),
    ],
)
def test_create_staff_refuses_an_unacceptable_password(
    app: Flask, runner: FlaskCliRunner, password: str, message: str
) -> None:
    result = create_staff(runner, password=password)
    assert result.exit_code == 1
    assert "error:" in result.output and message in result.output
    assert accounts(app) == []


def test_create_staff_refuses_a_duplicate_email_whatever_its_case(app: Flask, runner: FlaskCliRunner) -> None:
    assert create_staff(runner).exit_code == 0
    result = create_staff(runner, email=" NEW@Clinic.Example ", password="another long passphrase")
    assert result.exit_code == 1
    assert "already an account" in result.output
    assert len(accounts(app)) == 1


@sqlite_only
def test_create_staff_refuses_a_bad_email_and_a_blank_name(app: Flask, runner: FlaskCliRunner) -> None:
    result = create_staff(runner, email="not-an-email")
    assert result.exit_code == 1 and "email address" in result.output
    result = runner.invoke(
        args=["create-staff", "--email", "a@clinic.example", "--name", "  ", "--role", "physio", "--password-stdin"],
        input=NEW_PASSWORD + "\n",
    )
    assert result.exit_code == 1 and "name" in result.output
    assert accounts(app) == []


@sqlite_only
def test_create_staff_refuses_a_role_that_does_not_exist(app: Flask, runner: FlaskCliRunner) -> None:
    for role in ("superuser", "ADMIN", ""):
        result = create_staff(runner, role=role)
        assert result.exit_code != 0  # click's usage error (2): the role is a closed choice
        assert "physio" in result.output and "admin" in result.output
    assert accounts(app) == []
    with app.app_context(), pytest.raises(ValueError, match="role must be one of"):
        credentials.create_staff("a@clinic.example", "A", "superuser", NEW_PASSWORD)


def test_creating_an_account_is_audited(app: Flask, runner: FlaskCliRunner) -> None:
    assert create_staff(runner, role="admin").exit_code == 0
    assert create_staff(runner, password="short").exit_code == 1  # refused: no event
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent)).all()
        assert (event.action, event.actor_id, event.actor_email) == ("create_account", None, "new@clinic.example")
        assert event.detail["role"] == "admin"
        assert NEW_PASSWORD not in str(event.detail)


# ---- Passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        STAFF_PASSWORD,
        "twelve chars",  # no composition rules
        "ALL UPPER CASE WORDS",
        "ça fait très mal ici",
        "🦒 giraffe 长颈鹿 jirafa",
        "Ünïcödé pässwörd 🔑 ключ " + "x" * 100,  # judged on its first 72 characters (zxcvbn's limit)
        "tundra violin pepper kettle " * 9,
    ],
)
def test_acceptable_passwords(password: str) -> None:
    assert credentials.password_problem(password, "someone@clinic.example") is None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("elevenchars", "at least 12"),
        ("x" * 257, "at most 256"),
        (COMMON_PASSWORD, "too common"),
        ("Qwerty123456", "too common"),
        ("Someone@Clinic.example", "email address"),
        # Long enough and on no list, but a pattern a guesser tries early (zxcvbn).
        ("aaaaaaaaaaaaaaa", 'too easy to guess. Repeats like "aaa"'),
        ("x" * 256, 'Repeats like "aaa"'),
        ("🦒" * 12, 'Repeats like "aaa"'),
        ("abcabcabcabcabc", 'Repeats like "abcabcabc"'),
        ("abcdefghijkm", 'Sequences like "abc"'),
        ("zxcvbnm,./asdfghjkl", "Straight rows of keys"),
        ("asdfghjkl;asdfghjkl", "Straight rows of keys"),
        ("123456789012", "too easy to guess"),
    ],
)
def test_unacceptable_passwords(password: str, problem: str) -> None:
    assert problem in (credentials.password_problem(password, "someone@clinic.example") or "")


def test_a_password_built_from_the_persons_name_or_address_is_refused() -> None:
    email, name = "jordan.quistgaard@clinic.example", "Jordan Quistgaard"
    for password in ("quistgaard1234", "Quistgaard2026", "jordan.quistgaard", "quistgaardjordan"):
        assert credentials.password_problem(password, "x@y.example", "X") is None  # fine for someone else
        problem = credentials.password_problem(password, email, name) or ""
        assert "built from your name or email address" in problem, password


@sqlite_only
def test_the_admin_form_and_the_password_change_refuse_a_guessable_password(
    app: Flask, admin_client: FlaskClient, staff: StaffAccounts
) -> None:
    response = post_form(
        admin_client,
        "/staff/accounts",
        "/staff/accounts",
        {"name": "Jordan Quistgaard", "email": "jordan@clinic.example", "role": "physio", "password": "Quistgaard2026"},
    )
    assert response.status_code == 400
    assert "built from your name or email address" in text_of(response)
    response = post_form(
        admin_client,
        "/staff/password",
        "/staff/password",
        {"current_password": STAFF_PASSWORD, "new_password": "abcabcabcabcabc", "confirm_password": "abcabcabcabcabc"},
    )
    assert response.status_code == 400 and 'Repeats like "abcabcabc"' in text_of(response)
    with app.app_context():
        assert credentials.find_staff("jordan@clinic.example") is None


def test_production_hasher_is_argon2id_with_strong_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real hasher (the fixture's cheap one undone): argon2id, at least OWASP's minimum cost."""
    monkeypatch.undo()
    hasher = credentials._hasher
    assert isinstance(hasher, PasswordHasher)
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= 19 * 1024 and hasher.time_cost >= 2
    stored = credentials.hash_password(STAFF_PASSWORD)
    assert stored.startswith("$argon2id$v=19$")
    assert f"m={hasher.memory_cost},t={hasher.time_cost}" in stored
    assert STAFF_PASSWORD not in stored
    assert credentials._DUMMY_HASH.startswith(stored.rsplit("$", 2)[0])  # same cost for unknown emails


def test_the_password_is_never_stored_in_the_database(app: Flask, runner: FlaskCliRunner) -> None:
    assert create_staff(runner).exit_code == 0
    client = app.test_client()
    assert sign_in(client, "new@clinic.example", NEW_PASSWORD).status_code == 303
    assert sign_in(app.test_client(), "new@clinic.example", NEW_PASSWORD + "!").status_code == 401
    with app.app_context():
        for table in ("staff_user", "audit_event"):
            for row in db.session.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    assert NEW_PASSWORD not in str(value), table


@sqlite_only
def test_sign_in_compares_the_password_exactly(app: Flask, staff: StaffAccounts) -> None:
    staff.create("physio@clinic.example")
    client = app.test_client()
    for wrong in (STAFF_PASSWORD[:-1], STAFF_PASSWORD.upper(), STAFF_PASSWORD + " ", " " + STAFF_PASSWORD):
        assert sign_in(client, password=wrong).status_code == 401, wrong
        assert not is_signed_in(client)
    assert sign_in(client).status_code == 303
    assert is_signed_in(client)


def test_a_long_unicode_password_set_on_the_command_line_signs_in_on_the_web(
    app: Flask, runner: FlaskCliRunner
) -> None:
    password = "Ünïcödé pässwörd 🔑 ключ 密码 \u200fשלום\u200f " + "long " * 30
    assert create_staff(runner, password=password.strip()).exit_code == 0
    client = app.test_client()
    assert sign_in(client, "new@clinic.example", password.strip()[:-1]).status_code == 401
    assert sign_in(client, "new@clinic.example", password.strip()).status_code == 303


_addresses = itertools.count(1)


@sqlite_only
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=st.text(min_size=12, max_size=100).filter(lambda p: credentials.password_problem(p) is None))
def test_any_unicode_password_round_trips_through_the_sign_in_form(app: Flask, password: str) -> None:
    number = next(_addresses)
    email = f"person{number}@clinic.example"
    with app.app_context():
        user = credentials.create_staff(email, "Person", "physio", password)
        assert user.password_hash.startswith("$argon2id$") and password not in user.password_hash
        db.session.commit()
    # Each example from its own address, so the address limit (20 failures) is never reached.
    address = {"REMOTE_ADDR": f"10.1.{number // 250}.{number % 250}"}
    client = app.test_client()
    near_misses = {password[:-1], password[1:], password.upper(), password + "a"} - {password}
    for wrong in near_misses:
        assert sign_in(client, email, wrong, environ_base=address).status_code in (400, 401)
    assert sign_in(client, email, password, environ_base=address).status_code == 303
