"""FHIR R4 export of the follow-ups after treatment (issue 18): the follow-up's questions as a
`Questionnaire`, and each answered follow-up as a `QuestionnaireResponse` linked to the screening's.

Kept apart from app/fhir.py (the screening's resources), from which it takes the language and UCUM
constants and the installation's `Publication`: like the screening's, the follow-up's definitions
have literal canonical URLs under PUBLIC_BASE_URL, served by app/fhir_public.py (the Questionnaire
at `<base>/fhir/Questionnaire/ims-screen-follow-up`, the code systems of its choice questions at
`<base>/fhir/CodeSystem/follow-up-<question>`); a response's identifier system is
`<base>/fhir/sid/follow-up`. A follow-up's resources are added to a screening's Bundle by
`with_follow_ups`, which finds the screening's Patient and QuestionnaireResponse in the Bundle
itself.

FHIR R4 has no element that links one QuestionnaireResponse to another (`partOf` and `basedOn`
name procedures, observations, care plans and requests), so each follow-up's response carries two
extensions of IMS Screen's own, each defined by a StructureDefinition at its url
(`<base>/fhir/StructureDefinition/<id>`): `FOLLOW_UP_OF` (a Reference to the screening's
QuestionnaireResponse, by its fullUrl in the Bundle and its identifier) and `FOLLOW_UP_WEEK` (the
time point: weeks after the first appointment, a UCUM quantity). Its `subject` is the screening's
Patient, its `authored` when the person sent the answers. The wording of every question is
app/measures.py's, in English; `language` is the language the person answered in.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app import measures
from app.fhir import BASE_LANGUAGE, UCUM, ExtensionDefinition, Publication, code_system_resource, publication
from app.models import FollowUp, Screening

#: The follow-up Questionnaire's id (the last part of its canonical URL), its version, and the date
#: that version took effect. Change the version and the date whenever a question of
#: app/measures.py changes its meaning.
QUESTIONNAIRE_ID = "ims-screen-follow-up"
VERSION = "1"
DATE = "2026-12-07"
TITLE = "How are you getting on? (IMS Screen follow-up after treatment)"

#: IMS Screen's extensions on a follow-up's QuestionnaireResponse.
FOLLOW_UP_OF = ExtensionDefinition(
    id="follow-up-of",
    name="FollowUpOf",
    title="Follow-up of a screening",
    description=(
        "The screening this follow-up after treatment is about: a reference to the screening's "
        "QuestionnaireResponse (in an export, by its fullUrl in the same Bundle, and by its identifier)."
    ),
    context="QuestionnaireResponse",
    value_type="Reference",
    target="QuestionnaireResponse",
    version="1",
    date="2026-12-07",
)
FOLLOW_UP_WEEK = ExtensionDefinition(
    id="follow-up-week",
    name="FollowUpWeek",
    title="Week of a follow-up",
    description=(
        "When this follow-up after treatment was planned: the number of weeks after the person's "
        "first appointment, as a UCUM quantity in weeks (code wk)."
    ),
    context="QuestionnaireResponse",
    value_type="Quantity",
    version="1",
    date="2026-12-07",
)
#: The kind of identifier of a follow-up's response (`Publication.identifier_system`), valued with
#: the screening's reference and the week: "IMS-7KQ2XW9D/2".
IDENTIFIER_KIND = "follow-up"
#: FHIR's range extensions of an integer item.
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"


@dataclass(frozen=True)
class Choice:
    """The answers of one choice question, a code system of IMS Screen's."""

    #: The code system's id: "follow-up-" and the question, apart from the screening's `choice-<question>`.
    code_system_id: str
    name: str
    #: Code -> the English label.
    answers: Mapping[str, str]


#: The follow-up's choice questions, by question id.
CHOICES = {
    "pgic": Choice(
        "follow-up-pgic", "IMSScreenFollowUpPgic", {str(point): label for point, label in measures.PGIC.items()}
    ),
    "had_ims": Choice("follow-up-had-ims", "IMSScreenFollowUpHadIms", dict(measures.HAD_IMS)),
}


def questionnaire_url(where: Publication) -> str:
    """The follow-up Questionnaire's canonical URL, as `where` publishes it."""
    return where.canonical("Questionnaire", QUESTIONNAIRE_ID)


def choice_system(question_id: str, where: Publication) -> str:
    """The code system URL of one of `CHOICES`, as `where` publishes it."""
    return where.code_system_url(CHOICES[question_id].code_system_id)


def code_systems(where: Publication | None = None) -> list[dict[str, Any]]:
    """The code systems of the choice questions' answers, served by app/fhir_public.py."""
    where = where or publication()
    return [
        code_system_resource(
            choice.code_system_id,
            choice.name,
            f"Answers to “{measures.QUESTIONS[question_id]}”",
            [{"code": code, "display": label} for code, label in choice.answers.items()],
            VERSION,
            DATE,
            where,
        )
        for question_id, choice in CHOICES.items()
    ]


def _range(low: int, high: int) -> list[dict[str, Any]]:
    return [{"url": MIN_VALUE, "valueInteger": low}, {"url": MAX_VALUE, "valueInteger": high}]


def _coding(question_id: str, code: str, where: Publication) -> dict[str, str]:
    """One answer to a choice question, in its code system."""
    return {"system": choice_system(question_id, where), "code": code, "display": CHOICES[question_id].answers[code]}


def _options(question_id: str, where: Publication) -> list[dict[str, Any]]:
    return [{"valueCoding": _coding(question_id, code, where)} for code in CHOICES[question_id].answers]


def questionnaire_resource(where: Publication | None = None) -> dict[str, Any]:
    """The follow-up's questions as a FHIR Questionnaire (the activities as a repeating group), at
    its canonical URL as `where` (by default the app's) publishes it."""
    where = where or publication()
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
        "url": questionnaire_url(where),
        "version": VERSION,
        "name": "IMSScreenFollowUp",
        "title": TITLE,
        "status": "active",
        "subjectType": ["Patient"],
        "date": DATE,
        "publisher": where.publisher,
        "item": [
            *pain,
            {
                "linkId": "pgic",
                "text": questions["pgic"],
                "type": "choice",
                "required": True,
                "answerOption": _options("pgic", where),
            },
            {
                "linkId": "had_ims",
                "text": questions["had_ims"],
                "type": "choice",
                "required": True,
                "answerOption": _options("had_ims", where),
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
                        "answerCoding": {"system": choice_system("had_ims", where), "code": "yes"},
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
    # The uuid5 name is never exported, only the uuid: changing it would change every fullUrl.
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'urn:ims-screen:follow-up-response:{reference}:{week}')}"


def response_resource(
    reference: str,
    follow_up: FollowUp,
    patient_url: str,
    screening_response: Mapping[str, Any],
    screening_url: str,
    where: Publication | None = None,
) -> dict[str, Any]:
    """One answered follow-up as a QuestionnaireResponse of the follow-up Questionnaire (in its
    version, as `where` publishes it), about the screening's Patient (`patient_url`), linked to the
    screening's QuestionnaireResponse (at `screening_url` in the same Bundle)."""
    where = where or publication()
    if follow_up.answered_at is None:
        raise ValueError("only an answered follow-up is exported")
    assert follow_up.pgic is not None and follow_up.had_ims is not None
    linked: dict[str, Any] = {"reference": screening_url}
    if isinstance(screening_response.get("identifier"), Mapping):
        linked["identifier"] = dict(screening_response["identifier"])
    items = [
        _answer("current_pain", {"valueInteger": follow_up.current_pain}),
        _answer("average_pain", {"valueInteger": follow_up.average_pain}),
        _answer("pgic", {"valueCoding": _coding("pgic", str(follow_up.pgic), where)}),
        _answer("had_ims", {"valueCoding": _coding("had_ims", follow_up.had_ims, where)}),
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
            {"url": FOLLOW_UP_OF.url(where), "valueReference": linked},
            {
                "url": FOLLOW_UP_WEEK.url(where),
                "valueQuantity": {"value": follow_up.week, "unit": "weeks", "system": UCUM, "code": "wk"},
            },
        ],
        "identifier": {"system": where.identifier_system(IDENTIFIER_KIND), "value": f"{reference}/{follow_up.week}"},
        "questionnaire": f"{questionnaire_url(where)}|{VERSION}",
        "status": "completed",
        "subject": {"reference": patient_url},
        "authored": follow_up.answered_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "item": items,
    }


def _entry(bundle: Mapping[str, Any], resource_type: str) -> Mapping[str, Any]:
    """The first entry of `bundle` holding a resource of `resource_type`."""
    entries: Sequence[Mapping[str, Any]] = bundle["entry"]
    return next(entry for entry in entries if entry["resource"]["resourceType"] == resource_type)


def with_follow_ups(bundle: dict[str, Any], screening: Screening, where: Publication | None = None) -> dict[str, Any]:
    """`bundle` (a screening's, from app/fhir.py, published by `where`: by default the app's) with
    a QuestionnaireResponse entry for each of the screening's answered follow-ups, earliest first,
    each linked to the screening's response."""
    where = where or publication()
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
                    screening.reference, follow_up, patient["fullUrl"], response["resource"], response["fullUrl"], where
                ),
            }
            for follow_up in answered
        ),
    ]
    return bundle
