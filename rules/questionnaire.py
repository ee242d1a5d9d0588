"""The questionnaire: every question the patient journey asks, loaded from data.

The questions live in ``data/questionnaire.yaml`` so that the clinical wording, the forms the
web app builds, the data dictionary and the rules all read one definition.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from rules import conditions
from rules.conditions import Condition
from rules.datafile import DATA_DIR, load_yaml
from rules.errors import DataError, InvalidAnswers

#: The value of the "not sure" choice that safety and red-flag questions must offer.
UNSURE = "unsure"

#: The choices of every question in a checklist: ticked, not ticked, or "not sure".
CHECKLIST_CHOICES = ("yes", "no", UNSURE)
#: The values of a checklist's "None of these" and "not sure" checkboxes, beside its items' ids.
CHECKLIST_NONE = "none"
CHECKLIST_RESERVED = (CHECKLIST_NONE, UNSURE)


class QuestionType(StrEnum):
    SINGLE = "single"  #: one choice (radios)
    MULTIPLE = "multiple"  #: one or more choices (checkboxes); a list of values
    INTEGER = "integer"  #: a whole number within [minimum, maximum], in `unit`
    SCALE = "scale"  #: a 0-10 style rating with labelled ends
    DURATION = "duration"  #: a length of time as given, read by the rules in whole weeks (`duration_weeks`)
    TEXT = "text"  #: short free text, at most `max_length` characters


class Widget(StrEnum):
    """A control drawn differently from its type's usual one; the answer is the same."""

    BODY_MAP = "body_map"  #: a multiple choice of body regions, shown on a front and back figure


NUMERIC_TYPES = (QuestionType.INTEGER, QuestionType.SCALE, QuestionType.DURATION)
CHOICE_TYPES = (QuestionType.SINGLE, QuestionType.MULTIPLE)

#: The units a duration may be given in, and how many weeks each is: the one definition of the
#: conversion. Fractions, not floats: exact, and no overflow on a very long number of months.
WEEKS_PER_UNIT = {
    "days": Fraction(1, 7),
    "weeks": Fraction(1),
    "months": Fraction(52, 12),
    "years": Fraction(52),
}


def duration(amount: int, unit: str) -> dict[str, object]:
    """A duration answer as the person gave it, e.g. ``{"amount": 3, "unit": "days"}``."""
    return {"amount": amount, "unit": unit}


def duration_weeks(value: object) -> int:
    """The whole weeks a duration answer has lasted, as the rules read it (`acute_pain` is at most 5).

    An answer is stored as given (`duration`), or, as before days could be given, as a whole
    number of weeks. Weeks are completed weeks, rounded down: 41 days is 5 weeks, still under
    six; 3 days is 0 weeks, under one. A month is 52/12 weeks, so 2 months is 8 weeks.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        return int(value["amount"] * WEEKS_PER_UNIT[value["unit"]])
    raise TypeError(f"not a duration: {value!r}")


class Category(StrEnum):
    """Questions whose answer can make needling unsafe; both must offer "not sure"."""

    RED_FLAG = "red_flag"  #: a sign of something serious that needs a doctor
    SAFETY = "safety"  #: a contraindication or precaution for needling


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hint: str | None = None
    #: An answer that cannot be combined with others ("None of these", "Not sure").
    exclusive: bool = False
    #: On a question `within` another: the choices of that question this one stands for (the
    #: main area "shoulder" stands for the left and the right shoulder on the body map).
    covers: tuple[str, ...] = ()


#: The problem with an answer to a question that the other answers leave out (read by the FHIR
#: import, which names it only once the answers it depends on are valid).
NOT_APPLICABLE = "does not apply given the other answers, so it must not be answered"


@dataclass(frozen=True)
class Question:
    id: str
    section_id: str
    type: QuestionType
    text: str
    #: The wording when someone answers for another person ("Does the person ...").
    text_proxy: str
    hint: str | None = None
    hint_proxy: str | None = None
    choices: tuple[Choice, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    unit: str | None = None
    #: Labels of the two ends of a scale, e.g. ("No pain", "Worst pain imaginable").
    scale_labels: tuple[str, str] | None = None
    max_length: int | None = None
    required: bool = True
    category: Category | None = None
    enable_when: Condition | None = None
    #: The data-file form of `enable_when`, for the data dictionary and FHIR export.
    enable_when_data: object = None
    #: How the question is drawn, when not as its type usually is.
    widget: Widget | None = None
    #: For the question that asks who is answering: the choice that means someone answers for
    #: another person, so every question is worded for them ("Does the person ...").
    someone_else_choice: str | None = None
    #: For the question that asks how the person answering for someone else is related to them:
    #: its answer names that relationship (FHIR's RelatedPerson, app/fhir.py).
    relationship: bool = False
    #: Shown in the staff queue's one-line summary of a screening.
    in_summary: bool = False
    #: In a checklist: the checkbox's short label (the full `text` stays for staff and exports).
    checklist_label: str | None = None
    checklist_label_proxy: str | None = None

    #: Whether this is a `Checklist` (for templates, which show the two differently).
    is_checklist: ClassVar[bool] = False
    #: An earlier multiple-choice question whose answer this one's must be among: a choice here
    #: is valid only when the earlier answer includes one of the choices it `covers`.
    within: str | None = None
    #: The follow-up after treatment asks this question again: the name of its answer there (the
    #: app's, e.g. "average_pain"), of which this answer is the baseline.
    follow_up_baseline: str | None = None

    @cached_property  # asked for each answer checked, many times a request; choices never change
    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    @property
    def labels(self) -> dict[str, str]:
        """Choice value -> label."""
        return {choice.value: choice.label for choice in self.choices}

    def label_for(self, value: str) -> str:
        """The label of a choice value, for showing an answer back to people."""
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        raise KeyError(f"{self.id} has no choice {value!r}")

    def wording(self, for_someone_else: bool = False) -> tuple[str, str | None]:
        """The (text, hint) to show, addressed to the patient or to the person answering for them."""
        if for_someone_else:
            return self.text_proxy, self.hint_proxy or self.hint
        return self.text, self.hint

    def checklist_wording(self, for_someone_else: bool = False) -> str:
        """The checkbox label of a question shown in a checklist."""
        label = (self.checklist_label_proxy if for_someone_else else None) or self.checklist_label
        return label or self.text

    def problem_with(self, value: object) -> str | None:
        """Why `value` is not a valid answer to this question, or None when it is."""
        if self.type is QuestionType.DURATION and isinstance(value, Mapping):
            return self._duration_problem(value)
        if self.type in NUMERIC_TYPES:
            if not isinstance(value, int) or isinstance(value, bool):
                return f"{self.id}: expects a whole number, got {value!r}"
            assert self.minimum is not None and self.maximum is not None
            if not self.minimum <= value <= self.maximum:
                return f"{self.id}: {value} is outside {self.minimum} to {self.maximum}"
            return None
        if self.type is QuestionType.TEXT:
            if not isinstance(value, str):
                return f"{self.id}: expects text, got {value!r}"
            if not value.strip():
                return f"{self.id}: expects some text (leave it out when there is no answer)"
            if self.max_length is not None and len(value) > self.max_length:
                return f"{self.id}: is longer than {self.max_length} characters"
            return None
        if self.type is QuestionType.SINGLE:
            if value not in self.choice_values:
                return f"{self.id}: {value!r} is not one of {', '.join(self.choice_values)}"
            return None
        if not isinstance(value, list) or not value:
            return f"{self.id}: expects a non-empty list of choices, got {value!r}"
        unknown = [v for v in value if v not in self.choice_values]
        if unknown:
            return f"{self.id}: {', '.join(map(repr, unknown))} not among {', '.join(self.choice_values)}"
        if len(set(value)) != len(value):
            return f"{self.id}: a choice is repeated"
        exclusive = [c.value for c in self.choices if c.exclusive and c.value in value]
        if exclusive and len(value) > 1:
            return f"{self.id}: {exclusive[0]!r} cannot be combined with other choices"
        return None

    def _duration_problem(self, value: Mapping[object, object]) -> str | None:
        """Why a duration given as amount and unit is not valid: the unit is one of
        `WEEKS_PER_UNIT`, the amount a whole number from 1 (no pain lasts 0 days), and the
        length at most the question's `maximum` weeks."""
        amount, unit = value.get("amount"), value.get("unit")
        if set(value) != {"amount", "unit"} or not isinstance(unit, str) or unit not in WEEKS_PER_UNIT:
            return f"{self.id}: expects {{amount, unit}} with a unit among {', '.join(WEEKS_PER_UNIT)}, got {value!r}"
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            return f"{self.id}: expects an amount of at least 1, got {amount!r}"
        assert self.maximum is not None
        if amount * WEEKS_PER_UNIT[unit] > self.maximum:
            return f"{self.id}: {amount} {unit} is longer than {self.maximum} weeks"
        return None

    def rule_value(self, value: object) -> object:
        """The answer as the rules read it: a duration in whole weeks, anything else as it is."""
        if self.type is QuestionType.DURATION and value is not None:
            return duration_weeks(value)
        return value

    def outside(self, value: object, earlier: object) -> bool:
        """Whether `value`, an answer to this question, names none of the choices of the earlier
        answer it must be `within` (False when either is missing or malformed: other problems)."""
        if self.within is None or not isinstance(earlier, list):
            return False
        choice = next((c for c in self.choices if c.value == value), None)
        return choice is not None and not set(choice.covers) & set(earlier)

    def is_unsure(self, value: object) -> bool:
        """True when the answer is, or includes, "not sure"."""
        return value == UNSURE or (isinstance(value, list) and UNSURE in value)


@dataclass(frozen=True)
class Checklist:
    """Several yes/no/not-sure questions of one page asked as one list of checkboxes.

    Only the presentation changes: each item stays a question of its own, with its own answer
    ("yes" when ticked, "unsure" when marked not sure, "no" otherwise), so the rules, the staff
    pages and the exports read the items as before. The checklist is shown where its first item
    is, and counts as one question asked.
    """

    id: str
    section_id: str
    text: str
    text_proxy: str
    items: tuple[Question, ...]
    hint: str | None = None
    hint_proxy: str | None = None

    is_checklist: ClassVar[bool] = True

    def wording(self, for_someone_else: bool = False) -> tuple[str, str | None]:
        """The (text, hint) to show, addressed to the patient or to the person answering for them."""
        if for_someone_else:
            return self.text_proxy, self.hint_proxy or self.hint
        return self.text, self.hint

    @cached_property  # read for every question of a page as it renders: worth keeping
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)


@dataclass(frozen=True)
class WarningSign:
    """One warning sign to watch for, in plain words, and the questions that ask about it."""

    text: str
    asks: tuple[str, ...]


@dataclass(frozen=True)
class SafetyNetTier:
    """The warning signs that call for one kind of help: what to do, then the signs."""

    text: str
    text_proxy: str
    signs: tuple[WarningSign, ...]

    def wording(self, for_someone_else: bool = False) -> str:
        return self.text_proxy if for_someone_else else self.text


@dataclass(frozen=True)
class SafetyNet:
    """What to do if things change: every warning sign the questionnaire asks about, by tier.

    Shown after a result (but the emergency one, which already sends the person to care) and
    after a request is sent, so that a person who answered "no" today knows what to act on
    tomorrow.
    """

    emergency: SafetyNetTier
    doctor: SafetyNetTier

    @property
    def tiers(self) -> tuple[SafetyNetTier, SafetyNetTier]:
        return (self.emergency, self.doctor)

    @property
    def asks(self) -> set[str]:
        """Every question some sign stands for."""
        return {qid for tier in self.tiers for sign in tier.signs for qid in sign.asks}


#: What a page asks: a question on its own, or a checklist of several.
Prompt = Question | Checklist


@dataclass(frozen=True)
class Section:
    """One page of the patient journey: one topic."""

    id: str
    title: str
    intro: str | None
    questions: tuple[Question, ...]
    #: Wording for someone answering for another person, where it differs.
    intro_proxy: str | None = None
    #: When, after this page, the person reads plain words about needles before going on
    #: (moderate fear, fainting, avoidance or doubt), as a condition over the answers.
    needle_reassurance_when: Condition | None = None
    #: Questions of this page asked together as checkboxes.
    checklists: tuple[Checklist, ...] = ()

    def checklist_of(self, question_id: str) -> Checklist | None:
        """The checklist that asks this question, if any."""
        return next((c for c in self.checklists if question_id in c.item_ids), None)

    @cached_property
    def prompts(self) -> tuple[Prompt, ...]:
        """What the page asks, in order: each question, except that a checklist's items are
        asked once, as the checklist, where its first item is."""
        prompts: list[Prompt] = []
        for question in self.questions:
            checklist = self.checklist_of(question.id)
            if checklist is None:
                prompts.append(question)
            elif checklist not in prompts:
                prompts.append(checklist)
        return tuple(prompts)

    def prompts_among(self, question_ids: Collection[str]) -> list[Prompt]:
        """The prompts that ask any of these questions: a question among them, or a checklist
        with at least one item among them."""

        def asks_any(prompt: Prompt) -> bool:
            ids = prompt.item_ids if isinstance(prompt, Checklist) else (prompt.id,)
            return any(qid in question_ids for qid in ids)

        return [prompt for prompt in self.prompts if asks_any(prompt)]

    def needs_needle_reassurance(self, answers: Mapping[str, object]) -> bool:
        """Whether these answers, saved on this page, call for the needle reassurance page."""
        return self.needle_reassurance_when is not None and self.needle_reassurance_when.holds(_AnswerFacts(answers))

    def intro_for(self, for_someone_else: bool = False) -> str | None:
        """The page's introduction, addressed to the patient or to the person answering for them."""
        return (self.intro_proxy or self.intro) if for_someone_else else self.intro


@dataclass(frozen=True)
class _AnswerFacts:
    """Answers seen as facts for `enable_when` conditions."""

    answers: Mapping[str, object]

    def value(self, name: str) -> object | None:
        return self.answers.get(name)


#: How many answer sets, with the questions that apply to them, each thread or task remembers.
_REMEMBERED = 4
#: (questionnaire, a copy of the answers, the questions that apply), most recent first. A
#: ContextVar, so that threads never share one (gunicorn's threaded workers, the development server).
_recent_applicability: ContextVar[tuple[tuple[Questionnaire, dict[str, object], tuple[Question, ...]], ...]] = (
    ContextVar("recent_applicability", default=())
)


@dataclass(frozen=True)
class Questionnaire:
    version: str
    sections: tuple[Section, ...]
    safety_net: SafetyNet | None = None
    #: Questions no longer asked, kept so that answers stored under them still read as words.
    retired: tuple[Question, ...] = ()
    #: The parsed file, for the content hash of the rule-set version.
    source_data: object = field(repr=False, compare=False, default=None)

    def __iter__(self) -> Iterator[Question]:
        for section in self.sections:
            yield from section.questions

    @cached_property  # looked up many times a request; the questionnaire never changes once loaded
    def questions(self) -> dict[str, Question]:
        return {question.id: question for question in self}

    def applicable(self, answers: Mapping[str, object]) -> list[Question]:
        """The questions that apply given these answers, in order.

        A question's `enable_when` may read only earlier questions (checked at load), and
        only answers to questions that themselves apply count, so a chain of follow-ups
        switches off together.

        A patient request asks this of the same answers many times over (which pages to show,
        which page comes next, what is missing, what the rules may still decide), so the last
        few answers seen in this thread or task are remembered with their result.
        """
        recent = _recent_applicability.get()
        for questionnaire, seen, questions in recent:
            # Equal answers (as the conditions compare them) make the same questions apply.
            if questionnaire is self and seen == answers:
                return list(questions)
        questions = tuple(self._applicable(answers))
        # A copy, one level deep as answers are (lists of choices, a duration's amount and unit),
        # so that a caller changing its answers later cannot change what is remembered.
        copied = {qid: value.copy() if isinstance(value, list | dict) else value for qid, value in answers.items()}
        _recent_applicability.set(((self, copied, questions), *recent[: _REMEMBERED - 1]))
        return list(questions)

    def _applicable(self, answers: Mapping[str, object]) -> list[Question]:
        """`applicable`, worked out."""
        seen: dict[str, object] = {}
        facts = _AnswerFacts(seen)  # reads `seen` as it grows
        result = []
        for question in self:
            if question.enable_when is None or question.enable_when.holds(facts):
                result.append(question)
                if answers.get(question.id) is not None:
                    seen[question.id] = answers[question.id]
        return result

    @property
    def relationship_question(self) -> Question | None:
        """The question asking how the person answering for someone else is related to them, if any."""
        return next((question for question in self if question.relationship), None)

    def for_someone_else(self, answers: Mapping[str, object]) -> bool:
        """Whether the answers say that someone is answering for another person."""
        return any(q.someone_else_choice is not None and answers.get(q.id) == q.someone_else_choice for q in self)

    @property
    def follow_up_baselines(self) -> dict[str, str]:
        """The follow-up's answer name -> the question whose answer is its baseline."""
        return {q.follow_up_baseline: q.id for q in self if q.follow_up_baseline is not None}

    @property
    def summary_questions(self) -> list[Question]:
        """The questions whose answers the staff queue shows in one line, in order."""
        return [question for question in self if question.in_summary]

    @property
    def needle_reassurance_section(self) -> Section | None:
        """The page after which the needle reassurance may be shown, if any."""
        return next((s for s in self.sections if s.needle_reassurance_when is not None), None)

    def section(self, section_id: str) -> Section | None:
        """The section (page) with this id, or None."""
        return next((section for section in self.sections if section.id == section_id), None)

    def asked(self, section: Section, answers: Mapping[str, object]) -> list[Prompt]:
        """What the person is asked on this page given these answers: each question that applies,
        and each checklist with an item that applies, once. This is what a question count counts."""
        return section.prompts_among({question.id for question in self.applicable(answers)})

    def applicable_sections(self, answers: Mapping[str, object]) -> list[Section]:
        """The pages to show given these answers: those with at least one question that applies."""
        applicable = {question.id for question in self.applicable(answers)}
        return [s for s in self.sections if any(q.id in applicable for q in s.questions)]

    def first_incomplete_section(self, answers: Mapping[str, object]) -> Section | None:
        """The first page with a required question that applies and has no answer, if any."""
        missing = {question.section_id for question in self.missing(answers)}
        return next((s for s in self.applicable_sections(answers) if s.id in missing), None)

    def applicable_answers(self, answers: Mapping[str, object]) -> dict[str, object]:
        """The answers without those to questions that no longer apply (or are unknown)."""
        return {q.id: answers[q.id] for q in self.applicable(answers) if answers.get(q.id) is not None}

    def usable_answers(self, answers: Mapping[str, object]) -> dict[str, object]:
        """The answers this questionnaire can still use: to questions that exist, with a value it
        offers, that apply. A draft begun under an earlier version may hold an answer to a question
        since retired, or a choice no longer offered; that question is asked again rather than the
        whole draft refused."""
        known = self.questions
        fitting = {
            qid: value
            for qid, value in answers.items()
            if qid in known and value is not None and known[qid].problem_with(value) is None
        }
        return self.applicable_answers(fitting)

    def with_page(
        self, answers: Mapping[str, object], section: Section, page_answers: Mapping[str, object]
    ) -> dict[str, object]:
        """`answers` with one page's answers replaced by `page_answers`, less every answer that
        no longer applies (on any page), so that a draft never holds a contradiction."""
        own = {question.id for question in section.questions}
        merged = {qid: value for qid, value in answers.items() if qid not in own}
        merged.update({qid: value for qid, value in page_answers.items() if qid in own and value is not None})
        return self.applicable_answers(merged)

    def problems(self, answers: Mapping[str, object]) -> list[str]:
        """Every reason why `answers` do not fit the questionnaire; empty when they do.

        An answer of None counts as no answer. Missing answers are not problems here: the
        rule set handles them explicitly (see the M- rules).
        """
        known = self.questions
        problems = [f"{qid}: unknown question id" for qid in answers if qid not in known]
        applicable = {q.id for q in self.applicable(answers)}
        for qid, value in answers.items():
            if qid not in known or value is None:
                continue
            if qid not in applicable:
                problems.append(f"{qid}: {NOT_APPLICABLE}")
            elif (problem := known[qid].problem_with(value)) is not None:
                problems.append(problem)
            elif known[qid].outside(value, answers.get(known[qid].within or "")):
                covers = ", ".join(next(c.covers for c in known[qid].choices if c.value == value))
                problems.append(f"{qid}: {value!r} stands for {covers}, none of which is chosen in {known[qid].within}")
        return problems

    def validate(self, answers: object) -> dict[str, object]:
        """Return the answers without empty values; raise InvalidAnswers listing every problem."""
        if not isinstance(answers, Mapping):
            raise InvalidAnswers(["answers must be an object mapping question ids to values"])
        if problems := self.problems(answers):
            raise InvalidAnswers(problems)
        return {qid: value for qid, value in answers.items() if value is not None}

    def missing(self, answers: Mapping[str, object]) -> list[Question]:
        """Required questions that apply but have no answer."""
        return [q for q in self.applicable(answers) if q.required and answers.get(q.id) is None]

    def dictionary(self) -> list[dict[str, object]]:
        """The data dictionary: every question as plain data (README.md, Command line: a stable interface)."""
        return [
            {
                "id": q.id,
                "section": q.section_id,
                "text": q.text,
                "text_proxy": q.text_proxy,
                "hint": q.hint,
                "type": q.type.value,
                "required": q.required,
                "category": q.category.value if q.category else None,
                "choices": [{"value": c.value, "label": c.label} for c in q.choices],
                "range": (
                    {"minimum": q.minimum, "maximum": q.maximum, "unit": q.unit} if q.type in NUMERIC_TYPES else None
                ),
                "max_length": q.max_length,
                "enable_when": q.enable_when_data,
            }
            for q in self
        ]


def load_questionnaire(path: Path = DATA_DIR / "questionnaire.yaml") -> Questionnaire:
    """Load and check the questionnaire; raise DataError listing every problem found."""
    data = load_yaml(path)
    builder = _Builder(path.name, data)
    questionnaire = builder.build()
    if builder.problems:
        raise DataError(*builder.problems)
    return questionnaire


class _Builder:
    """Turns the parsed file into a Questionnaire, collecting problems instead of stopping."""

    def __init__(self, filename: str, data: object) -> None:
        self.filename = filename
        self.data = data
        self.problems: list[str] = []
        self.choice_sets: Mapping[str, object] = {}
        self.reassurance_seen = False
        self.someone_else_seen = False
        self.relationship_seen = False

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.filename}: {where}: {message}")

    def build(self) -> Questionnaire:
        data = self.data
        if not isinstance(data, Mapping) or not isinstance(data.get("sections"), list):
            self.problem("top level", "expects a mapping with `version`, `choice_sets` and a `sections` list")
            return Questionnaire(version="", sections=())
        self.choice_sets = data.get("choice_sets") or {}
        sections = []
        seen: dict[str, Question] = {}
        for index, section_data in enumerate(data["sections"]):
            section = self._section(section_data, f"sections[{index}]", seen)
            if section is not None:
                sections.append(section)
        self._check_checklist_ids(sections)
        self._check_follow_up_baselines(seen)
        return Questionnaire(
            version=str(data.get("version", "")),
            sections=tuple(sections),
            safety_net=self._safety_net(data.get("safety_net"), seen),
            retired=self._retired(data.get("retired") or [], seen),
            source_data=data,
        )

    def _check_follow_up_baselines(self, questions: Mapping[str, Question]) -> None:
        """A `follow_up_baseline` names a whole-number answer (a scale or an integer), once."""
        named: dict[str, str] = {}
        for question in questions.values():
            name = question.follow_up_baseline
            if name is None:
                continue
            where = f"question {question.id}"
            if not isinstance(name, str) or not name.isidentifier():
                self.problem(where, f"`follow_up_baseline` must name a follow-up answer, got {name!r}")
            elif name in named:
                self.problem(where, f"`follow_up_baseline` {name!r} is already {named[name]}'s")
            else:
                named[name] = question.id
            if question.type not in NUMERIC_TYPES:
                self.problem(where, "`follow_up_baseline` marks a whole-number question")

    def _retired(self, entries: object, current: Mapping[str, Question]) -> tuple[Question, ...]:
        """The `retired` questions: defined as they were asked, for reading old answers only."""
        if not isinstance(entries, list):
            self.problem("retired", "must be a list of questions")
            return ()
        retired: dict[str, Question] = {}
        for index, entry in enumerate(entries):
            if isinstance(entry, Mapping) and entry.get("id") in current:
                self.problem(f"retired, question {entry['id']}", "is still asked (an id is never reused)")
                continue
            if isinstance(entry, Mapping) and entry.get("enable_when") is not None:
                self.problem(f"retired, question {entry.get('id')}", "needs no `enable_when`: it is never asked")
            question = self._question(entry, "retired", f"retired, question {index + 1}", retired)
            if question is not None:
                retired[question.id] = question
        return tuple(retired.values())

    def _safety_net(self, data: object, questions: Mapping[str, Question]) -> SafetyNet | None:
        """The `safety_net`: an `emergency` and a `doctor` tier, each a text and its signs."""
        if data is None:
            return None
        tiers = []
        for name in ("emergency", "doctor"):
            tier = data.get(name) if isinstance(data, Mapping) else None
            where = f"safety_net, {name}"
            if not isinstance(tier, Mapping) or not tier.get("text") or not isinstance(tier.get("signs"), list):
                self.problem(where, "needs `text`, `text_proxy` and a list of `signs`")
                return None
            signs = []
            for index, sign in enumerate(tier["signs"]):
                if not isinstance(sign, Mapping) or not sign.get("text") or not sign.get("asks"):
                    self.problem(f"{where}, sign {index + 1}", "needs `text` and `asks` (question ids)")
                    continue
                for qid in sign["asks"]:
                    if qid not in questions:
                        self.problem(f"{where}, sign {index + 1}", f"asks {qid!r}, which is no question")
                signs.append(WarningSign(text=" ".join(str(sign["text"]).split()), asks=tuple(sign["asks"])))
            text = " ".join(str(tier["text"]).split())
            tiers.append(SafetyNetTier(text, " ".join(str(tier.get("text_proxy") or text).split()), tuple(signs)))
        return SafetyNet(*tiers)

    def _section(self, data: object, where: str, seen: dict[str, Question]) -> Section | None:
        if not isinstance(data, Mapping) or not {"id", "title", "questions"} <= set(data):
            self.problem(where, "a section needs `id`, `title` and `questions`")
            return None
        where = f"section {data['id']}"
        questions = []
        for index, question_data in enumerate(data["questions"] or []):
            question = self._question(question_data, data["id"], f"{where}, question {index + 1}", seen)
            if question is not None:
                questions.append(question)
        if not questions:
            self.problem(where, "has no questions")
        return Section(
            id=data["id"],
            title=data["title"],
            intro=data.get("intro"),
            questions=tuple(questions),
            intro_proxy=data.get("intro_proxy"),
            needle_reassurance_when=self._reassurance(data.get("needle_reassurance_when"), where, seen),
            checklists=self._checklists(data.get("checklists"), data["id"], questions, where),
        )

    def _checklists(
        self, data: object, section_id: str, questions: list[Question], where: str
    ) -> tuple[Checklist, ...]:
        """A section's `checklists`: yes/no/not-sure questions of this page asked as checkboxes."""
        if data is None:
            return ()
        if not isinstance(data, list):
            self.problem(where, "`checklists` must be a list")
            return ()
        own = {question.id: question for question in questions}
        listed: dict[str, str] = {}  # item id -> the checklist that lists it
        checklists = []
        for index, entry in enumerate(data):
            if not isinstance(entry, Mapping) or not {"id", "text", "items"} <= set(entry):
                self.problem(where, f"checklist {index + 1} needs `id`, `text` and `items`")
                continue
            cid = entry["id"]
            at = f"{where}, checklist {cid}"
            for key in set(entry) - {"id", "text", "text_proxy", "hint", "hint_proxy", "items"}:
                self.problem(at, f"unknown key {key!r}")
            item_ids = entry["items"] if isinstance(entry["items"], list) else []
            if len(item_ids) < 2:
                self.problem(at, "`items` must list at least two questions")
            items = []
            for item_id in item_ids:
                problem = self._checklist_item_problem(item_id, own, listed.get(item_id))
                if problem is not None:
                    self.problem(at, f"item {item_id!r}: {problem}")
                if item_id in own:
                    items.append(own[item_id])
                listed.setdefault(item_id, cid)
            checklists.append(
                Checklist(
                    id=cid,
                    section_id=section_id,
                    text=entry["text"],
                    text_proxy=entry.get("text_proxy") or entry["text"],
                    items=tuple(items),
                    hint=entry.get("hint"),
                    hint_proxy=entry.get("hint_proxy"),
                )
            )
        for question in questions:
            if question.checklist_label is not None and question.id not in listed:
                self.problem(f"question {question.id}", "has a `checklist_label` but is in no checklist")
        return tuple(checklists)

    @staticmethod
    def _checklist_item_problem(item_id: object, own: Mapping[str, Question], listed_in: str | None) -> str | None:
        if not isinstance(item_id, str) or item_id not in own:
            return "is not a question of this section"
        if listed_in is not None:
            return f"is already in checklist {listed_in}"
        item = own[item_id]
        if item.type is not QuestionType.SINGLE or sorted(item.choice_values) != sorted(CHECKLIST_CHOICES):
            return f"must be a single-choice question with exactly the choices {', '.join(CHECKLIST_CHOICES)}"
        if not item.required:
            return "must be required (a checklist left empty is refused)"
        if not item.checklist_label:
            return "needs a `checklist_label` (the checkbox's short label)"
        if item.enable_when is not None and any(own.get(name) for name in item.enable_when.names()):
            return "its enable_when may read only earlier pages' questions (the page cannot hide a checkbox)"
        if item_id in CHECKLIST_RESERVED:
            return f"{item_id!r} is a reserved checkbox value"
        return None

    def _check_checklist_ids(self, sections: list[Section]) -> None:
        """A checklist's id names its form field, so it must differ from every question's and checklist's."""
        names = {question.id for section in sections for question in section.questions}
        for section in sections:
            for checklist in section.checklists:
                if checklist.id in names:
                    self.problem(f"section {section.id}, checklist {checklist.id}", "the id is already used")
                names.add(checklist.id)

    def _reassurance(self, data: object, where: str, seen: Mapping[str, Question]) -> Condition | None:
        """A section's `needle_reassurance_when`: a condition over this page's and earlier answers."""
        if data is None:
            return None
        if self.reassurance_seen:
            self.problem(where, "only one section can lead to the needle reassurance")
        self.reassurance_seen = True
        try:
            condition = conditions.parse(data, f"{self.filename}: {where}: needle_reassurance_when")
        except DataError as error:
            self.problems.extend(error.problems)
            return None
        for name in condition.names():
            if name not in seen:
                self.problem(where, f"needle_reassurance_when reads {name!r}, which is not a question so far")
        return condition

    def _question(self, data: object, section_id: str, where: str, seen: dict[str, Question]) -> Question | None:
        if not isinstance(data, Mapping) or not {"id", "type", "text"} <= set(data):
            self.problem(where, "a question needs `id`, `type` and `text`")
            return None
        qid = data["id"]
        where = f"question {qid}"
        allowed = {
            "id",
            "type",
            "text",
            "text_proxy",
            "hint",
            "hint_proxy",
            "choices",
            "minimum",
            "maximum",
            "unit",
            "scale_labels",
            "max_length",
            "required",
            "category",
            "enable_when",
            "widget",
            "someone_else_choice",
            "relationship",
            "in_summary",
            "checklist_label",
            "checklist_label_proxy",
            "within",
            "follow_up_baseline",
        }
        for key in set(data) - allowed:
            self.problem(where, f"unknown key {key!r}")
        if qid in seen:
            self.problem(where, "duplicate question id")
        try:
            qtype = QuestionType(data["type"])
        except ValueError:
            self.problem(where, f"unknown type {data['type']!r}")
            return None
        try:
            category = Category(data["category"]) if data.get("category") else None
        except ValueError:
            self.problem(where, f"unknown category {data['category']!r}")
            category = None
        try:
            widget = Widget(data["widget"]) if data.get("widget") else None
        except ValueError:
            self.problem(where, f"unknown widget {data['widget']!r}")
            widget = None
        choices = self._choices(data.get("choices"), qtype, where)
        enable_when = None
        if data.get("enable_when") is not None:
            try:
                enable_when = conditions.parse(data["enable_when"], f"{self.filename}: {where}: enable_when")
            except DataError as error:
                self.problems.extend(error.problems)
        question = Question(
            id=qid,
            section_id=section_id,
            type=qtype,
            text=data["text"],
            text_proxy=data.get("text_proxy") or data["text"],
            hint=data.get("hint"),
            hint_proxy=data.get("hint_proxy"),
            choices=choices,
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            unit=data.get("unit"),
            scale_labels=tuple(data["scale_labels"]) if data.get("scale_labels") else None,
            max_length=data.get("max_length"),
            required=data.get("required", True),
            category=category,
            enable_when=enable_when,
            enable_when_data=data.get("enable_when"),
            widget=widget,
            someone_else_choice=data.get("someone_else_choice"),
            relationship=bool(data.get("relationship", False)),
            in_summary=bool(data.get("in_summary", False)),
            checklist_label=data.get("checklist_label"),
            checklist_label_proxy=data.get("checklist_label_proxy"),
            within=data.get("within"),
            follow_up_baseline=data.get("follow_up_baseline"),
        )
        self._check_question(question, where, seen)
        seen[qid] = question
        return question

    def _choices(self, data: object, qtype: QuestionType, where: str) -> tuple[Choice, ...]:
        if isinstance(data, str):
            if data not in self.choice_sets:
                self.problem(where, f"unknown choice set {data!r}")
                return ()
            data = self.choice_sets[data]
        if data is None:
            return ()
        if qtype not in CHOICE_TYPES:
            self.problem(where, f"a {qtype} question cannot have choices")
            return ()
        if not isinstance(data, list):
            self.problem(where, f"`choices` must be a list or the name of a choice set, got {data!r}")
            return ()
        choices = []
        for item in data:
            if not isinstance(item, Mapping) or not isinstance(item.get("value"), str) or not item.get("label"):
                self.problem(where, f"a choice needs a text `value` and a `label`, got {item!r}")
                continue
            covers = item.get("covers") or ()
            if not isinstance(covers, list | tuple) or not all(isinstance(c, str) for c in covers):
                self.problem(where, f"a choice's `covers` must be a list of choice values, got {covers!r}")
                covers = ()
            choices.append(
                Choice(
                    item["value"],
                    item["label"],
                    item.get("hint"),
                    bool(item.get("exclusive", False)),
                    tuple(covers),
                )
            )
        values = [c.value for c in choices]
        if len(set(values)) != len(values):
            self.problem(where, "duplicate choice values")
        return tuple(choices)

    def _check_question(self, question: Question, where: str, earlier: Mapping[str, Question]) -> None:
        if question.type in CHOICE_TYPES and not question.choices:
            self.problem(where, f"a {question.type} question needs choices")
        if question.type in NUMERIC_TYPES:
            if not isinstance(question.minimum, int) or not isinstance(question.maximum, int):
                self.problem(where, "a numeric question needs whole-number `minimum` and `maximum`")
            elif question.minimum >= question.maximum:
                self.problem(where, "`minimum` must be below `maximum`")
            if not question.unit and question.type is not QuestionType.SCALE:
                self.problem(where, "a numeric question needs a `unit`")
        if question.type is QuestionType.SCALE and (not question.scale_labels or len(question.scale_labels) != 2):
            self.problem(where, "a scale needs two `scale_labels` (low end, high end)")
        if question.type is QuestionType.DURATION and question.unit != "weeks":
            self.problem(where, "a duration is read by the rules in weeks (`unit: weeks`)")
        if question.type is QuestionType.TEXT and not isinstance(question.max_length, int):
            self.problem(where, "a text question needs `max_length`")
        if question.widget is Widget.BODY_MAP and question.type is not QuestionType.MULTIPLE:
            self.problem(where, "a body map is a multiple-choice question")
        if question.someone_else_choice is not None:
            if question.type is not QuestionType.SINGLE or question.someone_else_choice not in question.choice_values:
                self.problem(where, "`someone_else_choice` must be one of the choices of a single-choice question")
            if self.someone_else_seen:
                self.problem(where, "only one question can ask who is answering")
            self.someone_else_seen = True
        if question.relationship:
            if question.type is not QuestionType.SINGLE:
                self.problem(where, "`relationship` marks a single-choice question")
            if self.relationship_seen:
                self.problem(where, "only one question can ask how the person answering is related")
            self.relationship_seen = True
        if question.category is not None:
            if question.type not in CHOICE_TYPES or UNSURE not in question.choice_values:
                self.problem(where, f"a {question.category} question must offer the choice {UNSURE!r}")
            if not question.required:
                self.problem(where, f"a {question.category} question must be required")
        if question.within is not None:
            self._check_within(question, where, earlier)
        elif any(choice.covers for choice in question.choices):
            self.problem(where, "only a question `within` another has choices that `cover` its choices")
        if question.enable_when is not None:
            for name in question.enable_when.names():
                if name not in earlier:
                    self.problem(where, f"enable_when reads {name!r}, which is not an earlier question")
            for name, value in question.enable_when.compared_values():
                compared = earlier.get(name)
                if compared is not None and compared.choices and value not in compared.choice_values:
                    self.problem(where, f"compares {name} with {value!r}, which is not one of its choices")

    def _check_within(self, question: Question, where: str, earlier: Mapping[str, Question]) -> None:
        """`within` names an earlier multiple choice, and the choices map onto its choices: each
        covers at least one, none an unknown one, and every one of its choices is covered (so
        whatever was chosen there, a choice here fits)."""
        outer = earlier.get(question.within or "")
        if question.type is not QuestionType.SINGLE:
            self.problem(where, "only a single-choice question can be `within` another")
        if outer is None or outer.type is not QuestionType.MULTIPLE:
            self.problem(where, f"`within` must name an earlier multiple-choice question, not {question.within!r}")
            return
        for choice in question.choices:
            if not choice.covers:
                self.problem(where, f"choice {choice.value!r} covers none of {outer.id}'s choices (`covers`)")
            for value in choice.covers:
                if value not in outer.choice_values:
                    self.problem(where, f"choice {choice.value!r} covers {value!r}, which is not one of {outer.id}'s")
        covered = {value for choice in question.choices for value in choice.covers}
        for value in outer.choice_values:
            if value not in covered:
                self.problem(where, f"no choice covers {outer.id}'s {value!r}")
