"""FHIR R4 export: the questionnaire as a `Questionnaire`; a screening as a `Bundle` of a
`QuestionnaireResponse` (the answers) and a `RiskAssessment` (the outcome, with the fired rules
as its rationale). Plain dicts, validated in the tests with fhir.resources.

Codes live in IMS Screen's own code systems (urn:ims-screen:...), since no standard terminology
covers these questions; linkId is always the question id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rules
from rules import conditions
from rules.conditions import Condition
from rules.questionnaire import Question, Questionnaire, QuestionType

CANONICAL = "urn:ims-screen:questionnaire"
OUTCOME_SYSTEM = "urn:ims-screen:outcome"

_ITEM_TYPES = {
    QuestionType.SINGLE: "choice",
    QuestionType.MULTIPLE: "choice",
    QuestionType.INTEGER: "integer",
    QuestionType.SCALE: "integer",
    QuestionType.DURATION: "integer",
    QuestionType.TEXT: "string",
}


def choice_system(question_id: str) -> str:
    return f"urn:ims-screen:choice:{question_id}"


def questionnaire_resource(questionnaire: Questionnaire, version: str) -> dict[str, Any]:
    """The whole questionnaire; sections become groups, `enable_when` becomes `enableWhen`."""
    return {
        "resourceType": "Questionnaire",
        "id": "ims-screen",
        "url": CANONICAL,
        "version": version,
        "name": "IMSScreen",
        "title": "IMS Screen: could intramuscular stimulation help?",
        "status": "active",
        "subjectType": ["Patient"],
        "item": [
            {
                "linkId": section.id,
                "type": "group",
                "text": section.title,
                "item": [_item(question, questionnaire) for question in section.questions],
            }
            for section in questionnaire.sections
        ],
    }


def _item(question: Question, questionnaire: Questionnaire) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": question.id,
        "text": question.text,
        "type": _ITEM_TYPES[question.type],
        "required": question.required,
    }
    if question.type is QuestionType.MULTIPLE:
        item["repeats"] = True
    if question.choices:
        item["answerOption"] = [
            {"valueCoding": {"system": choice_system(question.id), "code": c.value, "display": c.label}}
            for c in question.choices
        ]
    if question.type is QuestionType.TEXT and question.max_length:
        item["maxLength"] = question.max_length
    if question.unit:
        item["code"] = [{"system": "urn:ims-screen:unit", "code": question.unit, "display": question.unit}]
    if question.enable_when is not None:
        behaviour, clauses = _enable_when(question.enable_when, questionnaire)
        item["enableWhen"] = clauses
        if len(clauses) > 1:
            item["enableBehavior"] = behaviour
    return item


def _enable_when(condition: Condition, questionnaire: Questionnaire) -> tuple[str, list[dict[str, Any]]]:
    """("all" or "any", clauses) for a condition FHIR can express; ValueError otherwise."""
    match condition:
        case conditions.All(conditions=parts) if type(condition) is conditions.All:
            return "all", [clause for part in parts for clause in _enable_when(part, questionnaire)[1]]
        case conditions.Any(conditions=parts) if type(condition) is conditions.Any:
            return "any", [clause for part in parts for clause in _enable_when(part, questionnaire)[1]]
        case conditions.OneOf(name=name, expected=values):  # also IncludesAny
            return "any", [_clause(name, "=", value) for value in values]
        case conditions.Equals(name=name, expected=value):
            return "all", [_clause(name, "=", value)]
        case conditions.Not(condition=conditions.OneOf(name=name, expected=(value,))):
            return "all", [_clause(name, "!=", value)]
        case conditions.AtMost(name=name, bound=bound):
            return "all", [{"question": name, "operator": "<=", "answerInteger": bound}]
        case conditions.AtLeast(name=name, bound=bound):
            return "all", [{"question": name, "operator": ">=", "answerInteger": bound}]
    raise ValueError(f"FHIR enableWhen cannot express {condition!r}")


def _clause(question_id: str, operator: str, value: object) -> dict[str, Any]:
    return {
        "question": question_id,
        "operator": operator,
        "answerCoding": {"system": choice_system(question_id), "code": value},
    }


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
    return [{"valueInteger": value}]


def screening_bundle(
    reference: str,
    answers: Mapping[str, object],
    submitted_at: str,
    stored: Mapping[str, Any],
    questionnaire: Questionnaire | None = None,
) -> dict[str, Any]:
    """A submitted screening as a collection Bundle: Patient (reference only), answers, risk assessment."""
    questionnaire = questionnaire or rules.questionnaire()
    patient_id, response_id, risk_id = (
        f"urn:uuid:{_uuid(reference, kind)}" for kind in ("patient", "response", "risk")
    )
    response = {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": "urn:ims-screen:reference", "value": reference},
        "questionnaire": f"{CANONICAL}|{stored['ruleset_version']}",
        "status": "completed",
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
    reasons = stored["reasons"]
    risk = {
        "resourceType": "RiskAssessment",
        "identifier": [{"system": "urn:ims-screen:reference", "value": reference}],
        "status": "final",
        "subject": {"reference": patient_id},
        "occurrenceDateTime": submitted_at,
        "method": {"text": f"IMS Screen rule set {stored['ruleset_version']}"},
        "basis": [{"reference": response_id}],
        "prediction": [
            {
                "outcome": {
                    "coding": [{"system": OUTCOME_SYSTEM, "code": stored["outcome"]}],
                    "text": stored["outcome"],
                },
                "rationale": "; ".join(f"{r['rule_id']} {r['title']}" for r in reasons),
            }
        ],
        "note": [{"text": f"{r['rule_id']} ({r['outcome']}): {r['staff_rationale']}"} for r in reasons],
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
            values = [v["code"] if isinstance(v, dict) else v for v in values]
            answers[question.id] = values if question.type is QuestionType.MULTIPLE else values[0]
    return answers


def _uuid(reference: str, kind: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:ims-screen:{kind}:{reference}"))
