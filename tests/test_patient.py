"""The public, patient-facing pages."""

import re

from flask.testing import FlaskClient


def test_landing_page(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en-CA">' in html
    assert len(re.findall(r"<h1[ >]", html)) == 1
    assert "in-person assessment" in html


def test_pages_load_nothing_from_other_sites(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    # Any src or href that names a host (http://, https:// or protocol-relative //).
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert stylesheet is not None
    with client.get(stylesheet.group(1)) as response:
        assert response.status_code == 200
