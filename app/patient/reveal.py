"""Follow-up questions revealed by earlier answers on the same page, in CSS alone.

A follow-up such as "Which blood thinners?" should appear only after "Yes". Rather than a
script, the app serves a stylesheet generated from the questionnaire's `enable_when`
conditions, using `:has()`: it works with JavaScript off, and where a browser lacks `:has()`
every follow-up simply stays visible (the server ignores answers that do not apply).

A checklist's "Which are you not sure about?" list is revealed the same way, by its "I'm not
sure about one of these" checkbox; a follow-up of a checklist item appears when the item is
ticked ("yes") or marked not sure ("unsure").
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import rules
from app.patient.forms import NOT_SURE_SUFFIX
from rules import conditions
from rules.conditions import Condition
from rules.questionnaire import CHOICE_TYPES, UNSURE, Question, Section

#: The form every question page is rendered in (see templates/patient/step.html).
FORM_SELECTOR = "form.question-page"


def _checked(question_id: str, value: object) -> str:
    return f':has(input[name="{question_id}"][value="{value}"]:checked)'


def _is(selectors: list[str]) -> str:
    """Match when any of the selector suffixes matches the same element."""
    return f":is({', '.join('*' + selector for selector in selectors)})"


def selector_for(
    condition: Condition, on_page: dict[str, Question], checklists: Mapping[str, str] | None = None
) -> str | None:
    """A selector suffix that matches the page form while `condition` holds, or None if CSS cannot say.

    Only conditions on choice questions of the same page can be expressed; anything else
    (numbers, counts, derived facts, other pages) is decided by the server when it renders the page.
    `checklists` maps each question of the page asked in a checklist to the checklist's id: such a
    question can be tested for "yes" (ticked) and "unsure" (marked not sure) only, as "no" is
    no checkbox of its own.
    """
    return condition.accept(_Selector(on_page, checklists or {}))


class _Selector(conditions.Visitor[str | None]):
    """`selector_for`, one method per kind of condition; None wherever CSS cannot say."""

    def __init__(self, on_page: dict[str, Question], checklists: Mapping[str, str]) -> None:
        self.on_page = on_page
        self.checklists = checklists

    def _answer(self, name: str, value: object) -> str | None:
        """Matches while question `name` of the page has the answer `value`."""
        if name not in self.on_page:
            return None
        checklist = self.checklists.get(name)
        if checklist is None:
            return _checked(name, value)
        if value == "yes":
            return _checked(checklist, name)
        if value == UNSURE:
            return _checked(checklist, UNSURE) + _checked(checklist + NOT_SURE_SUFFIX, name)
        return None

    def otherwise(self, condition: Condition) -> None:
        return None

    def _parts(self, condition: conditions.All) -> list[str] | None:
        selectors = [part.accept(self) for part in condition.conditions]
        return None if None in selectors else [selector for selector in selectors if selector is not None]

    def visit_all(self, condition: conditions.All) -> str | None:
        parts = self._parts(condition)
        return None if parts is None else "".join(parts)

    def visit_any(self, condition: conditions.AnyOf) -> str | None:
        parts = self._parts(condition)
        return None if parts is None else _is(parts)

    def visit_not(self, condition: conditions.Not) -> str | None:
        selector = condition.condition.accept(self)
        return None if selector is None else f":not({selector})"

    def visit_equals(self, condition: conditions.Equals) -> str | None:
        return self._answer(condition.name, condition.expected)

    def visit_one_of(self, condition: conditions.OneOf) -> str | None:
        selectors = [self._answer(condition.name, value) for value in condition.expected]
        return None if None in selectors else _is([s for s in selectors if s is not None])

    def visit_includes_any(self, condition: conditions.IncludesAny) -> str | None:
        return self.visit_one_of(condition)  # a checkbox among those ticked

    def visit_answered(self, condition: conditions.Answered) -> str | None:
        if condition.name not in self.on_page:
            return None
        return f':has(input[name="{self.checklists.get(condition.name, condition.name)}"]:checked)'


def revealed_questions(section: Section) -> dict[str, str]:
    """Question id -> selector suffix, for the questions of `section` that CSS can reveal."""
    return _revealed_questions(section.id)


@cache  # the questionnaire is fixed once loaded; every question page asks
def _revealed_questions(section_id: str) -> dict[str, str]:
    section = rules.questionnaire().section(section_id)
    assert section is not None
    on_page = {q.id: q for q in section.questions if q.type in CHOICE_TYPES}
    checklists = {item: checklist.id for checklist in section.checklists for item in checklist.item_ids}
    revealed = {}
    for question in section.questions:
        if question.enable_when is None:
            continue
        names = set(question.enable_when.names())
        if names and names <= set(on_page):
            selector = selector_for(question.enable_when, on_page, checklists)
            if selector is not None:
                revealed[question.id] = selector
    return revealed


def revealed_not_sure_lists(section: Section) -> dict[str, str]:
    """Element id -> selector suffix, for each checklist's "Which are you not sure about?" list."""
    return {
        f"{checklist.id}{NOT_SURE_SUFFIX}-reveal": _checked(checklist.id, UNSURE) for checklist in section.checklists
    }


@cache
def stylesheet() -> str:
    """The whole stylesheet: hide each revealable follow-up, show it when its condition holds."""
    hide, show = [], []
    for section in rules.questionnaire().sections:
        for question_id, selector in revealed_questions(section).items():
            hide.append(f"  {FORM_SELECTOR} #question-{question_id}")
            show.append(f"  {FORM_SELECTOR}{selector} #question-{question_id} {{ display: block; }}")
        for element_id, selector in revealed_not_sure_lists(section).items():
            hide.append(f"  {FORM_SELECTOR} #{element_id}")
            show.append(f"  {FORM_SELECTOR}{selector} #{element_id} {{ display: block; }}")
    if not hide:
        return ""
    return (
        "/* Generated from rules/data/questionnaire.yaml by app/patient/reveal.py. */\n"
        "@supports selector(:has(*)) {\n" + ",\n".join(hide) + " { display: none; }\n" + "\n".join(show) + "\n}\n"
    )
