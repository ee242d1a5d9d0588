"""The /healthz endpoint."""

import pytest
from flask.testing import FlaskClient

from app import create_app


def test_healthy_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "unreachable_url",
    [
        "sqlite:////nonexistent-directory/ims_screen.sqlite3",
        # Port 1 on the loopback interface refuses connections at once.
        "postgresql+psycopg://ims@127.0.0.1:1/ims?connect_timeout=2",
    ],
    ids=["sqlite", "postgresql"],
)
def test_unavailable_when_the_database_is_unreachable(unreachable_url: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": unreachable_url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    # Exactly this body: no exception text, which could name hosts, users or paths.
    assert response.get_json() == {"status": "error", "database": "unavailable"}
    assert response.headers["Cache-Control"] == "no-store"


def test_errors_are_json(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.get_json() == {"status": "error", "error": "Method Not Allowed"}
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
