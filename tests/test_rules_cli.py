"""`flask --app wsgi rules dictionary | evaluate FILE|- | check`, as README.md (Command line) specifies them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from flask.testing import FlaskCliRunner

import rules
from app import create_app
from rules.errors import DataError


@pytest.fixture
def cli() -> FlaskCliRunner:
    # The rules commands never touch the database; an in-memory URL keeps these tests backend-free.
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).test_cli_runner()


def run(cli: FlaskCliRunner, *args: str, stdin: str | None = None) -> Result:
    return cli.invoke(args=["rules", *args], input=stdin)


def test_dictionary_lists_every_question_as_json(cli: FlaskCliRunner) -> None:
    result = run(cli, "dictionary")
    assert result.exit_code == 0
    dictionary = json.loads(result.output)
    age = next(entry for entry in dictionary if entry["id"] == "age")
    assert age["section"] == "pain_location"
    assert age["type"] == "integer"
    assert age["range"] == {"minimum": 0, "maximum": 120, "unit": "years"}
    assert {"id", "section", "text", "type", "choices", "range", "enable_when"} <= set(age)


def test_evaluate_reads_a_file(cli: FlaskCliRunner, tmp_path: Path, ideal_answers: dict[str, object]) -> None:
    answers_file = tmp_path / "answers.json"
    answers_file.write_text(json.dumps(ideal_answers), encoding="utf-8")
    result = run(cli, "evaluate", str(answers_file))
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert output["outcome"] == "likely"
    assert [reason["rule_id"] for reason in output["reasons"]] == ["C-L1"]
    assert output["ruleset_version"] == rules.ruleset().ruleset_version


def test_evaluate_reads_standard_input(cli: FlaskCliRunner, ideal_answers: dict[str, object]) -> None:
    answers = dict(ideal_answers, rf_saddle_numbness="yes")
    result = run(cli, "evaluate", "-", stdin=json.dumps(answers))
    assert result.exit_code == 0
    output = json.loads(result.output)
    assert output["outcome"] == "emergency"
    assert output["reasons"][0]["rule_id"] == "RF-E1"
    assert output["reasons"][0]["sources"] == ["S33", "S34"]


def test_evaluate_exits_2_naming_each_bad_id_and_value(cli: FlaskCliRunner) -> None:
    result = run(cli, "evaluate", "-", stdin=json.dumps({"age": 300, "shoe_size": 9, "respondent": "cat"}))
    assert result.exit_code == 2
    assert "age: 300 is outside 0 to 120" in result.stderr
    assert "shoe_size: unknown question id" in result.stderr
    assert "respondent: 'cat' is not one of self, proxy" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("stdin", ["{not json", "[1, 2]", ""])
def test_evaluate_exits_2_on_input_that_is_not_an_answers_object(cli: FlaskCliRunner, stdin: str) -> None:
    result = run(cli, "evaluate", "-", stdin=stdin)
    assert result.exit_code == 2
    assert "invalid answers" in result.stderr


def test_evaluate_exits_2_for_a_missing_file(cli: FlaskCliRunner, tmp_path: Path) -> None:
    result = run(cli, "evaluate", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "nope.json" in result.stderr


def test_check_passes_on_the_shipped_rules(cli: FlaskCliRunner) -> None:
    result = run(cli, "check")
    assert result.exit_code == 0
    assert result.output.startswith("ok: ")


def test_check_fails_listing_every_problem(cli: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise DataError("ruleset.yaml: rule X-1: has no source", "ruleset.yaml: rule X-2: unknown outcome 'maybe'")

    monkeypatch.setattr("rules.load_questionnaire", broken)
    result = run(cli, "check")
    assert result.exit_code == 1
    assert "error: ruleset.yaml: rule X-1: has no source" in result.stderr
    assert "error: ruleset.yaml: rule X-2: unknown outcome 'maybe'" in result.stderr
