"""A follow-up answered in a real browser (Chromium) on a phone with JavaScript off (issue 18):
from the email's link to the thanks, the sessions question revealed by CSS alone after "Yes",
one refused page on the way, and no page wider than a 320 px screen."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import FollowUp
from tests.support.browser import PHONE, Server, click_and_wait
from tests.support.followup import invite_on, only_follow_up, server_app

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
WIDER_THAN_THE_SCREEN = "() => document.documentElement.scrollWidth > window.innerWidth"


def test_a_follow_up_answered_on_a_phone_without_javascript(new_page: Callable[..., Any], server: Server) -> None:
    with server_app(server.env["DATABASE_URL"], server.env["ENCRYPTION_KEYS"]) as app:
        links = invite_on(app, activities=("Carrying the groceries",))
    page = new_page(PHONE, java_script_enabled=False)
    page.goto(links.open)
    assert page.url == f"{server.base}/follow-up/pain", page.url  # the token has left the address

    click_and_wait(page, page.get_by_role("button", name="Continue"))
    assert page.title().startswith("Error: ")
    assert page.locator(".error-summary a").all_inner_texts() == [
        "Select a number from 0 to 10 for how bad your pain is right now",
        "Select a number from 0 to 10 for your pain on average over the past week",
    ]
    page.set_viewport_size(NARROW)
    assert not page.evaluate(WIDER_THAN_THE_SCREEN), "the pain page is wider than 320 px"
    page.set_viewport_size(PHONE)
    page.get_by_role("group", name="How bad is your pain right now?").get_by_label("3", exact=True).check()
    page.get_by_role("group", name="Over the past week").get_by_label("0, no pain").check()
    click_and_wait(page, page.get_by_role("button", name="Continue"))

    page.get_by_label("Much better", exact=True).check()
    click_and_wait(page, page.get_by_role("button", name="Continue"))

    sessions = page.get_by_label("About how many IMS sessions have you had?")
    assert not sessions.is_visible()
    page.get_by_label("Yes").check()
    assert sessions.is_visible()  # revealed by CSS alone
    sessions.fill("4")
    page.set_viewport_size(NARROW)
    assert not page.evaluate(WIDER_THAN_THE_SCREEN), "the IMS page is wider than 320 px"
    page.set_viewport_size(PHONE)
    click_and_wait(page, page.get_by_role("button", name="Continue"))

    page.get_by_role("group", name="Carrying the groceries").get_by_label("7", exact=True).check()
    click_and_wait(page, page.get_by_role("button", name="Continue"))

    assert page.url.endswith("/follow-up/check"), page.url
    summary = page.locator("main dl").inner_text()
    for expected in ("3", "Much better", "Yes", "4", "Carrying the groceries", "7"):
        assert expected in summary, expected
    page.set_viewport_size(NARROW)
    assert not page.evaluate(WIDER_THAN_THE_SCREEN), "the check page is wider than 320 px"
    page.set_viewport_size(PHONE)
    click_and_wait(page, page.get_by_role("button", name="Send answers"))

    assert page.url.endswith("/follow-up/thank-you"), page.url
    assert page.locator("h1").inner_text().strip() == "Answers sent"
    assert page.locator(".safety-net").is_visible()

    with server_app(server.env["DATABASE_URL"], server.env["ENCRYPTION_KEYS"]) as app:
        with app.app_context():
            screening_id = db.session.scalars(select(FollowUp.screening_id).order_by(FollowUp.id.desc())).first()
        assert screening_id is not None
        stored = only_follow_up(app, screening_id)
    assert (
        stored["current_pain"],
        stored["average_pain"],
        stored["pgic"],
        stored["had_ims"],
        stored["ims_sessions"],
    ) == (
        3,
        0,
        2,
        "yes",
        4,
    )
    assert stored["answered"] is True and stored["scores"] == [(1, 7)]
    page.goto(links.open)  # the link is used up
    assert page.locator("h1").inner_text().strip() == "This link no longer works"
