"""Clinical content lives in rules/: the web app and its templates name no question or section.

What a question means to the app (its widget, that it asks who is answering, that it belongs in
the queue's summary) and which page leads to the needle reassurance, and when, are written in
rules/data/questionnaire.yaml. The app reads them from there, so a new question or page touches
the data (and its cases) only. This test fails when a file in app/ or templates/ names a question
id or a section id: as a whole string in quotes or backticks, or as an attribute name.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import rules
import rules.conditions
import rules.engine
import rules.questionnaire
import rules.ruleset

ROOT = Path(__file__).resolve().parent.parent
CHECKED = (ROOT / "app", ROOT / "templates")


def _ids() -> set[str]:
    questionnaire = rules.questionnaire()
    return {question.id for question in questionnaire} | {section.id for section in questionnaire.sections}


def _text_files() -> Iterator[Path]:
    for folder in CHECKED:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                yield path


def _fields_of_rules_classes() -> set[str]:
    """The field names of rules/' own data classes (`All.conditions`, say): as attributes in app
    code they name the rules' structure, not a question, even where a section shares the word."""
    modules = (rules.conditions, rules.questionnaire, rules.ruleset, rules.engine)
    return {
        field.name
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and dataclasses.is_dataclass(value)
        for field in dataclasses.fields(value)
    }


def _named_in_python(source: str, ids: set[str]) -> Iterator[tuple[int, str]]:
    """Ids as a whole string constant, an attribute or a keyword argument (imports are not attributes)."""
    structure = _fields_of_rules_classes()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ids:
            yield node.lineno, node.value
        elif isinstance(node, ast.Attribute) and node.attr in ids and node.attr not in structure:
            yield node.lineno, node.attr
        elif isinstance(node, ast.keyword) and node.arg in ids:
            yield node.lineno, node.arg
    yield from _named_in_text(source, ids, quotes="`", attributes=False)  # in comments and docstrings


def _named_in_text(
    text: str, ids: set[str], quotes: str = "\"'`", attributes: bool = True
) -> Iterator[tuple[int, str]]:
    """Ids in quotes or backticks, or after a dot that follows a name (``answers.respondent``)."""
    alternatives = "|".join(sorted(map(re.escape, ids)))
    patterns = [rf"([{re.escape(quotes)}])({alternatives})\1"]
    if attributes:
        patterns.append(rf"(?<=[\w\])])(\.)({alternatives})\b")
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            yield text.count("\n", 0, match.start()) + 1, match.group(2)


def test_the_ids_are_read_from_the_questionnaire() -> None:
    ids = _ids()
    assert {"respondent", "pain_regions", "needle_fear", "about", "needles"} <= ids
    assert len(ids) > 80


def test_no_file_in_app_or_templates_names_a_question_or_section_id() -> None:
    ids = _ids()
    found = []
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # an image or font
        named = _named_in_python(text, ids) if path.suffix == ".py" else _named_in_text(text, ids)
        found += [f"{path.relative_to(ROOT)}:{line}: {name}" for line, name in named]
    assert found == [], "move these into rules/data/questionnaire.yaml:\n" + "\n".join(sorted(set(found)))


def test_the_check_finds_an_id_in_each_form_it_looks_for() -> None:
    ids = {"respondent", "needles"}
    python = 'answers.get("respondent")\nscreening.needles\nurl_for("x", respondent=1)\n# see `needles`\n'
    assert sorted(name for _, name in _named_in_python(python, ids)) == [
        "needles",
        "needles",
        "respondent",
        "respondent",
    ]
    template = "{{ answers['respondent'] }} {{ screening.answers.needles }} {# `needles` #}"
    assert sorted(name for _, name in _named_in_text(template, ids)) == ["needles", "needles", "respondent"]
    harmless = "from rules.needles import x\nrespondents = 'needles-and-you'\n"
    assert list(_named_in_python(harmless, ids)) == []
