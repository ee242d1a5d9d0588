"""Hostile values in the staff filters (the queue's and the audit trail's): never a 5xx, always a
message on the page that says which filter is wrong and why, on SQLite and on PostgreSQL (which
refuses NUL in text)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import insert_submitted
from tests.support.staff_pages import QUEUE, text_of

AUDIT = "/staff/audit"
SUMMARY = "There is a problem"

#: (page, query-string field, its label) of every typed filter.
DATE_FIELDS = [
    (QUEUE, "submitted_from", "Submitted from"),
    (QUEUE, "submitted_to", "Submitted to"),
    (AUDIT, "at_from", "From"),
    (AUDIT, "at_to", "To"),
]
TEXT_FIELDS = [
    (QUEUE, "reference", "Reference"),
    (QUEUE, "name", "Patient's full name (exact)"),
    (AUDIT, "actor", "Who (email)"),
    (AUDIT, "reference", "Screening reference"),
]

#: Dates no calendar has, or not written as one; and the message each must give.
BAD_DATES = [
    ("0000-01-01", "Enter a year from 0001 to 9999"),
    ("99999-01-01", "Enter a year from 0001 to 9999"),
    ("2026-13-45", "Enter a month from 01 to 12"),
    ("2026-00-10", "Enter a month from 01 to 12"),
    ("2026-02-30", "That month has no day 30"),
    ("2026-04-31", "That month has no day 31"),
    ("9" * 400, "Enter the date as year-month-day"),
    ("999999999999-01-01", "Enter the date as year-month-day"),
    ("-2026-01-01", "Enter the date as year-month-day"),
    ("２０２６-０１-０１", "Enter the date as year-month-day"),  # full-width digits
    ("2026/01/01", "Enter the date as year-month-day"),
    ("\x00", "cannot contain control characters"),
    ("2026-01-01\x00", "cannot contain control characters"),
    ("\x1b[2J", "cannot contain control characters"),
]

#: Search terms with control characters (PostgreSQL refuses NUL outright).
BAD_TEXTS = ["\x00", "IMS-\x00", "a\x00b", "\x00" * 300, "IMS-\x1b", "dana\r\nlee"]


@pytest.fixture
def admin(app: Flask, admin_client: FlaskClient) -> FlaskClient:
    """An admin (who may open both pages), with one screening and some audit events to filter."""
    insert_submitted(app, [{"outcome": "likely", "submitted_at": datetime(2026, 3, 2, 18, tzinfo=UTC)}])
    return admin_client


def assert_explained(client: FlaskClient, page: str, field: str, label: str, value: str, message: str) -> None:
    response = client.get(page, query_string={field: value})
    assert response.status_code == 200, (page, field, value, response.status_code)
    text = text_of(response)
    assert SUMMARY in text, (page, field, value)
    assert f'href="#{field}"' in response.get_data(as_text=True)  # the summary links to the field
    assert message in text, (page, field, value, text[:400])
    assert "Some filters could not be used" in text and label in text
    assert ".." not in text, "a message that ends in a full stop, then the sentence's own"
    assert response.get_data(as_text=True).count("<title>Error: ") == 1


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize(("page", "field", "label"), DATE_FIELDS)
def test_an_impossible_date_is_explained(admin: FlaskClient, page: str, field: str, label: str) -> None:
    for value, message in BAD_DATES:
        assert_explained(admin, page, field, label, value, message)


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize(("page", "field", "label"), TEXT_FIELDS)
def test_a_control_character_in_a_search_term_is_explained(
    admin: FlaskClient, page: str, field: str, label: str
) -> None:
    for value in BAD_TEXTS:
        assert_explained(admin, page, field, label, value, f"{label} cannot contain control characters")


@pytest.mark.parametrize(("page", "field", "label"), DATE_FIELDS)
def test_the_first_and_last_dates_there_are_work(admin: FlaskClient, page: str, field: str, label: str) -> None:
    for value in ("0001-01-01", "9999-12-31", "2026-3-2", " 2026-03-02 "):
        response = admin.get(page, query_string={field: value})
        assert response.status_code == 200, (page, field, value)
        assert SUMMARY not in text_of(response), (page, field, value)


def test_the_export_refuses_the_same_values_with_the_same_words(admin: FlaskClient) -> None:
    for query, message in [
        ({"submitted_from": "2026-13-45"}, "Enter a month from 01 to 12"),
        ({"reference": "IMS-\x00"}, "Reference cannot contain control characters"),
    ]:
        for export in ("/staff/export.csv", "/staff/export.ndjson"):
            response = admin.get(export, query_string=query)
            assert response.status_code == 400 and message in response.get_data(as_text=True), (export, query)


_hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Nd"]), max_size=20),
    st.integers().map(str),
    st.builds(lambda y, m, d: f"{y}-{m}-{d}", st.integers(-10, 10**12), st.integers(-5, 99), st.integers(-5, 99)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    page=st.sampled_from([QUEUE, AUDIT]),
    values=st.dictionaries(
        st.sampled_from(
            [
                "submitted_from",
                "submitted_to",
                "reference",
                "name",
                "outcome",
                "status",
                "location",
                "at_from",
                "at_to",
                "actor",
                "action",
                "page",
            ]
        ),
        _hostile_text,
        max_size=4,
    ),
)
def test_any_filter_values_give_a_page_never_an_error(admin: FlaskClient, page: str, values: dict[str, str]) -> None:
    response = admin.get(page, query_string=values)
    assert response.status_code == 200, (page, values)
    text = text_of(response)
    if SUMMARY in text:  # whatever was refused is named
        assert "Some filters could not be used" in text
