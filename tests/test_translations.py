"""The patient's own language (issue 17): the catalogue template holds every string a patient
reads from the questionnaire and the rule set, languages are chosen by plain links and the
browser's preference, and staff pages stay English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

import rules
from app import create_app
from app.config import ConfigError, config_from_env
from tests.support.journey import answers_before, profile, seed_draft
from tests.support.pseudo_locale import TEMPLATE, pseudo, write_pseudo_catalogue

pytestmark = pytest.mark.one_backend
ROOT = Path(__file__).resolve().parents[1]


def template_ids(path: Path = TEMPLATE) -> set[str]:
    with path.open("rb") as file:
        return {str(message.id) for message in read_po(file) if message.id}


def patient_texts() -> set[str]:
    """Every questionnaire and rule-set text a patient can read, as the loaders give them."""
    questionnaire = rules.questionnaire()
    texts: set[str] = set()
    for section in questionnaire.sections:
        texts.update(t for t in (section.title, section.intro, section.intro_proxy) if t)
        for checklist in section.checklists:
            texts.update(t for t in (checklist.text, checklist.text_proxy, checklist.hint, checklist.hint_proxy) if t)
    for question in questionnaire:
        texts.update(t for t in (question.text, question.text_proxy, question.hint, question.hint_proxy) if t)
        texts.update(t for t in (question.checklist_label, question.checklist_label_proxy) if t)
        texts.update(t for t in question.scale_labels or ())
        for choice in question.choices:
            texts.update(t for t in (choice.label, choice.hint) if t)
    assert questionnaire.safety_net is not None
    for tier in questionnaire.safety_net.tiers:
        texts.update({tier.text, tier.text_proxy, *(sign.text for sign in tier.signs)})
    texts.update(rule.patient_text for rule in rules.ruleset().rules)
    return texts


def test_the_catalogue_template_holds_every_text_a_patient_reads_from_the_yaml() -> None:
    assert sorted(patient_texts() - template_ids()) == []


def test_the_catalogue_template_is_up_to_date(tmp_path: Path) -> None:
    """Run `make translations` after changing a patient's string."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l", "--no-location",
         "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert template_ids(fresh) == template_ids()


@pytest.fixture
def pseudo_app(tmp_path: Path) -> Flask:
    """The app with Punjabi and Farsi 'translated' by the pseudo-translation."""
    for locale in ("pa", "fa"):
        write_pseudo_catalogue(tmp_path, locale)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path),
            "LANGUAGES": ("pa", "fa"),
            "RATELIMIT_ENABLED": False,
        }
    )
    from app.extensions import db

    with app.app_context():
        db.create_all()
    return app


def test_a_language_link_switches_the_page_and_leaves_no_trace_in_the_url(pseudo_app: Flask) -> None:
    client = pseudo_app.test_client()
    seed_draft(pseudo_app, client, answers_before("warning_signs", profile("ideal_neck")))
    page = client.get("/screening/warning_signs").get_data(as_text=True)
    assert '<html lang="en-CA">' in page and 'href="/screening/warning_signs?lang=pa" lang="pa"' in page
    response = client.get("/screening/warning_signs?lang=pa")
    assert (response.status_code, response.location) == (303, "/screening/warning_signs")
    page = client.get("/screening/warning_signs").get_data(as_text=True)
    assert '<html lang="pa">' in page
    checklist = rules.questionnaire().section("warning_signs").checklists[0]  # type: ignore[union-attr]
    assert pseudo(checklist.text) in page and pseudo(checklist.items[0].checklist_label or "") in page
    assert 'lang="en-CA"' in page and ">English<" in page  # the way back, named in itself


def test_farsi_pages_read_right_to_left(pseudo_app: Flask) -> None:
    client = pseudo_app.test_client()
    client.get("/?lang=fa")
    assert '<html lang="fa" dir="rtl">' in client.get("/").get_data(as_text=True)


def test_the_browsers_language_is_the_default_and_a_language_not_offered_is_ignored(pseudo_app: Flask) -> None:
    client = pseudo_app.test_client()
    assert '<html lang="pa">' in client.get("/", headers={"Accept-Language": "pa-IN, en;q=0.5"}).get_data(as_text=True)
    client.get("/?lang=zh-Hans")  # shipped, but not offered here
    assert '<html lang="en-CA">' in client.get("/").get_data(as_text=True)


def test_staff_pages_stay_in_english(pseudo_app: Flask) -> None:
    client = pseudo_app.test_client()
    client.get("/?lang=pa")
    page = client.get("/staff/sign-in").get_data(as_text=True)
    assert '<html lang="en-CA">' in page and "⟦" not in page


def test_a_language_is_offered_only_with_its_catalogue(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path), "LANGUAGES": ("pa",)})
    client = app.test_client()
    client.get("/?lang=pa")
    assert '<html lang="en-CA">' in client.get("/").get_data(as_text=True)


def test_the_languages_setting_names_only_shipped_languages(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LANGUAGES names xx"):
        config_from_env({"LANGUAGES": "pa, xx"}, str(tmp_path))
    assert config_from_env({"LANGUAGES": " fa ,pa"}, str(tmp_path))["LANGUAGES"] == ("fa", "pa")
