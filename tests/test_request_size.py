"""Request size bounds: bodies, multipart parts and fields are capped well above the largest
real post (see MAX_CONTENT_LENGTH in app/config.py); bigger ones get a plain 413 page."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

import rules
from app.config import MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE, MAX_FORM_PARTS
from app.staff.interop import IMPORT_MAX_BYTES
from tests.conftest import sqlite_only
from tests.support.journey import Journey, Page, answers_before, form_data, profile, seed_draft, unchanged

IDEAL = profile("ideal_neck")


def assert_too_large_page(response: object) -> None:
    page = Page(response)  # type: ignore[arg-type]
    assert page.status == 413
    assert page.title.startswith("What you sent was too long")
    assert "Nothing was saved" in page.main
    assert "Traceback" not in page.html


@sqlite_only
def test_the_largest_real_question_page_fits_easily(app: Flask, client: FlaskClient) -> None:
    """The body map with every region ticked, sent back to the check page."""
    seed_draft(app, client, IDEAL)
    regions = rules.questionnaire().questions["pain_regions"].choice_values
    response = Journey(client).answer("pain_location", {**IDEAL, "pain_regions": list(regions)}, return_to="check")
    assert response.status_code == 303, Page(response).field_errors()


@sqlite_only
def test_a_body_over_the_limit_gets_the_too_large_page_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    journey = Journey(client)
    fields = {**form_data("pain_location", IDEAL), "pain_regions": ["neck"] * (MAX_CONTENT_LENGTH // 10)}
    with unchanged(app):
        assert_too_large_page(journey.post_step("pain_location", fields))


@sqlite_only
@pytest.mark.parametrize("path", ["/start", "/screening/about"])
def test_every_form_is_bounded(app: Flask, client: FlaskClient, path: str) -> None:
    seed_draft(app, client)
    response = client.post(path, data={"csrf_token": "x", "filler": "x" * MAX_CONTENT_LENGTH})
    assert_too_large_page(response)


@sqlite_only
def test_a_staff_form_over_the_limit_gets_the_staff_page_naming_the_limit(app: Flask, client: FlaskClient) -> None:
    """Staff are not told to shorten what they typed, nor sent to the patients' start."""
    response = client.post("/staff/sign-in", data={"csrf_token": "x", "filler": "x" * MAX_CONTENT_LENGTH})
    page = Page(response)
    assert page.status == 413 and page.title.startswith("What you sent is too large")
    assert "What your browser sent is larger than 64 KiB, the most this page takes. Nothing was saved." in page.main
    assert 'href="/staff/sign-in"' in page.html and "IMS Screen staff" in page.html
    assert "Go to the start" not in page.html and "shorten what you typed" not in page.html


@sqlite_only
def test_an_import_file_over_the_limit_gets_the_staff_page_naming_the_limit(
    app: Flask, physio_client: FlaskClient
) -> None:
    # Written out rather than built by the test client, which spools a body this size to a file it leaves open.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="response"; filename="big.json"\r\n'
        b"Content-Type: application/json\r\n\r\n{" + b" " * IMPORT_MAX_BYTES + b"}\r\n--b--\r\n"
    )
    response = physio_client.post("/staff/fhir/import", data=body, content_type="multipart/form-data; boundary=b")
    page = Page(response)
    assert page.status == 413 and page.title.startswith("The file is too large")
    assert "The file is larger than 512 KiB, the most this page takes. Nothing was saved or imported." in page.main
    assert 'href="/staff/fhir/import">Go back and choose another file</a>' in page.html
    assert "Sign out" in page.html and "Go to the start" not in page.html  # the staff menu, not the patients'
    hint = Page(physio_client.get("/staff/fhir/import")).main
    assert "A .json file of at most 512 KiB" in hint


@sqlite_only
def test_too_many_multipart_parts_get_the_too_large_page(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    fields = {f"field{n}": "x" for n in range(MAX_FORM_PARTS + 1)}
    with unchanged(app):
        response = client.post("/screening/pain_location", data=fields, content_type="multipart/form-data")
    assert_too_large_page(response)


@sqlite_only
def test_a_multipart_field_over_the_limit_gets_the_too_large_page(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client)
    with unchanged(app):
        response = client.post(
            "/screening/about",
            content_type="multipart/form-data",
            data={"interpreter_language": "x" * (MAX_FORM_MEMORY_SIZE + 1)},
        )
    assert_too_large_page(response)


@sqlite_only
def test_a_multipart_post_within_the_limits_still_works(app: Flask, client: FlaskClient) -> None:
    """Browsers post these forms url-encoded, but a multipart post of the same fields is fine."""
    seed_draft(app, client, answers_before("about", IDEAL))
    journey = Journey(client)
    data = {"csrf_token": journey.csrf_token(), "action": "continue", **form_data("about", IDEAL)}
    response = client.post("/screening/about", data=data, content_type="multipart/form-data")
    assert response.status_code == 303


def test_the_limits_are_the_configured_ones(app: Flask) -> None:
    assert (app.config["MAX_CONTENT_LENGTH"], app.config["MAX_FORM_MEMORY_SIZE"], app.config["MAX_FORM_PARTS"]) == (
        MAX_CONTENT_LENGTH,
        MAX_FORM_MEMORY_SIZE,
        MAX_FORM_PARTS,
    )
