"""Reading a FHIR R4 QuestionnaireResponse back into answers, and filing one that another tool
produced (a FHIR form renderer given IMS Screen's Questionnaire) as a screening judged by the
rules: staff's import page (app/staff/interop.py) and `flask --app wsgi fhir import FILE`.

A response is read strictly, and every problem is named in words staff can act on
(`InvalidResponse`): it must be a QuestionnaireResponse (alone, or the one in a Bundle) that is
completed, amended or stopped; answer this installation's Questionnaire (its canonical URL) in
the version the rules are written for (one that states no version, as Medplum's, is read as that
version only when the person importing confirms it); follow its structure (each question in its
page's group); code each choice in the question's own code system, with one of its codes; give
each answer the type its question asks for (a duration's unit in UCUM, or as text naming one of
its units); fit the questionnaire (ranges, exclusive choices, follow-ups that apply); and answer
every required question unless the answers already decide the outcome; and, when it says when it
was answered (`authored`), give a day, not one in the future. What R4 allows and means nothing
here is ignored: an item without answers, a display item, item texts.
Nothing is stored unless the whole response is sound.

A response filed is a screening submitted when the person answered (its `authored` date), with
the import's own time kept apart (`Screening.imported_at`): a physiotherapist reads a warning sign,
or "4 months" of pain, as of the day it was said.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import rules
from app import audit, fhir, i18n, notifications
from app.clock import utcnow
from app.display import CLINIC_TIME_ZONE, local_datetime
from app.extensions import db
from app.models import AuditEvent, Screening, StaffUser
from rules.questionnaire import NOT_APPLICABLE, Question, QuestionType, duration

#: Statuses of a response whose answers can be judged: finished (completed, amended), or ended
#: early because the answers already decided the outcome (stopped, as IMS Screen's own exports).
ACCEPTED_STATUSES = ("completed", "amended", "stopped")
#: How deep items may nest (pages, questions, answers): the Questionnaire needs three levels.
MAX_DEPTH = 8
#: How many problems a refusal names at most (a wrong file can have hundreds).
MAX_PROBLEMS = 20
#: The import page's box by which staff confirm a response that states no version answers the
#: current questionnaire (app/staff/interop.py); refusals name it.
CONFIRM_VERSION_LABEL = "It answers the current questionnaire"
#: How far ahead of this server's clock a response's `authored` may be: another tool's clock may
#: run a few minutes fast. Anything later is refused: the person cannot have answered yet.
AUTHORED_CLOCK_SKEW = timedelta(minutes=5)
#: The zone where each day begins first (UTC+14, Kiribati). A day alone is in the future only when
#: it has not begun even there: a tool that dates in UTC writes tomorrow's date every evening in
#: British Columbia.
_EARLIEST_ZONE = timezone(timedelta(hours=14))
#: R4's dateTime (https://hl7.org/fhir/R4/datatypes.html#dateTime) giving a day at least: the day,
#: then perhaps a time, which R4 requires to carry its offset (checked apart, to say so).
_DATE_TIME = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<time>(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?)(?P<offset>Z|[+-](?:0\d|1[0-3]):[0-5]\d|[+-]14:00)?)?"
)
#: A dateTime of a year, or a year and month: legal R4, but no day to file the answers on.
_YEAR_OR_MONTH = re.compile(r"\d{4}(?:-(?:0[1-9]|1[0-2]))?")


class InvalidResponse(ValueError):
    """The response cannot be filed; `problems` says why, each in a sentence."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            self.problems.append(f"… and {len(problems) - MAX_PROBLEMS} more problems.")
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class ReadResponse:
    """What a sound response says: the answers (question id -> value, as the patient pages
    store them) and the language it was given in (a tag of app.i18n.LANGUAGES; English when the
    response's language is none of them)."""

    answers: dict[str, object]
    language: str
    #: The response's own identifier as "system|value", when it has one: the same response is
    #: never filed twice (`Screening.imported_from`).
    source: str | None = None
    #: Whether the questionnaire's version is the person importing's word, not the response's: it
    #: stated none, and they confirmed it answers the current one (`assume_current_version`).
    version_confirmed: bool = False
    #: When the person answered, from the response's `authored` (never after the import); None when
    #: it gives no date, and the import's own time stands for it.
    answered_at: datetime | None = None
    #: That `authored` date as read, for `Screening.imported_authored`: a day ("2026-11-20"), or a
    #: time with the offset it was given in.
    authored: str | None = None


def parse_json(raw: bytes) -> object:
    """The JSON document in `raw` (UTF-8, with or without a byte order mark); InvalidResponse
    when it is not one."""
    try:
        return json.loads(raw.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise InvalidResponse(["The file is not text in UTF-8: export the response as FHIR JSON."]) from None
    except RecursionError:
        raise InvalidResponse(["The file nests too deeply to be a QuestionnaireResponse."]) from None
    except ValueError as error:
        raise InvalidResponse([f"The file is not valid JSON: {error}."]) from None


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def answers_from_response(response: object, where: fhir.Publication | None = None) -> dict[str, object]:
    """Answers (question id -> value) read back from a QuestionnaireResponse; InvalidResponse
    listing every problem when it cannot be (see `read_response`)."""
    return read_response(response, where).answers


def read_response(
    data: object,
    where: fhir.Publication | None = None,
    *,
    assume_current_version: bool = False,
    now: datetime | None = None,
) -> ReadResponse:
    """Read and check a QuestionnaireResponse (or a Bundle holding exactly one) against the shipped
    questionnaire, in the version of the shipped rules, as published by `where` (by default the
    app's); raise InvalidResponse naming every problem (an answer to a question the other answers
    leave out only once no answer that cannot be right is left: which questions apply follows
    from the others).

    `assume_current_version`: the person importing confirms the response answers the current
    questionnaire, so one whose `questionnaire` is the canonical URL without `|version` is read as
    the current version. A response that states another version, or another URL, is still refused.
    `now` is the time of the import, which its `authored` date cannot be after (`when_answered`).
    """
    where = where or fhir.publication()
    response = _the_response(data)
    problems = _header_problems(response, where, assume_current_version)
    answered: tuple[datetime, str] | None = None
    if response.get("authored") is not None:
        try:
            answered = when_answered(response["authored"], now or utcnow())
        except InvalidResponse as refusal:
            problems += refusal.problems
    reader = _Reader(where)
    reader.read_pages(response.get("item"))
    problems += reader.problems
    if problems:
        raise InvalidResponse(problems)
    answers = reader.answers
    problems = rules.questionnaire().problems(answers)
    not_applicable = {f"{question_id}: {NOT_APPLICABLE}" for question_id in answers}
    if any(problem not in not_applicable for problem in problems):
        # Which questions apply is worked out from the other answers, so the answers that cannot
        # be right are named first, alone: with an age of 150, the pregnancy questions "do not
        # apply", which is not their problem. Any left over are named once these are put right.
        problems = [problem for problem in problems if problem not in not_applicable]
    problems = [_worded(problem) for problem in problems]
    if not problems:
        problems = _completeness_problems(answers)
    if problems:
        raise InvalidResponse(problems)
    language = response.get("language")
    return ReadResponse(
        answers,
        language if isinstance(language, str) and language in i18n.BY_TAG else fhir.BASE_LANGUAGE,
        _source(response.get("identifier")),
        version_confirmed=assume_current_version and _stated_version(response) == "",
        answered_at=answered[0] if answered else None,
        authored=answered[1] if answered else None,
    )


def when_answered(authored: object, now: datetime) -> tuple[datetime, str]:
    """When the person answered, from a response's `authored` (an R4 dateTime), and that date as
    read: a day ("2026-11-20"), or a time with the offset it was given in. InvalidResponse, in
    words, for anything that gives no day, or a time without its offset, or a moment after `now`
    (beyond AUTHORED_CLOCK_SKEW).

    A day alone is taken as its start in the clinic's time zone, where the person answered. A
    moment a little ahead of `now` (the other tool's clock, or a tool dating in UTC) is read as
    `now`: a screening is never answered after it was imported.
    """
    shown = repr(authored)[:60]
    if isinstance(authored, str) and _YEAR_OR_MONTH.fullmatch(authored):
        raise InvalidResponse(
            [
                f"The response's authored date {shown} gives only a month or a year: the import needs the day the "
                "person answered (such as 2026-11-20), or no authored date at all."
            ]
        )
    match = _DATE_TIME.fullmatch(authored) if isinstance(authored, str) else None
    if match is None:
        raise InvalidResponse(
            [
                f"The response's authored date {shown} is not a FHIR dateTime (such as 2026-11-20, "
                "or 2026-11-20T09:15:00-08:00)."
            ]
        )
    if match["time"] and not match["offset"]:
        raise InvalidResponse(
            [
                f"The response's authored date {shown} gives a time without its time zone: FHIR requires one "
                "(such as 2026-11-20T09:15:00-08:00), and without it the moment is not known."
            ]
        )
    day_only = match["time"] is None
    try:
        day = date.fromisoformat(match["day"])
        if day_only:
            at = datetime.combine(day, time.min, CLINIC_TIME_ZONE).astimezone(UTC)
            begun = datetime.combine(day, time.min, _EARLIEST_ZONE).astimezone(UTC)
            read = match["day"]
        else:
            # A leap second, which R4 allows and Python's datetime does not, is read as the second before.
            moment = datetime.fromisoformat(f"{match['day']}T{match['time'].replace(':60', ':59')}{match['offset']}")
            at = begun = moment.astimezone(UTC)
            read = moment.isoformat()
    except (ValueError, OverflowError):  # 30 February; a moment before the year 1 in UTC
        raise InvalidResponse([f"The response's authored date {shown} is not a date."]) from None
    if begun > now + AUTHORED_CLOCK_SKEW:
        if day_only:
            when = f"{day.day} {day:%B %Y}, which has not begun anywhere yet"
        else:
            when = f"{local_datetime(at)} (clinic time), which is later than now"
        raise InvalidResponse(
            [
                f"The response says it was answered on {when} (it is {local_datetime(now)}, clinic time): "
                "check the clock of the tool that made it."
            ]
        )
    return min(at, now), read


def _stated_version(response: Mapping[str, Any]) -> str | None:
    """The version after `|` in the response's `questionnaire` ("" when it states none); None when
    it names no questionnaire."""
    link = response.get("questionnaire")
    return link.partition("|")[2] if isinstance(link, str) and link else None


def _source(identifier: object) -> str | None:
    """A response's identifier as "system|value", when it has both as text (R4: at most one)."""
    if not isinstance(identifier, Mapping):
        return None
    system, value = identifier.get("system"), identifier.get("value")
    if not isinstance(system, str) or not isinstance(value, str) or not system or not value:
        return None
    return f"{system}|{value}"


def _the_response(data: object) -> Mapping[str, Any]:
    """The QuestionnaireResponse in `data`: itself, or the only one in a Bundle."""
    if not isinstance(data, Mapping):
        raise InvalidResponse(["The file holds no FHIR resource: a QuestionnaireResponse is a JSON object."])
    resource: Mapping[str, Any] = data
    if resource.get("resourceType") == "Bundle":
        entries = resource.get("entry")
        found: list[Mapping[str, Any]] = [
            entry["resource"]
            for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, Mapping)
            and isinstance(entry.get("resource"), Mapping)
            and entry["resource"].get("resourceType") == "QuestionnaireResponse"
        ]
        if len(found) != 1:
            raise InvalidResponse([f"The Bundle holds {len(found)} QuestionnaireResponses; import one at a time."])
        resource = found[0]
    if resource.get("resourceType") != "QuestionnaireResponse":
        kind = resource.get("resourceType")
        named = f"a {kind}" if isinstance(kind, str) and kind else "no resourceType"
        raise InvalidResponse([f"The file holds {named[:80]}, not a QuestionnaireResponse."])
    return resource


def _header_problems(response: Mapping[str, Any], where: fhir.Publication, assume_current_version: bool) -> list[str]:
    """What is wrong with the response's status and the questionnaire it says it answers (a
    missing version is not, when the person importing confirms it is the current one)."""
    problems = []
    status = response.get("status")
    if status == "in-progress":
        problems.append("The response is still in progress (status in-progress): finish it, then import it.")
    elif status not in ACCEPTED_STATUSES:
        shown = repr(status)[:40] if status is not None else "none"
        problems.append(f"The response's status is {shown}; only {', '.join(ACCEPTED_STATUSES)} can be imported.")
    expected = f"{where.questionnaire_url}|{rules.ruleset().ruleset_version}"
    link = response.get("questionnaire")
    if not isinstance(link, str) or not link:
        problems.append(f"The response does not say which questionnaire it answers (questionnaire: {expected}).")
        return problems
    url, _, version = link.partition("|")
    if url != where.questionnaire_url:
        problems.append(
            f"The response answers the questionnaire {url[:120]!r}, not this installation's ({where.questionnaire_url})."
        )
    elif not version:
        if not assume_current_version:
            problems.append(
                f"The response does not say which version of the questionnaire it answers ({expected}): "
                f"tick '{CONFIRM_VERSION_LABEL}' if you know it does (on the command line: --assume-current-version)."
            )
    elif version != rules.ruleset().ruleset_version:
        problems.append(
            f"The response answers version {version[:40]!r} of the questionnaire, but this installation asks "
            f"version {rules.ruleset().ruleset_version}: its rules cannot judge answers to other questions."
        )
    return problems


class _Reader:
    """Walks a response's items, collecting the answers and every problem with them."""

    def __init__(self, where: fhir.Publication) -> None:
        self.where = where
        self.questionnaire = rules.questionnaire()
        self.answers: dict[str, object] = {}
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def read_pages(self, items: object) -> None:
        """The top level: one group per page of the questionnaire."""
        for item in self._items(items, "the response", 1):
            link_id = item["linkId"]
            section = self.questionnaire.section(link_id)
            if section is None:
                question = self.questionnaire.questions.get(link_id)
                if question is not None:
                    self.problems.append(
                        f"{_named(question)} is outside its page: it belongs in the group {question.section_id!r}, "
                        "as in the Questionnaire."
                    )
                else:
                    self.problems.append(f"The item {link_id[:80]!r} is not a page of the questionnaire.")
                continue
            if self._seen_before(link_id, f"The page {link_id!r}"):
                continue
            for child in self._items(item.get("item"), f"the page {link_id!r}", 2):
                self._read_question(child, section.id)

    def _read_question(self, item: Mapping[str, Any], section_id: str) -> None:
        link_id = item["linkId"]
        question = self.questionnaire.questions.get(link_id)
        if question is None:
            if not _is_display(link_id) or item.get("answer"):
                self.problems.append(f"The item {link_id[:80]!r} is not a question of the questionnaire.")
            return
        if question.section_id != section_id:
            self.problems.append(
                f"{_named(question)} is in the group {section_id!r}, not in its page {question.section_id!r}."
            )
            return
        if self._seen_before(link_id, _named(question)):
            return
        for child in self._items(item.get("item"), _named(question), 3):
            self._refuse_nested(child, question)
        answers = item.get("answer")
        if answers is None or answers == []:
            return  # no answer: legal, and the same as not answering
        if not isinstance(answers, list) or not all(isinstance(answer, Mapping) for answer in answers):
            self.problems.append(f"{_named(question)}: `answer` must be a list of answers.")
            return
        values = []
        for answer in answers:
            for child in self._items(answer.get("item"), _named(question), 3):
                self._refuse_nested(child, question)
            value = self._value(question, answer)
            if value is not None:
                values.append(value)
        if len(values) != len(answers):
            return
        if question.type is QuestionType.MULTIPLE:
            self.answers[question.id] = values
        elif len(values) > 1:
            self.problems.append(f"{_named(question)} takes one answer, not {len(values)}.")
        else:
            self.answers[question.id] = values[0]

    def _refuse_nested(self, item: Mapping[str, Any], question: Question) -> None:
        """A question's child items: only its help text, which carries no answer."""
        if not _is_display(item["linkId"]) or item.get("answer"):
            self.problems.append(f"{_named(question)} has no follow-up item {item['linkId'][:80]!r}.")

    def _value(self, question: Question, answer: Mapping[str, Any]) -> object | None:
        """One answer's value as the patient pages store it, or None after noting its problem."""
        kinds = [key for key in answer if key.startswith("value")]
        expected = _VALUE_TYPES[question.type]
        if kinds != [expected]:
            given = ", ".join(kinds) or "no value"
            self.problems.append(f"{_named(question)}: expects answers of type {expected}, got {given[:60]}.")
            return None
        value = answer[expected]
        if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            return self._code(question, value)
        if question.type is QuestionType.DURATION:
            return self._duration(question, value)
        if question.type is QuestionType.TEXT:
            if isinstance(value, str):
                return value
        elif isinstance(value, int) and not isinstance(value, bool):
            return value
        self.problems.append(f"{_named(question)}: {str(value)[:40]!r} is not a {expected}.")
        return None

    def _code(self, question: Question, coding: object) -> str | None:
        system = self.where.choice_system(question.id)
        if not isinstance(coding, Mapping) or not isinstance(coding.get("code"), str):
            self.problems.append(f"{_named(question)}: a choice is a Coding with a code.")
            return None
        if coding.get("system") != system:
            self.problems.append(
                f"{_named(question)}: the answer is coded in {str(coding.get('system'))[:100]!r}, "
                f"not in the question's code system {system}."
            )
            return None
        code: str = coding["code"]
        if code not in question.choice_values:
            self.problems.append(
                f"{_named(question)}: {code[:40]!r} is not one of its choices ({', '.join(question.choice_values)})."
            )
            return None
        return code

    def _duration(self, question: Question, quantity: object) -> object | None:
        """A duration: a Quantity in one of the UCUM units, or with no system and code, its unit
        given as text naming one of them (as Medplum, which shows a free-text unit, gives it)."""
        units = {code: unit for unit, code in fhir.UCUM_DURATION_UNITS.items()}
        if (
            isinstance(quantity, Mapping)
            and "system" not in quantity
            and "code" not in quantity
            and isinstance(quantity.get("unit"), str)
        ):
            unit = unit_named(quantity["unit"])
            if unit is None:
                self.problems.append(
                    f"{_named(question)}: the unit {quantity['unit'][:40]!r} is not one of its units: "
                    f"days, weeks, months or years (UCUM {', '.join(units)})."
                )
                return None
        elif (
            not isinstance(quantity, Mapping)
            or quantity.get("system") != fhir.UCUM
            or not isinstance(quantity.get("code"), str)
            or quantity.get("code") not in units
        ):
            self.problems.append(
                f"{_named(question)}: a length of time is a Quantity in UCUM days, weeks, months or years "
                f"({', '.join(units)})."
            )
            return None
        else:
            unit = units[quantity["code"]]
        amount = quantity.get("value")
        if isinstance(amount, float) and amount.is_integer():
            amount = int(amount)
        if not isinstance(amount, int) or isinstance(amount, bool):
            self.problems.append(f"{_named(question)}: {str(amount)[:20]!r} is not a whole number.")
            return None
        if amount == 0:  # "0 weeks", stored before days could be given (now "at least 1 day")
            return 0
        return duration(amount, unit)

    def _items(self, items: object, where: str, depth: int) -> Iterator[Mapping[str, Any]]:
        """The well-formed items of a list (each an object with a linkId), noting the others."""
        if items is None:
            return
        if depth > MAX_DEPTH or not isinstance(items, list):
            self.problems.append(f"The items of {where} are not a list of items, as the Questionnaire has them.")
            return
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("linkId"), str):
                yield item
            else:
                self.problems.append(f"An item of {where} has no linkId.")

    def _seen_before(self, link_id: str, named: str) -> bool:
        if link_id in self.seen:
            self.problems.append(f"{named} appears more than once.")
            return True
        self.seen.add(link_id)
        return False


def unit_named(text: str) -> str | None:
    """The duration unit ("weeks") that `text` names: one of the Questionnaire's unitOptions, by
    its display or its UCUM code ("Weeks", " wk "), trimmed and in any case; None for any other
    text ("wks", "fortnights")."""
    said = text.strip().casefold()
    named = {unit for unit, code in fhir.UCUM_DURATION_UNITS.items() if said in (unit.casefold(), code.casefold())}
    return named.pop() if len(named) == 1 else None


#: The `value[x]` an answer to each type of question has (FHIR R4's item types, app/fhir.py).
_VALUE_TYPES = {
    QuestionType.SINGLE: "valueCoding",
    QuestionType.MULTIPLE: "valueCoding",
    QuestionType.INTEGER: "valueInteger",
    QuestionType.SCALE: "valueInteger",
    QuestionType.DURATION: "valueQuantity",
    QuestionType.TEXT: "valueString",
}


def _is_display(link_id: str) -> bool:
    """Whether `link_id` is one of the Questionnaire's display items (an introduction, a hint)."""
    return link_id.endswith((".intro", ".help"))


def _named(question: Question) -> str:
    return f"“{question.text}” ({question.id})"


def _worded(problem: str) -> str:
    """A questionnaire problem ("age: 150 is outside 0 to 120") with the question's words."""
    question_id, separator, rest = problem.partition(":")
    question = rules.questionnaire().questions.get(question_id)
    return f"{_named(question)}:{rest}" if separator and question is not None else problem


def _completeness_problems(answers: Mapping[str, object]) -> list[str]:
    """The required questions left unanswered, unless the answers already decide the outcome
    (as the patient pages stop early): never judged as if unanswered meant "no"."""
    missing = rules.questionnaire().missing(answers)
    if not missing or rules.decided(answers) is not None:
        return []
    named = "; ".join(_named(question) for question in missing[:5])
    more = f"; and {len(missing) - 5} more" if len(missing) > 5 else ""
    return [
        f"The response leaves {len(missing)} required question{'s' if len(missing) > 1 else ''} unanswered, "
        f"and the answers given do not decide the outcome: {named}{more}."
    ]


def file_response(read: ReadResponse, now: datetime | None = None) -> Screening:
    """Store a read response as a submitted screening, judged by the rules now and marked imported.

    It was submitted when the person answered (the response's `authored`), or at the import when the
    file does not say. It has no resume link (the person never used IMS Screen) and the clinic is
    told of a medical outcome as for any submission. The caller audits and commits.
    """
    now = now or utcnow()
    screening = Screening(
        state="submitted",
        answers=read.answers,
        language=read.language,
        answer_languages=dict.fromkeys(read.answers, read.language),
        consented_at=now,
        created_at=now,
        expires_at=now,
        submitted_at=read.answered_at or now,
        imported_at=now,
        imported_from=read.source,
        imported_authored=read.authored,
        **Screening.result_columns(rules.evaluate(read.answers)),
    )
    try:
        with db.session.begin_nested():  # a savepoint: a clash undoes only this insert
            db.session.add(screening)
    except IntegrityError:  # the same response, filed by another upload at the same moment
        raise InvalidResponse(["This response was imported already: it is not filed twice."]) from None
    notifications.queue_for_screening(screening)
    return screening


def import_response(
    raw: bytes, *, actor: StaffUser | None = None, via: str = "portal", assume_current_version: bool = False
) -> Screening:
    """Read `raw` (a QuestionnaireResponse's JSON), file it and audit the import, in the current
    transaction (the caller commits); InvalidResponse, with nothing added, when it is not sound.

    `assume_current_version` as for `read_response`; the audit event says whether the version was
    stated by the response or confirmed by staff.
    """
    now = utcnow()
    read = read_response(parse_json(raw), assume_current_version=assume_current_version, now=now)
    if read.source is not None:
        already = db.session.scalar(select(Screening).where(Screening.imported_from == read.source))
        if already is not None:
            raise InvalidResponse(
                [f"This response was imported already, as screening {already.reference}: it is not filed twice."]
            )
        _refuse_own_export(read)
    screening = file_response(read, now)
    audit.record(
        "import_fhir",
        screening=screening,
        actor=actor,
        email=None if actor else "command line",
        via=via,
        version_from="confirmed by staff" if read.version_confirmed else "response",
    )
    return screening


def _refuse_own_export(read: ReadResponse) -> None:
    """Refuse a response this installation exported itself (its identifier names one of its
    screenings) when filing it would only copy that screening, or bring back one no longer stored
    (deleted after its retention period, or at the person's request).

    One whose answers were changed in another tool is filed: the rules must judge the answers as
    they now are (a warning sign added there must reach the clinic).
    """
    system, _, reference = (read.source or "").partition("|")
    if system != fhir.publication().identifier_system("screening"):
        return
    stored = db.session.scalar(select(Screening).where(Screening.reference == reference))
    if stored is None:
        raise InvalidResponse(
            [
                f"This response is IMS Screen's own export of screening {reference[:40]!r}, which is not "
                "stored here (it may have been deleted after its retention period, or at the person's "
                "request): it is not filed again."
            ]
        )
    if _as_the_rules_read(stored.answers) == _as_the_rules_read(read.answers):
        raise InvalidResponse(
            [
                f"This response is IMS Screen's own export of screening {stored.reference}, with the same "
                "answers, and that screening is here: open it rather than filing a copy."
            ]
        )


def _as_the_rules_read(answers: Mapping[str, object] | None) -> dict[str, object]:
    """Each answer as the rules read it (a duration in whole weeks, however it was stored)."""
    return {question.id: question.rule_value((answers or {}).get(question.id)) for question in rules.questionnaire()}


def imported_by(screening: Screening) -> str | None:
    """Who filed an imported screening, as its audit event records it: "by" a staff member (their
    name, or the email recorded when the account is gone), or "from the command line"; None when no
    event is found."""
    event = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "import_fhir", AuditEvent.screening_id == screening.id)
        .order_by(AuditEvent.id)
        .limit(1)
    ).first()
    if event is None:
        return None
    if event.actor_id is None:
        return "from the command line" if event.actor_email == "command line" else None
    actor = db.session.get(StaffUser, event.actor_id)
    return f"by {actor.name if actor is not None else event.actor_email}"
