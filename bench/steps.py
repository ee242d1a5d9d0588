"""The patient requests `make bench` sends: a question step POST that changes its answers every time,
the question page it redirects to, and the two together (a full step).

A step POST must rewrite the answers column, as a person's does, or it measures a save that saves
nothing. Each draft is therefore posted a different variant of the same page in every round (and
in the warm-up): the duration in weeks or in days (the same length, stored as given) and each of
the three pain trends, six variants in all. Only answer sets for which every variant leaves the
outcome undecided and the pages that follow unchanged are used, so every post is a 303 to the same
next page, which `question_page` names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain, product
from urllib.parse import urlencode

import rules
from bench.load import Request
from rules.errors import InvalidAnswers

#: A page in the middle of the questionnaire: a duration, single choices and a multiple choice.
STEP_SECTION = "pain_history"
#: (pain_trend, duration unit): every round and the warm-up post another one.
VARIANTS = tuple(product(("same", "better", "worse"), ("weeks", "days")))


def variant(answers: Mapping[str, object], number: int) -> dict[str, object]:
    """The answers with the step's page answered as variant `number` (of VARIANTS)."""
    trend, unit = VARIANTS[number % len(VARIANTS)]
    weeks = answers["pain_duration_weeks"]
    assert isinstance(weeks, int)
    amount = weeks * 7 if unit == "days" else weeks
    return {**answers, "pain_trend": trend, "pain_duration_weeks": {"amount": amount, "unit": unit}}


def _following(answers: Mapping[str, object]) -> str | None:
    """The page the step's POST leads to with these answers, if it is a question page."""
    questionnaire = rules.questionnaire()
    sections = questionnaire.applicable_sections(answers)
    section = questionnaire.section(STEP_SECTION)
    try:
        if rules.decided(answers) is not None or section not in sections or section is None:
            return None
    except InvalidAnswers:  # e.g. a duration of 0 weeks: 0 days is not an answer
        return None
    if section.needs_needle_reassurance(answers):
        return None
    index = sections.index(section)
    return sections[index + 1].id if index + 1 < len(sections) else None


def usable_answer_sets(answer_sets: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    """The complete answer sets whose every variant is a plain step to the same next page."""
    found = []
    for answers in answer_sets:
        if not isinstance(answers.get("pain_duration_weeks"), int):
            continue
        pages = {_following(variant(answers, v)) for v in range(len(VARIANTS))} | {_following(answers)}
        if len(pages) == 1 and None not in pages:
            found.append(answers)
    return found


def question_page(answers: Mapping[str, object]) -> str:
    """The path the step POST redirects to (and the question page measured on its own)."""
    following = _following(answers)
    assert following is not None
    return f"/screening/{following}"


def step_body(answers: Mapping[str, object], number: int, csrf: str) -> str:
    from tests.support.journey import form_data

    fields = {**form_data(STEP_SECTION, _as_posted(variant(answers, number))), "csrf_token": csrf, "action": "continue"}
    return urlencode(fields, doseq=True)


def _as_posted(answers: dict[str, object]) -> dict[str, object]:
    """form_data takes a duration as a Duration (amount, unit)."""
    from tests.support.journey import Duration

    given = answers["pain_duration_weeks"]
    assert isinstance(given, dict)
    return {**answers, "pain_duration_weeks": Duration(given["amount"], given["unit"])}


def interleave(sequences: Sequence[Sequence[Request]]) -> list[Request]:
    """One list for wrk from one sequence per wrk thread: bench/lua/requests.lua gives thread t
    the lines t, t + threads, ..., so each thread sends its own sequence in order."""
    length = min(len(sequence) for sequence in sequences)
    return list(chain.from_iterable(zip(*(sequence[:length] for sequence in sequences), strict=True)))
