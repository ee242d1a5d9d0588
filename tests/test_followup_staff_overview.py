"""The Overview's outcomes after treatment (issue 18): the numbers of a seeded clinic, worked out by
hand; what the database copies beside the follow-ups for them (migration 0016); and that the
outcomes never read the screening table row by row."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

import rules
from app.clock import utcnow
from app.extensions import db
from app.models import FollowUp, FollowUpBaseline, FollowUpBaselineRule
from app.staff import outcomes
from rules.errors import DataError
from rules.questionnaire import load_questionnaire
from tests.support.outcomes import Answered, Unanswered, reason, seed
from tests.support.query_plans import captured, plan
from tests.support.staff_pages import text_of

OVERVIEW = "/staff/overview"

#: Ten patients screened likely, answering at 2 weeks: PGIC and average pain over the past week.
#: Seven much or very much better; their pain from 6 at screening to 2..6, changes -4..0.
LIKELY_AT_2_WEEKS = [(1, 2), (2, 3), (2, 3), (1, 4), (2, 4), (2, 4), (1, 5), (4, 5), (4, 6), (5, 6)]


def seed_clinic(app: Flask) -> None:
    """The clinic of the tests below: see each expected number's working."""
    now = utcnow()
    with app.app_context():
        for index, (pgic, pain) in enumerate(LIKELY_AT_2_WEEKS):
            later = (Answered(6, pgic=1, average_pain=3),) if index < 3 else ()  # three answer at 6 weeks too
            seed(
                outcome="likely",
                fired=("fit_a", "fit_b"),
                version="1.4.0",
                follow_ups=(Answered(2, pgic, pain), *later),
            )
        for _ in range(2):
            seed(outcome="likely", fired=("fit_a", "fit_b"), version="1.4.0", follow_ups=(Unanswered(2),))  # expired
        seed(outcome="likely", fired=("fit_a", "fit_b"), version="1.4.0", follow_ups=(Unanswered(2, open=True),))
        seed(outcome="possible", fired=("fit_b",), version="1.5.0", follow_ups=(Answered(2, pgic=3, average_pain=5),))
        # Stopped with its link still open: it can no longer be answered, so it is not "still open".
        seed(
            outcome="possible",
            fired=("fit_b",),
            version="1.5.0",
            follow_ups=(Unanswered(2, open=True),),
            stopped_at=now - timedelta(days=1),
        )
        # Never sent: not invited.
        seed(outcome="possible", fired=("fit_b",), version="1.5.0", follow_ups=(Unanswered(2, sent=False),))
        # Booked though the rules said unlikely; no baseline pain (not asked).
        seed(outcome="unlikely", version="1.5.0", pain_average=None, follow_ups=(Answered(2, pgic=2),))
        db.session.commit()


def table_rows(html: str, table_id: str) -> list[str]:
    """Each row of one table as its text (a rowgroup header belongs to its group's first row)."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table is not None, f"no table {table_id}"
    return [
        " ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    ]


def test_the_outcomes_by_screening_outcome_with_their_intervals_and_counts(
    app: Flask, physio_client: FlaskClient
) -> None:
    seed_clinic(app)
    response = physio_client.get(OVERVIEW)
    assert response.status_code == 200
    rows = table_rows(response.get_data(as_text=True), "outcomes-by-outcome")
    assert rows[1:] == [
        # 13 invited, 1 link still open: 10 answered of the 12 that can no longer be answered,
        # Wilson 0.552 to 0.953. 7 of 10 much better: Wilson 0.397 to 0.892. Pain changes -4 -3 -3
        # -2 -2 -2 -1 -1 0 0: mean -1.8, sd sqrt(156/90), t(9) = 2.262: -2.74 to -0.86.
        "Likely Rule set 1.4.0 2 weeks 10 of 13 invited (1 still open) 10 of 12: 83% (95% CI 55% to 95%) "
        "7 of 10: 70% (95% CI 40% to 89%) -1.8 (95% CI -2.7 to -0.9) , 10 people",
        # 3 of 3: Wilson 0.438 to 1; every change -3, so no spread; three people are too few to read.
        "6 weeks 3 of 3 invited 3 of 3: 100% (95% CI 44% to 100%) too few to read "
        "3 of 3: 100% (95% CI 44% to 100%) too few to read -3.0 (95% CI -3.0 to -3.0) , 3 people too few to read",
        "12 weeks 0 of 0 invited none yet none yet none yet",
        # The stopped one counts against the response; the one never sent is not invited.
        "Possible Rule set 1.5.0 2 weeks 1 of 2 invited 1 of 2: 50% (95% CI 9% to 91%) too few to read "
        "0 of 1: 0% (95% CI 0% to 79%) too few to read -1.0 (one person: no interval) too few to read",
        "6 weeks 0 of 0 invited none yet none yet none yet",
        "12 weeks 0 of 0 invited none yet none yet none yet",
        "Clinician review No follow-up sent 2 weeks 0 of 0 invited none yet none yet none yet",
        "6 weeks 0 of 0 invited none yet none yet none yet",
        "12 weeks 0 of 0 invited none yet none yet none yet",
        # Shown because it has follow-ups; no baseline pain, so no change.
        "Unlikely Rule set 1.5.0 2 weeks 1 of 1 invited 1 of 1: 100% (95% CI 21% to 100%) too few to read "
        "1 of 1: 100% (95% CI 21% to 100%) too few to read none yet",
        "6 weeks 0 of 0 invited none yet none yet none yet",
        "12 weeks 0 of 0 invited none yet none yet none yet",
    ]
    text = text_of(response)
    assert "a figure from fewer than 10 people is marked too few to read" in text
    assert "A small clinic should not change its rules" in text


def test_the_outcomes_by_rule_fired_add_up_every_screening_it_fired_in(app: Flask, physio_client: FlaskClient) -> None:
    seed_clinic(app)
    rows = table_rows(physio_client.get(OVERVIEW).get_data(as_text=True), "outcomes-by-rule")
    assert rows[1].startswith("fit_a Rule set 1.4.0 2 weeks 10 of 13 invited (1 still open) 10 of 12: 83%")
    # fit_b fired for the likely and the possible patients: 15 invited, 1 open; 11 of 14 answered
    # (Wilson 0.524 to 0.924); 7 of 11 much better (0.354 to 0.848); changes summing to -19 with
    # squares 49: mean -1.73, sd sqrt(178/110), t(10) = 2.228: -2.58 to -0.87.
    assert rows[4] == (
        "fit_b Rule set 1.4.0, 1.5.0 2 weeks 11 of 15 invited (1 still open) 11 of 14: 79% (95% CI 52% to 92%) "
        "7 of 11: 64% (95% CI 35% to 85%) -1.7 (95% CI -2.6 to -0.9) , 11 people"
    )
    assert len(rows) == 1 + 2 * 3  # two rules, three time points each


def test_the_outcomes_chart_draws_each_share_with_its_interval(app: Flask, physio_client: FlaskClient) -> None:
    seed_clinic(app)
    html = physio_client.get(OVERVIEW).get_data(as_text=True)
    drawn = re.findall(
        r'<text x="0" y="[\d.]+" class="chart__label">([^<]+)</text>\s*'
        r'<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)" y2="[\d.]+" class="chart__interval([^"]*)"/>\s*'
        r'<circle cx="([\d.]+)"',
        html,
    )
    # The scale runs from x=200 (0%) to x=580 (100%): 7 of 10 at 466, its interval 350.8 to 539.
    assert drawn == [
        ("Likely, 2 weeks", "350.8", "539.0", "", "466.0"),
        ("Likely, 6 weeks", "366.6", "580.0", " chart__interval--too-few", "580.0"),
        ("Possible, 2 weeks", "200.0", "501.5", " chart__interval--too-few", "200.0"),
        ("Unlikely, 2 weeks", "278.5", "580.0", " chart__interval--too-few", "580.0"),
    ]


def test_before_any_follow_up_the_outcomes_say_so(app: Flask, physio_client: FlaskClient) -> None:
    with app.app_context():
        seed(follow_ups=(Unanswered(2, sent=False),))
        db.session.commit()
    text = text_of(physio_client.get(OVERVIEW))
    assert "No follow-up has been sent yet. Patients who agree are asked 2, 6, 12 weeks after" in text
    assert "By the screening's outcome" not in text


def test_a_time_point_no_longer_configured_is_still_shown(app: Flask, physio_client: FlaskClient) -> None:
    app.config["FOLLOW_UP_WEEKS"] = (2,)
    with app.app_context():
        seed(follow_ups=(Answered(6, pgic=2),))
        db.session.commit()
    rows = table_rows(physio_client.get(OVERVIEW).get_data(as_text=True), "outcomes-by-outcome")
    assert [row.split(" weeks")[0].rsplit(" ", 1)[-1] for row in rows[1:3]] == ["2", "6"]


def test_the_first_follow_up_copies_what_the_screening_said_once(app: Flask) -> None:
    with app.app_context():
        screening = seed(
            fired=("fit_a", "fit_b"), version="9.9", pain_now=8, pain_average=7, follow_ups=(Answered(2, 1),)
        )
        odd = seed(fired=(), pain_now=None, pain_average=None, answers={"pain_now": 4.5, "pain_average": "7"})
        db.session.commit()
        # A second follow-up, written as SQL (as a bulk load would), changes nothing.
        db.session.execute(
            text("INSERT INTO follow_up (screening_id, week, due_at, created_at) VALUES (:id, 6, :now, :now)"),
            {"id": screening.id, "now": utcnow()},
        )
        db.session.add(FollowUp(screening=odd, week=2, due_at=utcnow()))
        db.session.commit()
        baselines = {
            row.screening_id: (row.outcome, row.ruleset_version, row.current_pain, row.average_pain)
            for row in db.session.scalars(select(FollowUpBaseline))
        }
        assert baselines == {screening.id: ("likely", "9.9", 8, 7), odd.id: ("likely", "1.0.0", None, None)}
        rules_fired = db.session.execute(select(FollowUpBaselineRule.screening_id, FollowUpBaselineRule.rule_id)).all()
        assert sorted(rules_fired) == [(screening.id, "fit_a"), (screening.id, "fit_b")]
        # Deleted with the screening, as a purge deletes it.
        db.session.execute(text("DELETE FROM screening"))
        db.session.commit()
        assert db.session.scalar(select(FollowUpBaseline.screening_id)) is None
        assert db.session.scalar(select(FollowUpBaselineRule.rule_id)) is None


def test_the_migration_copies_the_follow_ups_already_written(empty_app: Flask) -> None:
    with empty_app.app_context():
        flask_migrate.upgrade(revision="0015_followup")
        now = utcnow()
        db.session.execute(
            text(
                "INSERT INTO screening (id, reference, state, answers, outcome, reasons, indicators, ruleset_version, consented_at,"
                " created_at, updated_at, submitted_at, expires_at, outcome_rank, review_status, language,"
                " answer_languages) VALUES (1, 'IMS-AAAAAAAA', 'submitted', :answers, 'possible', :reasons, '{}', '1.2.0',"
                " :now, :now, :now, :now, :now, 5, 'booked', 'en-CA', '{}')"
            ),
            {"answers": '{"pain_average": 5}', "reasons": f"[{_json(reason('fit_b', 'possible'))}]", "now": now},
        )
        db.session.execute(
            text("INSERT INTO follow_up (screening_id, week, due_at, created_at) VALUES (1, 2, :now, :now)"),
            {"now": now},
        )
        db.session.commit()
        flask_migrate.upgrade()
        assert db.session.execute(
            select(FollowUpBaseline.outcome, FollowUpBaseline.ruleset_version, FollowUpBaseline.average_pain)
        ).all() == [("possible", "1.2.0", 5)]
        assert db.session.scalars(select(FollowUpBaselineRule.rule_id)).all() == ["fit_b"]


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def test_the_outcomes_never_read_the_screening_table_row_by_row(app: Flask) -> None:
    """Each query of the outcomes reads the follow-ups and their narrow copies; of `screening`, only
    the partial index of the few whose person stopped follow-ups, once."""
    with app.app_context():
        seed(follow_ups=(Answered(2, 1),), fired=("fit_a",))
        db.session.commit()
    with captured(app, "follow_up_baseline") as statements, app.app_context():
        outcomes.outcomes_report(app.config, utcnow())
    assert len(statements) == 2
    for statement, parameters in statements:
        explained = plan(app, statement, parameters)
        touching = [line for line in explained.splitlines() if re.search(r"\bscreening\b(?!_)|pk_screening", line)]
        assert touching and all("ix_screening_follow_ups_stopped" in line for line in touching), explained


def test_the_trigger_copies_the_questions_the_questionnaire_marks_as_baselines(app: Flask) -> None:
    """Migration 0016's trigger names the baseline questions in SQL: if rules/data/questionnaire.yaml
    marks others (`follow_up_baseline`), this fails until a migration follows."""
    marked = rules.questionnaire().follow_up_baselines
    assert set(marked) == {"current_pain", "average_pain"}
    with app.app_context():
        screening = seed(
            pain_now=None, pain_average=None, answers={marked["current_pain"]: 9, marked["average_pain"]: 2}
        )
        db.session.add(FollowUp(screening=screening, week=2, due_at=utcnow()))
        db.session.commit()
        baseline = db.session.get(FollowUpBaseline, screening.id)
        assert baseline is not None and (baseline.current_pain, baseline.average_pain) == (9, 2)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ('{id: a, type: text, text: "A?", max_length: 9, follow_up_baseline: average_pain}', "whole-number question"),
        (
            '{id: a, type: scale, text: "A?", minimum: 0, maximum: 10, scale_labels: [L, H], follow_up_baseline: "a b"}',
            "must name",
        ),
    ],
)
def test_a_follow_up_baseline_marks_one_whole_number_question(tmp_path: Path, question: str, message: str) -> None:
    path = tmp_path / "questionnaire.yaml"
    path.write_text(QUESTIONNAIRE_HEADER + "      - " + question + "\n", encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load_questionnaire(path)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def test_a_follow_up_answer_has_one_baseline(tmp_path: Path) -> None:
    scale = '{id: %s, type: scale, text: "?", minimum: 0, maximum: 10, scale_labels: [L, H], follow_up_baseline: x}'
    path = tmp_path / "questionnaire.yaml"
    path.write_text(QUESTIONNAIRE_HEADER + "".join(f"      - {scale % qid}\n" for qid in ("a", "b")), encoding="utf-8")
    with pytest.raises(DataError, match="`follow_up_baseline` 'x' is already a's"):
        load_questionnaire(path)


QUESTIONNAIRE_HEADER = """version: "1"
sections:
  - id: one
    title: "One"
    questions:
"""
