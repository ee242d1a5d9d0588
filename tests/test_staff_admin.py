"""The admin pages of the staff portal: accounts and the audit trail (the CSV export has its own file)."""

import re
from datetime import UTC, datetime
from html import unescape

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import AuditEvent, StaffUser
from app.patient import services
from app.staff import keyset
from tests.conftest import STAFF_PASSWORD, StaffAccounts, csrf_token_from
from tests.support.query_plans import captured, plan
from tests.support.rows import detached_row, detached_rows

ADMIN_EMAIL = "admin@clinic.example"
PHYSIO_EMAIL = "physio@clinic.example"

#: Every admin route, as (method, path); the ids in paths are filled in per test.
ADMIN_ROUTES = [
    ("GET", "/staff/accounts"),
    ("POST", "/staff/accounts"),
    ("POST", "/staff/accounts/{id}/disable"),
    ("POST", "/staff/accounts/{id}/enable"),
    ("POST", "/staff/accounts/{id}/reset-two-factor"),
    ("GET", "/staff/audit"),
    ("GET", "/staff/export.csv"),
]


def token(client: FlaskClient, path: str = "/staff/") -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> TestResponse:
    """POST with a valid CSRF token taken from one of the client's own pages."""
    return client.post(path, data={**(data or {}), "csrf_token": token(client)})


def account(app: Flask, email: str) -> StaffUser:
    return detached_row(app, select(StaffUser).where(StaffUser.email == email))


def events(app: Flask, action: str) -> list[AuditEvent]:
    return detached_rows(app, select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))


def sign_in_with_code(app: Flask, staff: StaffAccounts, email: str) -> FlaskClient:
    """A client signed in with password and authenticator-app code."""
    client = app.test_client()
    page = client.get("/staff/sign-in")
    response = client.post(
        "/staff/sign-in",
        data={"email": email, "password": STAFF_PASSWORD, "csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )
    assert response.headers["Location"].endswith("/staff/two-factor")
    code = pyotp.TOTP(staff.totp_secret(account(app, email).id)).now()
    response = client.post("/staff/two-factor", data={"code": code, "csrf_token": token(client, "/staff/two-factor")})
    assert response.status_code == 303
    assert client.get("/staff/").status_code == 200
    return client


def signed_out(client: FlaskClient) -> bool:
    response = client.get("/staff/")
    return response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]


# ---- Access ------------------------------------------------------------------------------------


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_a_physiotherapist_is_refused_every_admin_route(
    app: Flask, physio_client: FlaskClient, method: str, path: str
) -> None:
    path = path.format(id=account(app, PHYSIO_EMAIL).id)
    if method == "POST":
        response = post(
            physio_client,
            path,
            {"name": "X", "email": "x@clinic.example", "role": "admin", "password": "a brand new long password"},
        )
    else:
        response = physio_client.get(path)
    assert response.status_code == 403
    assert events(app, "create_account") == []
    assert account(app, PHYSIO_EMAIL).active
    assert account(app, PHYSIO_EMAIL).role == "physio"


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize(("method", "path"), [route for route in ADMIN_ROUTES if route[0] == "GET"])
def test_admin_pages_ask_anyone_signed_out_to_sign_in(client: FlaskClient, method: str, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/staff/sign-in" in response.headers["Location"]


def test_the_admin_links_are_shown_to_admins_only(admin_client: FlaskClient, physio_client: FlaskClient) -> None:
    admin_page = admin_client.get("/staff/").get_data(as_text=True)
    physio_page = physio_client.get("/staff/").get_data(as_text=True)
    for link in ('href="/staff/accounts"', 'href="/staff/audit"', "Export these as CSV"):
        assert link in admin_page
        assert link not in physio_page


# ---- Accounts ----------------------------------------------------------------------------------


def test_the_accounts_page_lists_every_account(app: Flask, staff: StaffAccounts, admin_client: FlaskClient) -> None:
    staff.create("enrolled@clinic.example", "physio", mfa=True)
    staff.create(PHYSIO_EMAIL, "physio")
    page = admin_client.get("/staff/accounts")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    for email in (ADMIN_EMAIL, PHYSIO_EMAIL, "enrolled@clinic.example"):
        assert email in html
    enrolled = html[html.index("enrolled@clinic.example") :]
    assert "Set up" in enrolled.split("</tr>")[0]
    physio = html[html.index(PHYSIO_EMAIL) :]
    assert "Not set up" in physio.split("</tr>")[0]
    assert "Physiotherapist" in html and "Admin" in html
    assert datetime.now(UTC).strftime("%Y") in html  # created date


def test_an_admin_adds_an_account(app: Flask, admin_client: FlaskClient) -> None:
    response = post(
        admin_client,
        "/staff/accounts",
        {
            "name": "Dana Lee",
            "email": " Dana.Lee@Clinic.example ",
            "role": "physio",
            "password": "maple syrup on thursdays",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/accounts")
    user = account(app, "dana.lee@clinic.example")
    assert (user.name, user.role, user.active, user.totp_secret) == ("Dana Lee", "physio", True, None)
    assert "maple syrup" not in user.password_hash

    page = admin_client.get("/staff/accounts").get_data(as_text=True)
    assert "Account created for Dana Lee" in page

    [event] = events(app, "create_account")
    assert event.actor_email == ADMIN_EMAIL
    assert event.detail == {"account_id": user.id, "account_email": "dana.lee@clinic.example", "role": "physio"}

    newcomer = app.test_client()
    page = newcomer.get("/staff/sign-in")
    signed_in = newcomer.post(
        "/staff/sign-in",
        data={
            "email": "dana.lee@clinic.example",
            "password": "maple syrup on thursdays",
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    assert signed_in.status_code == 303


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the person&#39;s name."),
        ({"email": ""}, "email", "Enter an email address, like name@clinic.ca."),
        ({"email": "not-an-address"}, "email", "Enter an email address, like name@clinic.ca."),
        ({"email": PHYSIO_EMAIL}, "email", "There is already an account with this email address."),
        ({"password": ""}, "password", "Use at least 12 characters."),
        ({"password": "short"}, "password", "Use at least 12 characters."),
        ({"password": "x" * 257}, "password", "Use at most 256 characters."),
        (
            {"password": "new.person@clinic.example", "email": "new.person@clinic.example"},
            "password",
            "Do not use your email address as your password.",
        ),
        ({"role": "superuser"}, "role", "Not a valid choice"),
    ],
)
def test_adding_an_account_explains_what_to_fix(
    app: Flask, staff: StaffAccounts, admin_client: FlaskClient, data: dict[str, str], field: str, message: str
) -> None:
    staff.create(PHYSIO_EMAIL, "physio")
    valid = {
        "name": "New Person",
        "email": "new.person@clinic.example",
        "role": "physio",
        "password": "a perfectly long passphrase",
    }
    response = post(admin_client, "/staff/accounts", {**valid, **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    # GOV.UK pattern: a summary linking to the field, and the message beside the field.
    start = html.index('class="error-summary"')
    summary = html[start : html.index("</ul>", start)]
    assert f'href="#{field}"' in summary and message in summary
    assert re.search(rf'<p class="error-message" id="{field}-error">.*{re.escape(message)}', html)
    assert re.search(
        rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"|aria-describedby="[^"]*{field}-error"[^>]*id="{field}"',
        html,
    )
    assert html.count("There is a problem") == 1
    assert "a perfectly long passphrase" not in html  # a password is never sent back
    assert events(app, "create_account") == []
    with app.app_context():
        assert db.session.scalar(select(StaffUser).where(StaffUser.email == "new.person@clinic.example")) is None


def test_a_common_password_is_refused(admin_client: FlaskClient) -> None:
    response = post(
        admin_client,
        "/staff/accounts",
        {"name": "N", "email": "n@clinic.example", "role": "admin", "password": "password1234"},
    )
    assert response.status_code == 400
    assert "This password is too common." in response.get_data(as_text=True)


def test_adding_an_account_needs_a_csrf_token(app: Flask, admin_client: FlaskClient) -> None:
    response = admin_client.post(
        "/staff/accounts",
        data={"name": "N", "email": "n@clinic.example", "role": "admin", "password": "a perfectly long passphrase"},
    )
    assert response.status_code == 400
    assert events(app, "create_account") == []


def test_disabling_an_account_ends_its_sessions_at_once(
    app: Flask, staff: StaffAccounts, admin_client: FlaskClient
) -> None:
    physio_id = staff.create(PHYSIO_EMAIL, "physio")
    physio = app.test_client()
    staff.sign_in(physio, PHYSIO_EMAIL)
    assert physio.get("/staff/").status_code == 200

    response = post(admin_client, f"/staff/accounts/{physio_id}/disable")
    assert response.status_code == 303
    assert "is disabled" in admin_client.get("/staff/accounts").get_data(as_text=True)

    assert signed_out(physio)
    assert not account(app, PHYSIO_EMAIL).active
    [event] = events(app, "disable_account")
    assert event.actor_email == ADMIN_EMAIL
    assert event.detail == {"account_id": physio_id, "account_email": PHYSIO_EMAIL}

    # Nor can they sign in again.
    again = app.test_client()
    page = again.get("/staff/sign-in")
    refused = again.post(
        "/staff/sign-in",
        data={
            "email": PHYSIO_EMAIL,
            "password": STAFF_PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    assert refused.status_code == 401


def test_an_admin_cannot_disable_themselves(app: Flask, admin_client: FlaskClient) -> None:
    admin = account(app, ADMIN_EMAIL)
    response = post(admin_client, f"/staff/accounts/{admin.id}/disable")
    assert response.status_code == 400
    assert "You cannot disable your own account" in response.get_data(as_text=True)
    assert account(app, ADMIN_EMAIL).active
    assert account(app, ADMIN_EMAIL).session_version == admin.session_version
    assert admin_client.get("/staff/accounts").status_code == 200
    assert events(app, "disable_account") == []


def test_a_disabled_account_can_be_enabled_again(app: Flask, staff: StaffAccounts, admin_client: FlaskClient) -> None:
    physio_id = staff.create(PHYSIO_EMAIL, "physio")
    assert post(admin_client, f"/staff/accounts/{physio_id}/disable").status_code == 303
    page = admin_client.get("/staff/accounts").get_data(as_text=True)
    assert f'action="/staff/accounts/{physio_id}/enable"' in page
    assert f'action="/staff/accounts/{physio_id}/disable"' not in page

    assert post(admin_client, f"/staff/accounts/{physio_id}/enable").status_code == 303
    assert account(app, PHYSIO_EMAIL).active
    [event] = events(app, "enable_account")
    assert event.detail == {"account_id": physio_id, "account_email": PHYSIO_EMAIL}

    physio = app.test_client()
    staff.sign_in(physio, PHYSIO_EMAIL)
    assert physio.get("/staff/").status_code == 200


def test_an_unknown_account_is_not_found(admin_client: FlaskClient) -> None:
    for action in ("disable", "enable", "reset-two-factor"):
        assert post(admin_client, f"/staff/accounts/999999/{action}").status_code == 404


def test_resetting_two_factor_clears_the_app_and_codes_and_ends_sessions(
    app: Flask, staff: StaffAccounts, admin_client: FlaskClient
) -> None:
    physio_id = staff.create(PHYSIO_EMAIL, "physio", mfa=True)
    physio = sign_in_with_code(app, staff, PHYSIO_EMAIL)
    with app.app_context():
        from app import credentials

        user = db.session.get(StaffUser, physio_id)
        assert user is not None and user.totp_last_step is not None
        credentials.new_recovery_codes(user)
        db.session.commit()

    response = post(admin_client, f"/staff/accounts/{physio_id}/reset-two-factor")
    assert response.status_code == 303
    assert "was reset" in admin_client.get("/staff/accounts").get_data(as_text=True)

    user = account(app, PHYSIO_EMAIL)
    assert (user.totp_secret, user.totp_last_step, user.recovery_code_hashes) == (None, None, [])
    assert user.active
    assert signed_out(physio)
    [event] = events(app, "reset_two_factor")
    assert event.actor_email == ADMIN_EMAIL
    assert event.detail == {"account_id": physio_id, "account_email": PHYSIO_EMAIL}


def test_an_admin_resetting_their_own_two_factor_is_signed_out(app: Flask, staff: StaffAccounts) -> None:
    admin_id = staff.create(ADMIN_EMAIL, "admin", mfa=True)
    admin = sign_in_with_code(app, staff, ADMIN_EMAIL)
    response = post(admin, f"/staff/accounts/{admin_id}/reset-two-factor")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/sign-in")
    assert account(app, ADMIN_EMAIL).totp_secret is None
    assert signed_out(admin)


# ---- Audit trail -------------------------------------------------------------------------------


def add_event(
    app: Flask, action: str, at: datetime, *, email: str | None = None, reference: str | None = None, **detail: object
) -> None:
    with app.app_context():
        db.session.add(
            AuditEvent(
                action=action,
                at=at,
                actor_email=email,
                screening_reference=reference,
                ip_address="192.0.2.7",
                detail=detail,
            )
        )
        db.session.commit()


def audit_rows(html: str) -> list[str]:
    body = html[html.index("<tbody>") : html.index("</tbody>")] if "<tbody>" in html else ""
    return body.split("<tr>")[1:]


def test_the_audit_trail_lists_events_newest_first(app: Flask, admin_client: FlaskClient) -> None:
    add_event(app, "sign_in_failed", datetime(2026, 3, 3, 22, 5, tzinfo=UTC), email="someone@clinic.example")
    add_event(
        app,
        "change_status",
        datetime(2026, 3, 4, 17, 0, tzinfo=UTC),
        email=PHYSIO_EMAIL,
        reference="IMS-GONE2345",
        to_status="booked",
    )
    page = admin_client.get("/staff/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    rows = audit_rows(html)
    # The admin's own sign-in (now) first, then the two events, newest first.
    assert "Signed in" in rows[0] and ADMIN_EMAIL in rows[0]
    assert "Changed status" in rows[1] and "IMS-GONE2345" in rows[1] and "to_status: booked" in rows[1]
    assert 'href="/staff/screenings/IMS-GONE2345"' not in rows[1]  # it no longer exists
    assert "Sign-in failed" in rows[2] and "someone@clinic.example" in rows[2] and "192.0.2.7" in rows[2]
    # Local time shown (Vancouver, UTC-8 in March), UTC in the machine-readable attribute.
    assert '<time datetime="2026-03-03T22:05:00Z"' in rows[2] and "3 Mar 2026, 14:05" in rows[2]


def test_viewing_the_audit_trail_is_audited(app: Flask, admin_client: FlaskClient) -> None:
    admin_client.get("/staff/audit?action=sign_in&page=1")
    [event] = events(app, "view_audit")
    assert event.actor_email == ADMIN_EMAIL
    assert event.detail == {"filters": {"action": "sign_in"}, "page": "first"}
    assert "Viewed audit trail" in admin_client.get("/staff/audit").get_data(as_text=True)


def test_a_screening_reference_links_to_the_screening_while_it_exists(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    with app.app_context():
        screening, _ = services.start_screening(7)
        screening.answers = ideal_answers
        services.submit_screening(screening)
        db.session.commit()
        reference = screening.reference
    admin_client.get(f"/staff/screenings/{reference}")
    html = admin_client.get("/staff/audit?action=view_screening").get_data(as_text=True)
    [row] = audit_rows(html)
    assert f'<a href="/staff/screenings/{reference}">{reference}</a>' in row
    assert "Viewed screening" in row


def test_the_audit_trail_filters(app: Flask, admin_client: FlaskClient) -> None:
    # 07:30 UTC on 3 March is 23:30 on 2 March in Vancouver.
    add_event(
        app, "view_screening", datetime(2026, 3, 3, 7, 30, tzinfo=UTC), email=PHYSIO_EMAIL, reference="IMS-AAAA2222"
    )
    add_event(
        app,
        "view_screening",
        datetime(2026, 3, 3, 8, 30, tzinfo=UTC),
        email="other@clinic.example",
        reference="IMS-BBBB3333",
    )
    add_event(app, "add_note", datetime(2026, 3, 5, 12, 0, tzinfo=UTC), email=PHYSIO_EMAIL, reference="IMS-AAAA2222")

    def shown(query: str) -> list[str]:
        rows = audit_rows(admin_client.get("/staff/audit?" + query).get_data(as_text=True))
        return [
            re.findall(r"IMS-[A-Z0-9]+", row)[0] + "/" + ("note" if "Added note" in row else "view")
            for row in rows
            if "IMS-" in row
        ]

    assert shown("action=view_screening") == ["IMS-BBBB3333/view", "IMS-AAAA2222/view"]
    assert shown("actor=PHYSIO%40clinic.example") == ["IMS-AAAA2222/note", "IMS-AAAA2222/view"]
    assert shown("actor=other") == ["IMS-BBBB3333/view"]
    assert shown("reference=aaaa2222") == ["IMS-AAAA2222/note", "IMS-AAAA2222/view"]
    assert shown("reference=IMS-BBBB") == ["IMS-BBBB3333/view"]
    assert shown("at_from=2026-03-03&at_to=2026-03-04") == ["IMS-BBBB3333/view"]
    assert shown("at_to=2026-03-02") == ["IMS-AAAA2222/view"]
    assert shown("actor=" + "%25") == []  # a LIKE wildcard is taken literally
    # A filter that cannot be used says so and shows everything.
    html = admin_client.get("/staff/audit?at_from=yesterday").get_data(as_text=True)
    assert "Some filters could not be used" in html
    assert len(audit_rows(html)) >= 3


def pager_link(html: str, text: str) -> str | None:
    found = re.search(r'<a (?:rel="\w+" )?href="([^"]+)">' + re.escape(text) + "</a>", html)
    return unescape(found.group(1)) if found else None


def test_the_audit_trail_is_paged_fifty_at_a_time(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        db.session.add_all(
            AuditEvent(
                action="view_screening",
                # Ten events share each minute: the id orders them, so none is skipped or repeated
                # where a page ends in the middle of a minute.
                at=datetime(2026, 1, 1, 12, n // 10, tzinfo=UTC),
                actor_email=PHYSIO_EMAIL,
                detail={"n": n},
            )
            for n in range(125)
        )
        db.session.commit()

    def numbers(html: str) -> list[int]:
        return [int(re.search(r"n: (\d+)<", row).group(1)) for row in audit_rows(html)]  # type: ignore[union-attr]

    first = admin_client.get("/staff/audit?action=view_screening").get_data(as_text=True)
    assert numbers(first) == list(range(124, 74, -1))
    assert pager_link(first, "Newer events") is None
    second_link = pager_link(first, "Older events") or ""
    assert "action=view_screening" in second_link and "page=" not in second_link
    second = admin_client.get(second_link).get_data(as_text=True)
    third = admin_client.get(pager_link(second, "Older events") or "").get_data(as_text=True)
    assert numbers(second) == list(range(74, 24, -1)) and numbers(third) == list(range(24, -1, -1))
    assert pager_link(third, "Older events") is None
    assert numbers(admin_client.get(pager_link(third, "Newer events") or "").get_data(as_text=True)) == numbers(second)
    oldest = admin_client.get(pager_link(first, "Oldest events") or "").get_data(as_text=True)
    assert numbers(oldest) == list(range(49, -1, -1))
    assert numbers(admin_client.get(pager_link(oldest, "Newest events") or "").get_data(as_text=True)) == numbers(first)
    pages = [event.detail["page"] for event in events(app, "view_audit")]
    assert pages == ["first", "next", "next", "previous", "last", "first"]


def test_a_bad_audit_page_link_shows_the_newest_events(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        # A real cursor, but of the queue's order: (outcome rank, time, id) means nothing here.
        queue_cursor = keyset.encode_cursor("queue", (1, datetime(2026, 1, 1, tzinfo=UTC), 1))
    for cursor in ("nonsense", "gAAAAABn" + "A" * 80, "\x00", queue_cursor):
        response = admin_client.get("/staff/audit", query_string={"before": cursor})
        assert response.status_code == 200
        assert "That page link could not be used" in response.get_data(as_text=True)
        assert [event.detail["page"] for event in events(app, "view_audit")][-1] == "first"


def test_the_audit_trail_is_read_only(app: Flask, admin_client: FlaskClient) -> None:
    methods = {
        method
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/staff/audit")
        for method in rule.methods or ()
    }
    assert methods == {"GET", "HEAD", "OPTIONS"}
    for method in ("post", "put", "patch", "delete"):
        response = getattr(admin_client, method)("/staff/audit", data={"csrf_token": token(admin_client)})
        assert response.status_code == 405
    html = admin_client.get("/staff/audit").get_data(as_text=True)
    assert 'method="post"' not in html.split('<main id="main">')[1]


def test_every_audit_page_is_a_range_scan_of_an_index_in_its_order(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        db.session.add_all(
            AuditEvent(action=("view_screening", "sign_in")[n % 2], at=datetime(2026, 1, 1, 12, n // 3, tzinfo=UTC))
            for n in range(150)
        )
        db.session.commit()
    with captured(app, "ORDER BY audit_event.at") as statements:
        for query in ("", "?action=sign_in"):
            first = admin_client.get("/staff/audit" + query).get_data(as_text=True)
            second = admin_client.get(pager_link(first, "Older events") or "").get_data(as_text=True)
            admin_client.get(pager_link(second, "Newer events") or "")
            admin_client.get(pager_link(first, "Oldest events") or "")
    assert len(statements) >= 8
    for statement, parameters in statements:
        explained = plan(app, statement, parameters)
        assert re.search(r"ix_audit_event_(action_)?at_id", explained), explained
        assert "TEMP B-TREE" not in explained and "Sort" not in explained, explained
        assert "Seq Scan" not in explained and not re.search(r"\bSCAN audit_event\b(?! USING)", explained), explained
