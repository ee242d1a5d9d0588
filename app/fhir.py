"""FHIR R4 export: the questionnaire as a `Questionnaire` (with the code systems of its answers);
a screening as a `Bundle` of a `QuestionnaireResponse` (the answers) and a `RiskAssessment` (the
outcome, with the fired rules as its rationale). Plain dicts, validated in the tests with
fhir.resources and with FHIR.js. Reading a response back, and filing one from another tool as a
screening, is app/fhir_import.py.

Canonical URLs are literal: each installation publishes its definitions under its
PUBLIC_BASE_URL (`Publication`), where app/fhir_public.py serves them (the Questionnaire at
`<base>/fhir/Questionnaire/ims-screen`, each code system at `<base>/fhir/CodeSystem/<id>`, and
each of IMS Screen's own extensions, `ExtensionDefinition`, as a StructureDefinition at
`<base>/fhir/StructureDefinition/<id>`, the extension's url).
No standard terminology covers these questions, so each choice question's answers are a code
system of their own (`choice_system`), whose codes are the stored answer values; linkId is
always the question id.

What a form renderer needs to draw the questionnaire as the patient pages do travels with it,
in the SDC and core extensions renderers read (tests/test_fhir_lforms.py draws it in NLM's
LHC-Forms): units (`questionnaire-unit`, UCUM), ranges (`minValue`/`maxValue`, and SDC's
`minQuantity`/`maxQuantity` for a duration), a scale's end labels (`entryFormat`), exclusive
choices (`questionnaire-optionExclusive`), radio buttons and checkboxes (`questionnaire-itemControl`),
each question's hint (a child display item with itemControl `help`) and each page's introduction
(a display item first in its group), and the wording for someone answering for another person
(`cqf-expression` on the text: a FHIRPath expression choosing it once "someone else" is the
answer; a renderer that does not read it shows the person's own wording).

Languages (issue 17): the Questionnaire is written in English (`language` en-CA) and carries, on
each text a patient reads, FHIR's `translation` extension for every language offered whose
catalogue translates that text (not fuzzy): see `Translation`. Whether each language's
translation has been reviewed by a medical translator is recorded on the resource
(extension `TRANSLATION_REVIEW`, and a `meta.tag` while any is unreviewed). A
QuestionnaireResponse's `language` is the language the screening was last worked on in; its
texts stay the Questionnaire's English, in the wording for someone else when the screening was
answered for another person (who is then the response's `source`, a RelatedPerson).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context

import rules
from app import catalogues, i18n
from app.catalogues import Review
from app.config import DEV_PUBLIC_BASE_URL
from rules import conditions
from rules.conditions import Condition
from rules.engine import Result
from rules.outcomes import Outcome
from rules.questionnaire import NUMERIC_TYPES, Choice, Question, Questionnaire, QuestionType, Section

#: UCUM, the units of `questionnaire-unit`, `unitOption` and a duration's `valueQuantity`.
UCUM = "http://unitsofmeasure.org"
#: The questionnaire's units (a question's `unit`, a duration's unit) as UCUM codes.
UCUM_UNITS = {"days": "d", "weeks": "wk", "months": "mo", "years": "a"}
#: The units a duration may be given in (rules.questionnaire.WEEKS_PER_UNIT), as UCUM codes.
UCUM_DURATION_UNITS = UCUM_UNITS

# Extensions of FHIR R4 core and of SDC (http://hl7.org/fhir/uv/sdc) that the export uses.
UNIT_OPTION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
MIN_QUANTITY = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-minQuantity"
MAX_QUANTITY = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-maxQuantity"
ENTRY_FORMAT = "http://hl7.org/fhir/StructureDefinition/entryFormat"
OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
#: An expression that gives an element's value (here an item's text) as the form is filled in.
CQF_EXPRESSION = "http://hl7.org/fhir/StructureDefinition/cqf-expression"
#: SDC's extension for an item enabled by an expression rather than `enableWhen`.
ENABLE_WHEN_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"

#: The language the questionnaire is written in, and that of a screening from before languages.
BASE_LANGUAGE = i18n.ENGLISH.tag
#: FHIR's extension for a string's translation (sub-extensions `lang`, a BCP 47 tag, and `content`).
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
#: The code of the Questionnaire's `meta.tag` while it carries a translation nobody has reviewed
#: (in the code system `Publication.translation_review_system`).
UNREVIEWED_TAG = "unreviewed-translation"

#: The title: the landing page's heading, so that each catalogue's translation of it is the title's.
TITLE = "Could IMS help your muscle pain?"
#: The Questionnaire's id, the last part of its canonical URL.
QUESTIONNAIRE_ID = "ims-screen"
#: The id of the code system of the outcomes (`Publication.outcome_system`).
OUTCOME_CODE_SYSTEM = "outcome"
#: The id of the code system of the `meta.tag` of translations (`Publication.translation_review_system`).
TRANSLATION_REVIEW_CODE_SYSTEM = "translation-review"
#: Who publishes the definitions outside an application (tests, scripts).
DEFAULT_PUBLISHER = "IMS Screen"

_ITEM_TYPES = {
    QuestionType.SINGLE: "choice",
    QuestionType.MULTIPLE: "choice",
    QuestionType.INTEGER: "integer",
    QuestionType.SCALE: "integer",
    QuestionType.DURATION: "quantity",
    QuestionType.TEXT: "string",
}


@dataclass(frozen=True)
class Publication:
    """Where and by whom an installation publishes its FHIR definitions.

    Canonical URLs and identifier systems are literal URLs under `base_url` (PUBLIC_BASE_URL):
    `<base>/fhir/<resource type>/<id>` for a definition (`canonical`: served by
    app/fhir_public.py), and `<base>/fhir/sid/<kind>` for identifiers (which name, not serve).
    """

    base_url: str = DEV_PUBLIC_BASE_URL
    publisher: str = DEFAULT_PUBLISHER

    @classmethod
    def of(cls, app: Flask) -> Publication:
        """The installation's: its PUBLIC_BASE_URL, published by the clinic (CLINIC_NAME)."""
        return cls(app.config["PUBLIC_BASE_URL"], app.config["CLINIC_NAME"])

    @property
    def fhir_base(self) -> str:
        return self.base_url.rstrip("/") + "/fhir"

    def canonical(self, resource_type: str, resource_id: str) -> str:
        """The canonical URL of a definition: where app/fhir_public.py serves it."""
        return f"{self.fhir_base}/{resource_type}/{resource_id}"

    @property
    def questionnaire_url(self) -> str:
        """The screening's Questionnaire (app/fhir_followup.py has the follow-up's)."""
        return self.canonical("Questionnaire", QUESTIONNAIRE_ID)

    def code_system_url(self, code_system_id: str) -> str:
        return self.canonical("CodeSystem", code_system_id)

    def extension_url(self, extension_id: str) -> str:
        """An extension's url, which in FHIR is the canonical URL of its StructureDefinition."""
        return self.canonical("StructureDefinition", extension_id)

    def choice_system(self, question_id: str) -> str:
        """The code system of one choice question's answers."""
        return self.code_system_url(choice_code_system_id(question_id))

    @property
    def outcome_system(self) -> str:
        return self.code_system_url(OUTCOME_CODE_SYSTEM)

    @property
    def translation_review_system(self) -> str:
        return self.code_system_url(TRANSLATION_REVIEW_CODE_SYSTEM)

    def identifier_system(self, kind: str) -> str:
        """The system of one kind of identifier (`IDENTIFIER_KINDS`, and app/fhir_followup.py's
        `IDENTIFIER_KIND`), e.g. `<base>/fhir/sid/screening`."""
        return f"{self.fhir_base}/sid/{kind}"


#: Identifier systems, one per kind of thing a reference names, each with the screening's
#: reference as its value: the screening itself (its QuestionnaireResponse), the person it is
#: about (a Patient identifier of `use` temp: IMS Screen knows no more of who they are), its
#: outcome (the RiskAssessment) and one export of it (the Bundle).
IDENTIFIER_KINDS = ("screening", "screening-person", "screening-outcome", "screening-export")


def publication() -> Publication:
    """The publication of the app in context; the development defaults outside one."""
    return Publication.of(current_app) if has_app_context() else Publication()


def choice_code_system_id(question_id: str) -> str:
    """The id of the code system of a choice question's answers (a FHIR id has no underscores)."""
    return "choice-" + question_id.replace("_", "-")


def choice_system(question_id: str, where: Publication | None = None) -> str:
    """The code system URL of a choice question's answers, as `where` (the app's) publishes it."""
    return (where or publication()).choice_system(question_id)


def release_date(version: str) -> str:
    """The date the rule set of `version` (and so the questionnaire of that version) took effect,
    from rules/data/changelog.yaml: the Questionnaire's and code systems' `date`."""
    human = version.split("+", 1)[0]
    return next((entry.date for entry in rules.ruleset().changelog if entry.version == human), "")


#: Where FHIR's own StructureDefinitions are (a resource type's, a data type's).
HL7_DEFINITIONS = "http://hl7.org/fhir/StructureDefinition/"
#: FHIR's definition of an extension, which each of IMS Screen's own constrains.
EXTENSION_BASE = HL7_DEFINITIONS + "Extension"
#: The FHIR version IMS Screen's definitions are written for (R4).
FHIR_VERSION = "4.0.1"


@dataclass(frozen=True)
class ExtensionPart:
    """One part of a complex extension: a sub-extension named by a plain word (as FHIR's own
    `translation` names `lang` and `content`), holding one value."""

    url: str
    #: The FHIR type of its value ("code", "string"...), as the export writes it.
    value_type: str
    definition: str
    required: bool = True


@dataclass(frozen=True, kw_only=True)
class ExtensionDefinition:
    """One of IMS Screen's own extensions, for what FHIR R4 has no element for. Its url is the
    canonical URL of its StructureDefinition (`resource`), which app/fhir_public.py serves there:
    what it means, on which resource it appears, and what it holds (one value of `value_type`, or
    `parts`)."""

    #: The StructureDefinition's id, the last part of the url.
    id: str
    #: A name for code generators: a capital letter, then letters and digits.
    name: str
    title: str
    #: What it means, plainly.
    description: str
    #: The resource type that carries it.
    context: str
    #: The FHIR type of its one value; None for an extension of `parts`.
    value_type: str | None = None
    #: The resource type a Reference value points to.
    target: str | None = None
    parts: tuple[ExtensionPart, ...] = ()
    #: Whether a resource may carry it more than once.
    repeats: bool = False
    #: The definition's version and the date it took effect: change both when what it says changes.
    version: str
    date: str

    def url(self, where: Publication) -> str:
        return where.extension_url(self.id)

    def resource(self, where: Publication) -> dict[str, Any]:
        """Its StructureDefinition as `where` publishes it: a constraint on FHIR's Extension, stated
        as a differential (the extension, its parts or its value, its fixed url)."""
        url = self.url(where)
        root = {"id": "Extension", "path": "Extension", "short": self.title, "definition": self.description}
        elements: list[dict[str, Any]] = [{**root, "min": 0, "max": "*" if self.repeats else "1"}]
        if self.parts:
            slicing = {"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}
            elements.append({"id": "Extension.extension", "path": "Extension.extension", "slicing": slicing})
            for part in self.parts:
                elements += _part_elements(part)
        else:
            elements.append({"id": "Extension.extension", "path": "Extension.extension", "max": "0"})
        elements.append({"id": "Extension.url", "path": "Extension.url", "fixedUri": url})
        value: dict[str, Any] = {"id": "Extension.value[x]", "path": "Extension.value[x]"}
        if self.value_type is None:
            value["max"] = "0"
        else:
            kind: dict[str, Any] = {"code": self.value_type}
            if self.target is not None:
                kind["targetProfile"] = [HL7_DEFINITIONS + self.target]
            value.update(min=1, type=[kind])
        elements.append(value)
        return {
            "resourceType": "StructureDefinition",
            "id": self.id,
            "url": url,
            "version": self.version,
            "name": self.name,
            "title": self.title,
            "status": "active",
            "date": self.date,
            "publisher": where.publisher,
            "description": self.description,
            "fhirVersion": FHIR_VERSION,
            "kind": "complex-type",
            "abstract": False,
            "context": [{"type": "element", "expression": self.context}],
            "type": "Extension",
            "baseDefinition": EXTENSION_BASE,
            "derivation": "constraint",
            "differential": {"element": elements},
        }


def _part_elements(part: ExtensionPart) -> list[dict[str, Any]]:
    """The differential of one part of a complex extension: a slice of `Extension.extension` with
    its fixed url and the type of its value."""
    name = f"Extension.extension:{part.url}"
    return [
        {
            "id": name,
            "path": "Extension.extension",
            "sliceName": part.url,
            "definition": part.definition,
            "min": 1 if part.required else 0,
            "max": "1",
        },
        {"id": f"{name}.extension", "path": "Extension.extension.extension", "max": "0"},
        {"id": f"{name}.url", "path": "Extension.extension.url", "fixedUri": part.url},
        {
            "id": f"{name}.value[x]",
            "path": "Extension.extension.value[x]",
            "min": 1,
            "type": [{"code": part.value_type}],
        },
    ]


@dataclass(frozen=True)
class Translation:
    """One language's translations of the questionnaire's texts: its Babel catalogue's messages
    that are translated and not fuzzy (a text without one is left untranslated in that language),
    and the catalogue's review."""

    #: The BCP 47 tag (app.i18n.LANGUAGES).
    tag: str
    #: English text -> its translation.
    messages: Mapping[str, str]
    review: Review = field(default_factory=Review)

    @classmethod
    def from_catalogue(cls, directory: Path, language: i18n.Language) -> Translation:
        found = catalogues.status(directory, language.locale)
        return cls(language.tag, catalogues.translations(directory, language.locale), found.review)


def translations_offered(app: Flask) -> tuple[Translation, ...]:
    """The translations of each language `app` offers patients besides English (app/i18n.py:
    named in LANGUAGES and compiled; in production also safe, and reviewed or opted in), read
    from the catalogues whatever language the current request is in."""
    directory = Path(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    return tuple(
        Translation.from_catalogue(directory, language)
        for language in i18n.offered(app)
        if language is not i18n.ENGLISH
    )


def _translation(tag: str, content: str) -> dict[str, Any]:
    return {
        "url": TRANSLATION,
        "extension": [{"url": "lang", "valueCode": tag}, {"url": "content", "valueString": content}],
    }


def _translated(text: str, translations: Sequence[Translation]) -> dict[str, Any] | None:
    """The element (`_text`, `_display`...) carrying `text`'s translations, or None without any."""
    found = [_translation(t.tag, content) for t in translations if (content := t.messages.get(text))]
    return {"extension": found} if found else None


def _with_translations(element: dict[str, Any], name: str, translations: Sequence[Translation]) -> dict[str, Any]:
    """`element`, with the translations of its text `name` beside it (`_name`), if any."""
    translated = _translated(element[name], translations)
    if translated is not None:
        element["_" + name] = translated
    return element


#: A translation's review as `TRANSLATION_REVIEW` states it.
REVIEW_STATUSES = ("reviewed", "review-out-of-date", "unreviewed")

#: IMS Screen's record, on the Questionnaire, of each translation's review (app/catalogues.py).
TRANSLATION_REVIEW = ExtensionDefinition(
    id="translation-review",
    name="TranslationReview",
    title="Review of a translation",
    description=(
        "Whether a medical translator has reviewed the translations of one language that the "
        "Questionnaire carries (FHIR's translation extension), of which version of that language's "
        "catalogue, and who reviewed it when. One per language offered besides English."
    ),
    context="Questionnaire",
    repeats=True,
    version="1",
    date="2026-12-07",
    parts=(
        ExtensionPart("lang", "code", "The language (a BCP 47 tag) whose translations were reviewed."),
        ExtensionPart(
            "status",
            "code",
            f"How far they were reviewed: {', '.join(REVIEW_STATUSES)} (review-out-of-date: reviewed, but the "
            "translations changed since).",
        ),
        ExtensionPart(
            "catalogueVersion", "string", "The version of the language's catalogue the translations are from."
        ),
        ExtensionPart("reviewedBy", "string", "Who reviewed them (name and qualification), once reviewed.", False),
        ExtensionPart("reviewedOn", "string", "When they were reviewed (YYYY-MM-DD), once reviewed.", False),
    ),
)


def _review_status(review: Review) -> str:
    return "reviewed" if review.reviewed else "review-out-of-date" if review.out_of_date else "unreviewed"


def _review_extension(translation: Translation, where: Publication) -> dict[str, Any]:
    """`TRANSLATION_REVIEW` for one language: its review, as app/catalogues.py reads it."""
    review = translation.review
    parts: list[dict[str, Any]] = [
        {"url": "lang", "valueCode": translation.tag},
        {"url": "status", "valueCode": _review_status(review)},
        {"url": "catalogueVersion", "valueString": review.current_version},
    ]
    if review.reviewed:
        parts += [{"url": "reviewedBy", "valueString": review.by}, {"url": "reviewedOn", "valueString": review.on}]
    return {"url": TRANSLATION_REVIEW.url(where), "extension": parts}


#: What the `meta.tag` of a Questionnaire carrying unreviewed translations means (its code system).
UNREVIEWED_DEFINITION = (
    "The resource carries machine-assisted draft translations that no medical translator has "
    "reviewed; they must not be presented as reviewed."
)


def _unreviewed_tag(translations: Sequence[Translation], where: Publication) -> dict[str, str] | None:
    """The Questionnaire's `meta.tag` while any of its translations is unreviewed, naming them, so
    that no system presents a draft as reviewed; None when every one is reviewed."""
    unreviewed = [t.tag for t in translations if not t.review.reviewed]
    if not unreviewed:
        return None
    display = (
        "Machine-assisted draft translations, not reviewed by a medical translator: "
        f"{', '.join(unreviewed)}. Do not rely on them for warning signs or emergency advice."
    )
    return {"system": where.translation_review_system, "code": UNREVIEWED_TAG, "display": display}


def questionnaire_resource(
    questionnaire: Questionnaire,
    version: str,
    translations: Sequence[Translation] | None = None,
    where: Publication | None = None,
) -> dict[str, Any]:
    """The whole questionnaire; sections become groups (their introduction a display item first),
    `enable_when` becomes `enableWhen` (see `enabling`), hints become help items (see `_item`).

    `translations`: the languages whose translations it carries; by default those the app in
    context offers (`translations_offered`), none outside an app context. `where`: its canonical
    URL and publisher, by default the app's (`publication`).
    """
    if translations is None:
        translations = translations_offered(current_app) if has_app_context() else ()
    where = where or publication()
    resource: dict[str, Any] = {"resourceType": "Questionnaire", "id": QUESTIONNAIRE_ID}
    if unreviewed := _unreviewed_tag(translations, where):
        resource["meta"] = {"tag": [unreviewed]}
    resource["language"] = BASE_LANGUAGE
    if translations:
        resource["extension"] = [_review_extension(t, where) for t in translations]
    wording = _Wording(questionnaire, translations)
    resource.update(
        {
            "url": where.questionnaire_url,
            "version": version,
            "name": "IMSScreen",
            "title": TITLE,
            "status": "active",
            "subjectType": ["Patient"],
            "date": release_date(version) or None,
            "publisher": where.publisher,
            "item": [_group(section, questionnaire, wording, where) for section in questionnaire.sections],
        }
    )
    if resource["date"] is None:  # a version the changelog does not know (tests): no date to state
        del resource["date"]
    return _with_translations(resource, "title", translations)


@dataclass(frozen=True)
class _Wording:
    """The texts of one questionnaire as FHIR elements: with their translations, and, where
    someone answering for another person reads other words, a `cqf-expression` choosing those
    once the answer says so (with the translations of the person's own words only: a renderer
    that follows the expression shows English)."""

    questionnaire: Questionnaire
    translations: Sequence[Translation]

    @cached_property
    def for_someone_else(self) -> str | None:
        """FHIRPath, over the response being filled in, true when it is for someone else."""
        asking = next((q for q in self.questionnaire if q.someone_else_choice is not None), None)
        if asking is None:
            return None
        return fhirpath(conditions.Equals(asking.id, asking.someone_else_choice), self.questionnaire)

    def element(
        self,
        element: dict[str, Any],
        name: str,
        someone_else: str | None = None,
        translate: Callable[[Mapping[str, str]], str | None] | None = None,
    ) -> dict[str, Any]:
        """`element` with its text `name` translated, and `someone_else`'s words for another person.

        `translate(messages)` gives the text in the language of a catalogue's messages (None when
        they lack a part of it); by default its translation, as a message of the catalogue.
        """
        text = element[name]
        translate = translate or (lambda messages: messages.get(text))
        found = [_translation(t.tag, content) for t in self.translations if (content := translate(t.messages))]
        condition = self.for_someone_else
        if someone_else is not None and someone_else != text and condition is not None:
            expression = f"iif({condition}, {_literal(someone_else)}, {_literal(text)})"
            found.append(
                {"url": CQF_EXPRESSION, "valueExpression": {"language": "text/fhirpath", "expression": expression}}
            )
        if found:
            element["_" + name] = {"extension": found}
        return element


def _item_control(code: str) -> dict[str, Any]:
    return {
        "url": ITEM_CONTROL,
        "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": code}]},
    }


def _group(section: Section, questionnaire: Questionnaire, wording: _Wording, where: Publication) -> dict[str, Any]:
    """A page as a group: its introduction as a display item first, then its questions."""
    items: list[dict[str, Any]] = []
    if section.intro:
        intro = {"linkId": f"{section.id}.intro", "type": "display", "text": section.intro}
        items.append(wording.element(intro, "text", section.intro_for(for_someone_else=True)))
    items += [_item(question, questionnaire, wording, where) for question in section.questions]
    group = {"linkId": section.id, "type": "group", "text": section.title, "item": items}
    return wording.element(group, "text")


def ucum(unit: str) -> str:
    """The UCUM code of one of the questionnaire's units; ValueError for one it has not."""
    try:
        return UCUM_UNITS[unit]
    except KeyError:
        raise ValueError(f"no UCUM code for the unit {unit!r}: add it to app.fhir.UCUM_UNITS") from None


def _unit_coding(unit: str, translations: Sequence[Translation]) -> dict[str, Any]:
    return _with_translations({"system": UCUM, "code": ucum(unit), "display": unit}, "display", translations)


def _item(question: Question, questionnaire: Questionnaire, wording: _Wording, where: Publication) -> dict[str, Any]:
    """One question, with what a renderer needs to draw it as the patient pages do."""
    translations = wording.translations
    item: dict[str, Any] = {"linkId": question.id, "text": question.text}
    wording.element(item, "text", question.text_proxy)
    item.update(type=_ITEM_TYPES[question.type], required=question.required)
    if question.type is QuestionType.MULTIPLE:
        item["repeats"] = True
    extensions: list[dict[str, Any]] = []
    if question.choices:
        # Every choice shown (the body map's 24 areas too), as the patient pages show them.
        extensions.append(_item_control("check-box" if question.type is QuestionType.MULTIPLE else "radio-button"))
        item["answerOption"] = [_option(question, choice, translations, where) for choice in question.choices]
    if question.type in (QuestionType.INTEGER, QuestionType.SCALE):
        assert question.minimum is not None and question.maximum is not None
        extensions += [
            {"url": MIN_VALUE, "valueInteger": question.minimum},
            {"url": MAX_VALUE, "valueInteger": question.maximum},
        ]
        if question.unit:
            extensions.append({"url": UNIT, "valueCoding": _unit_coding(question.unit, translations)})
    if question.scale_labels is not None:
        extensions.append(_entry_format(question))
    if question.type is QuestionType.DURATION:  # given in any of these units, not only the rules' weeks
        assert question.maximum is not None and question.unit is not None
        extensions += [
            {"url": UNIT_OPTION, "valueCoding": _unit_coding(unit, translations)} for unit in UCUM_DURATION_UNITS
        ]
        # At least 1 of any unit (no pain lasts 0 days), at most the question's maximum.
        extensions += [
            {"url": MIN_QUANTITY, "valueQuantity": {"value": 1, "unit": "days", "system": UCUM, "code": ucum("days")}},
            {
                "url": MAX_QUANTITY,
                "valueQuantity": {
                    "value": question.maximum,
                    "unit": question.unit,
                    "system": UCUM,
                    "code": ucum(question.unit),
                },
            },
        ]
    if question.type is QuestionType.TEXT and question.max_length:
        item["maxLength"] = question.max_length
    if question.enable_when is not None:
        enabled = enabling(question.enable_when, questionnaire, where)
        extensions += enabled.pop("extension", [])
        item.update(enabled)
    if extensions:
        item["extension"] = extensions
    if question.hint or question.scale_labels:
        item["item"] = [_help(question, wording)]
    return item


def _help(question: Question, wording: _Wording) -> dict[str, Any]:
    """A question's help, as a child display item a renderer shows beside it (itemControl help):
    its hint, and a scale's end labels ("0 = No pain, 10 = Worst pain imaginable")."""

    def text(messages: Mapping[str, str] | None, for_someone_else: bool = False) -> str | None:
        """In English (no `messages`), or in a catalogue's language: None when a part is untranslated."""
        words: Callable[[str], str | None] = (lambda english: english) if messages is None else messages.get
        parts: list[str | None] = []
        if hint := question.wording(for_someone_else)[1]:
            parts.append(words(hint))
        if question.scale_labels is not None:
            low, high = question.scale_labels
            parts.append(_end_labels(question, words(low), words(high)))
        return " ".join(part for part in parts if part) if all(parts) else None

    english = text(None)
    assert english
    help_item: dict[str, Any] = {"linkId": f"{question.id}.help", "type": "display", "text": english}
    wording.element(help_item, "text", text(None, for_someone_else=True), translate=text)
    help_item["extension"] = [_item_control("help")]
    return help_item


def _end_labels(question: Question, low: str | None, high: str | None) -> str | None:
    """A scale's ends, "0 = No pain, 10 = Worst pain imaginable"; None when a label is missing."""
    if not low or not high:
        return None
    return f"{question.minimum} = {low}, {question.maximum} = {high}"


def _option(
    question: Question, choice: Choice, translations: Sequence[Translation], where: Publication
) -> dict[str, Any]:
    coding = {"system": where.choice_system(question.id), "code": choice.value, "display": choice.label}
    option: dict[str, Any] = {"valueCoding": _with_translations(coding, "display", translations)}
    if choice.exclusive:  # "None of these", "Not sure": never together with another choice
        option["extension"] = [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]
    return option


def _entry_format(question: Question) -> dict[str, Any]:
    """A scale's end labels, as the hint a renderer shows in the empty field (in English: FHIR's
    translation extension is for elements, and its help item carries them translated)."""
    assert question.scale_labels is not None
    return {"url": ENTRY_FORMAT, "valueString": _end_labels(question, *question.scale_labels)}


def code_system_resource(
    code_system_id: str,
    name: str,
    title: str,
    concepts: list[dict[str, str]],
    version: str,
    date: str,
    where: Publication,
) -> dict[str, Any]:
    """A complete code system of IMS Screen's, as `where` publishes it at its canonical URL;
    `version` and `date` those of the Questionnaire it belongs to (no `date` when "")."""
    resource = {
        "resourceType": "CodeSystem",
        "id": code_system_id,
        "url": where.code_system_url(code_system_id),
        "version": version,
        "name": name,
        "title": title,
        "status": "active",
        "date": date or None,
        "publisher": where.publisher,
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }
    return {key: value for key, value in resource.items() if value is not None}


def code_systems(
    questionnaire: Questionnaire, version: str, where: Publication | None = None
) -> dict[str, dict[str, Any]]:
    """Every code system the exports use, by id: each choice question's answers, the outcomes,
    and the `meta.tag` of unreviewed translations. Served by app/fhir_public.py at their URLs."""
    where = where or publication()

    def code_system(code_system_id: str, name: str, title: str, concepts: list[dict[str, str]]) -> dict[str, Any]:
        return code_system_resource(code_system_id, name, title, concepts, version, release_date(version), where)

    found = {
        choice_code_system_id(q.id): code_system(
            choice_code_system_id(q.id),
            "IMSScreenChoice" + "".join(part.title() for part in q.id.split("_")),
            f"Answers to “{q.text}”",
            [{"code": c.value, "display": c.label} for c in q.choices],
        )
        for q in questionnaire
        if q.choices
    }
    found[OUTCOME_CODE_SYSTEM] = code_system(
        OUTCOME_CODE_SYSTEM,
        "IMSScreenOutcome",
        "IMS Screen outcomes, most urgent first",
        [{"code": o.value, "display": o.staff_label, "definition": o.patient_label} for o in Outcome],
    )
    found[TRANSLATION_REVIEW_CODE_SYSTEM] = code_system(
        TRANSLATION_REVIEW_CODE_SYSTEM,
        "IMSScreenTranslationReview",
        "Whether a resource's translations were reviewed",
        [{"code": UNREVIEWED_TAG, "display": "Unreviewed translation", "definition": UNREVIEWED_DEFINITION}],
    )
    return found


def enabling(condition: Condition, questionnaire: Questionnaire, where: Publication | None = None) -> dict[str, Any]:
    """The item elements that enable it while `condition` holds.

    FHIR R4's `enableWhen` is one level: a list of comparisons, all or any of which must hold
    (`enableBehavior`). A condition that fits is exported so, as most software reads it; one that
    does not (any of alls, all of anys, a count, a negated group) is never flattened, which would
    change when the item applies, but exported whole as a FHIRPath expression in SDC's
    `enableWhenExpression` extension (an item has one or the other, never both).
    """
    flat = condition.accept(_EnableWhen(questionnaire.questions, where or publication()))
    if flat is None:
        expression = {"language": "text/fhirpath", "expression": fhirpath(condition, questionnaire)}
        return {"extension": [{"url": ENABLE_WHEN_EXPRESSION, "valueExpression": expression}]}
    behaviour, clauses = flat
    return {"enableWhen": clauses, "enableBehavior": behaviour} if len(clauses) > 1 else {"enableWhen": clauses}


def fhirpath(condition: Condition, questionnaire: Questionnaire) -> str:
    """A FHIRPath expression, over the QuestionnaireResponse being filled in, for `condition`."""
    return condition.accept(_FhirPath(questionnaire.questions))


#: ("all" or "any", enableWhen clauses).
_Clauses = tuple[str, list[dict[str, Any]]]


class _EnableWhen(conditions.Visitor[_Clauses | None]):
    """A condition as one level of `enableWhen` clauses, or None when that cannot say it exactly.

    FHIR's operators compare each answer: `=` holds when any answer equals the value, `!=` when
    none does (so also when there is no answer, as `not` does here), `>=` and `<=` when any answer
    is within the bound. Comparisons whose meaning differs from the condition's (say `equals` on a
    multiple-choice question, whose answer is a list) are left to the expression.
    """

    def __init__(self, questions: Mapping[str, Question], where: Publication) -> None:
        self.questions = questions
        self.where = where

    def otherwise(self, condition: Condition) -> None:
        return None  # counts, derived facts: only an expression says them

    def _group(self, condition: conditions.All, behaviour: str) -> _Clauses | None:
        if len(condition.conditions) == 1:
            return condition.conditions[0].accept(self)
        clauses: list[dict[str, Any]] = []
        for part in condition.conditions:
            found = part.accept(self)
            if found is None:
                return None
            part_behaviour, part_clauses = found
            if len(part_clauses) > 1 and part_behaviour != behaviour:
                return None  # an any inside an all, or an all inside an any: not one level
            clauses += part_clauses
        return behaviour, clauses

    def visit_all(self, condition: conditions.All) -> _Clauses | None:
        return self._group(condition, "all")

    def visit_any(self, condition: conditions.AnyOf) -> _Clauses | None:
        return self._group(condition, "any")

    def visit_not(self, condition: conditions.Not) -> _Clauses | None:
        found = condition.condition.accept(self)
        if found is None or len(found[1]) != 1:
            return None
        (clause,) = found[1]
        if clause["operator"] == "=":
            return "all", [dict(clause, operator="!=")]
        if clause["operator"] == "exists":
            return "all", [dict(clause, answerBoolean=not clause["answerBoolean"])]
        return None  # not (n >= 10) also holds with no answer, which `<` would not

    def _one_answer(self, name: str) -> Question | None:
        question = self.questions.get(name)
        return question if question is not None and question.type is not QuestionType.MULTIPLE else None

    def visit_equals(self, condition: conditions.Equals) -> _Clauses | None:
        question = self._one_answer(condition.name)
        return None if question is None else ("all", [_clause(self.where, question, "=", condition.expected)])

    def visit_one_of(self, condition: conditions.OneOf) -> _Clauses | None:
        question = self._one_answer(condition.name)
        return (
            None if question is None else ("any", [_clause(self.where, question, "=", v) for v in condition.expected])
        )

    def visit_includes_any(self, condition: conditions.IncludesAny) -> _Clauses | None:
        question = self.questions.get(condition.name)
        if question is None or question.type is not QuestionType.MULTIPLE:
            return None
        return "any", [_clause(self.where, question, "=", value) for value in condition.expected]

    def visit_answered(self, condition: conditions.Answered) -> _Clauses | None:
        if condition.name not in self.questions:
            return None
        return "all", [{"question": condition.name, "operator": "exists", "answerBoolean": True}]

    def _bound(self, condition: conditions.AtLeast, operator: str) -> _Clauses | None:
        question = self.questions.get(condition.name)
        if question is None or question.type not in NUMERIC_TYPES:
            return None
        return "all", [_clause(self.where, question, operator, condition.bound)]

    def visit_at_least(self, condition: conditions.AtLeast) -> _Clauses | None:
        return self._bound(condition, ">=")

    def visit_at_most(self, condition: conditions.AtMost) -> _Clauses | None:
        return self._bound(condition, "<=")


def _clause(where: Publication, question: Question, operator: str, value: object) -> dict[str, Any]:
    clause: dict[str, Any] = {"question": question.id, "operator": operator}
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        clause["answerCoding"] = {"system": where.choice_system(question.id), "code": value}
    elif question.type is QuestionType.TEXT:
        clause["answerString"] = value
    else:
        clause["answerInteger"] = value
    return clause


class _FhirPath(conditions.Visitor[str]):
    """A condition as a FHIRPath expression over the QuestionnaireResponse being filled in, true
    exactly when the condition holds for its answers (and, like it, never true of a missing one)."""

    def __init__(self, questions: Mapping[str, Question]) -> None:
        self.questions = questions

    def _answers(self, name: str) -> str:
        question = self.questions[name]
        value = "answer.value.code" if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE) else "answer.value"
        return f"%resource.repeat(item).where(linkId = {_literal(name)}).{value}"

    def _any_answer(self, name: str, tests: list[str]) -> str:
        return f"{self._answers(name)}.exists({' or '.join(tests)})"

    def _is_multiple(self, name: str) -> bool:
        return self.questions[name].type is QuestionType.MULTIPLE

    def visit_all(self, condition: conditions.All) -> str:
        return "(" + " and ".join(part.accept(self) for part in condition.conditions) + ")"

    def visit_any(self, condition: conditions.AnyOf) -> str:
        return "(" + " or ".join(part.accept(self) for part in condition.conditions) + ")"

    def visit_count_of(self, condition: conditions.CountOf) -> str:
        counted = " + ".join(f"iif({part.accept(self)}, 1, 0)" for part in condition.conditions)
        return f"(({counted}) >= {condition.minimum})"

    def visit_not(self, condition: conditions.Not) -> str:
        return f"({condition.condition.accept(self)}).not()"

    def visit_answered(self, condition: conditions.Answered) -> str:
        return f"{self._answers(condition.name)}.exists()"

    def visit_fact(self, condition: conditions.Fact) -> str:
        return "false"  # an answer is never the value true, which a fact tests for

    def visit_equals(self, condition: conditions.Equals) -> str:
        if self._is_multiple(condition.name):
            return "false"  # a multiple-choice answer is a list, never one value
        return self._any_answer(condition.name, [f"$this = {_literal(condition.expected)}"])

    def visit_one_of(self, condition: conditions.OneOf) -> str:
        if self._is_multiple(condition.name):
            return "false"
        return self._any_answer(condition.name, [f"$this = {_literal(value)}" for value in condition.expected])

    def visit_includes_any(self, condition: conditions.IncludesAny) -> str:
        if not self._is_multiple(condition.name):
            return "false"  # only a multiple-choice answer includes anything
        return self._any_answer(condition.name, [f"$this = {_literal(value)}" for value in condition.expected])

    def visit_at_least(self, condition: conditions.AtLeast) -> str:
        if self.questions[condition.name].type not in NUMERIC_TYPES:
            return "false"
        return self._any_answer(condition.name, [f"$this >= {_literal(condition.bound)}"])

    def visit_at_most(self, condition: conditions.AtMost) -> str:
        if self.questions[condition.name].type not in NUMERIC_TYPES:
            return "false"
        return self._any_answer(condition.name, [f"$this <= {_literal(condition.bound)}"])


def _literal(value: object) -> str:
    """`value` as a FHIRPath literal: a string in single quotes (escaped), or a number."""
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    raise ValueError(f"FHIRPath export has no literal for {value!r}")


def _answers(question: Question, value: object, where: Publication) -> list[dict[str, Any]]:
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        values = value if isinstance(value, list) else [value]
        return [
            {
                "valueCoding": {
                    "system": where.choice_system(question.id),
                    "code": v,
                    "display": question.labels.get(str(v), str(v)),
                }
            }
            for v in values
        ]
    if question.type is QuestionType.TEXT:
        return [{"valueString": value}]
    if question.type is QuestionType.DURATION:
        # As given ("3 days"); one stored before units were kept is a number of weeks.
        amount, unit = (value, "weeks") if isinstance(value, int) else (value["amount"], value["unit"])  # type: ignore[index]
        return [{"valueQuantity": {"value": amount, "unit": unit, "system": UCUM, "code": UCUM_DURATION_UNITS[unit]}}]
    return [{"valueInteger": value}]


def screening_bundle(
    reference: str,
    answers: Mapping[str, object],
    submitted_at: str,
    result: Result,
    questionnaire: Questionnaire | None = None,
    language: str = BASE_LANGUAGE,
    where: Publication | None = None,
) -> dict[str, Any]:
    """A submitted screening as a collection Bundle: the Patient (whom IMS Screen knows only as
    the person the screening is about), the answers (QuestionnaireResponse), the outcome
    (RiskAssessment) and, when someone answered for the person, that someone (RelatedPerson, the
    response's `source`).

    Each resource has an identifier system of its own (`IDENTIFIER_KINDS`), all valued with the
    reference. `language` (a BCP 47 tag) is the QuestionnaireResponse's: the language the
    screening was last worked on in. Each answer's own language (`Screening.answer_languages`,
    which the staff page names) is left out: FHIR R4 has no element for it, and its `language`
    extension is for names, addresses and annotations only. The item texts are the
    Questionnaire's, in English, worded as the person who answered read them.
    """
    questionnaire = questionnaire or rules.questionnaire()
    where = where or publication()
    for_someone_else = questionnaire.for_someone_else(answers)

    patient_id, response_id, risk_id, related_id = (
        f"urn:uuid:{_uuid(reference, kind)}" for kind in ("patient", "response", "risk", "related-person")
    )

    def identifier(kind: str) -> dict[str, str]:
        return {"system": where.identifier_system(kind), "value": reference}

    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "language": language,
        "identifier": identifier("screening"),
        "questionnaire": f"{where.questionnaire_url}|{result.ruleset_version}",
        # "stopped": the journey ended early because the answers already decided the outcome
        # (rules.decided), so the later questions were never asked.
        "status": "stopped" if result.missing else "completed",
        "subject": {"reference": patient_id},
        "authored": submitted_at,
    }
    if for_someone_else:
        response["source"] = {"reference": related_id}
    response["item"] = [
        {
            "linkId": section.id,
            "text": section.title,
            "item": [
                {
                    "linkId": q.id,
                    "text": q.wording(for_someone_else)[0],
                    "answer": _answers(q, answers[q.id], where),
                }
                for q in section.questions
                if answers.get(q.id) is not None
            ],
        }
        for section in questionnaire.sections
        if any(answers.get(q.id) is not None for q in section.questions)
    ]
    outcome = result.outcome
    prediction: dict[str, Any] = {
        "outcome": {
            "coding": [{"system": where.outcome_system, "code": outcome.value, "display": outcome.staff_label}],
            "text": f"{outcome.staff_label}: {outcome.patient_label}",
        },
    }
    risk: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "identifier": [identifier("screening-outcome")],
        "status": "final",
        "subject": {"reference": patient_id},
        "occurrenceDateTime": submitted_at,
        "method": {"text": f"IMS Screen rule set {result.ruleset_version}"},
        "basis": [{"reference": response_id}],
        "prediction": [prediction],
    }
    if result.reasons:  # FHIR allows no empty string or list: with no rule fired, none is written
        prediction["rationale"] = "; ".join(f"{r.rule_id} {r.title}" for r in result.reasons)
        risk["note"] = [{"text": f"{r.rule_id} ({r.outcome.value}): {r.staff_rationale}"} for r in result.reasons]
    patient = {"resourceType": "Patient", "identifier": [{"use": "temp", **identifier("screening-person")}]}
    entries = [
        {"fullUrl": patient_id, "resource": patient},
        {"fullUrl": response_id, "resource": response},
        {"fullUrl": risk_id, "resource": risk},
    ]
    if for_someone_else:
        entries.append({"fullUrl": related_id, "resource": _related_person(questionnaire, answers, patient_id, where)})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": identifier("screening-export"),
        "entry": entries,
    }


def _related_person(
    questionnaire: Questionnaire, answers: Mapping[str, object], patient_id: str, where: Publication
) -> dict[str, Any]:
    """Whoever answered for the person: known only by how they are related to them, if they said."""
    person: dict[str, Any] = {"resourceType": "RelatedPerson", "patient": {"reference": patient_id}}
    asked = questionnaire.relationship_question
    value = answers.get(asked.id) if asked is not None else None
    if asked is not None and isinstance(value, str) and value in asked.labels:
        coding = {"system": where.choice_system(asked.id), "code": value, "display": asked.labels[value]}
        person["relationship"] = [{"coding": [coding], "text": asked.labels[value]}]
    return person


def _uuid(reference: str, kind: str) -> str:
    # The uuid5 name is never exported, only the uuid: changing it would change every fullUrl.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:ims-screen:{kind}:{reference}"))
