"""Drive the patient journey through Flask's test client, as a browser would.

CSRF protection stays on: every post carries the token read from the page the person would
have in front of them, so the tests exercise what production does.

    journey = Journey(client)
    check_page = journey.walk(profile("ideal_neck"))   # consent, every page, check your answers
    result = journey.submit()

Answers are question id -> value as the rules take them (`"yes"`, `["neck"]`, `52`). A duration
may also be given as `Duration(3, "months")` to post it in another unit. Questions asked in a
checklist are posted as the checkboxes a person would tick for those answers.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import inspect, select, update
from werkzeug.test import TestResponse

import rules
from app import clock as app_clock
from app.extensions import db
from app.models import Screening
from app.patient import services
from app.patient.forms import NOT_SURE_SUFFIX, UNIT_SUFFIX
from app.patient.views import LAST_USED_KEY, TOKEN_KEY
from rules.datafile import load_yaml
from rules.questionnaire import UNSURE, QuestionType, Section, duration

CHECK = "/screening/check"
RESULT = "/screening/result"
REASSURANCE = "/screening/needles-and-you"
SAVED = "/screening/saved"
SUBMIT = "/screening/submit"

#: Every page of the questionnaire, in order.
SECTIONS: tuple[Section, ...] = rules.questionnaire().sections
SECTION_IDS = tuple(section.id for section in SECTIONS)


class Duration(NamedTuple):
    """A duration as the person types it: an amount and a unit (days, weeks, months or years)."""

    amount: object
    unit: str


# --- Answers ---------------------------------------------------------------------------------


@functools.cache
def named_profiles() -> Mapping[str, Mapping[str, object]]:
    """rules/cases/profiles.yaml, read once per test process (10 ms a read, asked for by hundreds
    of tests): copy what you take from it (`profile` does)."""
    profiles = load_yaml(Path(rules.__file__).parent / "cases" / "profiles.yaml")
    assert isinstance(profiles, dict)
    return profiles


def profile(name: str = "ideal_neck", **changes: object) -> dict[str, object]:
    """A complete answer set from rules/cases/profiles.yaml, with `changes` (None removes one)."""
    answers = copy.deepcopy(dict(named_profiles()[name]))
    for qid, value in changes.items():
        assert qid in rules.questionnaire().questions, f"unknown question {qid}"
        if value is None:
            answers.pop(qid, None)
        else:
            answers[qid] = value
    return answers


def as_stored(answers: Mapping[str, object]) -> dict[str, object]:
    """`answers` as the pages store them once posted (`form_data`): a duration as given, in weeks
    when the profile has a number."""
    durations = {q.id for q in rules.questionnaire() if q.type is QuestionType.DURATION}
    stored = dict(answers)
    for qid in durations & stored.keys():
        value = stored[qid]
        amount, unit = (value.amount, value.unit) if isinstance(value, Duration) else (value, "weeks")
        stored[qid] = duration(amount, unit)  # type: ignore[arg-type]
    return stored


def section_of(question_id: str) -> Section:
    section = rules.questionnaire().section(rules.questionnaire().questions[question_id].section_id)
    assert section is not None
    return section


def answers_before(section_id: str, answers: Mapping[str, object]) -> dict[str, object]:
    """The answers to the pages before `section_id`: a draft that has just reached that page."""
    earlier = set(SECTION_IDS[: SECTION_IDS.index(section_id)])
    questions = rules.questionnaire().questions
    return {qid: value for qid, value in answers.items() if questions[qid].section_id in earlier}


def checklist_ticks(section: Section, answers: Mapping[str, object]) -> dict[str, list[str]]:
    """The checkboxes a person ticks in the page's checklists to give these answers: each item
    answered "yes", "I'm not sure about one of these" and under it each item answered "unsure",
    or "None of these" when every item answered is "no". Field name -> values ticked."""
    ticks: dict[str, list[str]] = {}
    for checklist in section.checklists:
        given = {item: answers[item] for item in checklist.item_ids if answers.get(item) is not None}
        if not given:
            continue
        ticked = [item for item, value in given.items() if value == "yes"]
        not_sure = [item for item, value in given.items() if value == UNSURE]
        if not_sure:
            ticked.append(UNSURE)
            ticks[checklist.id + NOT_SURE_SUFFIX] = not_sure
        ticks[checklist.id] = ticked or ["none"]
    return ticks


def question_field_names(section: Section) -> set[str]:
    """The names of a page's answer fields: its questions' ids, less those asked in a checklist,
    plus each checklist's id and its "not sure" list."""
    names = {q.id for q in section.questions if section.checklist_of(q.id) is None}
    return names | {name for c in section.checklists for name in (c.id, c.id + NOT_SURE_SUFFIX)}


def form_data(section: Section | str, answers: Mapping[str, object]) -> dict[str, Any]:
    """The form fields a browser posts for `section` with these answers (only its own questions);
    questions asked in a checklist are posted as its ticks (`checklist_ticks`)."""
    if isinstance(section, str):
        found = rules.questionnaire().section(section)
        assert found is not None, section
        section = found
    data: dict[str, Any] = dict(checklist_ticks(section, answers))
    for question in section.questions:
        value = answers.get(question.id)
        if value is None or section.checklist_of(question.id) is not None:
            continue
        if question.type is QuestionType.DURATION:
            amount, unit = (value.amount, value.unit) if isinstance(value, Duration) else (value, "weeks")
            data[question.id], data[question.id + UNIT_SUFFIX] = str(amount), unit
        elif question.type is QuestionType.MULTIPLE:
            data[question.id] = [str(v) for v in value]  # type: ignore[attr-defined]
        else:
            data[question.id] = str(value)
    return data


# --- Reading pages ---------------------------------------------------------------------------


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inputs: list[dict[str, str | None]] = []
        self.options: list[tuple[str | None, dict[str, str | None]]] = []
        self.links: list[str] = []
        self.ids: list[str] = []
        self.text: list[str] = []
        self._select: str | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(attributes["id"])  # type: ignore[arg-type]
        if tag == "input":
            self.inputs.append(attributes)
        elif tag == "select":
            self._select = attributes.get("name")
        elif tag == "option":
            self.options.append((self._select, attributes))
        elif tag == "a" and attributes.get("href") is not None:
            self.links.append(attributes["href"])  # type: ignore[arg-type]
        elif tag in ("script", "style", "svg"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag in ("script", "style", "svg") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


class Page:
    """One HTML response, with what a test needs to read from it."""

    def __init__(self, response: TestResponse) -> None:
        self.response = response
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        parser = _Parser()
        parser.feed(self.html)
        self.inputs = parser.inputs
        self.options = parser.options
        self.links = parser.links
        self.ids = parser.ids
        self.text = re.sub(r"\s+", " ", "".join(parser.text)).strip()

    @property
    def title(self) -> str:
        match = re.search(r"<title>(.*?)</title>", self.html, re.DOTALL)
        assert match, "page has no title"
        return unescape(match.group(1)).strip()

    @property
    def main(self) -> str:
        """The text of <main>, tags removed."""
        match = re.search(r"<main[^>]*>(.*)</main>", self.html, re.DOTALL)
        assert match, "page has no <main>"
        return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(1)))).strip()

    @property
    def back_link(self) -> str:
        match = re.search(r'<a class="back-link" href="([^"]*)"', self.html)
        assert match, "page has no back link"
        return unescape(match.group(1))

    @property
    def csrf_token(self) -> str:
        tokens = [str(i["value"]) for i in self.inputs if i.get("name") == "csrf_token"]
        assert tokens, "page has no CSRF token"
        return tokens[0]

    def field_names(self) -> set[str]:
        names = {str(i["name"]) for i in self.inputs if i.get("name")}
        return names | {name for name, _ in self.options if name}

    def checked(self, name: str) -> set[str]:
        return {str(i.get("value")) for i in self.inputs if i.get("name") == name and "checked" in i}

    def value(self, name: str) -> str | None:
        values = [i.get("value") for i in self.inputs if i.get("name") == name]
        assert len(values) == 1, f"{len(values)} inputs named {name}"
        return values[0]

    def selected(self, name: str) -> str | None:
        chosen = [o.get("value") for select, o in self.options if select == name and "selected" in o]
        return chosen[0] if chosen else None

    def error_summary_links(self) -> list[str]:
        match = re.search(r'<div class="error-summary".*?</div>', self.html, re.DOTALL)
        return re.findall(r'href="#([^"]+)"', match.group(0)) if match else []

    def field_errors(self) -> dict[str, str]:
        """Question id -> the message shown beside it."""
        found = re.findall(
            r'<p class="error-message" id="([^"]+)-error"><span class="visually-hidden">Error:</span>\s*(.*?)</p>',
            self.html,
            re.DOTALL,
        )
        return {qid: unescape(message).strip() for qid, message in found}


def session_data(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """What the browser's session cookie holds, decoded and its signature checked."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, "no session cookie"
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    data = serializer.loads(cookie.value)
    assert isinstance(data, dict)
    return data


def path_of(location: str) -> str:
    return urlsplit(location).path


# --- Driving the journey ---------------------------------------------------------------------


class Journey:
    """One person's browser: a test client with its cookie jar, walking the pages."""

    MAX_PAGES = 40

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        #: Paths of the pages shown during the last `walk`, in order.
        self.visited: list[str] = []

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def page(self, path: str, status: int = 200) -> Page:
        response = self.client.get(path)
        assert response.status_code == status, f"GET {path}: {response.status_code} {response.location}"
        return Page(response)

    def csrf_token(self) -> str:
        """A valid CSRF token for this browser's session (the consent page always has a form)."""
        return self.page("/start").csrf_token

    def consent(self) -> TestResponse:
        """Read the consent page, tick the box and agree."""
        token = self.page("/start").csrf_token
        response = self.client.post("/start", data={"csrf_token": token, "consent": "y"})
        assert response.status_code == 302, response.status_code
        return response

    def post_step(self, section_id: str, data: Mapping[str, Any], csrf: bool = True) -> TestResponse:
        """Post raw form data to a page (with the session's CSRF token unless `csrf` is False)."""
        fields = dict(data)
        if csrf:
            fields.setdefault("csrf_token", self.csrf_token())
        return self.client.post(f"/screening/{section_id}", data=fields)

    def answer(
        self,
        section_id: str,
        answers: Mapping[str, object],
        action: str = "continue",
        return_to: str | None = None,
        **extra: Any,
    ) -> TestResponse:
        """Open a page, fill it in with `answers` and press a button."""
        url = f"/screening/{section_id}" + ("?return_to=check" if return_to == "check" else "")
        page = self.page(url)
        data = {"csrf_token": page.csrf_token, "action": action, **form_data(section_id, answers), **extra}
        if return_to is not None:
            data["return_to"] = return_to
        return self.client.post(f"/screening/{section_id}", data=data)

    def walk(self, answers: Mapping[str, object], until: str | None = None, start: bool = True) -> TestResponse:
        """From consent, answer every page the server leads to, until the check page.

        With `until`, stop on that page (a section id, or REASSURANCE) and return it unanswered.
        With `start=False`, carry on the current screening from where it left off.
        Returns the last response: the page reached, fetched with GET.
        """
        self.visited = []
        location = self.consent().location if start else "/screening"
        for _ in range(self.MAX_PAGES):
            path = path_of(location)
            if path == "/screening":
                response = self.client.get(path)
                assert response.status_code == 302, response.status_code
                location = response.location
                continue
            self.visited.append(path)
            if path in (CHECK, RESULT) or path == until or path.removeprefix("/screening/") == until:
                response = self.client.get(path)
                assert response.status_code == 200, f"GET {path}: {response.status_code}"
                return response
            if path == REASSURANCE:
                page = self.page(path)
                onward = [  # not Back, and not a language link (the same page in another language)
                    link
                    for link in page.links
                    if link.startswith("/screening/") and link != "/screening/needles" and "?lang=" not in link
                ]
                assert len(onward) == 1, onward
                location = onward[0]
                continue
            section_id = path.removeprefix("/screening/")
            response = self.answer(section_id, answers)
            assert response.status_code == 303, f"POST {path}: {response.status_code} {Page(response).field_errors()}"
            location = response.location
        raise AssertionError(f"the journey did not end: {self.visited}")

    def submit(self, follow: bool = False) -> TestResponse:
        """Send the answers from the check page."""
        token = self.page(CHECK).csrf_token
        return self.client.post(SUBMIT, data={"csrf_token": token}, follow_redirects=follow)

    def result(self) -> Page:
        return self.page(RESULT)


# --- The database ----------------------------------------------------------------------------


def snapshot(screening: Screening) -> dict[str, Any]:
    """Every column of a screening, as plain data."""
    return {attr.key: copy.deepcopy(getattr(screening, attr.key)) for attr in inspect(Screening).column_attrs}


def screenings(app: Flask) -> list[dict[str, Any]]:
    """Every stored screening, oldest first, read in a fresh session."""
    with app.app_context():
        return [snapshot(s) for s in db.session.scalars(select(Screening).order_by(Screening.id))]


def only_screening(app: Flask) -> dict[str, Any]:
    rows = screenings(app)
    assert len(rows) == 1, f"{len(rows)} screenings"
    return rows[0]


def seed_draft(
    app: Flask, client: FlaskClient | None = None, answers: Mapping[str, object] | None = None, **columns: Any
) -> tuple[int, str]:
    """Store a draft directly (skipping the pages) and, given a client, put its token in the cookie.

    Returns the draft's id and resume token. For tests about what happens to a draft in a
    given state; the journey itself is tested through `Journey.walk`.
    """
    with app.app_context():
        screening, token = services.start_screening(app.config["DRAFT_RETENTION_DAYS"])
        screening.answers = dict(rules.questionnaire().validate(dict(answers or {})))
        for name, value in columns.items():
            setattr(screening, name, value)
        db.session.commit()
        screening_id = screening.id
    if client is not None:
        with client.session_transaction() as session:
            session.clear()
            session[TOKEN_KEY] = token
            session[LAST_USED_KEY] = int(app_clock.timestamp())
    return screening_id, token


def set_expiry(app: Flask, screening_id: int, when: datetime) -> None:
    with app.app_context():
        db.session.execute(update(Screening).where(Screening.id == screening_id).values(expires_at=when))
        db.session.commit()


@contextmanager
def unchanged(app: Flask) -> Iterator[list[dict[str, Any]]]:
    """Assert that the block leaves every stored screening exactly as it was."""
    before = screenings(app)
    yield before
    assert screenings(app) == before
