"""The rule-set data: loading checks that name the file and rule, and the rule-set version."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

import rules
from rules.datafile import DATA_DIR
from rules.errors import DataError
from rules.ruleset import load_ruleset

RULE = """
  - id: T-1
    title: "A test rule"
    outcome: clinician_review
    when: {equals: [diabetes, "yes"]}
    patient_text: "A physiotherapist will check."
    staff_rationale: "Because."
    sources: [S16]
"""


def load_with_rules(tmp_path: Path, rules_yaml: str, derived_yaml: str = "{}") -> None:
    path = tmp_path / "ruleset.yaml"
    path.write_text(
        f'name: "test"\nversion: "0"\nderived: {derived_yaml}\nrules:\n{textwrap.dedent(rules_yaml)}',
        encoding="utf-8",
    )
    (tmp_path / "changelog.yaml").write_text('- {version: "0", date: 2026-01-01, changes: [first]}\n', encoding="utf-8")
    load_ruleset(rules.questionnaire(), path, DATA_DIR / "sources.yaml")


def test_a_well_formed_rule_loads(tmp_path: Path) -> None:
    load_with_rules(tmp_path, RULE)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('diabetes, "yes"', 'diabetic, "yes"'), "rule T-1: reads 'diabetic', which is neither a question id"),
        (
            ('diabetes, "yes"', 'diabetes, "yess"'),
            "rule T-1: compares diabetes with 'yess', which is not one of its choices",
        ),
        (("sources: [S16]", "sources: []"), "rule T-1: has no source"),
        (("sources: [S16]", "sources: [S999]"), "rule T-1: cites 'S999', which is not in sources.yaml"),
        (("outcome: clinician_review", "outcome: maybe"), "rule T-1: unknown outcome 'maybe'"),
        (('    staff_rationale: "Because."\n', ""), "rule T-1: missing `staff_rationale`"),
        (("when: {equals", "when: {equal"), "rule T-1: when: unknown condition operator 'equal'"),
        (("title:", "colour: red\n    title:"), "rule T-1: unknown key 'colour'"),
        (
            ("outcome: clinician_review", "outcome: likely\n    even_if_unlikely: true"),
            "`even_if_unlikely` only makes sense for a clinician_review rule",
        ),
    ],
)
def test_a_malformed_rule_names_the_file_and_rule(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(DataError) as raised:
        load_with_rules(tmp_path, RULE.replace(*change))
    assert any(p.startswith("ruleset.yaml: ") and message in p for p in raised.value.problems), raised.value.problems


def test_duplicate_rule_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="rule T-1: duplicate rule id"):
        load_with_rules(tmp_path, RULE + RULE)


def test_a_derived_fact_may_only_read_earlier_names(tmp_path: Path) -> None:
    derived = "{later_first: {description: x, when: {fact: defined_later}}, defined_later: {description: y, when: {answered: age}}}"
    with pytest.raises(DataError, match="derived later_first: reads 'defined_later'"):
        load_with_rules(tmp_path, RULE, derived)


def test_a_derived_fact_cannot_shadow_a_question(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="derived age: the name is already a question id"):
        load_with_rules(tmp_path, RULE, "{age: {description: x, when: {answered: age}}}")


def test_the_shipped_data_has_no_problems() -> None:
    assert rules.check() == []


def test_a_rule_stripped_of_its_sources_is_the_one_problem_reported(tmp_path: Path) -> None:
    broken = tmp_path / "data"
    shutil.copytree(DATA_DIR, broken)
    text = (broken / "ruleset.yaml").read_text(encoding="utf-8")
    (broken / "ruleset.yaml").write_text(text.replace("sources: [S41]", "sources: []"), encoding="utf-8")
    problems = load_problems(broken)
    assert problems == ["ruleset.yaml: rule RF-E3: has no source: every rule must cite the clinical evidence"]


def load_problems(data_dir: Path) -> list[str]:
    from rules.questionnaire import load_questionnaire

    try:
        load_ruleset(
            load_questionnaire(data_dir / "questionnaire.yaml"), data_dir / "ruleset.yaml", data_dir / "sources.yaml"
        )
    except DataError as error:
        return error.problems
    return []


def test_the_version_is_the_human_version_plus_a_content_hash(tmp_path: Path) -> None:
    version = rules.ruleset().ruleset_version
    human, digest = version.split("+")
    assert human == rules.ruleset().version and human.count(".") == 2
    assert len(digest) == 12 and int(digest, 16) >= 0


def test_the_content_hash_follows_the_content_not_the_formatting(tmp_path: Path) -> None:
    from rules.questionnaire import load_questionnaire

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)

    def version() -> str:
        questionnaire = load_questionnaire(data / "questionnaire.yaml")
        return load_ruleset(questionnaire, data / "ruleset.yaml", data / "sources.yaml").ruleset_version

    original = version()
    ruleset_file = data / "ruleset.yaml"
    ruleset_file.write_text("# a new comment\n" + ruleset_file.read_text(encoding="utf-8"), encoding="utf-8")
    assert version() == original
    questionnaire_file = data / "questionnaire.yaml"
    text = questionnaire_file.read_text(encoding="utf-8")
    questionnaire_file.write_text(text.replace("How old are you?", "What is your age?"), encoding="utf-8")
    assert version() != original


def test_every_rule_has_an_id_rationale_patient_text_and_a_known_source() -> None:
    ruleset = rules.ruleset()
    for rule in ruleset.rules:
        assert rule.id and rule.title and rule.patient_text and rule.staff_rationale, rule.id
        assert rule.sources and all(source in ruleset.sources for source in rule.sources), rule.id


def test_every_name_a_rule_reads_is_a_question_derived_or_builtin_fact() -> None:
    from rules.ruleset import BUILTIN_FACTS

    ruleset = rules.ruleset()
    known = set(rules.questionnaire().questions) | set(BUILTIN_FACTS) | {d.name for d in ruleset.derived}
    for rule in ruleset.rules:
        assert set(rule.when.names()) <= known, rule.id


def test_rule_ids_follow_the_evidence_prefixes() -> None:
    prefixes = {
        "emergency": "RF-E",
        "see_doctor": "RF-U",
        "not_suitable": "CI-",
        "likely": "C-L",
        "possible": "C-P",
        "unlikely": "C-U",
    }
    for rule in rules.ruleset().rules:
        expected = prefixes.get(rule.outcome.value)
        if expected:
            assert rule.id.startswith(expected), rule.id
        else:
            assert rule.id[:2] in {"P-", "U-", "M-"}, rule.id


def test_the_current_version_must_have_a_changelog_entry(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    ruleset_file = data / "ruleset.yaml"
    ruleset_file.write_text(
        ruleset_file.read_text(encoding="utf-8").replace(f'version: "{rules.ruleset().version}"', 'version: "9.0.0"'),
        encoding="utf-8",
    )
    assert load_problems(data) == ["changelog.yaml: no entry for the current version 9.0.0: say what changed and why"]


def test_the_changelog_is_loaded_newest_first() -> None:
    changelog = rules.ruleset().changelog
    assert changelog[0].version == rules.ruleset().version
    assert changelog[0].changes
