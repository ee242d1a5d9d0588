"""Static files are linked by their content's fingerprint, so they can be cached for a year."""

import os
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app import assets
from rules.outcomes import Outcome


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


def contrast(first: str, second: str) -> float:
    """WCAG 2.2's contrast ratio of two colours written #rgb or #rrggbb (1 to 21)."""

    def luminance(colour: str) -> float:
        digits = colour[1:] if len(colour) == 7 else "".join(2 * digit for digit in colour[1:])
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_outcome_colours_stand_out_from_the_page_as_wcag_asks() -> None:
    """A chart bar is a graphical object (WCAG 1.4.11: 3:1 against what is beside it); a badge's
    text is text (1.4.3: 4.5:1). "Unlikely" bars once were #a1acb2, 2.3:1 on white."""
    colours = dict(stylesheets()["site.css"])
    background = colours["--colour-background"]
    assert contrast("#a1acb2", "#ffffff") < 3 and round(contrast("#767676", "#ffffff"), 2) == 4.54  # the measure
    for outcome in Outcome:
        bar = colours[f"--colour-outcome-{outcome.value}"]
        text = colours.get(f"--colour-outcome-{outcome.value}-text", bar)
        assert contrast(bar, background) >= 3, f"{outcome.value}'s bar: {bar}"
        assert contrast(text, background) >= 4.5, f"{outcome.value}'s badge text: {text}"
