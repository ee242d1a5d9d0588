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


# ---- Colours: each one a custom property, named by its role -----------------------------------

CSS = Path(__file__).resolve().parents[1] / "app" / "static" / "css"
#: A colour written out: #rgb, #rrggbb (with alpha too), or a functional notation.
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch)\(")


def declarations(css: str) -> list[tuple[str, str]]:
    """The (property, value) pairs of a stylesheet, comments left out."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    chunks = re.split(r"([{}])", css)
    pairs = []
    # What comes before a "{" is a selector or an @media condition (`a:hover`, `(min-width: 40rem)`);
    # what comes before a "}" is a block's declarations.
    for chunk, closing in zip(chunks[::2], chunks[1::2], strict=False):
        if closing == "}":
            for declaration in chunk.split(";"):
                name, colon, value = declaration.partition(":")
                if colon:
                    pairs.append((name.strip(), value.strip()))
    return pairs


def stylesheets() -> dict[str, list[tuple[str, str]]]:
    return {path.name: declarations(path.read_text(encoding="utf-8")) for path in sorted(CSS.glob("*.css"))}


def test_the_stylesheets_are_found_and_read() -> None:
    sheets = stylesheets()
    assert {"site.css", "staff.css", "body-map.css"} <= set(sheets)
    assert ("color", "var(--colour-text)") in sheets["site.css"]
    assert declarations("a:hover { color: #fff; } :root { --x: #000 }") == [("color", "#fff"), ("--x", "#000")]


def test_colours_are_written_only_as_custom_properties() -> None:
    written_out = [
        f"{sheet}: {name}: {value}"
        for sheet, pairs in stylesheets().items()
        for name, value in pairs
        if COLOUR.search(value) and not name.startswith("--")
    ]
    assert written_out == [], "use a custom property from site.css's :root (or the body map's own)"


def test_every_custom_property_used_is_defined_and_every_one_defined_is_used() -> None:
    pairs = [pair for sheet in stylesheets().values() for pair in sheet]
    defined = {name for name, _ in pairs if name.startswith("--")}
    used = {match for _, value in pairs for match in re.findall(r"var\(\s*(--[\w-]+)", value)}
    assert used - defined == set(), "an undefined property leaves the colour to inheritance, unchecked"
    assert defined - used == set()


def test_a_colour_is_defined_once_per_role() -> None:
    names = [name for sheet in stylesheets().values() for name, _ in sheet if name.startswith("--colour-")]
    assert len(names) == len(set(names))
