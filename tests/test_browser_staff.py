"""The staff portal in a real browser: two-factor sign-in, the queue, a screening, the CSV export."""

import re
from collections.abc import Callable
from typing import Any

import pyotp
import pytest

from tests.support.browser import (
    DESKTOP,
    PHONE,
    Server,
    change_status_and_add_note,
    click_and_wait,
    journey,
    open_answered_draft,
    submit,
)

pytestmark = pytest.mark.browser


def assert_within(page: Any, height: int) -> None:
    """The status form's button and the note form's button end within `height` px of the top."""
    page.evaluate("() => window.scrollTo(0, 0)")
    for name in ("Change status", "Add note"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, (name, box)


def test_signed_in_with_an_authenticator_app(staff_session: dict[str, Any]) -> None:
    # The fixture signed in with the password, set up the app (STAFF_MFA_REQUIRED) and got a code.
    assert len(staff_session["secret"]) >= 16
    assert pyotp.TOTP(staff_session["secret"]).now().isdigit()


def test_emergency_first_then_review_and_export(
    new_page: Callable[..., Any], server: Server, staff_session: dict[str, Any], screenshot: Any
) -> None:
    # A likely candidate sends answers from the check page (the journey to it is walked page by
    # page in test_browser_patient), then an emergency is answered, which sends it at once.
    patient = new_page(PHONE)
    open_answered_draft(patient, server, "likely")
    submit(patient)
    patient = new_page(PHONE)
    journey(patient, "emergency")
    reference = re.search(r"IMS-[A-Z0-9]{8}", patient.locator("main").inner_text())
    assert reference, "the emergency result names no reference"

    page = new_page(DESKTOP, storage_state=staff_session["state"], accept_downloads=True)
    page.goto("/staff/")
    first = page.locator("tbody tr").first
    assert "mergency" in first.inner_text(), first.inner_text()
    # The most urgent row is on the first screen: the filters are folded, exports come after.
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= DESKTOP["height"], box
    screenshot(page, "staff-queue")
    # Its own emergency: the server is shared, and other tests' emergencies may stand before it.
    click_and_wait(page, page.locator("tbody tr", has_text=reference[0]).locator("a").first)
    assert "/staff/screenings/" in page.url
    # Between two patients: the status and note forms are on the first screen, with nothing to
    # scroll past; on a phone within two screens.
    assert_within(page, DESKTOP["height"])
    phone = new_page(PHONE, storage_state=staff_session["state"])
    phone.goto(page.url)
    assert_within(phone, 2 * PHONE["height"])
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    trace = page.locator("#trace ~ ol.trace").first.inner_text() + page.locator("details.disclosure").last.inner_text()
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", trace), trace  # no raw indicator or question names

    change_status_and_add_note(page, "in_review", "Phoned the patient; they are on their way to emergency.")
    screenshot(page, "staff-screening")

    page.goto("/staff/")
    with page.expect_download() as download:
        page.get_by_text("Export these as CSV").click()
    rows = download.value.path().read_text(encoding="utf-8").splitlines()
    assert len(rows) >= 3  # a header and both screenings
