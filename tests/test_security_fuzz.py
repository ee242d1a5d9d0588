"""Hostile query strings on every GET route, anonymous and as an admin: never a server error.

Forms posted to the questionnaire are fuzzed in test_patient_fuzz; this covers the query string,
which every view may read (filters, page numbers, `next`, `download`, `return_to`...).
"""

from __future__ import annotations

import string

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import StaffAccounts, submit_screening
from tests.support.hostile import hostile_text
from tests.support.journey import profile, seed_draft
from tests.support.staff_pages import sign_in
from tests.test_security import get_rules, url_for_rule

#: The names views actually read, so that hostile values reach real code, plus random ones.
KNOWN_KEYS = [
    "page",
    "next",
    "download",
    "return_to",
    "days",
    "reference",
    "name",
    "outcome",
    "status",
    "submitted_from",
    "submitted_to",
    "location",
    "action",
    "actor",
    "date_from",
    "date_to",
    "token",
]

QUERIES = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_KEYS), st.text(alphabet=string.ascii_letters + "_[].", min_size=1, max_size=12)),
    hostile_text,
    max_size=4,
)


def test_no_query_string_causes_a_server_error(app: Flask, staff: StaffAccounts) -> None:
    reference = submit_screening(app, profile("ideal_neck"))
    _, token = seed_draft(app, None, profile("ideal_neck"))
    staff.create("admin@clinic.example", "admin")
    urls = sorted(
        {
            url_for_rule(app, rule, reference=reference, token=token)
            for rule in get_rules(app)
            if rule.endpoint != "patient.resume"
        }
    )

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(url=st.sampled_from(urls), query=QUERIES, as_admin=st.booleans())
    def check(url: str, query: dict[str, str], as_admin: bool) -> None:
        client = app.test_client()
        if as_admin:
            assert sign_in(client, "admin@clinic.example").status_code == 303
        response = client.get(url, query_string=query)
        body = response.get_data(as_text=True)
        response.close()
        assert response.status_code < 500, (url, query, response.status_code)
        for value in query.values():
            if "<script" in value or "<svg" in value:
                assert value not in body, (url, "reflected unescaped")

    check()


@pytest.mark.parametrize("value", ["²", "٣", "\x00", "1\x00", "99999999999999999999999"])
def test_every_get_route_as_an_admin_survives_odd_numbers_in_every_known_key(
    app: Flask, staff: StaffAccounts, value: str
) -> None:
    """The deterministic half: each known key, each odd value, every GET route (found the "²" page bugs)."""
    reference = submit_screening(app, profile("ideal_neck"))
    staff.create("admin@clinic.example", "admin")
    client = app.test_client()
    assert sign_in(client, "admin@clinic.example").status_code == 303
    for rule in get_rules(app):
        if rule.endpoint == "patient.resume":
            continue
        url = url_for_rule(app, rule, reference=reference)
        response = client.get(url, query_string={key: value for key in KNOWN_KEYS})
        response.get_data()
        response.close()
        assert response.status_code < 500, (url, value, response.status_code)
