"""FHIR R4 export: the questionnaire as a `Questionnaire`; a screening as a `Bundle` of a
`QuestionnaireResponse` (the answers) and a `RiskAssessment` (the outcome, with the fired rules
as its rationale). Plain dicts, validated in the tests with fhir.resources.

Codes live in IMS Screen's own code systems (urn:ims-screen:...), since no standard terminology
covers these questions; linkId is always the question id.

Languages (issue 17): the Questionnaire is written in English (`language` en-CA) and carries, on
each text a patient reads, FHIR's `translation` extension for every language offered whose
catalogue translates that text (not fuzzy): see `Translation`. Whether each language's
translation has been reviewed by a medical translator is recorded on the resource
(`TRANSLATION_REVIEW_EXTENSION`, and a `meta.tag` while any is unreviewed). A
QuestionnaireResponse's `language` is the language the screening was last worked on in; its
texts stay the Questionnaire's English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context

import rules
from app import catalogues, i18n
from app.catalogues import Review
from rules import conditions
from rules.conditions import Condition
from rules.engine import Result
from rules.questionnaire import NUMERIC_TYPES, Question, Questionnaire, QuestionType, duration

#: A duration's units as UCUM codes, for `valueQuantity`.
UCUM = "http://unitsofmeasure.org"
UCUM_DURATION_UNITS = {"days": "d", "weeks": "wk", "months": "mo", "years": "a"}
UNIT_OPTION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption"

CANONICAL = "urn:ims-screen:questionnaire"
OUTCOME_SYSTEM = "urn:ims-screen:outcome"
#: SDC's extension for an item enabled by an expression rather than `enableWhen`.
ENABLE_WHEN_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"

#: The language the questionnaire is written in, and that of a screening from before languages.
BASE_LANGUAGE = i18n.ENGLISH.tag
#: FHIR's extension for a string's translation (sub-extensions `lang`, a BCP 47 tag, and `content`).
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
#: IMS Screen's record, on the Questionnaire, of each translation's review (app/catalogues.py):
#: sub-extensions `lang`, `status` (`REVIEW_STATUSES`), `catalogueVersion`, and when reviewed
#: `reviewedBy` and `reviewedOn`.
TRANSLATION_REVIEW_EXTENSION = "urn:ims-screen:extension:translation-review"
#: The `meta.tag` system of a Questionnaire carrying a translation nobody has reviewed.
TRANSLATION_REVIEW_SYSTEM = "urn:ims-screen:translation-review"
UNREVIEWED_TAG = "unreviewed-translation"

#: The title: the landing page's heading, so that each catalogue's translation of it is the title's.
TITLE = "Could IMS help your muscle pain?"

_ITEM_TYPES = {
    QuestionType.SINGLE: "choice",
    QuestionType.MULTIPLE: "choice",
    QuestionType.INTEGER: "integer",
    QuestionType.SCALE: "integer",
    QuestionType.DURATION: "quantity",
    QuestionType.TEXT: "string",
}


def choice_system(question_id: str) -> str:
    return f"urn:ims-screen:choice:{question_id}"


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


def _translated(text: str, translations: Sequence[Translation]) -> dict[str, Any] | None:
    """The element (`_text`, `_display`...) carrying `text`'s translations, or None without any."""
    found = [
        {
            "url": TRANSLATION,
            "extension": [{"url": "lang", "valueCode": t.tag}, {"url": "content", "valueString": content}],
        }
        for t in translations
        if (content := t.messages.get(text))
    ]
    return {"extension": found} if found else None


def _with_translations(element: dict[str, Any], name: str, translations: Sequence[Translation]) -> dict[str, Any]:
    """`element`, with the translations of its text `name` beside it (`_name`), if any."""
    translated = _translated(element[name], translations)
    if translated is not None:
        element["_" + name] = translated
    return element


#: A translation's review as `TRANSLATION_REVIEW_EXTENSION` states it.
REVIEW_STATUSES = ("reviewed", "review-out-of-date", "unreviewed")


def _review_status(review: Review) -> str:
    return "reviewed" if review.reviewed else "review-out-of-date" if review.out_of_date else "unreviewed"


def _review_extension(translation: Translation) -> dict[str, Any]:
    """`TRANSLATION_REVIEW_EXTENSION` for one language: its review, as app/catalogues.py reads it."""
    review = translation.review
    parts: list[dict[str, Any]] = [
        {"url": "lang", "valueCode": translation.tag},
        {"url": "status", "valueCode": _review_status(review)},
        {"url": "catalogueVersion", "valueString": review.current_version},
    ]
    if review.reviewed:
        parts += [{"url": "reviewedBy", "valueString": review.by}, {"url": "reviewedOn", "valueString": review.on}]
    return {"url": TRANSLATION_REVIEW_EXTENSION, "extension": parts}


def _unreviewed_tag(translations: Sequence[Translation]) -> dict[str, str] | None:
    """The Questionnaire's `meta.tag` while any of its translations is unreviewed, naming them, so
    that no system presents a draft as reviewed; None when every one is reviewed."""
    unreviewed = [t.tag for t in translations if not t.review.reviewed]
    if not unreviewed:
        return None
    display = (
        "Machine-assisted draft translations, not reviewed by a medical translator: "
        f"{', '.join(unreviewed)}. Do not rely on them for warning signs or emergency advice."
    )
    return {"system": TRANSLATION_REVIEW_SYSTEM, "code": UNREVIEWED_TAG, "display": display}


def questionnaire_resource(
    questionnaire: Questionnaire, version: str, translations: Sequence[Translation] | None = None
) -> dict[str, Any]:
    """The whole questionnaire; sections become groups, `enable_when` becomes `enableWhen` (see `enabling`).

    `translations`: the languages whose translations it carries; by default those the app in
    context offers (`translations_offered`), none outside an app context.
    """
    if translations is None:
        translations = translations_offered(current_app) if has_app_context() else ()
    resource: dict[str, Any] = {"resourceType": "Questionnaire", "id": "ims-screen"}
    if unreviewed := _unreviewed_tag(translations):
        resource["meta"] = {"tag": [unreviewed]}
    resource["language"] = BASE_LANGUAGE
    if translations:
        resource["extension"] = [_review_extension(t) for t in translations]
    resource.update(
        {
            "url": CANONICAL,
            "version": version,
            "name": "IMSScreen",
            "title": TITLE,
            "status": "active",
            "subjectType": ["Patient"],
            "item": [
                _with_translations(
                    {
                        "linkId": section.id,
                        "type": "group",
                        "text": section.title,
                        "item": [_item(question, questionnaire, translations) for question in section.questions],
                    },
                    "text",
                    translations,
                )
                for section in questionnaire.sections
            ],
        }
    )
    return _with_translations(resource, "title", translations)


def _item(question: Question, questionnaire: Questionnaire, translations: Sequence[Translation]) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.id, "text": question.text}
    _with_translations(item, "text", translations)
    item.update(type=_ITEM_TYPES[question.type], required=question.required)
    if question.type is QuestionType.MULTIPLE:
        item["repeats"] = True
    if question.choices:
        item["answerOption"] = [
            {
                "valueCoding": _with_translations(
                    {"system": choice_system(question.id), "code": c.value, "display": c.label}, "display", translations
                )
            }
            for c in question.choices
        ]
    if question.type is QuestionType.TEXT and question.max_length:
        item["maxLength"] = question.max_length
    if question.type is QuestionType.DURATION:  # given in any of these units, not only the rules' weeks
        item["extension"] = [
            {
                "url": UNIT_OPTION,
                "valueCoding": _with_translations(
                    {"system": UCUM, "code": code, "display": unit}, "display", translations
                ),
            }
            for unit, code in UCUM_DURATION_UNITS.items()
        ]
    elif question.unit:
        item["code"] = [{"system": "urn:ims-screen:unit", "code": question.unit, "display": question.unit}]
    if question.enable_when is not None:
        enabled = enabling(question.enable_when, questionnaire)
        item.update(enabled, extension=item.get("extension", []) + enabled.get("extension", []))
        if not item["extension"]:
            del item["extension"]
    return item


def enabling(condition: Condition, questionnaire: Questionnaire) -> dict[str, Any]:
    """The item elements that enable it while `condition` holds.

    FHIR R4's `enableWhen` is one level: a list of comparisons, all or any of which must hold
    (`enableBehavior`). A condition that fits is exported so, as most software reads it; one that
    does not (any of alls, all of anys, a count, a negated group) is never flattened, which would
    change when the item applies, but exported whole as a FHIRPath expression in SDC's
    `enableWhenExpression` extension (an item has one or the other, never both).
    """
    flat = condition.accept(_EnableWhen(questionnaire.questions))
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

    def __init__(self, questions: Mapping[str, Question]) -> None:
        self.questions = questions

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
        return None if question is None else ("all", [_clause(question, "=", condition.expected)])

    def visit_one_of(self, condition: conditions.OneOf) -> _Clauses | None:
        question = self._one_answer(condition.name)
        return None if question is None else ("any", [_clause(question, "=", v) for v in condition.expected])

    def visit_includes_any(self, condition: conditions.IncludesAny) -> _Clauses | None:
        question = self.questions.get(condition.name)
        if question is None or question.type is not QuestionType.MULTIPLE:
            return None
        return "any", [_clause(question, "=", value) for value in condition.expected]

    def visit_answered(self, condition: conditions.Answered) -> _Clauses | None:
        if condition.name not in self.questions:
            return None
        return "all", [{"question": condition.name, "operator": "exists", "answerBoolean": True}]

    def _bound(self, condition: conditions.AtLeast, operator: str) -> _Clauses | None:
        question = self.questions.get(condition.name)
        if question is None or question.type not in NUMERIC_TYPES:
            return None
        return "all", [_clause(question, operator, condition.bound)]

    def visit_at_least(self, condition: conditions.AtLeast) -> _Clauses | None:
        return self._bound(condition, ">=")

    def visit_at_most(self, condition: conditions.AtMost) -> _Clauses | None:
        return self._bound(condition, "<=")


def _clause(question: Question, operator: str, value: object) -> dict[str, Any]:
    clause: dict[str, Any] = {"question": question.id, "operator": operator}
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        clause["answerCoding"] = {"system": choice_system(question.id), "code": value}
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


def _answers(question: Question, value: object) -> list[dict[str, Any]]:
    if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        values = value if isinstance(value, list) else [value]
        return [
            {
                "valueCoding": {
                    "system": choice_system(question.id),
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
) -> dict[str, Any]:
    """A submitted screening as a collection Bundle: Patient (reference only), answers, risk assessment.

    `language` (a BCP 47 tag) is the QuestionnaireResponse's: the language the screening was
    last worked on in. Each answer's own language (`Screening.answer_languages`, which the staff
    page names) is left out: FHIR R4 has no element for it, and its `language` extension is for
    names, addresses and annotations only. The item texts are the Questionnaire's, in English.
    """
    questionnaire = questionnaire or rules.questionnaire()

    patient_id, response_id, risk_id = (
        f"urn:uuid:{_uuid(reference, kind)}" for kind in ("patient", "response", "risk")
    )
    response = {
        "resourceType": "QuestionnaireResponse",
        "language": language,
        "identifier": {"system": "urn:ims-screen:reference", "value": reference},
        "questionnaire": f"{CANONICAL}|{result.ruleset_version}",
        # "stopped": the journey ended early because the answers already decided the outcome
        # (rules.decided), so the later questions were never asked.
        "status": "stopped" if result.missing else "completed",
        "subject": {"reference": patient_id},
        "authored": submitted_at,
        "item": [
            {
                "linkId": section.id,
                "text": section.title,
                "item": [
                    {"linkId": q.id, "text": q.text, "answer": _answers(q, answers[q.id])}
                    for q in section.questions
                    if answers.get(q.id) is not None
                ],
            }
            for section in questionnaire.sections
            if any(answers.get(q.id) is not None for q in section.questions)
        ],
    }
    risk = {
        "resourceType": "RiskAssessment",
        "identifier": [{"system": "urn:ims-screen:reference", "value": reference}],
        "status": "final",
        "subject": {"reference": patient_id},
        "occurrenceDateTime": submitted_at,
        "method": {"text": f"IMS Screen rule set {result.ruleset_version}"},
        "basis": [{"reference": response_id}],
        "prediction": [
            {
                "outcome": {
                    "coding": [{"system": OUTCOME_SYSTEM, "code": result.outcome.value}],
                    "text": result.outcome.value,
                },
                "rationale": "; ".join(f"{r.rule_id} {r.title}" for r in result.reasons),
            }
        ],
        "note": [{"text": f"{r.rule_id} ({r.outcome.value}): {r.staff_rationale}"} for r in result.reasons],
    }
    patient = {"resourceType": "Patient", "identifier": [{"system": "urn:ims-screen:reference", "value": reference}]}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": {"system": "urn:ims-screen:reference", "value": reference},
        "entry": [
            {"fullUrl": patient_id, "resource": patient},
            {"fullUrl": response_id, "resource": response},
            {"fullUrl": risk_id, "resource": risk},
        ],
    }


def answers_from_response(response: Mapping[str, Any], questionnaire: Questionnaire | None = None) -> dict[str, object]:
    """Answers (question id -> value) read back from a QuestionnaireResponse."""
    questions = (questionnaire or rules.questionnaire()).questions
    answers: dict[str, object] = {}
    for group in response.get("item", []):
        for item in group.get("item", []):
            question = questions[item["linkId"]]
            values = [next(v for k, v in answer.items() if k.startswith("value")) for answer in item["answer"]]
            values = [_value_read_back(v) for v in values]
            answers[question.id] = values if question.type is QuestionType.MULTIPLE else values[0]
    return answers


def _value_read_back(value: object) -> object:
    """An answer's value from a `value[x]`: a coding's code, a quantity as a duration, else itself."""
    if isinstance(value, Mapping) and "code" in value and "value" not in value:
        return value["code"]
    if isinstance(value, Mapping):
        unit = next(name for name, code in UCUM_DURATION_UNITS.items() if code == value["code"])
        if value["value"] == 0:  # "0 weeks", stored before days could be given (now "at least 1 day")
            return 0
        return duration(value["value"], unit)
    return value


def _uuid(reference: str, kind: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:ims-screen:{kind}:{reference}"))
