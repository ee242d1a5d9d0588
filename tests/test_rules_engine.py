"""The evaluator's promises, checked over generated answers as well as by hand."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from rules import Outcome
from rules.engine import MISSING_FACTS, UNSURE_FACTS, Result
from rules.questionnaire import Category, duration
from rules.ruleset import BUILTIN_FACTS
from tests.support.rules_strategies import complete_answers

QUESTIONNAIRE = rules.questionnaire()
RED_FLAGS = [q for q in QUESTIONNAIRE if q.category is Category.RED_FLAG and "yes" in q.choice_values]
SAFETY = [q for q in QUESTIONNAIRE if q.category is Category.SAFETY]
#: The broad warning signs whose detail, answered so, sets the referral aside (issue 14,
#: pattern 4): one hand that works as usual, a stiff neck that built up over days, legs that
#: ache as part of pain all over. Any other detail, "not sure" included, keeps it.
BENIGN_DETAILS = {
    "rf_hand_symptoms": ("hand_symptoms_detail", "one_hand"),
    "rf_severe_headache": ("headache_detail", "neck_only"),
    "rf_both_legs": ("both_legs_detail", "widespread"),
}
BOOKING_OUTCOMES = {Outcome.NOT_SUITABLE, Outcome.CLINICIAN_REVIEW, Outcome.LIKELY, Outcome.POSSIBLE, Outcome.UNLIKELY}


@settings(max_examples=300, deadline=None)
@given(complete_answers())
def test_complete_answers_always_get_a_candidacy_and_a_consistent_outcome(answers: dict[str, object]) -> None:
    result = rules.evaluate(answers)
    fits = (Outcome.LIKELY, Outcome.POSSIBLE, Outcome.UNLIKELY)
    if result.outcome.medical or "CI-3" in result.rule_ids:
        # Decided by a red flag or by age: no candidacy is stored, what the rules gave is kept aside.
        assert result.candidacy is None and result.candidacy_set_aside in fits
    else:
        assert result.candidacy in fits and result.candidacy_set_aside is None
    fired_outcomes = {reason.outcome for reason in result.reasons}
    assert result.outcome in fired_outcomes | {Outcome.CLINICIAN_REVIEW}
    if result.outcome is Outcome.CLINICIAN_REVIEW:
        assert Outcome.CLINICIAN_REVIEW in fired_outcomes  # always explained by a rule
    assert [r.outcome.rank for r in result.reasons] == sorted(r.outcome.rank for r in result.reasons)
    assert result.explaining(), "the patient always sees at least one reason"


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_yes_to_any_red_flag_never_reaches_a_booking_outcome(data: st.DataObject) -> None:
    flag = data.draw(st.sampled_from(RED_FLAGS))
    answers = data.draw(complete_answers(overrides={flag.id: "yes"}))
    if flag.id == "cancer_history":  # its "yes" is split into past/current and needs spinal pain
        return
    result = rules.evaluate(answers)
    if flag.id in BENIGN_DETAILS:
        detail, benign = BENIGN_DETAILS[flag.id]
        if answers.get(detail) == benign:
            return  # the clear benign detail sets the referral aside (issue 14, pattern 4)
    if flag.id == "rf_both_legs" and not result.indicators["spinal_pain"]:
        # Without spinal pain a weak flag (P-20), but always checked by a physiotherapist first.
        assert result.outcome in (
            Outcome.EMERGENCY,
            Outcome.SEE_DOCTOR,
            Outcome.NOT_SUITABLE,
            Outcome.CLINICIAN_REVIEW,
        ), result.rule_ids
        return
    if flag.id == "rf_major_trauma":
        follow_ups = (answers.get("trauma_when"), answers.get("trauma_assessed"))
        if follow_ups == ("over_3_months", "checked") and not result.indicators["new_pain"]:
            return  # long ago, checked by a doctor, long-standing pain: no red flag (RF-U4's rationale)
        if "unsure" in follow_ups and "not_checked" not in follow_ups and follow_ups[0] != "last_3_months":
            assert "U-1" in result.rule_ids and result.outcome not in (Outcome.LIKELY, Outcome.POSSIBLE)
            return
    weak = {"osteoporosis", "rf_night_pain"}
    if flag.id == "rf_infection_risk" and not result.indicators["spinal_pain"]:
        weak.add(flag.id)  # a spinal-infection flag with spinal pain (RF-U3); without it, P-23
    if flag.id in weak:
        # Weak alone (B1): shown to the clinician, never silently passed to an IMS booking.
        assert result.outcome is not Outcome.LIKELY and result.outcome is not Outcome.POSSIBLE
        return
    assert result.outcome in (Outcome.EMERGENCY, Outcome.SEE_DOCTOR), (flag.id, result.rule_ids)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_not_sure_to_any_safety_or_red_flag_question_is_never_silent(data: st.DataObject) -> None:
    question = data.draw(st.sampled_from([q for q in QUESTIONNAIRE if q.category is not None]))
    unsure = ["unsure"] if question.type.value == "multiple" else "unsure"
    answers = data.draw(complete_answers(overrides={question.id: unsure}))
    if question not in QUESTIONNAIRE.applicable(answers):
        return
    result = rules.evaluate(answers)
    assert question.id in result.unsure
    assert result.outcome not in (Outcome.LIKELY, Outcome.POSSIBLE, Outcome.UNLIKELY), result.rule_ids
    assert {"U-1", "U-2"} & set(result.rule_ids)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_missing_required_answer_is_never_silent(data: st.DataObject) -> None:
    answers = data.draw(complete_answers())
    required = [q.id for q in QUESTIONNAIRE.applicable(answers) if q.required]
    dropped = data.draw(st.sampled_from(required))
    del answers[dropped]
    answers = QUESTIONNAIRE.applicable_answers(answers)  # follow-ups of the dropped answer go too
    result = rules.evaluate(answers)
    assert dropped in result.missing
    assert result.outcome not in (Outcome.LIKELY, Outcome.POSSIBLE, Outcome.UNLIKELY), result.rule_ids
    assert {"M-1", "M-2", "M-3"} & set(result.rule_ids)


@settings(max_examples=50, deadline=None)
@given(complete_answers())
def test_evaluation_is_pure_and_its_result_is_json(answers: dict[str, object]) -> None:
    before = copy.deepcopy(answers)
    first = rules.evaluate(answers)
    assert answers == before
    assert rules.evaluate(answers) == first
    assert json.loads(json.dumps(first.to_dict())) == first.to_dict()


def test_an_empty_answer_set_asks_for_a_clinician_and_lists_what_is_missing() -> None:
    result = rules.evaluate({})
    assert result.outcome is Outcome.CLINICIAN_REVIEW
    assert result.candidacy is None
    assert {"M-1", "M-2", "M-3"} <= set(result.rule_ids)
    assert "age" in result.indicators["missing_answers"]


def test_every_built_in_fact_watches_one_category_of_question() -> None:
    watched = [*UNSURE_FACTS.values(), *MISSING_FACTS.values()]
    assert sorted(watched) == sorted(BUILTIN_FACTS)


def test_the_result_dictionary_has_the_documented_shape(ideal_answers: dict[str, object]) -> None:
    result = rules.evaluate(ideal_answers).to_dict()
    assert set(result) == {"outcome", "candidacy", "reasons", "indicators", "ruleset_version"}
    assert result["outcome"] == "likely"
    (reason,) = result["reasons"]
    assert set(reason) == {
        "rule_id",
        "title",
        "outcome",
        "patient_text",
        "staff_rationale",
        "sources",
        "answers",
        "open_warning_sign",
    }
    assert reason["rule_id"] == "C-L1"
    assert reason["answers"]["pain_duration_weeks"] == 52  # the answers behind the rule
    for indicator in (
        "chronic_pain",
        "muscle_component",
        "tried_without_lasting_relief",
        "widespread_pain",
        "nerve_type_count",
        "needle_fear",
        "candidacy",
    ):
        assert indicator in result["indicators"]


def test_explaining_shows_only_the_medical_reasons_for_an_emergency(ideal_answers: dict[str, object]) -> None:
    answers = dict(
        ideal_answers, rf_calf_swelling="yes", calf_swelling_detail="swollen", diabetes="yes", foot_sore="no"
    )
    result = rules.evaluate(answers)
    assert result.outcome is Outcome.EMERGENCY
    assert set(result.rule_ids) == {"RF-E5", "P-4", "C-L1"}
    assert [r.rule_id for r in result.explaining()] == ["RF-E5"]


def test_a_not_suitable_result_still_explains_a_warning_sign_left_open(ideal_answers: dict[str, object]) -> None:
    """Issue 20: declining needles must not hide a "not sure" about a warning sign, from the
    patient or, once stored and read back, from the result page."""
    answers = dict(ideal_answers, willing_to_try="no", rf_unsteady_walking="unsure")
    result = rules.evaluate(answers)
    assert result.outcome is Outcome.NOT_SUITABLE
    assert [r.rule_id for r in result.explaining()] == ["CI-1", "U-1"]
    assert [r.rule_id for r in Result.from_dict(result.to_dict()).explaining()] == ["CI-1", "U-1"]
    declined_only = rules.evaluate(dict(ideal_answers, willing_to_try="no"))
    assert [r.rule_id for r in declined_only.explaining()] == ["CI-1"]


def test_a_red_flag_or_the_age_sets_candidacy_aside_and_staff_read_what_the_rules_gave(
    ideal_answers: dict[str, object],
) -> None:
    emergency = rules.evaluate(dict(ideal_answers, rf_calf_swelling="yes"))
    assert emergency.candidacy is None and emergency.candidacy_set_aside is Outcome.LIKELY
    assert emergency.to_dict()["candidacy"] is None
    assert emergency.indicators["candidacy_set_aside"] == "likely"
    child = rules.evaluate(dict(ideal_answers, age=10))
    assert child.outcome is Outcome.NOT_SUITABLE and child.candidacy is None
    assert child.candidacy_set_aside is Outcome.LIKELY
    # Another contraindication keeps the candidacy: it says how IMS would fit once it has passed.
    skin = rules.evaluate(dict(ideal_answers, skin_problem="yes"))
    assert skin.outcome is Outcome.NOT_SUITABLE and skin.candidacy is Outcome.LIKELY
    assert skin.candidacy_set_aside is None


def test_explaining_a_clinician_review_shows_the_precaution_and_the_candidacy(ideal_answers: dict[str, object]) -> None:
    result = rules.evaluate(dict(ideal_answers, metal_allergy="yes"))
    assert result.outcome is Outcome.CLINICIAN_REVIEW
    assert result.candidacy is Outcome.LIKELY
    assert [r.rule_id for r in result.explaining()] == ["P-7", "C-L1"]


@settings(max_examples=50, deadline=None)
@given(complete_answers())
def test_a_stored_result_rebuilds_to_the_same_result(answers: dict[str, object]) -> None:
    result = rules.evaluate(answers)
    stored = json.loads(json.dumps(result.to_dict()))
    rebuilt = rules.Result.from_dict(stored)
    assert rebuilt.to_dict() == result.to_dict()
    assert rebuilt.explaining() == result.explaining()


def test_pages_follow_the_answers(ideal_answers: dict[str, object]) -> None:
    assert [s.id for s in QUESTIONNAIRE.applicable_sections({})] == [s.id for s in QUESTIONNAIRE.sections]
    assert QUESTIONNAIRE.first_incomplete_section({}).id == "about"
    assert QUESTIONNAIRE.first_incomplete_section(ideal_answers) is None
    without_trend = {k: v for k, v in ideal_answers.items() if k != "pain_trend"}
    assert QUESTIONNAIRE.first_incomplete_section(without_trend).id == "pain_history"
    assert QUESTIONNAIRE.section("needles").title.startswith("Needles")
    assert QUESTIONNAIRE.section("nope") is None


# ---- Untidy answers -----------------------------------------------------------------------


#: Answers that break the questionnaire in each way it checks, to mix into generated answers.
ODD_VALUES = (None, True, 3.5, -1, 999, "", " ", "nope", [], ["nope"], ["unsure", "unsure"], {"a": 1}, "x" * 3000)


@st.composite
def mixed_answers(draw: st.DrawFn) -> dict[str, object]:
    """Complete answers, then some dropped, some "not sure", some invalid or unknown."""
    answers = draw(complete_answers())
    for qid in draw(st.lists(st.sampled_from(sorted(answers)), max_size=4, unique=True)):
        del answers[qid]
    for question in draw(st.lists(st.sampled_from([q for q in QUESTIONNAIRE if q.category]), max_size=3)):
        answers[question.id] = ["unsure"] if question.type.value == "multiple" else "unsure"
    if draw(st.integers(0, 3)) == 0:
        answers[draw(st.sampled_from([q.id for q in QUESTIONNAIRE] + ["shoe_size"]))] = draw(
            st.sampled_from(ODD_VALUES)
        )
    return answers


@settings(max_examples=300, deadline=None)
@given(mixed_answers())
def test_untidy_answers_are_refused_with_every_problem_or_judged_with_their_gaps(answers: dict[str, object]) -> None:
    """Invalid answers raise exactly the questionnaire's problems; valid ones, however incomplete
    or unsure, get a result naming the unsure and missing questions, with its reasons most urgent
    first, each showing only answers that were given."""
    problems = QUESTIONNAIRE.problems(answers)
    if problems:
        with pytest.raises(rules.InvalidAnswers) as raised:
            rules.evaluate(answers)
        assert raised.value.problems == problems
        return
    result = rules.evaluate(answers)
    valid = QUESTIONNAIRE.validate(answers)
    applicable = QUESTIONNAIRE.applicable(valid)
    assert result.unsure == tuple(q.id for q in applicable if q.id in valid and q.is_unsure(valid[q.id]))
    assert result.missing == tuple(q.id for q in QUESTIONNAIRE.missing(valid))
    assert [r.outcome.rank for r in result.reasons] == sorted(r.outcome.rank for r in result.reasons)
    for reason in result.reasons:
        assert rules.ruleset().rule(reason.rule_id).outcome is reason.outcome
        assert all(valid[name] == value for name, value in reason.answers.items())
    assert result.indicators["unsure_answers"] == list(result.unsure)
    assert result.indicators["missing_answers"] == list(result.missing)


def test_prepare_loads_and_checks_the_rules_so_the_first_evaluation_does_not(
    monkeypatch: pytest.MonkeyPatch, ideal_answers: dict[str, object]
) -> None:
    loaded: list[str] = []

    def counting(name: str, load: Callable[..., object]) -> Callable[..., object]:
        def counted(*args: object) -> object:
            loaded.append(name)
            return load(*args)

        return counted

    monkeypatch.setattr(rules, "load_questionnaire", counting("questionnaire", rules.load_questionnaire))
    monkeypatch.setattr(rules, "load_ruleset", counting("ruleset", rules.load_ruleset))
    # Fresh caches, so the data files are read again here (monkeypatch puts the shipped ones back).
    monkeypatch.setattr(rules, "questionnaire", functools.cache(rules.questionnaire.__wrapped__))
    monkeypatch.setattr(rules, "ruleset", functools.cache(rules.ruleset.__wrapped__))
    rules.prepare()
    assert loaded == ["questionnaire", "ruleset"]
    rules.evaluate(ideal_answers)
    assert loaded == ["questionnaire", "ruleset"], "evaluate loaded the data files again"


def test_prepare_stops_a_worker_from_starting_on_broken_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> object:
        raise rules.DataError("ruleset.yaml: rule X-1: no outcome")

    monkeypatch.setattr(rules, "load_ruleset", broken)
    monkeypatch.setattr(rules, "ruleset", functools.cache(rules.ruleset.__wrapped__))
    with pytest.raises(rules.DataError):
        rules.prepare()


def test_gunicorn_workers_prepare_the_rules_before_their_first_request(monkeypatch: pytest.MonkeyPatch) -> None:
    settings: dict[str, object] = {}
    exec(Path(__file__).parents[1].joinpath("gunicorn.conf.py").read_text(), settings)  # noqa: S102 - our own config file
    prepared: list[bool] = []
    monkeypatch.setattr(rules, "prepare", lambda: prepared.append(True))
    settings["post_worker_init"](None)  # type: ignore[operator]
    assert prepared == [True]


@pytest.mark.parametrize(
    ("given", "rule_id", "weeks"),
    [
        (duration(3, "days"), "C-U1", 0),  # under a week: acute
        (duration(41, "days"), "C-U1", 5),  # 41 days is still under six weeks
        (duration(42, "days"), "C-P1", 6),
        (duration(2, "months"), "C-P1", 8),
        (duration(1, "years"), "C-L1", 52),
    ],
)
def test_a_duration_given_in_any_unit_is_judged_in_completed_weeks(
    ideal_answers: dict[str, object], given: object, rule_id: str, weeks: int
) -> None:
    result = rules.evaluate({**ideal_answers, "pain_duration_weeks": given})
    assert rule_id in result.rule_ids
    assert result.indicators["pain_duration_weeks"] == weeks  # staff read the weeks at a glance
    reason = next(r for r in result.reasons if r.rule_id == rule_id)
    assert reason.answers["pain_duration_weeks"] == given  # and the answer as the person gave it


@settings(max_examples=100, deadline=None)
@given(complete_answers(), st.integers(1, 5200))
def test_whole_weeks_as_given_are_judged_as_the_same_number_stored(answers: dict[str, object], weeks: int) -> None:
    as_number = rules.evaluate({**answers, "pain_duration_weeks": weeks})
    as_given = rules.evaluate({**answers, "pain_duration_weeks": duration(weeks, "weeks")})
    assert (as_given.outcome, as_given.rule_ids, as_given.indicators) == (
        as_number.outcome,
        as_number.rule_ids,
        as_number.indicators,
    )
