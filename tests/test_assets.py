"""Static files are linked by their content's fingerprint, so they can be cached for a year."""

import os
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app import assets


def stylesheet_link(client: FlaskClient) -> str:
    match = re.search(r'href="(/static/css/site\.css[^"]*)"', client.get("/").get_data(as_text=True))
    assert match, "no stylesheet link"
    return match.group(1)


def test_pages_link_static_files_by_their_fingerprint(client: FlaskClient) -> None:
    link = stylesheet_link(client)
    with client.application.app_context():
        assert link == f"/static/css/site.css?v={assets.fingerprint('css/site.css')}"
    assert re.fullmatch(r"/static/css/site\.css\?v=[0-9a-f]{12}", link)


def test_a_fingerprinted_file_may_be_kept_for_a_year(client: FlaskClient) -> None:
    with client.get(stylesheet_link(client)) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == assets.IMMUTABLE


def test_an_old_or_missing_fingerprint_must_be_checked_again(client: FlaskClient) -> None:
    for url in ("/static/css/site.css", "/static/css/site.css?v=000000000000"):
        with client.get(url) as response:
            assert response.status_code == 200
            assert "immutable" not in response.headers.get("Cache-Control", ""), url


def test_the_fingerprint_follows_the_content(tmp_path: Path, app: Flask) -> None:
    app.static_folder = str(tmp_path)
    (tmp_path / "a.css").write_text("body { color: black }")
    with app.app_context():
        first = assets.fingerprint("a.css")
        (tmp_path / "a.css").write_text("body { color: navy }")
        os.utime(tmp_path / "a.css", ns=(1, 10**18))
        assert assets.fingerprint("a.css") not in (None, first)
        assert assets.fingerprint("missing.css") is None
