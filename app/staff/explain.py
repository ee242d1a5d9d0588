"""A stored result as a physiotherapist reads it: the outcome and why, the answers that decided it,
the rule trace in clinic language (no internal section ids, sources as author and year), and the
indicators under their descriptions rather than their names.

The rule set's staff texts cite the sections of docs/clinical-evidence.md ("Deviation from B1",
"C1 to C7") and its source ids ("[S37]"); the clinic does not read that document beside the
portal, so `plain_words` says what each reference stands for. The stored texts stay as they were.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from flask import Flask

import rules
from rules.engine import KEY_ANSWERS, Reason, Result
from rules.outcomes import Outcome
from rules.questionnaire import Category, Question, QuestionType
from rules.ruleset import BUILTIN_FACTS

#: The decision-logic sections of docs/clinical-evidence.md, as the clinic would name them.
EVIDENCE_SECTIONS = {
    "B0": "the order in which outcomes win",
    "B1": "the red-flag criteria",
    "B2": "the list of absolute contraindications",
    "B3": "the list of precautions",
    "B4": "the candidacy criteria",
    "B5": "the candidacy criteria's edge-case table",
    "B6": "what staff are shown",
    "B7": "the choices made where sources disagree",
    "B8": "the rules for 'not sure' and missing answers",
}

#: The seven candidacy criteria (clinical-evidence.md B4), in a few words each.
CANDIDACY_CRITERIA = {
    "C1": "pain for 12 weeks or more",
    "C2": "a muscle component",
    "C3": "treatment tried without lasting relief",
    "C4": "regional rather than widespread pain",
    "C5": "pain not mainly from bone, joint or organ",
    "C6": "willingness to try needling",
    "C7": "pain worth treating (3 out of 10 or more)",
}

#: Indicators the engine adds beside the derived facts, in words.
ENGINE_INDICATORS = {
    "candidacy": "How well IMS fits (the candidacy rules' result)",
    "candidacy_set_aside": "What the candidacy rules gave, set aside by the outcome",
    "unsure_answers": "Questions answered 'not sure'",
    "missing_answers": "Required questions not answered",
}

_ALL_CRITERIA = re.compile(r"\bC1\s*(?:to|…|\.\.\.|-|–)\s*C7\b")
_CRITERION = re.compile(r"\bC([1-7])\b")
_SECTION = re.compile(r"\bB([0-8])\b")
_SOURCES = re.compile(r"(?:\[S\d+[a-z]?\])+")
_SOURCE_ID = re.compile(r"S\d+[a-z]?")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
#: "Yusuf M, Finucane L" or "Do TP": a surname followed by initials.
_FIRST_AUTHOR = re.compile(r"^((?:[A-Z][\w'-]+ )*[A-Z][\w'-]+) [A-Z]{1,3}(?:,|$)")


@cache
def short_citation(source_id: str) -> str:
    """A source as people cite it in passing: "Yusuf et al. 2019", or the source's own first
    words when it names no author ("Health Quality Council of Alberta, 2014")."""
    source = rules.ruleset().sources.get(source_id)
    if source is None:
        return "a source no longer in the rule set"
    first_part = source.citation.split(". ", 1)[0].rstrip(".")
    year = _YEAR.search(source.citation)
    author = _FIRST_AUTHOR.match(first_part)
    if author is not None:
        several = "," in first_part
        name = author.group(1) + (" et al." if several else "")
        return f"{name} {year.group(0)}" if year else name
    return f"{first_part}, {year.group(0)}" if year and year.group(0) not in first_part else first_part


def _cited(match: re.Match[str]) -> str:
    return "(" + "; ".join(short_citation(source) for source in _SOURCE_ID.findall(match.group(0))) + ")"


def plain_words(text: str) -> str:
    """A staff text with the evidence document's internal references said in words: "B1" is the
    red-flag criteria, "C1 to C7" the candidacy criteria, "[S37]" (Yusuf et al. 2019)."""
    text = _in_words(_ALL_CRITERIA, lambda _: "all seven candidacy criteria", text)
    text = _in_words(_CRITERION, lambda m: f"the candidacy criterion of {CANDIDACY_CRITERIA['C' + m.group(1)]}", text)
    text = _in_words(_SECTION, lambda m: EVIDENCE_SECTIONS["B" + m.group(1)], text)
    return _SOURCES.sub(_cited, text)


def _in_words(pattern: re.Pattern[str], words: Callable[[re.Match[str]], str], text: str) -> str:
    """Replace each match of `pattern` by `words`, with a capital where the reference opened a sentence."""

    def replace(match: re.Match[str]) -> str:
        replacement = words(match)
        opens_sentence = match.start() == 0 or text[: match.start()].rstrip().endswith((".", "?", "!"))
        return replacement[0].upper() + replacement[1:] if opens_sentence else replacement

    return pattern.sub(replace, text)


def fact_label(name: str) -> str:
    """What an indicator or fact means, in words: a derived fact's description, a built-in fact's,
    the question a key answer comes from, never its internal name."""
    derived = {item.name: item for item in rules.ruleset().derived}
    if name in derived:
        return plain_words(derived[name].description)
    if name in BUILTIN_FACTS:
        return BUILTIN_FACTS[name]
    if name in ENGINE_INDICATORS:
        return ENGINE_INDICATORS[name]
    question = question_for(name)
    if question is not None:
        return question_label(question)
    return name.replace("_", " ").capitalize()


def question_for(question_id: str) -> Question | None:
    """A question asked now or once (a retired one), by id; None when the questionnaire never had it."""
    questionnaire = rules.questionnaire()
    if question_id in questionnaire.questions:
        return questionnaire.questions[question_id]
    return next((q for q in questionnaire.retired if q.id == question_id), None)


def question_label(question: Question, for_someone_else: bool = False) -> str:
    """A question as staff read it in a short list: its checklist label when it has one."""
    return question.checklist_wording(for_someone_else)


@dataclass(frozen=True)
class DecidingAnswer:
    question: Question | None
    question_id: str
    value: object

    @property
    def unsure(self) -> bool:
        return self.question is not None and self.question.is_unsure(self.value)


@dataclass(frozen=True)
class Explanation:
    """One screening's result arranged for the physiotherapist who acts on it."""

    result: Result
    #: The fired rules behind the outcome: what the patient was told, and why.
    deciding: list[Reason]
    #: Every other fired rule: for a warning sign, what would apply once a doctor clears it.
    set_aside: list[Reason]
    #: The answers the deciding rules read, then every other "not sure" answer.
    answers: list[DecidingAnswer]
    #: Red-flag questions left open ("not sure" or unanswered) behind a rule that keeps them open.
    open_warning_signs: list[Question]

    @property
    def outcome(self) -> Outcome:
        return self.result.outcome

    @property
    def set_aside_heading(self) -> str:
        """What the other fired rules are, for the trace's second group."""
        if self.outcome.medical:
            return "If the warning sign is cleared"
        if self.outcome is Outcome.NOT_SUITABLE:
            return "If the reason not to needle is cleared"
        return "Also fired, without deciding the outcome"


def explain(result: Result, answers: Mapping[str, object]) -> Explanation:
    """Arrange a stored result for the screening page (see `Explanation`)."""
    deciding = [
        reason
        for reason in result.explaining()
        # Under a clinician review, the precaution decided it; the candidacy is said apart.
        if not (result.outcome is Outcome.CLINICIAN_REVIEW and reason.outcome.is_candidacy)
    ]
    set_aside = [reason for reason in result.reasons if reason not in deciding]
    seen: dict[str, DecidingAnswer] = {}
    for reason in deciding:
        for question_id, value in reason.answers.items():
            seen.setdefault(question_id, DecidingAnswer(question_for(question_id), question_id, value))
    for question_id in result.unsure:
        if question_id in answers:
            seen.setdefault(question_id, DecidingAnswer(question_for(question_id), question_id, answers[question_id]))
    open_signs: list[Question] = []
    if any(reason.open_warning_sign for reason in result.reasons) and not result.outcome.medical:
        questions = rules.questionnaire().questions
        open_signs = [
            questions[question_id]
            for question_id in (*result.unsure, *result.missing)
            if question_id in questions and questions[question_id].category is Category.RED_FLAG
        ]
    return Explanation(result, deciding, set_aside, list(seen.values()), open_signs)


def indicator_rows(result: Result) -> list[tuple[str, str]]:
    """The indicators as (what it means, value in words), in the order the engine gives them."""
    rows = []
    for name, value in result.indicators.items():
        rows.append((fact_label(name), indicator_value(name, value)))
    return rows


def indicator_value(name: str, value: object) -> str:
    """An indicator's value in words: yes or no, a count, an outcome, the questions it lists."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "-"
    if name in ("candidacy", "candidacy_set_aside") and isinstance(value, str):
        return Outcome(value).staff_label
    if isinstance(value, list):
        labels = []
        for item in value:
            question = question_for(str(item))
            labels.append(question_label(question) if question is not None else str(item))
        return "; ".join(labels) or "none"
    if name in KEY_ANSWERS and isinstance(value, int):
        question = question_for(name)
        if question is not None and question.type is QuestionType.DURATION:
            return f"{value} weeks"  # the engine reads every duration in whole weeks
        if question is not None and question.type is QuestionType.SCALE:
            return f"{value} out of {question.maximum}"
        if question is not None and question.unit:
            return f"{value} {question.unit}"
    return str(value)


def init_app(app: Flask) -> None:
    """Register the template filters of the screening page."""
    app.add_template_filter(plain_words)
    app.add_template_filter(question_for)
    app.add_template_filter(indicator_rows)
