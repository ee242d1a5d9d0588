"""The triage queue: most urgent first, counts, filters (in the clinic's time zone), pages."""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from werkzeug.test import TestResponse

import rules
from app.extensions import db
from app.models import OUTCOMES, Screening
from app.staff import keyset
from app.staff.queue import OUTCOME_LABELS
from rules.outcomes import Outcome
from tests.conftest import insert_submitted, sqlite_only, submit_screening
from tests.support.journey import profile
from tests.support.query_plans import captured, plan
from tests.support.staff_pages import QUEUE, text_of

INVALID_FILTER = "Some filters could not be used"
T0 = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def listed(response: TestResponse) -> list[str]:
    """The references in the queue's table, top to bottom."""
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    table = html.split('<table class="queue">', 1)[1].split("</table>", 1)[0] if '<table class="queue">' in html else ""
    return re.findall(r'href="/staff/screenings/(IMS-[0-9A-Z]+)"', table)


def counts(response: TestResponse) -> dict[str, int]:
    """Label -> number, from the counts by outcome and by status."""
    html = response.get_data(as_text=True)
    return {
        label.strip(): int(n) for n, label in re.findall(r'<span class="count__number">(\d+)</span>([^<]+)</a>', html)
    }


def test_the_most_urgent_come_first_and_the_oldest_first_within_an_outcome(
    app: Flask, physio_client: FlaskClient
) -> None:
    urgency = ["emergency", "see_doctor", "not_suitable", "clinician_review", "likely", "possible", "unlikely"]
    assert list(OUTCOMES) == urgency
    rows = []
    # Inserted least urgent and newest first, so neither insertion order nor id gives the answer.
    for outcome in reversed(urgency):
        for age_hours in (1, 30, 5):
            rows.append({"outcome": outcome, "submitted_at": T0 - timedelta(hours=age_hours)})
    references = insert_submitted(app, rows)
    by_row = dict(zip(references, rows, strict=True))
    shown = listed(physio_client.get(QUEUE))
    assert sorted(shown) == sorted(references)
    expected = sorted(
        references, key=lambda ref: (urgency.index(str(by_row[ref]["outcome"])), by_row[ref]["submitted_at"])
    )
    assert shown == expected
    assert [by_row[ref]["outcome"] for ref in shown[:3]] == ["emergency"] * 3


def test_drafts_never_appear(app: Flask, physio_client: FlaskClient) -> None:
    [submitted] = insert_submitted(app, [{"outcome": "likely", "submitted_at": T0}])
    [draft] = insert_submitted(
        app, [{"outcome": "emergency", "submitted_at": T0, "state": "draft", "answers": {"age": 45}}]
    )
    response = physio_client.get(QUEUE)
    assert listed(response) == [submitted]
    assert draft not in response.get_data(as_text=True)
    assert counts(response)["Emergency"] == 0 and counts(response)["New"] == 1
    assert listed(physio_client.get(QUEUE, query_string={"reference": draft})) == []
    assert "0 screenings" in text_of(physio_client.get(QUEUE, query_string={"reference": draft}))


def test_the_counts_by_outcome_and_by_status(app: Flask, physio_client: FlaskClient) -> None:
    insert_submitted(
        app,
        [
            {"outcome": "emergency", "submitted_at": T0},
            {"outcome": "likely", "submitted_at": T0, "review_status": "booked"},
            {"outcome": "likely", "submitted_at": T0, "review_status": "in_review"},
            {"outcome": "likely", "submitted_at": T0, "review_status": "booked"},
            {"outcome": "unlikely", "submitted_at": T0, "review_status": "declined"},
        ],
    )
    found = counts(physio_client.get(QUEUE, query_string={"outcome": "likely"}))  # counts ignore filters
    assert {label: found[label] for label in OUTCOME_LABELS.values()} == {
        "Emergency": 1,
        "See doctor": 0,
        "Not suitable": 0,
        "Clinician review": 0,
        "Likely": 3,
        "Possible": 0,
        "Unlikely": 1,
    }
    assert (
        found["New"],
        found["In review"],
        found["Contacted"],
        found["Booked"],
        found["Declined"],
        found["Referred elsewhere"],
    ) == (1, 1, 0, 2, 1, 0)
    page = physio_client.get(QUEUE).get_data(as_text=True)
    assert "5 screenings" in text_of(physio_client.get(QUEUE))
    # The urgent outcomes' border marks a count with screenings in it, not "0 See doctor".
    assert 'class="count count--emergency"' in page and "count--see_doctor" not in page


def test_the_number_of_matches_follows_every_kind_of_filter(app: Flask, physio_client: FlaskClient) -> None:
    insert_submitted(
        app,
        [
            {"outcome": "likely", "submitted_at": T0, "review_status": "booked"},
            {"outcome": "likely", "submitted_at": T0 + timedelta(days=2)},
            {"outcome": "emergency", "submitted_at": T0},
        ],
    )

    def total(**query: str) -> str:
        return text_of(physio_client.get(QUEUE, query_string=query))

    # Outcome and status alone are read from the counts by outcome and status; others are counted.
    assert "3 screenings, most urgent first" in total()
    assert "2 screenings," in total(outcome="likely")
    assert "1 screening," in total(outcome="likely", status="booked")
    assert "2 screenings," in total(status="new")
    assert "0 screenings," in total(outcome="see_doctor")
    assert "1 screening," in total(outcome="likely", submitted_from="2026-03-11")
    assert "2 screenings," in total(submitted_to="2026-03-10")


@pytest.mark.parametrize(
    ("query", "summary"),
    [
        ({}, None),
        ({"name": "   ", "reference": " "}, None),  # spaces filter nothing
        ({"outcome": "likely"}, "Filter the queue (filters in use)"),
        ({"submitted_from": "2026-02-30"}, "Filter the queue (a filter could not be used)"),
    ],
)
def test_the_filters_are_folded_unless_they_filter(
    physio_client: FlaskClient, query: dict[str, str], summary: str | None
) -> None:
    page = physio_client.get(QUEUE, query_string=query).get_data(as_text=True)
    fold = re.search(r'<details class="disclosure filters-fold"( open)?>\s*<summary>([^<]*)</summary>', page)
    assert fold is not None
    assert (fold[2] if fold[1] else None) == summary, fold[0]


def test_filter_by_outcome_status_and_reference(app: Flask, physio_client: FlaskClient) -> None:
    refs = insert_submitted(
        app,
        [
            {"outcome": "emergency", "submitted_at": T0},
            {"outcome": "likely", "submitted_at": T0 + timedelta(minutes=1), "review_status": "booked"},
            {"outcome": "likely", "submitted_at": T0 + timedelta(minutes=2)},
            {"outcome": "possible", "submitted_at": T0, "review_status": "booked"},
        ],
    )
    query = physio_client.get
    assert listed(query(QUEUE, query_string={"outcome": "likely"})) == refs[1:3]
    assert listed(query(QUEUE, query_string={"status": "booked"})) == [refs[1], refs[3]]
    assert listed(query(QUEUE, query_string={"outcome": "likely", "status": "booked"})) == [refs[1]]
    assert listed(query(QUEUE, query_string={"outcome": "see_doctor"})) == []
    assert listed(query(QUEUE, query_string={"outcome": "", "status": ""})) == refs  # urgency, then age
    target = refs[2]
    for typed in (target, target.lower(), target.removeprefix("IMS-"), target[:9], " " + target[4:10].lower()):
        found = listed(query(QUEUE, query_string={"reference": typed}))
        prefix = "IMS-" + typed.strip().upper().removeprefix("IMS-")
        assert target in found and all(ref.startswith(prefix) for ref in found), typed
    assert listed(query(QUEUE, query_string={"reference": target})) == [target]
    # A prefix, not a pattern: LIKE's wildcards are taken literally.
    assert listed(query(QUEUE, query_string={"reference": "IMS-%"})) == []
    assert listed(query(QUEUE, query_string={"reference": "_"})) == []


def test_filter_by_dates_in_the_clinics_time_zone(app: Flask, physio_client: FlaskClient) -> None:
    # Vancouver is UTC-8 in early March (before daylight saving) and UTC-7 in July.
    late_on_2_march, early_on_3_march, late_on_3_march, start_of_4_march, july_1, june_30 = insert_submitted(
        app,
        [
            {"outcome": "likely", "submitted_at": datetime(2026, 3, 3, 7, 59, tzinfo=UTC)},  # 2 Mar 23:59
            {"outcome": "likely", "submitted_at": datetime(2026, 3, 3, 8, 0, tzinfo=UTC)},  # 3 Mar 00:00
            {"outcome": "likely", "submitted_at": datetime(2026, 3, 4, 7, 59, tzinfo=UTC)},  # 3 Mar 23:59
            {"outcome": "likely", "submitted_at": datetime(2026, 3, 4, 8, 0, tzinfo=UTC)},  # 4 Mar 00:00
            {"outcome": "likely", "submitted_at": datetime(2026, 7, 1, 7, 0, tzinfo=UTC)},  # 1 Jul 00:00
            {"outcome": "likely", "submitted_at": datetime(2026, 7, 1, 6, 59, tzinfo=UTC)},  # 30 Jun 23:59
        ],
    )

    def between(start: str, end: str) -> list[str]:
        return listed(physio_client.get(QUEUE, query_string={"submitted_from": start, "submitted_to": end}))

    assert between("2026-03-03", "2026-03-03") == [early_on_3_march, late_on_3_march]
    assert between("2026-03-02", "2026-03-02") == [late_on_2_march]
    assert between("2026-03-04", "") == [start_of_4_march, june_30, july_1]
    assert between("", "2026-03-02") == [late_on_2_march]
    assert between("2026-07-01", "2026-07-01") == [july_1]
    assert between("2026-06-30", "2026-06-30") == [june_30]
    assert between("2026-03-05", "2026-03-04") == []


@sqlite_only
@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"outcome": "bogus"}, "Outcome"),
        ({"status": "archived"}, "Status"),
        ({"submitted_from": "yesterday"}, "Submitted from"),
        ({"submitted_to": "2026-02-30"}, "Submitted to"),
        ({"submitted_from": "03/03/2026"}, "Submitted from"),
        ({"reference": "IMS-" + "A" * 20}, "Reference"),
    ],
)
def test_an_invalid_filter_is_explained_and_everything_is_shown(
    app: Flask, physio_client: FlaskClient, args: dict[str, str], field: str
) -> None:
    refs = insert_submitted(
        app, [{"outcome": "likely", "submitted_at": T0}, {"outcome": "unlikely", "submitted_at": T0}]
    )
    response = physio_client.get(QUEUE, query_string=args)
    assert response.status_code == 200
    message = text_of(response).split(INVALID_FILTER, 1)[1].split("Showing everything instead")[0]
    assert field in message
    assert listed(response) == refs


def test_extreme_filter_values_never_break_the_queue(app: Flask, physio_client: FlaskClient) -> None:
    [ref] = insert_submitted(app, [{"outcome": "likely", "submitted_at": T0}])
    for args in [
        {"submitted_to": "9999-12-31"},
        {"submitted_from": "9999-12-31"},
        {"submitted_from": "0001-01-01", "submitted_to": "0001-01-01"},
        {"reference": "IMS-\x00"},
        {"reference": "\x00"},
        {"outcome": "\x00", "status": "\x00"},
        {"page": "²"},
        {"page": "١"},
        {"page": "9" * 400},
    ]:
        response = physio_client.get(QUEUE, query_string=args)
        assert response.status_code == 200, args
    assert listed(
        physio_client.get(QUEUE, query_string={"submitted_from": "2000-01-01", "submitted_to": "9999-12-31"})
    ) == [ref]
    assert listed(physio_client.get(QUEUE, query_string={"submitted_from": "9999-12-31"})) == []


@sqlite_only
@pytest.mark.parametrize("page", ["abc", "0", "-1", "", "1.5", "2abc", "99999999999", "2"])
def test_a_page_number_shows_the_first_page(app: Flask, physio_client: FlaskClient, page: str) -> None:
    """Pages have no numbers any more (numbering needs OFFSET); an old numbered link shows the top."""
    refs = insert_submitted(app, [{"outcome": "likely", "submitted_at": T0 + timedelta(seconds=i)} for i in range(3)])
    response = physio_client.get(QUEUE, query_string={"page": page})
    assert listed(response) == refs


def link(response: TestResponse, text: str) -> str | None:
    """The address of the pager's link labelled `text`, if the page has one."""
    found = re.search(r'<a (?:rel="\w+" )?href="([^"]+)">' + re.escape(text) + "</a>", response.get_data(as_text=True))
    return unescape(found.group(1)) if found else None


def test_pages_of_fifty_by_keyset(app: Flask, physio_client: FlaskClient) -> None:
    refs = insert_submitted(
        app,
        [{"outcome": "possible" if i % 2 else "likely", "submitted_at": T0 + timedelta(minutes=i)} for i in range(120)],
    )
    likely, possible = refs[0::2], refs[1::2]
    first = physio_client.get(QUEUE)
    assert link(first, "Previous page") is None and link(first, "First page") is None
    second = physio_client.get(link(first, "Next page"))
    third = physio_client.get(link(second, "Next page"))
    assert [listed(page) for page in (first, second, third)] == [
        (likely + possible)[:50],
        (likely + possible)[50:100],
        (likely + possible)[100:],
    ]
    assert link(third, "Next page") is None and link(third, "Last page") is None
    # Back again, and straight to either end.
    assert listed(physio_client.get(link(third, "Previous page"))) == listed(second)
    assert listed(physio_client.get(link(second, "Previous page"))) == listed(first)
    last = physio_client.get(link(first, "Last page"))
    assert listed(last) == (likely + possible)[70:]  # a full page, ending with the least urgent, newest
    assert link(last, "Next page") is None
    assert listed(physio_client.get(link(last, "First page"))) == listed(first)
    before_last = physio_client.get(link(last, "Previous page"))
    assert listed(before_last) == (likely + possible)[20:70]
    # The page before that reaches the top (20 rows): it is shown as the first page, full.
    assert listed(physio_client.get(link(before_last, "Previous page"))) == listed(first)


def test_page_links_keep_the_filters(app: Flask, physio_client: FlaskClient) -> None:
    refs = insert_submitted(
        app,
        [{"outcome": "possible" if i % 2 else "likely", "submitted_at": T0 + timedelta(minutes=i)} for i in range(130)],
    )
    possible = refs[1::2]
    filtered = physio_client.get(QUEUE, query_string={"outcome": "possible", "status": "new"})
    assert listed(filtered) == possible[:50]
    for label in ("Next page", "Last page"):
        assert re.search(r"[?&]outcome=possible(&|$)", link(filtered, label) or "")
        assert re.search(r"[?&]status=new(&|$)", link(filtered, label) or "")
    second = physio_client.get(link(filtered, "Next page"))
    assert listed(second) == possible[50:]
    assert "outcome=possible" in (link(second, "Previous page") or "")


def test_a_page_continues_after_its_last_row_when_rows_come_and_go(app: Flask, physio_client: FlaskClient) -> None:
    """Unlike an offset, a cursor never skips or repeats a screening when earlier ones are removed."""
    refs = insert_submitted(app, [{"outcome": "likely", "submitted_at": T0 + timedelta(minutes=i)} for i in range(60)])
    first = physio_client.get(QUEUE)
    with app.app_context():
        db.session.execute(delete(Screening).where(Screening.reference.in_(refs[:10])))
        db.session.commit()
    assert listed(physio_client.get(link(first, "Next page"))) == refs[50:]


@pytest.mark.one_backend
def test_page_links_say_nothing_about_health(app: Flask, physio_client: FlaskClient) -> None:
    """A cursor holds the outcome rank, time and id of a row, sealed: a link in a browser's history
    or a proxy's log does not say which screening had which outcome."""
    insert_submitted(app, [{"outcome": "emergency", "submitted_at": T0 + timedelta(minutes=i)} for i in range(60)])
    first = physio_client.get(QUEUE)
    address = link(first, "Next page") or ""
    cursor = parse_qs(urlsplit(address).query)["after"][0]
    with app.app_context():
        ids = [str(screening_id) for screening_id in db.session.scalars(select(Screening.id))]
    readable = cursor + base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("latin-1")
    assert "emergency" not in readable and "2026" not in readable
    assert not any(re.search(rf"\b{screening_id}\b", readable) for screening_id in ids[45:])


@pytest.mark.parametrize(
    "args",
    [
        {"after": "not-a-cursor"},
        {"before": "x" * 5000},
        {"after": "\x00"},
        {"before": "gAAAAA"},
        {"after": "é"},
    ],
)
def test_a_bad_page_link_shows_the_first_page_and_says_so(
    app: Flask, physio_client: FlaskClient, args: dict[str, str]
) -> None:
    refs = insert_submitted(app, [{"outcome": "likely", "submitted_at": T0 + timedelta(minutes=i)} for i in range(55)])
    response = physio_client.get(QUEUE, query_string=args)
    assert listed(response) == refs[:50]
    assert "That page link could not be used" in text_of(response)
    assert "That page link could not be used" not in text_of(physio_client.get(QUEUE))


@pytest.mark.one_backend
def test_a_tampered_foreign_or_stale_cursor_is_refused(
    app: Flask, physio_client: FlaskClient, clock: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    refs = insert_submitted(app, [{"outcome": "likely", "submitted_at": T0 + timedelta(minutes=i)} for i in range(55)])
    address = link(physio_client.get(QUEUE), "Next page") or ""
    cursor = parse_qs(urlsplit(address).query)["after"][0]
    assert listed(physio_client.get(QUEUE, query_string={"after": cursor})) == refs[50:]
    refused = "That page link could not be used"
    flipped = cursor[:40] + ("A" if cursor[40] != "A" else "B") + cursor[41:]
    with app.test_request_context():
        audit_cursor = keyset.encode_cursor("audit", (T0, 1))
        short_cursor = keyset.encode_cursor("queue", (4, T0))
        bad_types = keyset.encode_cursor("queue", (T0, 4, 1))
    for bad in (flipped, cursor[:-4], cursor + "AAAA", audit_cursor, short_cursor, bad_types):
        response = physio_client.get(QUEUE, query_string={"after": bad})
        assert listed(response) == refs[:50] and refused in text_of(response), bad
    both = physio_client.get(QUEUE, query_string={"after": cursor, "before": cursor})
    assert refused in text_of(both)
    # A day later the link has expired.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + keyset.CURSOR_LIFETIME_SECONDS + 60)
    assert refused in text_of(physio_client.get(QUEUE, query_string={"after": cursor}))


@sqlite_only
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    args=st.dictionaries(
        st.sampled_from(
            ["outcome", "status", "submitted_from", "submitted_to", "reference", "page", "after", "before"]
        ),
        st.one_of(st.text(max_size=30), st.dates().map(str), st.sampled_from(list(OUTCOMES) + ["new", "booked"])),
    )
)
def test_any_query_string_gives_a_page(app: Flask, physio_client: FlaskClient, args: dict[str, str]) -> None:
    response = physio_client.get(QUEUE, query_string=args)
    assert response.status_code == 200


def test_a_not_suitable_screening_names_the_warning_sign_left_open(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    """Issue 20: declining needles outranks a "not sure" about a warning sign, and the queue still
    says that a warning sign is open, so that somebody asks about it."""
    open_sign = submit_screening(app, {**ideal_answers, "willing_to_try": "no", "rf_unsteady_walking": "unsure"})
    declined = submit_screening(app, {**ideal_answers, "willing_to_try": "no"})
    rows = re.split(r"(?=IMS-[A-Z0-9]{8})", text_of(physio_client.get(QUEUE)))  # one part per screening
    row_of = {reference: next(row for row in rows if row.startswith(reference)) for reference in (open_sign, declined)}
    assert "'Not sure' to a red-flag question" in row_of[open_sign] and "1 not sure" in row_of[open_sign]
    assert "Not sure" not in row_of[declined]


def test_every_queue_page_is_a_range_scan_of_an_index_in_the_queues_order(
    app: Flask, physio_client: FlaskClient
) -> None:
    """First, next, previous and last pages, with and without a status filter: each reads the
    index from where the page starts, with no sort and no pass over the table (so at a million
    screenings the last page costs what the first does)."""
    insert_submitted(
        app,
        [
            {"outcome": outcome, "submitted_at": T0 + timedelta(minutes=i), "review_status": status}
            for i, (outcome, status) in enumerate(
                [(o, s) for o in ("emergency", "likely", "possible") for s in ("new", "booked")] * 30
            )
        ],
    )
    with captured(app, "ORDER BY screening.outcome_rank") as statements:
        for args in ({}, {"status": "new"}, {"outcome": "likely"}):
            first = physio_client.get(QUEUE, query_string=args)
            second = physio_client.get(link(first, "Next page"))
            physio_client.get(link(second, "Previous page"))
            physio_client.get(link(first, "Last page"))
    assert len(statements) >= 12
    for statement, parameters in statements:
        explained = plan(app, statement, parameters)
        assert re.search(r"ix_screening_(queue|review)", explained), explained
        assert "TEMP B-TREE" not in explained and "Sort" not in explained, explained
        assert "Seq Scan" not in explained and not re.search(r"\bSCAN screening\b(?! USING)", explained), explained


def stopped_after(section_id: str, answers: dict[str, object]) -> dict[str, object]:
    """`answers` as the patient pages keep them when the answers decide on page `section_id`: no
    answer to the pages after it, which were never shown."""
    sections = rules.questionnaire().sections
    shown = sections[: [section.id for section in sections].index(section_id) + 1]
    asked = {question.id for section in shown for question in section.questions}
    return {question_id: value for question_id, value in answers.items() if question_id in asked}


def row_of(response: TestResponse, reference: str) -> str:
    """The text of one screening's row in the queue."""
    rows = re.split(r"(?=IMS-[A-Z0-9]{8})", text_of(response))  # one part per screening
    return next(row for row in rows if row.startswith(reference))


def test_a_screening_stopped_at_a_warning_sign_says_so_not_that_the_questions_after_went_unanswered(
    app: Flask, physio_client: FlaskClient
) -> None:
    """The questions after a warning sign were never asked, by design: not "not answered" flags."""
    stopped = stopped_after("warning_signs", profile("ideal_low_back", rf_bladder_bowel="yes"))
    assert rules.decided(stopped) is Outcome.EMERGENCY
    reference = submit_screening(app, stopped)
    row = row_of(physio_client.get(QUEUE), reference)
    assert "Possible cauda equina warning signs" in row
    assert "stopped at a warning sign: later questions not asked" in row
    assert "not answered" not in row
    page = text_of(physio_client.get(f"/staff/screenings/{reference}"))
    unasked = len(rules.questionnaire().missing(stopped))
    assert f"Stopped early {unasked} questions were not asked: the answers before them decided the outcome." in page
    assert "left unanswered" not in page


def test_a_question_skipped_on_a_page_that_was_asked_is_still_named_when_it_stopped_early(
    app: Flask, physio_client: FlaskClient
) -> None:
    stopped = stopped_after("warning_signs", profile("ideal_low_back", rf_bladder_bowel="yes"))
    skipped = {question_id: value for question_id, value in stopped.items() if question_id != "rf_stroke_signs"}
    assert rules.decided(skipped) is Outcome.EMERGENCY
    reference = submit_screening(app, skipped)
    row = row_of(physio_client.get(QUEUE), reference)
    assert "Red-flag question not answered" in row  # asked on the page it stopped at, and skipped
    assert "Safety question not answered" not in row and "Other questions not answered" not in row
    assert "stopped at a warning sign: later questions not asked" in row
    page = text_of(physio_client.get(f"/staff/screenings/{reference}"))
    assert (
        "questions were not asked: the answers before them decided the outcome. 1 asked before it stopped was left unanswered."
        in page
    )


def test_a_screening_stopped_at_a_reason_not_to_needle_says_so(app: Flask, physio_client: FlaskClient) -> None:
    stopped = stopped_after("needles", profile("ideal_low_back", willing_to_try="no"))
    assert rules.decided(stopped) is Outcome.NOT_SUITABLE
    reference = submit_screening(app, stopped)
    row = row_of(physio_client.get(QUEUE), reference)
    assert "stopped at a reason not to needle: later questions not asked" in row
    assert "not answered" not in row
