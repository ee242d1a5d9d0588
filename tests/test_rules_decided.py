"""Stopping early: `rules.decided` names an outcome only when no way of finishing the answers
could give another, and names it as soon as the answers show it."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import rules
from rules import conditions
from rules.datafile import DATA_DIR
from rules.decided import Unknown, truth
from rules.decided import decided as decided_by
from rules.outcomes import OVERRIDING_OUTCOMES, Outcome
from rules.questionnaire import Category, load_questionnaire
from rules.ruleset import load_ruleset
from tests.support.rules_strategies import answers_with_some_flags, completions_of, partial_answers

QUESTIONNAIRE = rules.questionnaire()
RULESET = rules.ruleset()
#: The answers that make the age- and onset-dependent warning signs apply (pregnancy signs, a
#: serious accident).
AGE_AND_ONSET = {"age": 45, "pain_onset": "injury"}
#: Every red-flag question that is not a follow-up of another answer (such as `trauma_when`)
#: answered "no", with the age and onset that make them all apply.
RED_FLAGS_NO = AGE_AND_ONSET | {
    q.id: "no"
    for q in QUESTIONNAIRE
    if q.category is Category.RED_FLAG and (q.enable_when is None or set(q.enable_when.names()) <= set(AGE_AND_ONSET))
}


class _Given(dict[str, object]):
    def value(self, name: str) -> object | None:
        return self.get(name)


#: The emergency warning signs: the items of the emergency page's checklist (not the plainer
#: rewordings asked after "not sure", nor the details asked after "yes").
EMERGENCY_READS = sorted(QUESTIONNAIRE.section("warning_signs").checklists[0].item_ids)  # type: ignore[union-attr]
#: The warning signs whose "yes" opens a detail question that can set the emergency aside.
WITH_DETAIL = {
    name
    for q in QUESTIONNAIRE
    if q.category is Category.RED_FLAG and q.enable_when is not None
    for name, value in q.enable_when.compared_values()
    if value == "yes"
}
#: Those whose "yes" alone fires an emergency rule.
EMERGENCY_ON_YES = [
    qid
    for qid in EMERGENCY_READS
    if qid not in WITH_DETAIL
    and any(r.outcome is Outcome.EMERGENCY and r.when.holds(_Given({qid: "yes"})) for r in RULESET.rules)
]


def test_the_emergency_questions_are_found_in_the_rules() -> None:
    assert "rf_saddle_numbness" in EMERGENCY_ON_YES
    assert {"rf_calf_swelling", "rf_severe_headache"} <= WITH_DETAIL
    assert set(EMERGENCY_READS) <= set(QUESTIONNAIRE.questions)


# ---- Sound: a decided outcome is the outcome of every completion ---------------------------


def test_a_decided_outcome_is_the_outcome_of_every_completion_and_of_the_answers_so_far() -> None:
    """Over partial answers and random ways to finish them. The counts at the end show that the
    property met each early outcome, and undecided answers, often enough to mean something."""
    seen: Counter[Outcome | None] = Counter()

    @settings(max_examples=250, deadline=None)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        partial = data.draw(partial_answers(), label="partial")
        outcome = rules.decided(partial)
        seen[outcome] += 1
        event(f"decided: {outcome}")
        if outcome is None:
            return
        assert rules.evaluate(partial).outcome is outcome  # what the journey stores when it stops
        for _ in range(3):
            completion = data.draw(completions_of(partial), label="completion")
            assert rules.evaluate(completion).outcome is outcome
            assert rules.decided(completion) is outcome  # answering more never takes a stop back

    check()
    total = sum(seen.values())
    assert seen[None] >= total // 5, seen
    for outcome in OVERRIDING_OUTCOMES:
        assert seen[outcome] >= total // 50, seen


@settings(max_examples=120, deadline=None)
@given(answers_with_some_flags(every_question=True))
def test_every_question_answered_decides_exactly_the_overriding_outcome(answers: dict[str, object]) -> None:
    """With nothing left to answer, an emergency (or referral, or contraindication) is decided,
    and a candidacy outcome never is."""
    outcome = rules.evaluate(answers).outcome
    event(f"outcome: {outcome}")
    assert rules.decided(answers) is (outcome if outcome.overrides_candidacy else None)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_a_yes_to_an_emergency_question_decides_emergency_with_everything_after_it_unanswered(
    data: st.DataObject,
) -> None:
    qid = data.draw(st.sampled_from(EMERGENCY_ON_YES))
    complete = data.draw(answers_with_some_flags())
    complete[qid] = "yes"
    if QUESTIONNAIRE.questions[qid].enable_when is not None:
        complete["age"] = 30  # the pregnancy signs are asked from 10 to 60
    complete = QUESTIONNAIRE.applicable_answers(complete)
    order = [q.id for q in QUESTIONNAIRE]
    asked = set(order[: order.index(qid) + 1])
    partial = {k: v for k, v in complete.items() if k in asked}
    assert rules.decided(partial) is Outcome.EMERGENCY


# ---- Named examples with the shipped rules ----------------------------------------------------


def test_a_painful_swollen_calf_is_an_emergency_once_its_detail_is_not_a_skin_infection() -> None:
    calf = {"respondent": "self", "rf_calf_swelling": "yes"}
    assert rules.decided(calf) is None  # the detail, on the same page, may say skin infection
    assert rules.decided(calf | {"calf_swelling_detail": "swollen"}) is Outcome.EMERGENCY
    assert rules.decided(calf | {"calf_swelling_detail": "unsure"}) is Outcome.EMERGENCY
    infection = calf | {"calf_swelling_detail": "skin_infection"}
    assert rules.decided(infection) is None  # a doctor today, unless an emergency sign follows
    others = {qid: "no" for qid in EMERGENCY_READS if qid != "rf_calf_swelling"} | {"age": 45}
    assert rules.decided(infection | others) is Outcome.SEE_DOCTOR


def test_a_new_severe_headache_is_decided_by_how_it_began() -> None:
    headache = {qid: "no" for qid in EMERGENCY_READS} | {"age": 45, "rf_severe_headache": "yes"}
    assert rules.decided(headache) is None
    assert rules.decided(headache | {"headache_detail": "sudden"}) is Outcome.EMERGENCY
    assert rules.decided(headache | {"headache_detail": "headache"}) is Outcome.SEE_DOCTOR
    assert rules.decided(headache | {"headache_detail": "unsure"}) is Outcome.SEE_DOCTOR
    assert rules.decided(headache | {"headache_detail": "neck_only"}) is None


def test_a_doctor_referral_waits_until_every_emergency_question_is_answered_no() -> None:
    answers: dict[str, object] = {"respondent": "self", "age": 45, "rf_worsening_weakness": "yes"}
    assert rules.decided(answers) is None  # an emergency question might still be "yes"
    for qid in EMERGENCY_READS[:-1]:
        answers[qid] = "no"
        assert rules.decided(answers) is None, qid
    answers[EMERGENCY_READS[-1]] = "no"
    assert rules.decided(answers) is Outcome.SEE_DOCTOR


def test_an_emergency_outranks_a_doctor_referral_already_decided() -> None:
    answers = {qid: "no" for qid in EMERGENCY_READS} | {"age": 45, "rf_unsteady_walking": "yes"}
    assert rules.decided(answers) is Outcome.SEE_DOCTOR
    assert rules.decided(answers | {"rf_after_needling": "yes"}) is Outcome.EMERGENCY


def test_unwilling_to_be_needled_waits_for_the_red_flags() -> None:
    unwilling: dict[str, object] = {"respondent": "self", "pain_regions": ["knee_left"], "willing_to_try": "no"}
    assert rules.evaluate(unwilling).outcome is Outcome.NOT_SUITABLE  # as the answers stand
    assert rules.decided(unwilling) is None
    assert rules.decided(unwilling | RED_FLAGS_NO) is Outcome.NOT_SUITABLE


def test_with_the_painful_area_unknown_a_spinal_red_flag_pattern_can_still_appear() -> None:
    """Cancer or infection signs need a doctor only with spinal pain (RF-U1, RF-U3, RF-U4)."""
    answers = RED_FLAGS_NO | {"respondent": "self", "willing_to_try": "no"}
    assert rules.decided(answers) is None
    assert rules.decided(answers | {"pain_regions": ["knee_left"]}) is Outcome.NOT_SUITABLE
    # With the neck painful, immune treatment and age (fracture risk) still matter.
    assert rules.decided(answers | {"pain_regions": ["neck"]}) is None


def test_not_sure_is_never_an_emergency_but_may_still_become_one() -> None:
    assert rules.decided({"rf_calf_swelling": "unsure"}) is None
    all_unsure = AGE_AND_ONSET | {qid: "unsure" for qid in RED_FLAGS_NO if qid not in AGE_AND_ONSET}
    assert rules.decided(all_unsure) is None  # a safety net's clinician review, not decided
    referral = {qid: "no" for qid in EMERGENCY_READS} | {
        "age": 45,
        "rf_calf_swelling": "unsure",
        "rf_unsteady_walking": "yes",
    }
    assert rules.decided(referral) is None  # the plainer rewording may still bring a yes
    referral["rf_calf_swelling_plain"] = "no"
    assert rules.decided(referral) is Outcome.SEE_DOCTOR
    assert rules.evaluate(referral).outcome is Outcome.SEE_DOCTOR
    still_unsure = {qid: "no" for qid in EMERGENCY_READS} | {"age": 45, "rf_calf_swelling": "unsure"}
    assert rules.decided(still_unsure | {"rf_calf_swelling_plain": "unsure"}) is Outcome.SEE_DOCTOR
    plain_yes = still_unsure | {"rf_calf_swelling_plain": "yes"}
    assert rules.decided(plain_yes | {"calf_swelling_detail": "swollen"}) is Outcome.EMERGENCY


def test_no_answers_and_a_candidate_decide_nothing(ideal_answers: dict[str, object]) -> None:
    assert rules.decided({}) is None
    assert rules.evaluate(ideal_answers).outcome is Outcome.LIKELY
    assert rules.decided(ideal_answers) is None
    calf = {"rf_calf_swelling": "yes", "calf_swelling_detail": "swollen"}
    assert rules.decided(ideal_answers | calf) is Outcome.EMERGENCY


@pytest.mark.parametrize(
    "answers",
    [
        {"respondent": "self", "proxy_relationship": "family"},  # does not apply
        {"shoe_size": 42},
        {"rf_calf_swelling": "maybe"},
    ],
)
def test_invalid_answers_are_refused_as_evaluate_refuses_them(answers: dict[str, object]) -> None:
    with pytest.raises(rules.InvalidAnswers) as evaluated:
        rules.evaluate(answers)
    with pytest.raises(rules.InvalidAnswers) as judged:
        rules.decided(answers)
    assert judged.value.problems == evaluated.value.problems


# ---- Follow-up questions, counts and "not sure", on a small questionnaire ---------------------

SMALL_QUESTIONNAIRE = """
    version: "1"
    choice_sets:
      yes_no_unsure:
        - {value: "yes", label: "Yes"}
        - {value: "no", label: "No"}
        - {value: unsure, label: "Not sure"}
    sections:
      - id: one
        title: "One"
        questions:
          - {id: chest_pain, type: single, text: "Chest pain?", category: red_flag, choices: yes_no_unsure}
          - id: on_effort
            type: single
            text: "With effort?"
            category: red_flag
            choices: yes_no_unsure
            enable_when: {equals: [chest_pain, "yes"]}
          - {id: falls, type: single, text: "Falls?", choices: yes_no_unsure}
          - {id: dizzy, type: single, text: "Dizzy?", choices: yes_no_unsure}
          - {id: numb, type: single, text: "Numb?", choices: yes_no_unsure}
          - {id: weak_legs, type: single, text: "Weak legs?", category: red_flag, choices: yes_no_unsure}
          - {id: willing, type: single, text: "Willing?", choices: yes_no_unsure}
"""

SMALL_RULESET = """
    name: "small"
    version: "0"
    derived:
      signs:
        description: "How many of three signs."
        count:
          - {equals: [falls, "yes"]}
          - {equals: [dizzy, "yes"]}
          - {equals: [numb, "yes"]}
    rules:
      - {id: E-1, outcome: emergency, when: {equals: [on_effort, "yes"]}, title: t, patient_text: p, staff_rationale: s, sources: [S16]}
      - {id: D-1, outcome: see_doctor, when: {at_least: [signs, 2]}, title: t, patient_text: p, staff_rationale: s, sources: [S16]}
      - {id: D-2, outcome: see_doctor, when: {fact: unsure_red_flag}, title: t, patient_text: p, staff_rationale: s, sources: [S16]}
      - {id: N-1, outcome: not_suitable, when: {equals: [willing, "no"]}, title: t, patient_text: p, staff_rationale: s, sources: [S16]}
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[rules.Questionnaire, rules.RuleSet]:
    folder: Path = tmp_path_factory.mktemp("small")
    (folder / "questionnaire.yaml").write_text(textwrap.dedent(SMALL_QUESTIONNAIRE), encoding="utf-8")
    (folder / "ruleset.yaml").write_text(textwrap.dedent(SMALL_RULESET), encoding="utf-8")
    (folder / "changelog.yaml").write_text('- {version: "0", date: 2026-01-01, changes: [first]}\n', encoding="utf-8")
    questionnaire = load_questionnaire(folder / "questionnaire.yaml")
    return questionnaire, load_ruleset(questionnaire, folder / "ruleset.yaml", DATA_DIR / "sources.yaml")


NO_SIGNS = {"falls": "no", "dizzy": "no", "numb": "no", "weak_legs": "no"}


def case(expected: Outcome | None, why: str, **answers: object) -> object:
    return pytest.param(answers, expected, id=why)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        case(None, "a follow-up that may come to apply keeps an emergency possible", falls="yes", dizzy="yes"),
        case(
            Outcome.SEE_DOCTOR, "a follow-up that cannot apply cannot fire", chest_pain="no", falls="yes", dizzy="yes"
        ),
        case(None, "a follow-up that applies and is unanswered", chest_pain="yes", falls="yes", dizzy="yes"),
        case(Outcome.SEE_DOCTOR, "a follow-up answered no", chest_pain="yes", on_effort="no", falls="yes", dizzy="yes"),
        case(Outcome.EMERGENCY, "a follow-up answered yes", chest_pain="yes", on_effort="yes"),
        case(None, "a count that may still reach its bound", chest_pain="no", falls="yes", dizzy="no", willing="no"),
        case(
            Outcome.NOT_SUITABLE,
            "a count that can no longer reach its bound",
            chest_pain="no",
            falls="no",
            dizzy="no",
            weak_legs="no",
            willing="no",
        ),
        case(Outcome.SEE_DOCTOR, "not sure to a red flag", chest_pain="unsure", **NO_SIGNS),
        case(
            Outcome.SEE_DOCTOR,
            "not sure to a follow-up",
            chest_pain="yes",
            on_effort="unsure",
            **NO_SIGNS,
            willing="no",
        ),
        case(None, "a follow-up that may still be yes or not sure", chest_pain="yes", **NO_SIGNS, willing="no"),
        case(
            Outcome.SEE_DOCTOR,
            "not sure to a red flag no rule reads",
            chest_pain="no",
            **NO_SIGNS | {"weak_legs": "unsure"},
            willing="no",
        ),
        case(
            None,
            "a red flag no rule reads may still be not sure",
            chest_pain="no",
            falls="no",
            dizzy="no",
            numb="no",
            willing="no",
        ),
        case(
            Outcome.NOT_SUITABLE,
            "every red flag answered no",
            chest_pain="yes",
            on_effort="no",
            **NO_SIGNS,
            willing="no",
        ),
        case(None, "nothing overrides candidacy", chest_pain="no", **NO_SIGNS, willing="yes"),
    ],
)
def test_follow_ups_counts_and_not_sure_on_a_small_rule_set(
    small: tuple[rules.Questionnaire, rules.RuleSet], answers: dict[str, object], expected: Outcome | None
) -> None:
    assert decided_by(answers, *small) is expected


def test_an_answer_to_a_follow_up_that_does_not_apply_is_refused(
    small: tuple[rules.Questionnaire, rules.RuleSet],
) -> None:
    with pytest.raises(rules.InvalidAnswers, match="on_effort: does not apply"):
        decided_by({"chest_pain": "no", "on_effort": "yes"}, *small)


# ---- Three-valued logic -----------------------------------------------------------------------

FACTS = {"a": "yes", "b": Unknown(), "c": Unknown(("x", "y")), "n": Unknown((1, 2, 3))}
A_YES, A_NO, B_YES = {"equals": ["a", "yes"]}, {"equals": ["a", "no"]}, {"equals": ["b", "yes"]}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"any": [A_YES, B_YES]}, True),
        ({"any": [A_NO, B_YES]}, None),
        ({"all": [A_NO, B_YES]}, False),
        ({"all": [A_YES, B_YES]}, None),
        ({"all": [A_YES, {"not": A_NO}]}, True),
        ({"not": B_YES}, None),
        ({"count_of": {"at_least": 1, "of": [A_YES, B_YES]}}, True),
        ({"count_of": {"at_least": 2, "of": [A_YES, B_YES, A_NO]}}, None),
        ({"count_of": {"at_least": 2, "of": [A_NO, B_YES]}}, False),
        ({"at_least": ["n", 1]}, True),
        ({"at_least": ["n", 3]}, None),
        ({"at_least": ["n", 4]}, False),
        ({"at_most": ["n", 0]}, False),
        ({"answered": "n"}, True),
        ({"answered": "b"}, None),
        ({"answered": "nothing"}, False),
        ({"one_of": ["c", ["x", "y"]]}, True),
        ({"equals": ["c", "z"]}, False),
        ({"includes": ["b", "z"]}, None),
    ],
)
def test_three_valued_truth(condition: dict[str, object], expected: bool | None) -> None:
    assert truth(conditions.parse(condition, "test"), FACTS) is expected
