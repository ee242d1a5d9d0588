"""The body map partial (templates/patient/_body_map.html) and its static files.

Rendered with a real app and a real WTForms field, as the form macro includes it. The checkboxes
are the control; the SVG is an aria-hidden picture whose regions CSS highlights.
"""

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask, render_template
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

import rules
from app import create_app
from app.patient.forms import MultiCheckboxField

ROOT = Path(__file__).resolve().parent.parent
PARTIAL = ROOT / "templates" / "patient" / "_body_map.html"
CSS = ROOT / "app" / "static" / "css" / "body-map.css"
JS = ROOT / "app" / "static" / "js" / "body-map.js"

QUESTION = rules.questionnaire().questions["pain_regions"]
CHOICES = [(choice.value, choice.label) for choice in QUESTION.choices]
VALUES = [value for value, _ in CHOICES]
LABELS = dict(CHOICES)
#: Drawn on the front only, and on the back only; every other region is drawn in both views.
FRONT_ONLY = {"chest", "abdomen"}
BACK_ONLY = {"upper_back", "lower_back"}


def make_form_class(choices: list[tuple[str, str]]) -> type[FlaskForm]:
    class PainForm(FlaskForm):
        pain_regions = MultiCheckboxField(  # the field the question pages render it with
            QUESTION.text, choices=[SelectChoice(value, label) for value, label in choices]
        )

    return PainForm


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None], parents: list["Element"]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parents = parents  # outermost first
        self.text = ""

    def within(self, tag: str) -> "Element | None":
        return next((p for p in reversed(self.parents) if p.tag == tag), None)


class Page(HTMLParser):
    """Every element with its attributes, its ancestors and its own text."""

    VOID = {"input", "link", "meta", "br", "img", "hr", "source", "path", "circle", "ellipse"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs), list(self.stack))
        self.elements.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs), list(self.stack)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text += data

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())
        ]


@pytest.fixture(scope="module")
def body_map_app() -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "WTF_CSRF_ENABLED": False})
    yield app


def render(
    app: Flask,
    checked: list[str] | None = None,
    describedby: str = "pain_regions-hint",
    choices: list[tuple[str, str]] = CHOICES,
) -> str:
    with app.test_request_context():
        form = make_form_class(choices)(data={"pain_regions": checked or []})
        return render_template(
            "patient/_body_map.html",
            field=form.pain_regions,
            labels_by_value=dict(choices),
            describedby=describedby,
        )


def checkboxes(page: Page) -> list[Element]:
    return page.find("input", type="checkbox")


def test_one_labelled_checkbox_per_choice(body_map_app: Flask) -> None:
    page = Page(render(body_map_app))
    boxes = checkboxes(page)
    assert sorted(box.attrs["value"] for box in boxes) == sorted(VALUES)
    ids = [box.attrs["id"] for box in boxes]
    assert len(set(ids)) == len(ids)
    for box in boxes:
        assert box.attrs["name"] == "pain_regions"
        labels = page.find("label", for_=box.attrs["id"])
        assert len(labels) == 1
        assert labels[0].text.strip() == LABELS[box.attrs["value"]]
        assert box.attrs["aria-describedby"] == "pain_regions-hint"
        # Each box sits in a labelled group whose heading is in the page.
        group = next(p for p in reversed(box.parents) if p.attrs.get("role") == "group")
        heading = [e for e in page.elements if e.attrs.get("id") == group.attrs["aria-labelledby"]]
        assert len(heading) == 1 and heading[0].text.strip()
        assert box.within("svg") is None


def test_groups_are_in_body_order_with_left_before_right(body_map_app: Flask) -> None:
    page = Page(render(body_map_app))
    headings = [e.text.strip() for e in page.find("p", **{"class": "body-map__heading"})]
    assert headings == [
        "Head and body",
        "Left shoulder and arm",
        "Right shoulder and arm",
        "Left hip and leg",
        "Right hip and leg",
    ]


def test_checked_state_follows_the_field_data(body_map_app: Flask) -> None:
    chosen = ["neck", "shoulder_left", "lower_back", "ankle_foot_right"]
    page = Page(render(body_map_app, checked=chosen))
    ticked = {box.attrs["value"] for box in checkboxes(page) if "checked" in box.attrs}
    assert ticked == set(chosen)
    assert not any("checked" in box.attrs for box in checkboxes(Page(render(body_map_app))))


def test_no_describedby_when_there_is_no_hint_or_error(body_map_app: Flask) -> None:
    page = Page(render(body_map_app, describedby=""))
    assert all("aria-describedby" not in box.attrs for box in checkboxes(page))


def test_a_choice_the_map_does_not_know_still_gets_a_checkbox(body_map_app: Flask) -> None:
    choices = [*CHOICES, ("somewhere_else", "Somewhere else")]
    page = Page(render(body_map_app, choices=choices, checked=["somewhere_else"]))
    [box] = page.find("input", value="somewhere_else")
    assert "checked" in box.attrs
    assert page.find("label", for_=box.attrs["id"])[0].text.strip() == "Somewhere else"


def test_the_picture_draws_every_region_and_only_real_ones(body_map_app: Flask) -> None:
    page = Page(render(body_map_app))
    svgs = page.find("svg")
    assert len(svgs) == 2  # front and back
    for svg in svgs:
        assert svg.attrs["aria-hidden"] == "true"
        assert svg.attrs["focusable"] == "false"
    shapes = [e for e in page.elements if "data-region" in e.attrs]
    assert shapes and all(shape.within("svg") for shape in shapes)
    drawn = {shape.attrs["data-region"] for shape in shapes}
    assert drawn == set(VALUES)
    # Hidden from assistive technology as a whole, note and view names included.
    picture = page.find("div", **{"class": "body-map__picture"})[0]
    assert picture.attrs["aria-hidden"] == "true"
    assert "its left side is on your right" in picture.text


def test_front_and_back_put_the_patients_sides_where_a_viewer_expects(
    body_map_app: Flask,
) -> None:
    """Shapes are drawn for the viewer's left and mirrored; which side that is depends on the view.

    On the front view the patient's right is on the viewer's left (not mirrored); on the back
    view it is the patient's left.
    """
    page = Page(render(body_map_app))
    front, back = page.find("svg")
    for svg, near, far, only, never in (
        (front, "_right", "_left", FRONT_ONLY, BACK_ONLY),
        (back, "_left", "_right", BACK_ONLY, FRONT_ONLY),
    ):
        shapes = [e for e in page.elements if "data-region" in e.attrs and svg in e.parents]
        regions = {s.attrs["data-region"] for s in shapes}
        assert only <= regions and not never & regions
        assert regions == set(VALUES) - never
        for shape in shapes:
            region = shape.attrs["data-region"]
            mirrored = "transform" in shape.attrs
            assert mirrored == region.endswith(far), region
            if not region.endswith((near, far)):
                assert not mirrored
        words = [e.text.strip() for e in page.elements if e.tag == "text" and svg in e.parents]
        assert words == [near[1:].capitalize(), far[1:].capitalize()]


def test_the_stylesheet_highlights_every_region_when_ticked() -> None:
    css = CSS.read_text(encoding="utf-8")
    for value in VALUES:
        selector = f'.body-map:has(input[value="{value}"]:checked) [data-region="{value}"]'
        assert selector in css, value


def test_no_inline_script_style_or_handlers(body_map_app: Flask) -> None:
    html = render(body_map_app, checked=["neck"])
    page = Page(html)
    for element in page.elements:
        assert "style" not in element.attrs, element.tag
        handlers = [name for name in element.attrs if name.startswith("on")]
        assert not handlers, (element.tag, handlers)
    assert not page.find("style")
    scripts = page.find("script")
    # Linked by path and content fingerprint (app/assets.py).
    assert [s.attrs.get("src", "").split("?v=")[0] for s in scripts] == ["/static/js/body-map.js"]
    assert all("defer" in s.attrs and not s.text.strip() for s in scripts)
    sheets = [e.attrs["href"].split("?v=")[0] for e in page.find("link", rel="stylesheet")]
    assert sheets == ["/static/css/body-map.css"]
    assert CSS.is_file() and JS.is_file()


def test_nothing_is_loaded_from_elsewhere(body_map_app: Flask) -> None:
    html = render(body_map_app)
    for text in (html, CSS.read_text(encoding="utf-8"), JS.read_text(encoding="utf-8")):
        assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.IGNORECASE)
        assert "@import" not in text


def test_the_body_map_stays_small() -> None:
    assert sum(path.stat().st_size for path in (PARTIAL, CSS, JS)) < 25_000
