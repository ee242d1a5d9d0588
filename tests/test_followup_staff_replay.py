"""`flask --app wsgi rules replay --follow-ups` (issue 18): how the current rules (a proposed rule
set, in a checkout whose rules/data/ were edited) would have sorted the patients whose follow-up
says whether they improved."""

from __future__ import annotations

import json

from flask import Flask

from app.extensions import db
from tests.support.journey import profile
from tests.support.outcomes import Answered, Unanswered, seed


def seed_patients(app: Flask) -> None:
    """Seven screenings, all answered as `ideal_neck` (which the rules now call likely) but stored
    as their outcome was then. Improved = PGIC 1 or 2.

    stored likely:   A (2 wk: 1, 6 wk: 4)  B (2 wk: 2)  C (2 wk: 5)
    stored possible: D (6 wk: 1)  E (2 wk: 3, 6 wk: not answered)
    not counted: F (no answer), G (answers the questionnaire no longer accepts)
    """
    answers = profile("ideal_neck")
    with app.app_context():
        seed(outcome="likely", answers=answers, follow_ups=(Answered(2, 1), Answered(6, 4)))
        seed(outcome="likely", answers=answers, follow_ups=(Answered(2, 2),))
        seed(outcome="likely", answers=answers, follow_ups=(Answered(2, 5),))
        seed(outcome="possible", answers=answers, follow_ups=(Answered(6, 1),))
        seed(outcome="possible", answers=answers, follow_ups=(Answered(2, 3), Unanswered(6)))
        seed(outcome="possible", answers=answers, follow_ups=(Unanswered(2),))
        seed(outcome="likely", answers={**answers, "no_such_question": 1}, follow_ups=(Answered(2, 1),))
        db.session.commit()


def replay(app: Flask, *options: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["rules", "replay", "--follow-ups", *options])
    return result.exit_code, result.output


def test_by_default_each_patients_latest_answer_is_read(app: Flask) -> None:
    seed_patients(app)
    code, output = replay(app)
    assert code == 0, output
    lines = output.splitlines()
    assert "5 patient(s) with a follow-up answered at each patient's latest answered follow-up" in lines[0]
    assert [line.split() for line in lines[2:4]] == [
        ["likely", "->", "likely", "1", "2"],  # B improved; A (latest: 6 weeks) and C did not
        ["possible", "->", "likely", "1", "1", "(moves)"],  # D improved; E did not
    ]
    assert "    likely: 2 of 5 improved" in lines
    assert "Too few patients to read" in output
    assert "cannot replay" in output and "no_such_question" in output


def test_a_chosen_time_point(app: Flask) -> None:
    seed_patients(app)
    code, output = replay(app, "--week", "2")
    assert code == 0, output
    assert "4 patient(s) with a follow-up answered at 2 weeks" in output  # D has no 2-week answer
    assert [line.split() for line in output.splitlines()[2:4]] == [
        ["likely", "->", "likely", "2", "1"],
        ["possible", "->", "likely", "0", "1", "(moves)"],
    ]
    code, output = replay(app, "--week", "12")
    assert code == 0 and "0 patient(s)" in output and "->" not in output


def test_the_report_as_json(app: Flask) -> None:
    seed_patients(app)
    code, output = replay(app, "--week", "6", "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["week"] == 6 and report["patients"] == 2
    assert report["moves"] == [
        {"from": "likely", "to": "likely", "improved": 0, "not_improved": 1},
        {"from": "possible", "to": "likely", "improved": 1, "not_improved": 0},
    ]
    assert report["not_replayable"] == {}  # G has no 6-week answer


def test_a_time_point_needs_the_follow_up_report_and_a_whole_number_of_weeks(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["rules", "replay", "--week", "2"]).exit_code == 2
    assert runner.invoke(args=["rules", "replay", "--follow-ups", "--week", "0"]).exit_code == 2
    assert runner.invoke(args=["rules", "replay", "--follow-ups", "--week", "two"]).exit_code == 2
