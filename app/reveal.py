"""Follow-up questions revealed by earlier answers on the same page, in CSS alone.

A follow-up such as "Which blood thinners?" should appear only after "Yes". Rather than a
script, the app serves a stylesheet generated from the questionnaire's `enable_when`
conditions, using `:has()`: it works with JavaScript off, and where a browser lacks `:has()`
every follow-up simply stays visible (the server ignores answers that do not apply).
"""

from __future__ import annotations

from functools import cache

import rules
from rules import conditions
from rules.conditions import Condition
from rules.questionnaire import CHOICE_TYPES, Question, Section

#: The form every question page is rendered in (see templates/patient/step.html).
FORM_SELECTOR = "form.question-page"


def _checked(question_id: str, value: object) -> str:
    return f':has(input[name="{question_id}"][value="{value}"]:checked)'


def _is(selectors: list[str]) -> str:
    """Match when any of the selector suffixes matches the same element."""
    return f":is({', '.join('*' + selector for selector in selectors)})"


def selector_for(condition: Condition, on_page: dict[str, Question]) -> str | None:
    """A selector suffix that matches the page form while `condition` holds, or None if CSS cannot say.

    Only conditions on choice questions of the same page can be expressed; anything else
    (numbers, other pages) is decided by the server when it renders the page.
    """
    match condition:
        case conditions.All(conditions=parts) if type(condition) is conditions.All:
            selectors = [selector_for(part, on_page) for part in parts]
            return None if None in selectors else "".join(selectors)  # type: ignore[arg-type]
        case conditions.Any(conditions=parts) if type(condition) is conditions.Any:
            selectors = [selector_for(part, on_page) for part in parts]
            return None if None in selectors else _is(selectors)  # type: ignore[arg-type]
        case conditions.Not(condition=inner):
            selector = selector_for(inner, on_page)
            return None if selector is None else f":not({selector})"
        case conditions.Equals(name=name, expected=value) if name in on_page:
            return _checked(name, value)
        case conditions.OneOf(name=name, expected=values) if name in on_page:
            return _is([_checked(name, value) for value in values])
        case conditions.Answered(name=name) if type(condition) is conditions.Answered and name in on_page:
            return f':has(input[name="{name}"]:checked)'
    return None


def revealed_questions(section: Section) -> dict[str, str]:
    """Question id -> selector suffix, for the questions of `section` that CSS can reveal."""
    on_page = {q.id: q for q in section.questions if q.type in CHOICE_TYPES}
    revealed = {}
    for question in section.questions:
        if question.enable_when is None:
            continue
        names = set(question.enable_when.names())
        if names and names <= set(on_page):
            selector = selector_for(question.enable_when, on_page)
            if selector is not None:
                revealed[question.id] = selector
    return revealed


@cache
def stylesheet() -> str:
    """The whole stylesheet: hide each revealable follow-up, show it when its condition holds."""
    hide, show = [], []
    for section in rules.questionnaire().sections:
        for question_id, selector in revealed_questions(section).items():
            hide.append(f"  {FORM_SELECTOR} #question-{question_id}")
            show.append(f"  {FORM_SELECTOR}{selector} #question-{question_id} {{ display: block; }}")
    if not hide:
        return ""
    return (
        "/* Generated from rules/data/questionnaire.yaml by app/reveal.py. */\n"
        "@supports selector(:has(*)) {\n" + ",\n".join(hide) + " { display: none; }\n" + "\n".join(show) + "\n}\n"
    )
