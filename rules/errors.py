"""Errors raised by the rules package."""

from __future__ import annotations


class DataError(ValueError):
    """A questionnaire or rule-set file is malformed.

    Each problem names the file and the place in it (question or rule id), so that
    `flask rules check` can list every problem at once.
    """

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problems))


class InvalidAnswers(ValueError):
    """Answers handed to the evaluator do not fit the questionnaire.

    `problems` lists one message per bad question id or value, so a caller can show them all.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
