"""A Babel extractor for the questionnaire and the rule set (babel.cfg; `make translations`).

The patient reads their questions, hints, choices, page titles and introductions, the safety net
and the rules' patient texts, all kept in YAML; this finds them there so that they are translated
in the same catalogues as the templates. Staff-only text (rule titles and rationales, sources,
retired questions) is left out: staff read English.

Each string is extracted as the loaders read it (`rules.questionnaire`, `rules.ruleset`), with
its whitespace collapsed, so that the template's `_()` finds it;
tests/test_translations.py checks that every patient-facing string of the loaded questionnaire
and rule set is in the catalogue template.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

import yaml

#: Mapping keys whose string value (or list of strings) a patient reads.
PATIENT_KEYS = frozenset(
    {
        "text",
        "text_proxy",
        "hint",
        "hint_proxy",
        "label",
        "checklist_label",
        "checklist_label_proxy",
        "title",
        "intro",
        "intro_proxy",
        "scale_labels",
        "patient_text",
    }
)
#: Top-level parts of the files that only staff read.
STAFF_ONLY = frozenset({"retired", "derived", "name", "version"})
#: In the rule set only the patient texts are the patient's; titles and rationales are staff's.
RULE_SET_KEYS = frozenset({"patient_text"})

#: Keyword arguments of Python declarations whose string a patient reads: the headline of each
#: outcome's result page (`patient_label`, rules/outcomes.py).
PATIENT_ARGUMENTS = frozenset({"patient_label"})

#: The translator comment on a safety-critical message: a warning sign, or the advice of an
#: emergency or see-a-doctor result. A language whose catalogue lacks one, or has it fuzzy, is
#: never offered (app/i18n.py). Templates mark theirs with `{# Translators: safety-critical #}`.
SAFETY_CRITICAL = "safety-critical"
#: What makes a part of the YAML safety-critical: a red-flag question, or a rule whose outcome
#: sends the person to a doctor or to emergency care; the safety net is, as a whole.
CRITICAL_OUTCOMES = frozenset({"emergency", "see_doctor"})
CRITICAL_PARTS = frozenset({"safety_net"})

#: One extracted message: line number, function name, message, translator comments.
Message = tuple[int, str | None, str, list[str]]


def extract_patient_arguments(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[Message]:
    """Babel's extractor interface: each string given to a `PATIENT_ARGUMENTS` keyword in a Python
    file. `rules/` imports no Flask, so it cannot mark them with gettext; the templates translate
    them with the `translate` filter."""
    for node in ast.walk(ast.parse(fileobj.read())):
        if isinstance(node, ast.keyword) and node.arg in PATIENT_ARGUMENTS and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):  # every result's headline: each one is safety-critical
                yield node.value.lineno, None, node.value.value, [node.arg, SAFETY_CRITICAL]


def extract_yaml(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]) -> Iterator[Message]:
    """Babel's extractor interface: every patient-facing string of one YAML file, with its line."""
    root = yaml.compose(fileobj.read().decode("utf-8"))
    if not isinstance(root, yaml.MappingNode):
        return
    rule_set = any(key.value == "rules" for key, _ in root.value if isinstance(key, yaml.ScalarNode))
    keys = RULE_SET_KEYS if rule_set else PATIENT_KEYS
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value in STAFF_ONLY:
            continue
        yield from _strings(value, keys, critical=isinstance(key, yaml.ScalarNode) and key.value in CRITICAL_PARTS)


def _strings(node: yaml.Node, keys: frozenset[str], critical: bool) -> Iterator[Message]:
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _strings(item, keys, critical)
    elif isinstance(node, yaml.MappingNode):
        critical = critical or _is_critical(node)
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in keys:
                yield from _texts(value, f"{key.value}", critical)
            else:
                yield from _strings(value, keys, critical)


def _is_critical(mapping: yaml.MappingNode) -> bool:
    """A red-flag question, a page that asks one, or a rule that sends the person to a doctor."""
    fields = {key.value: value for key, value in mapping.value if isinstance(key, yaml.ScalarNode)}
    category, outcome = fields.get("category"), fields.get("outcome")
    if isinstance(category, yaml.ScalarNode) and category.value == "red_flag":
        return True
    if isinstance(outcome, yaml.ScalarNode) and outcome.value in CRITICAL_OUTCOMES:
        return True
    questions = fields.get("questions")
    return isinstance(questions, yaml.SequenceNode) and any(
        isinstance(question, yaml.MappingNode) and _is_critical(question) for question in questions.value
    )


def _texts(node: yaml.Node, field: str, critical: bool) -> Iterator[Message]:
    """The string (or strings) of one patient-facing field, whitespace collapsed as the loaders do."""
    scalars = node.value if isinstance(node, yaml.SequenceNode) else [node]
    comments = [field, SAFETY_CRITICAL] if critical else [field]
    for scalar in scalars:
        if isinstance(scalar, yaml.ScalarNode) and scalar.value.strip():
            yield scalar.start_mark.line + 1, None, " ".join(scalar.value.split()), comments
