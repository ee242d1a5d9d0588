"""IMS Screen's clinical core: the questionnaire, the candidacy rule set and the evaluator.

Everything here is data plus small pure functions. Nothing imports Flask, SQLAlchemy or the
web app, so a physiotherapist can read it and the tests can exercise it alone.

    >>> from rules import decided, evaluate
    >>> evaluate({"respondent": "self", ...}).outcome
    >>> decided({"respondent": "self", "rf_saddle_numbness": "yes"})  # after a page: stop now?
    <Outcome.EMERGENCY: 'emergency'>
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from rules import engine
from rules.decided import decided as _decided
from rules.engine import Reason, Result
from rules.errors import DataError, InvalidAnswers
from rules.outcomes import Outcome
from rules.questionnaire import Question, Questionnaire, Section, load_questionnaire
from rules.ruleset import RuleSet, load_ruleset

__all__ = [
    "DataError",
    "InvalidAnswers",
    "Outcome",
    "Question",
    "Questionnaire",
    "Reason",
    "Result",
    "RuleSet",
    "Section",
    "check",
    "decided",
    "evaluate",
    "prepare",
    "questionnaire",
    "ruleset",
]


@cache
def questionnaire() -> Questionnaire:
    """The questionnaire shipped with the app (loaded once, immutable)."""
    return load_questionnaire()


@cache
def ruleset() -> RuleSet:
    """The rule set shipped with the app, checked against the questionnaire."""
    return load_ruleset(questionnaire())


def evaluate(answers: Mapping[str, object]) -> Result:
    """Judge answers (question id -> value) with the shipped questionnaire and rule set.

    Raises InvalidAnswers listing each unknown id, wrong type, out-of-range value or answer
    to a question that does not apply.
    """
    return engine.evaluate(answers, questionnaire(), ruleset())


def decided(answers: Mapping[str, object]) -> Outcome | None:
    """The outcome these answers already decide, whatever the unanswered questions turn out to be.

    Only emergency, see_doctor and not_suitable can be decided early; None means "keep asking"
    (see `rules.decided`). Raises InvalidAnswers as `evaluate` does.
    """
    return _decided(answers, questionnaire(), ruleset())


def prepare() -> None:
    """Load and check the shipped questionnaire and rule set now, not on first use.

    A web worker calls this as it starts (gunicorn.conf.py), so its first patient does not wait
    for the data files to be parsed and checked, and broken data stops the worker from starting.
    """
    ruleset()  # loads the questionnaire too, and checks the rules against it


def check() -> list[str]:
    """Every problem in the shipped data files; an empty list when they are sound."""
    try:
        load_ruleset(load_questionnaire())
    except DataError as error:
        return error.problems
    return []
