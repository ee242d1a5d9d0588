"""Rules governance: replaying stored screenings under changed rules, the changelog, and kappa."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flask import Flask

import rules
from app.extensions import db
from rules.datafile import DATA_DIR
from rules.questionnaire import load_questionnaire
from rules.replay import cohen_kappa
from rules.ruleset import load_ruleset
from tests.conftest import submit_screening


def ruleset_with(tmp_path: Path, old: str, new: str) -> rules.RuleSet:
    """The shipped rule set with one textual change, e.g. a precaution made a contraindication."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    text = (data / "ruleset.yaml").read_text(encoding="utf-8")
    assert old in text
    (data / "ruleset.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_ruleset(load_questionnaire(data / "questionnaire.yaml"), data / "ruleset.yaml", data / "sources.yaml")


def test_replay_with_unchanged_rules_moves_nothing(app: Flask, ideal_answers: dict[str, object]) -> None:
    submit_screening(app, ideal_answers)
    result = app.test_cli_runner().invoke(args=["rules", "replay"])
    assert result.exit_code == 0
    assert "replayed 1 screening(s); 0 would change." in result.output


def test_replay_shows_exactly_which_screenings_a_rule_change_moves(
    app: Flask, ideal_answers: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allergic = submit_screening(app, dict(ideal_answers, metal_allergy="yes"))
    untouched = submit_screening(app, ideal_answers)
    # The clinic decides a metal allergy rules needling out (P-7 becomes a contraindication).
    changed = ruleset_with(
        tmp_path,
        'title: "Metal allergy"\n    outcome: clinician_review',
        'title: "Metal allergy"\n    outcome: not_suitable',
    )
    monkeypatch.setattr(rules, "ruleset", lambda: changed)
    result = app.test_cli_runner().invoke(args=["rules", "replay", "--json"])
    report = json.loads(result.output)
    assert report["replayed"] == 2
    assert [c["reference"] for c in report["changed"]] == [allergic]
    assert untouched not in result.output
    assert report["outcome_moves"] == [{"from": "clinician_review", "to": "not_suitable", "count": 1}]


def test_replay_names_rules_that_would_newly_fire_or_stop(
    app: Flask, ideal_answers: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = submit_screening(app, dict(ideal_answers, needle_fear=4))  # P-6 fires at 4 and above
    stricter = ruleset_with(tmp_path, "when: {at_least: [needle_fear, 4]}", "when: {at_least: [needle_fear, 5]}")
    monkeypatch.setattr(rules, "ruleset", lambda: stricter)
    result = app.test_cli_runner().invoke(args=["rules", "replay"])
    assert "P-6: would newly fire for 0, stop firing for 1" in result.output
    assert f"{reference}: clinician_review -> likely  -P-6" in result.output


def test_replay_since_a_date_skips_older_screenings(app: Flask, ideal_answers: dict[str, object]) -> None:
    submit_screening(app, ideal_answers)
    result = app.test_cli_runner().invoke(args=["rules", "replay", "--since", "2999-01-01"])
    assert "replayed 0 screening(s)" in result.output


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("likely", "likely"), ("possible", "possible")], 1.0),
        ([("likely", "possible"), ("possible", "likely")], -1.0),
        # Two raters, 50 items: the textbook example (agree 20 yes + 15 no; kappa 0.4).
        ([("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15, 0.4),
    ],
)
def test_cohen_kappa(pairs: list[tuple[str, str]], expected: float) -> None:
    assert cohen_kappa(pairs) == pytest.approx(expected)


def test_kappa_without_judgements_is_unknown() -> None:
    assert cohen_kappa([]) is None


def test_admins_see_the_changelog_replay_and_calibration(
    app: Flask, admin_client, physio_client, ideal_answers: dict[str, object]
) -> None:
    reference = submit_screening(app, ideal_answers)
    with app.app_context():
        from sqlalchemy import select

        from app.models import Screening

        screening = db.session.scalars(select(Screening).where(Screening.reference == reference)).one()
        screening.clinician_outcome = "possible"
        db.session.commit()
    html = admin_client.get("/staff/rules/").get_data(as_text=True)
    assert rules.ruleset().ruleset_version in html
    assert "Version 1.0.0" in html
    assert "Replayed 1 screening(s)" in html
    assert (
        "1 screening(s) have a physiotherapist&#39;s own outcome" in html
        or "1 screening(s) have a physiotherapist's own outcome" in html
    )
    assert physio_client.get("/staff/rules/").status_code == 403
