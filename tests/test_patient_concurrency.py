"""A ticked warning sign is acted on whatever else the page gets wrong, and two requests about
one screening at once (two tabs, a double click, a submit racing a save) run one after the other.

The races are PostgreSQL's: SQLite transactions begin IMMEDIATE (app/extensions.py), so its
writers queue already; PostgreSQL needs the row lock each patient post takes
(`services.find_by_token(..., for_update=True)`)."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.patient import services
from tests.support.journey import RESULT, Journey, form_data, only_screening, profile, screenings

MISTAKE = "/screening/chose-by-mistake"
NAME = "warning_signs_now"
postgresql_only = pytest.mark.parametrize("databases", ["postgresql"], indirect=True)


def at_warning_signs(client: FlaskClient) -> str:
    journey = Journey(client)
    journey.walk(profile("ideal_low_back"), until="warning_signs")
    return journey.page("/screening/warning_signs").csrf_token


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("action", "extra"),
    [
        pytest.param("save", {}, id="save, with 'not sure' ticked but none chosen"),
        pytest.param("continue", {f"{NAME}__unsure": ["rf_saddle_numbness"]}, id="continue, a rewording unanswered"),
    ],
)
def test_a_ticked_warning_sign_is_acted_on_whatever_else_the_page_gets_wrong(
    app: Flask, client: FlaskClient, action: str, extra: dict[str, object]
) -> None:
    token = at_warning_signs(client)
    data = {"csrf_token": token, "action": action, NAME: ["rf_bladder_bowel", "unsure"], **extra}
    response = client.post("/screening/warning_signs", data=data)
    assert response.location == RESULT
    stored = only_screening(app)
    assert (stored["outcome"], stored["answers"]["rf_bladder_bowel"]) == ("emergency", "yes")


def second_tab(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another client with the same session cookie: a second tab of the same browser."""
    other = app.test_client()
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    other.set_cookie(name, cookie.value, domain=cookie.domain or "localhost", path=cookie.path or "/")
    return other


def at_once(*posts: Callable[[], Any]) -> list[Any]:
    results: list[Any] = [None] * len(posts)

    def run(index: int) -> None:
        results[index] = posts[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@postgresql_only
def test_an_emergency_withdrawn_twice_at_once_is_withdrawn_once(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk({**profile("ideal_neck"), "rf_stroke_signs": "yes"})
    token = journey.result().csrf_token
    other = second_tab(app, client)
    responses = at_once(*(lambda c=c: c.post(MISTAKE, data={"csrf_token": token}) for c in (client, other)))
    assert [r.status_code for r in responses] == [303, 303]
    emergency, draft = screenings(app)
    assert emergency["emergency_withdrawn_at"] is not None
    assert (draft["state"], draft["continues_id"]) == ("draft", emergency["id"])


@postgresql_only
def test_a_warning_sign_saved_in_another_tab_while_this_one_submits_is_never_lost(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = profile("ideal_neck")
    journey = Journey(client)
    journey.walk(answers)  # on the check page
    submit_token = journey.page("/screening/check").csrf_token
    other = second_tab(app, client)
    page_token = Journey(other).page("/screening/warning_signs").csrf_token
    saving, carry_on = threading.Event(), threading.Event()
    save_answers = services.save_answers

    def slow_save(*args: Any, **kwargs: Any) -> None:
        saving.set()
        carry_on.wait(10)
        save_answers(*args, **kwargs)

    monkeypatch.setattr(services, "save_answers", slow_save)
    data = {
        "csrf_token": page_token,
        "action": "continue",
        **form_data("warning_signs", {**answers, "rf_bladder_bowel": "yes"}),
    }

    def submit_once_the_save_has_begun() -> Any:
        assert saving.wait(10)
        threading.Timer(0.5, carry_on.set).start()  # the submit is waiting for the row meanwhile
        return client.post("/screening/submit", data={"csrf_token": submit_token})

    at_once(lambda: other.post("/screening/warning_signs", data=data), submit_once_the_save_has_begun)
    [stored] = screenings(app)
    assert (stored["outcome"], stored["answers"]["rf_bladder_bowel"]) == ("emergency", "yes")


@postgresql_only
def test_a_refused_page_sent_twice_at_once_is_refused_twice(app: Flask, client: FlaskClient) -> None:
    token = at_warning_signs(client)
    responses = at_once(
        *(lambda: client.post("/screening/warning_signs", data={"csrf_token": token, "action": "continue"}),) * 2
    )
    assert [(r.status_code, r.location) for r in responses] == [(303, "/screening/warning_signs")] * 2
