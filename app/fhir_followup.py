"""FHIR R4 export of the follow-ups after treatment (issue 18): the follow-up's questions as a
`Questionnaire`, and each answered follow-up as a `QuestionnaireResponse` linked to the screening's.

Kept apart from app/fhir.py (the screening's resources), from which it takes only the language and
UCUM constants: a follow-up's resources are added to a screening's Bundle by `with_follow_ups`,
which finds the screening's Patient and QuestionnaireResponse in the Bundle itself.

FHIR R4 has no element that links one QuestionnaireResponse to another (`partOf` and `basedOn`
name procedures, observations, care plans and requests), so each follow-up's response carries two
extensions of IMS Screen's own: `FOLLOW_UP_OF` (a Reference to the screening's
QuestionnaireResponse, by its fullUrl in the Bundle and its identifier) and `FOLLOW_UP_WEEK` (the
time point: weeks after the first appointment, a UCUM quantity). Its `subject` is the screening's
Patient, its `authored` when the person sent the answers. The wording of every question is
app/measures.py's, in English; `language` is the language the person answered in.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from app import measures
from app.fhir import BASE_LANGUAGE, UCUM
from app.models import FollowUp, Screening

#: The follow-up Questionnaire's canonical URL, id and version. Change the version whenever a
#: question of app/measures.py changes its meaning.
CANONICAL = "urn:ims-screen:questionnaire:follow-up"
QUESTIONNAIRE_ID = "ims-screen-follow-up"
VERSION = "1"
TITLE = "How are you getting on? (IMS Screen follow-up after treatment)"

#: IMS Screen's extensions on a follow-up's QuestionnaireResponse.
FOLLOW_UP_OF = "urn:ims-screen:extension:follow-up-of"
FOLLOW_UP_WEEK = "urn:ims-screen:extension:follow-up-week"
#: Identifier system of a follow-up's response: the screening's reference and the week, "IMS-7KQ2XW9D/2".
IDENTIFIER_SYSTEM = "urn:ims-screen:follow-up"
#: Code systems of the answers to the choice questions.
PGIC_SYSTEM = "urn:ims-screen:choice:pgic"
HAD_IMS_SYSTEM = "urn:ims-screen:choice:had_ims"
#: FHIR's range extensions of an integer item.
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"


def _range(low: int, high: int) -> list[dict[str, Any]]:
    return [{"url": MIN_VALUE, "valueInteger": low}, {"url": MAX_VALUE, "valueInteger": high}]


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def questionnaire_resource() -> dict[str, Any]:
    """The follow-up's questions as a FHIR Questionnaire (the activities as a repeating group)."""
    questions = measures.QUESTIONS
    pain = [
        {
            "linkId": name,
            "text": questions[name],
            "type": "integer",
            "required": True,
            "extension": _range(measures.PAIN_MIN, measures.PAIN_MAX),
        }
        for name in ("current_pain", "average_pain")
    ]
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "language": BASE_LANGUAGE,
        "url": CANONICAL,
        "version": VERSION,
        "name": "IMSScreenFollowUp",
        "title": TITLE,
        "status": "active",
        "subjectType": ["Patient"],
        "item": [
            *pain,
            {
                "linkId": "pgic",
                "text": questions["pgic"],
                "type": "choice",
                "required": True,
                "answerOption": [
                    {"valueCoding": _coding(PGIC_SYSTEM, str(point), label)} for point, label in measures.PGIC.items()
                ],
            },
            {
                "linkId": "had_ims",
                "text": questions["had_ims"],
                "type": "choice",
                "required": True,
                "answerOption": [
                    {"valueCoding": _coding(HAD_IMS_SYSTEM, code, label)} for code, label in measures.HAD_IMS.items()
                ],
            },
            {
                "linkId": "ims_sessions",
                "text": questions["ims_sessions"],
                "type": "integer",
                "required": False,
                "enableWhen": [
                    {
                        "question": "had_ims",
                        "operator": "=",
                        "answerCoding": {"system": HAD_IMS_SYSTEM, "code": "yes"},
                    }
                ],
                "extension": _range(measures.IMS_SESSIONS_MIN, measures.IMS_SESSIONS_MAX),
            },
            {
                "linkId": "activity",
                "text": "Everyday activities the person named (Patient-Specific Functional Scale)",
                "type": "group",
                "required": False,
                "repeats": True,
                "item": [
                    {
                        "linkId": "activity_name",
                        "text": "Activity, in the person's words",
                        "type": "string",
                        "required": True,
                        "readOnly": True,
                        "maxLength": measures.PSFS_ACTIVITY_MAX_LENGTH,
                    },
                    {
                        "linkId": "activity_score",
                        "text": questions["activity_score"],
                        "type": "integer",
                        "required": True,
                        "extension": _range(measures.PSFS_MIN, measures.PSFS_MAX),
                    },
                ],
            },
        ],
    }


def _answer(link_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"linkId": link_id, "text": measures.QUESTIONS[link_id], "answer": [value]}


def _full_url(reference: str, week: int) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'urn:ims-screen:follow-up-response:{reference}:{week}')}"


def response_resource(
    reference: str, follow_up: FollowUp, patient_url: str, screening_response: Mapping[str, Any], screening_url: str
) -> dict[str, Any]:
    """One answered follow-up as a QuestionnaireResponse of the follow-up Questionnaire, about the
    screening's Patient (`patient_url`), linked to the screening's QuestionnaireResponse (at
    `screening_url` in the same Bundle)."""
    if follow_up.answered_at is None:
        raise ValueError("only an answered follow-up is exported")
    assert follow_up.pgic is not None and follow_up.had_ims is not None
    linked: dict[str, Any] = {"reference": screening_url}
    if isinstance(screening_response.get("identifier"), Mapping):
        linked["identifier"] = dict(screening_response["identifier"])
    items = [
        _answer("current_pain", {"valueInteger": follow_up.current_pain}),
        _answer("average_pain", {"valueInteger": follow_up.average_pain}),
        _answer("pgic", {"valueCoding": _coding(PGIC_SYSTEM, str(follow_up.pgic), measures.PGIC[follow_up.pgic])}),
        _answer(
            "had_ims",
            {"valueCoding": _coding(HAD_IMS_SYSTEM, follow_up.had_ims, measures.HAD_IMS[follow_up.had_ims])},
        ),
    ]
    if follow_up.ims_sessions is not None:
        items.append(_answer("ims_sessions", {"valueInteger": follow_up.ims_sessions}))
    for score in sorted(follow_up.activity_scores, key=lambda score: score.activity.position):
        items.append(
            {
                "linkId": "activity",
                "item": [
                    {"linkId": "activity_name", "answer": [{"valueString": score.activity.name}]},
                    _answer("activity_score", {"valueInteger": score.score}),
                ],
            }
        )
    return {
        "resourceType": "QuestionnaireResponse",
        "language": follow_up.language or BASE_LANGUAGE,
        "extension": [
            {"url": FOLLOW_UP_OF, "valueReference": linked},
            {
                "url": FOLLOW_UP_WEEK,
                "valueQuantity": {"value": follow_up.week, "unit": "weeks", "system": UCUM, "code": "wk"},
            },
        ],
        "identifier": {"system": IDENTIFIER_SYSTEM, "value": f"{reference}/{follow_up.week}"},
        "questionnaire": f"{CANONICAL}|{VERSION}",
        "status": "completed",
        "subject": {"reference": patient_url},
        "authored": follow_up.answered_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "item": items,
    }


def _entry(bundle: Mapping[str, Any], resource_type: str) -> Mapping[str, Any]:
    """The first entry of `bundle` holding a resource of `resource_type`."""
    entries: Sequence[Mapping[str, Any]] = bundle["entry"]
    return next(entry for entry in entries if entry["resource"]["resourceType"] == resource_type)


def with_follow_ups(bundle: dict[str, Any], screening: Screening) -> dict[str, Any]:
    """`bundle` (a screening's, from app/fhir.py) with a QuestionnaireResponse entry for each of the
    screening's answered follow-ups, earliest first, each linked to the screening's response."""
    answered = [follow_up for follow_up in screening.follow_ups if follow_up.answered_at is not None]
    if not answered:
        return bundle
    patient, response = _entry(bundle, "Patient"), _entry(bundle, "QuestionnaireResponse")
    bundle["entry"] = [
        *bundle["entry"],
        *(
            {
                "fullUrl": _full_url(screening.reference, follow_up.week),
                "resource": response_resource(
                    screening.reference, follow_up, patient["fullUrl"], response["resource"], response["fullUrl"]
                ),
            }
            for follow_up in answered
        ),
    ]
    return bundle
