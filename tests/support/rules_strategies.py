"""Hypothesis strategies that build answers from the questionnaire itself."""

from __future__ import annotations

from hypothesis import strategies as st

import rules
from rules.questionnaire import NUMERIC_TYPES, Question, QuestionType


def value_for(question: Question) -> st.SearchStrategy[object]:
    """Any valid answer to one question."""
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


@st.composite
def complete_answers(draw: st.DrawFn, overrides: dict[str, object] | None = None) -> dict[str, object]:
    """A complete, valid set of answers: every question that applies gets one, in order.

    `overrides` fixes some answers (when their questions apply) so a property can focus on them.
    """
    overrides = overrides or {}
    answers: dict[str, object] = {}
    for question in rules.questionnaire():
        if question not in rules.questionnaire().applicable(answers):
            continue
        if question.id in overrides:
            answers[question.id] = overrides[question.id]
        elif question.required or draw(st.booleans()):
            answers[question.id] = draw(value_for(question))
    return answers
