"""The FHIR export in the patient's languages (issue 17): the Questionnaire carries each language's
translations from its Babel catalogue, only where a message is translated and not fuzzy, and says
whether a medical translator reviewed them; a QuestionnaireResponse records its language.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import rules
from app import catalogues, fhir, fhir_import, i18n
from app.extensions import db
from app.models import Screening
from rules.questionnaire import Category
from tests.conftest import submit_screening
from tests.support.fhir_tools import Validator
from tests.test_fhir import TRANSLATIONS, assert_valid_translations

#: A red-flag question and one of its choices.
RED_FLAG = next(q for q in rules.questionnaire() if q.category is Category.RED_FLAG and q.choices)
CHOICE = RED_FLAG.choices[-1]


def catalogue_string(locale: str, text: str) -> str:
    """The shipped catalogue's translation of `text`, read here on its own."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        message = read_po(file).get(text)
    assert message is not None and message.string and not message.fuzzy, (locale, text)
    return str(message.string)


def translations_of(element: dict[str, Any]) -> dict[str, str]:
    """A string's translations (`_text`, `_display`...) as language tag -> text."""
    return {
        parts[0]["valueCode"]: parts[1]["valueString"]
        for parts in (e["extension"] for e in element.get("extension", []) if e["url"] == fhir.TRANSLATION)
    }


def exported(translations: tuple[fhir.Translation, ...], validator: Validator) -> dict[str, Any]:
    """The questionnaire with `translations`, checked by fhir.resources, FHIR.js and the translation rules."""
    resource = fhir.questionnaire_resource(rules.questionnaire(), "test", translations)
    parsed = Questionnaire.model_validate(resource)
    validator.assert_valid(resource)
    assert_valid_translations(resource, parsed.model_dump(mode="json", exclude_none=True))
    return resource


def item_of(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next(item for group in resource["item"] for item in group["item"] if item["linkId"] == link_id)


def test_the_questionnaire_carries_the_punjabi_and_farsi_catalogues_translations(fhir_validator: Validator) -> None:
    languages = [i18n.BY_TAG["pa"], i18n.BY_TAG["fa"]]
    resource = exported(
        tuple(fhir.Translation.from_catalogue(TRANSLATIONS, language) for language in languages), fhir_validator
    )
    item = item_of(resource, RED_FLAG.id)
    option = next(o["valueCoding"] for o in item["answerOption"] if o["valueCoding"]["code"] == CHOICE.value)
    for language in languages:
        assert translations_of(item["_text"])[language.tag] == catalogue_string(language.locale, RED_FLAG.text)
        assert translations_of(option["_display"])[language.tag] == catalogue_string(language.locale, CHOICE.label)
        assert translations_of(resource["_title"])[language.tag] == catalogue_string(language.locale, fhir.TITLE)
    assert set(translations_of(item["_text"])) == {"pa", "fa"}
    assert resource["language"] == "en-CA"
    # The shipped drafts are unreviewed, and the resource says so.
    (tag,) = resource["meta"]["tag"]
    assert (tag["system"], tag["code"]) == (fhir.publication().translation_review_system, fhir.UNREVIEWED_TAG)
    assert "pa, fa" in tag["display"] and "not reviewed" in tag["display"]
    assert [review_of(resource, tag)["status"] for tag in ("pa", "fa")] == ["unreviewed", "unreviewed"]


def test_every_text_a_patient_reads_is_translated_in_every_shipped_language(fhir_validator: Validator) -> None:
    resource = exported(
        tuple(fhir.Translation.from_catalogue(TRANSLATIONS, lang) for lang in i18n.LANGUAGES[1:]), fhir_validator
    )
    others = {language.tag for language in i18n.LANGUAGES[1:]}
    strings = [resource["_title"]]
    for group in resource["item"]:
        strings.append(group["_text"])
        for item in group["item"]:  # the page's introduction too, and each question's help
            strings += [item["_text"], *(child["_text"] for child in item.get("item", []))]
            strings += [o["valueCoding"]["_display"] for o in item.get("answerOption", [])]
            strings += [
                e["valueCoding"]["_display"]
                for e in item.get("extension", [])
                if e["url"] in (fhir.UNIT_OPTION, fhir.UNIT)
            ]
    assert all(set(translations_of(element)) == others for element in strings)


def write_catalogues(directory: Path, catalogues_: dict[str, dict[str, tuple[str, bool]]]) -> Path:
    """A template of every message named, and per locale a catalogue: text -> (translation, fuzzy)."""
    template = Catalog()
    for messages in catalogues_.values():
        for text in messages:
            template.add(text)
    with (directory / "messages.pot").open("wb") as file:
        write_po(file, template)
    for locale, messages in catalogues_.items():
        catalogue = Catalog(locale=locale)
        for text, (translation, fuzzy) in messages.items():
            catalogue.add(text, translation, flags=["fuzzy"] if fuzzy else [])
        (directory / locale / "LC_MESSAGES").mkdir(parents=True)
        with (directory / locale / "LC_MESSAGES" / "messages.po").open("wb") as file:
            write_po(file, catalogue)
    return directory


def test_a_missing_or_fuzzy_message_gets_no_translation_in_that_language(
    tmp_path: Path, fhir_validator: Validator
) -> None:
    write_catalogues(
        tmp_path,
        {
            # Punjabi: the question fuzzy, the choice untranslated; Farsi: both translated.
            "pa": {RED_FLAG.text: ("ਪੁਰਾਣਾ ਅਨੁਵਾਦ", True), CHOICE.label: ("", False)},
            "fa": {RED_FLAG.text: ("پرسش", False), CHOICE.label: ("گزینه", False)},
        },
    )
    languages = (i18n.BY_TAG["pa"], i18n.BY_TAG["fa"])
    resource = exported(
        tuple(fhir.Translation.from_catalogue(tmp_path, language) for language in languages), fhir_validator
    )
    item = item_of(resource, RED_FLAG.id)
    option = next(o["valueCoding"] for o in item["answerOption"] if o["valueCoding"]["code"] == CHOICE.value)
    assert translations_of(item["_text"]) == {"fa": "پرسش"}
    assert translations_of(option["_display"]) == {"fa": "گزینه"}
    # A text neither catalogue has stays English only: no empty `_text`.
    assert "_title" not in resource and "_text" not in resource["item"][0]


def test_a_reviewed_translation_is_stated_as_such_and_an_unreviewed_one_is_tagged(
    tmp_path: Path, fhir_validator: Validator
) -> None:
    write_catalogues(tmp_path, {"pa": {RED_FLAG.text: ("ਪ੍ਰਸ਼ਨ", False)}, "fa": {RED_FLAG.text: ("پرسش", False)}})
    version = catalogues.status(tmp_path, "pa").review.current_version
    (tmp_path / "pa" / catalogues.REVIEW_FILE).write_text(
        f"status: reviewed\nreviewed_by: A. Singh, certified medical translator\nreviewed_on: 2027-01-15\n"
        f"version: {version}\n",
        encoding="utf-8",
    )
    pa, fa = (fhir.Translation.from_catalogue(tmp_path, i18n.BY_TAG[tag]) for tag in ("pa", "fa"))
    both = exported((pa, fa), fhir_validator)
    assert review_of(both, "pa") == {
        "lang": "pa",
        "status": "reviewed",
        "catalogueVersion": version,
        "reviewedBy": "A. Singh, certified medical translator",
        "reviewedOn": "2027-01-15",
    }
    assert review_of(both, "fa")["status"] == "unreviewed"
    assert both["meta"]["tag"][0]["display"].startswith("Machine-assisted draft translations")
    assert ": fa." in both["meta"]["tag"][0]["display"]  # Punjabi is not named among the drafts
    assert "meta" not in exported((pa,), fhir_validator)  # all reviewed: nothing to warn of
    assert "meta" not in exported((), fhir_validator) and "extension" not in exported((), fhir_validator)


def review_of(resource: dict[str, Any], tag: str) -> dict[str, str]:
    """The review the Questionnaire (published by default, as `exported`'s) states for the language
    `tag`, as sub-extension -> value."""
    for extension in resource["extension"]:
        if extension["url"] == fhir.TRANSLATION_REVIEW.url(fhir.Publication()):
            parts = {
                part["url"]: next(v for k, v in part.items() if k.startswith("value"))
                for part in extension["extension"]
            }
            if parts["lang"] == tag:
                return parts
    raise AssertionError(f"no review stated for {tag}")


@pytest.mark.parametrize(
    "broken",
    [
        {"url": fhir.TRANSLATION, "extension": [{"url": "lang", "valueCode": "pa"}]},  # no content
        {
            "url": fhir.TRANSLATION,
            "extension": [{"url": "lang", "valueCode": "xx"}, {"url": "content", "valueString": "x"}],
        },
        {"url": fhir.TRANSLATION, "valueString": "x"},  # a value instead of its parts
    ],
)
def test_the_translation_check_finds_a_broken_translation(broken: dict[str, Any]) -> None:
    resource = fhir.questionnaire_resource(rules.questionnaire(), "test", ())
    resource["_title"] = {"extension": [broken]}
    parsed = Questionnaire.model_validate(resource)
    with pytest.raises((AssertionError, KeyError, ValueError)):
        assert_valid_translations(resource, parsed.model_dump(mode="json", exclude_none=True))


def test_the_response_of_a_screening_answered_in_punjabi_is_in_punjabi(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    answers = dict(ideal_answers, interpreter_needed="yes", interpreter_language="ਪੰਜਾਬੀ")
    reference = submit_screening(app, answers)
    earlier = submit_screening(app, ideal_answers)
    with app.app_context():
        screening = db.session.scalars(select(Screening).where(Screening.reference == reference)).one()
        # Begun in English, finished in Punjabi, the interpreter's language typed in Punjabi.
        screening.language = "pa"
        screening.answer_languages = {**dict.fromkeys(answers, "en-CA"), "interpreter_language": "pa"}
        db.session.commit()
    response = response_of(physio_client, reference)
    assert response["language"] == "pa"
    typed = next(i for g in response["item"] for i in g["item"] if i["linkId"] == "interpreter_language")
    assert typed["answer"] == [{"valueString": "ਪੰਜਾਬੀ"}]
    assert fhir_import.answers_from_response(response)["interpreter_language"] == "ਪੰਜਾਬੀ"
    # A screening from before languages were kept is in English.
    assert response_of(physio_client, earlier)["language"] == "en-CA"


def response_of(client: FlaskClient, reference: str) -> dict[str, Any]:
    bundle = json.loads(client.get(f"/staff/fhir/screenings/{reference}.json").get_data(as_text=True))
    Bundle.model_validate(bundle)
    response: dict[str, Any] = bundle["entry"][1]["resource"]
    return response


def test_the_staff_download_carries_the_translations_of_the_languages_offered(
    app: Flask, physio_client: FlaskClient
) -> None:
    resource = json.loads(physio_client.get("/staff/fhir/questionnaire.json").get_data(as_text=True))
    assert_valid_translations(
        resource, Questionnaire.model_validate(resource).model_dump(mode="json", exclude_none=True)
    )
    offered = [language.tag for language in i18n.offered(app)[1:]]
    assert list(translations_of(item_of(resource, RED_FLAG.id).get("_text", {}))) == offered  # compiled ones
