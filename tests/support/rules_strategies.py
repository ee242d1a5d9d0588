"""Hypothesis strategies that build answers from the questionnaire itself."""

from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

import rules
from rules.questionnaire import NUMERIC_TYPES, UNSURE, WEEKS_PER_UNIT, Category, Question, QuestionType, duration


def value_for(question: Question) -> st.SearchStrategy[object]:
    """Any valid answer to one question."""
    if question.type is QuestionType.DURATION:
        return st.one_of(st.integers(question.minimum, question.maximum), durations_as_given(question))
    if question.type in NUMERIC_TYPES:
        return st.integers(question.minimum, question.maximum)
    if question.type is QuestionType.TEXT:
        return st.text(min_size=1, max_size=question.max_length or 1).filter(str.strip)
    if question.type is QuestionType.SINGLE:
        return st.sampled_from(question.choice_values)
    exclusive = [c.value for c in question.choices if c.exclusive]
    combinable = [c.value for c in question.choices if not c.exclusive]
    return st.one_of(
        st.lists(st.sampled_from(combinable), min_size=1, unique=True),
        *([st.sampled_from(exclusive).map(lambda v: [v])] if exclusive else []),
    )


def durations_as_given(question: Question) -> st.SearchStrategy[object]:
    """A duration as a person gives it: at least 1 of a unit, at most the question's maximum weeks
    (stored so since days could be given; `value_for` also draws the whole weeks stored before)."""
    assert question.maximum is not None

    def amounts(unit: str) -> st.SearchStrategy[object]:
        most = int(question.maximum / WEEKS_PER_UNIT[unit])  # type: ignore[operator]
        return st.integers(1, most).map(lambda amount: duration(amount, unit))

    return st.sampled_from(list(WEEKS_PER_UNIT)).flatmap(amounts)


#: `value_for` each question of the shipped questionnaire, built once: building a strategy costs
#: more than drawing from it.
_VALUES = {question.id: value_for(question) for question in rules.questionnaire()}


@st.composite
def complete_answers(draw: st.DrawFn, overrides: dict[str, object] | None = None) -> dict[str, object]:
    """A complete, valid set of answers: every question that applies gets one, in order.

    `overrides` fixes some answers (when their questions apply) so a property can focus on them.
    """
    return draw(completions_of({}, overrides=overrides))


@st.composite
def completions_of(
    draw: st.DrawFn,
    partial: dict[str, object],
    overrides: dict[str, object] | None = None,
    every_question: bool = False,
) -> dict[str, object]:
    """`partial` completed: the answers given kept, every required question that applies answered.

    Questions are walked in order, so which apply follows the answers drawn for earlier ones.
    Optional questions are answered or not (always, with `every_question`). A completion in
    which an answer given no longer applies is not one, and is rejected.
    """
    overrides = overrides or {}
    answers = _Answers()
    for question in rules.questionnaire():
        if question.enable_when is not None and not question.enable_when.holds(answers):
            continue  # the answers so far are all to questions that apply, so this is `applicable`
        if question.id in partial:
            answers[question.id] = partial[question.id]
        elif question.id in overrides:
            answers[question.id] = overrides[question.id]
        elif question.required or every_question or draw(st.booleans()):
            answers[question.id] = draw(_value_within(question, answers))
        if question.id in answers and question.within is not None:  # an answer given may not fit
            assume(not question.outside(answers[question.id], answers.get(question.within)))
    assume(partial.keys() <= answers.keys())
    return dict(answers)


def _value_within(question: Question, answers: dict[str, object]) -> st.SearchStrategy[object]:
    """`value_for` the question, or, for one `within` an earlier answer, a choice that fits it."""
    earlier = answers.get(question.within or "")
    if not isinstance(earlier, list):
        return _VALUES[question.id]
    return st.sampled_from([c.value for c in question.choices if set(c.covers) & set(earlier)])


class _Answers(dict[str, object]):
    """Answers as the facts an `enable_when` condition reads."""

    def value(self, name: str) -> object | None:
        return self.get(name)


#: The red-flag questions answered "yes" or "no" (cancer_history has its own choices).
_YES_NO_FLAGS = [
    q.id for q in rules.questionnaire() if q.category is Category.RED_FLAG and {"yes", "no"} <= set(q.choice_values)
]


@st.composite
def answers_with_some_flags(draw: st.DrawFn, every_question: bool = False) -> dict[str, object]:
    """Complete answers in which the red flags lean "no", with the odd "not sure".

    Each example picks how often a flag is "yes", from never to often, so that emergencies,
    doctor referrals and contraindications with every flag answered "no" all come up (answered
    at random, a complete set nearly always has an emergency). With `every_question`, the
    optional questions that apply are answered too.
    """
    yes_in_20 = draw(st.sampled_from([0, 0, 1, 3]))
    flags: dict[str, object] = {}
    for qid in _YES_NO_FLAGS:
        roll = draw(st.integers(0, 19))
        flags[qid] = "yes" if roll < yes_in_20 else UNSURE if roll == 19 else "no"
    return draw(completions_of({}, overrides=flags, every_question=every_question))


@st.composite
def partial_answers(draw: st.DrawFn) -> dict[str, object]:
    """Valid answers to part of the questionnaire, as a journey may hold them after some pages.

    From `answers_with_some_flags`, either the answers to the first questions, in order (the
    pages so far), or the set with any answers dropped (and the follow-ups that then no longer
    apply; a question whose enabling answer was dropped may keep its own).
    """
    complete = draw(answers_with_some_flags())
    if draw(st.booleans()):
        questions = [q.id for q in rules.questionnaire()]
        asked = set(questions[: draw(st.integers(0, len(questions)))])
        return {qid: value for qid, value in complete.items() if qid in asked}
    dropped = draw(st.sets(st.sampled_from(sorted(complete))))
    kept = {qid: value for qid, value in complete.items() if qid not in dropped}
    return rules.questionnaire().applicable_answers(kept)
