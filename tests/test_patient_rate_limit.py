"""Patients' posts are limited per address (PATIENT_POST_LIMIT), generously, and never their GETs.

The limit with Redis, and Redis down (patients carry on), is in test_rate_limit_redis.py.
"""

from flask import Flask
from flask.testing import FlaskClient

from app.config import DEFAULT_PATIENT_POST_LIMIT as POST_LIMIT
from tests.conftest import sqlite_only
from tests.support.journey import Journey, Page, profile, seed_draft

ALLOWED = int(POST_LIMIT.split()[0])
WAITING_ROOM = "203.0.113.7"  # one address for the whole clinic's Wi-Fi


def post_from(client: FlaskClient, address: str, path: str = "/screening/about") -> int:
    return client.post(path, data={}, environ_base={"REMOTE_ADDR": address}).status_code


def test_the_limit_is_generous_enough_for_a_waiting_room() -> None:
    amount, _, window = POST_LIMIT.partition(" per ")
    assert window == "10 minutes"
    assert int(amount) * 13 / 10 >= 30 * 25  # 30 people at once, 25 posts each, done in 13 minutes


@sqlite_only
def test_posts_beyond_the_limit_get_the_too_many_requests_page(app: Flask, client: FlaskClient) -> None:
    # Posts without a screening are the cheapest (a redirect to the start), and count the same.
    statuses = {post_from(client, WAITING_ROOM, path) for path in ["/screening/about", "/start"] * (ALLOWED // 2)}
    assert statuses <= {302, 400}
    response = client.post("/screening/about", data={}, environ_base={"REMOTE_ADDR": WAITING_ROOM})
    page = Page(response)
    assert page.status == 429
    assert page.title.startswith("Too many requests")
    assert "Please wait 15 minutes" in page.main
    assert int(response.headers["Retry-After"]) > 0
    # Every patient page (one count for them all) and every kind of post.
    assert post_from(client, WAITING_ROOM, "/screening/submit") == 429
    # Reading pages is never limited: the result and its advice stay reachable.
    assert client.get("/", environ_base={"REMOTE_ADDR": WAITING_ROOM}).status_code == 200
    # Another address carries on.
    assert post_from(client, "198.51.100.20") == 400  # refused by the CSRF check, not the limit


@sqlite_only
def test_a_whole_screening_is_well_within_the_limit(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck"))
    assert journey.submit().status_code == 303
    response = client.post("/screening/about", data={})
    remaining = int(response.headers["X-RateLimit-Remaining"])
    assert ALLOWED - remaining <= 30


@sqlite_only
def test_staff_sign_in_has_its_own_limits(app: Flask, client: FlaskClient) -> None:
    """Patients' posts from an address do not use up its staff sign-in attempts, nor the reverse."""
    seed_draft(app, client)
    for _ in range(ALLOWED):
        post_from(client, WAITING_ROOM, "/start")
    assert client.get("/staff/sign-in", environ_base={"REMOTE_ADDR": WAITING_ROOM}).status_code == 200
    assert client.post("/staff/sign-in", data={}, environ_base={"REMOTE_ADDR": WAITING_ROOM}).status_code == 400


@sqlite_only
def test_a_clinic_can_set_its_own_limit(app: Flask, client: FlaskClient) -> None:
    app.config["PATIENT_POST_LIMIT"] = "3 per minute"
    assert 429 not in {post_from(client, WAITING_ROOM) for _ in range(3)}
    assert post_from(client, WAITING_ROOM) == 429


def test_a_limit_that_cannot_be_read_is_refused() -> None:
    import pytest

    from app.config import ConfigError, config_from_env

    with pytest.raises(ConfigError, match="PATIENT_POST_LIMIT must be a limit such as"):
        config_from_env({"PATIENT_POST_LIMIT": "lots"}, "/tmp/instance")
