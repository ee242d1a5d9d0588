"""The questionnaire data: loading checks, answer validation, branching and the data dictionary."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings

import rules
from rules.errors import DataError, InvalidAnswers
from rules.questionnaire import UNSURE, Category, QuestionType, duration, duration_weeks, load_questionnaire
from tests.support.rules_strategies import complete_answers

QUESTIONNAIRE = rules.questionnaire()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "questionnaire.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


GOOD_HEADER = """
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
"""


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        (
            """
          - {id: a, type: single, text: "A?", choices: yes_no_unsure}
          - {id: a, type: single, text: "A again?", choices: yes_no_unsure}
         """,
            "question a: duplicate question id",
        ),
        (
            """
          - {id: a, type: single, text: "A?", choices: no_such_set}
         """,
            "question a: unknown choice set 'no_such_set'",
        ),
        (
            """
          - {id: a, type: single, text: "A?", category: red_flag, choices: [{value: "yes", label: "Yes"}]}
         """,
            "question a: a red_flag question must offer the choice 'unsure'",
        ),
        (
            """
          - {id: a, type: single, text: "A?", enable_when: {equals: [b, "yes"]}, choices: yes_no_unsure}
          - {id: b, type: single, text: "B?", choices: yes_no_unsure}
         """,
            "question a: enable_when reads 'b', which is not an earlier question",
        ),
        (
            """
          - {id: a, type: single, text: "A?", choices: yes_no_unsure}
          - {id: b, type: single, text: "B?", enable_when: {equals: [a, "maybe"]}, choices: yes_no_unsure}
         """,
            "question b: compares a with 'maybe', which is not one of its choices",
        ),
        (
            """
          - {id: a, type: integer, text: "A?", minimum: 5, maximum: 1, unit: years}
         """,
            "question a: `minimum` must be below `maximum`",
        ),
        (
            """
          - {id: a, type: duration, text: "A?", minimum: 0, maximum: 9, unit: days}
         """,
            "question a: a duration is read by the rules in weeks",
        ),
        (
            """
          - {id: a, type: colour, text: "A?"}
         """,
            "question a: unknown type 'colour'",
        ),
        (
            """
          - {id: a, type: multiple, text: "A?", choices: [{value: l, label: L}, {value: r, label: R}]}
          - {id: b, type: single, text: "B?", within: a, choices: [{value: one, label: One, covers: [l]}]}
         """,
            "question b: no choice covers a's 'r'",
        ),
        (
            """
          - {id: a, type: multiple, text: "A?", choices: [{value: l, label: L}]}
          - {id: b, type: single, text: "B?", within: a, choices: [{value: one, label: One}, {value: two, label: Two, covers: [l]}]}
         """,
            "question b: choice 'one' covers none of a's choices",
        ),
        (
            """
          - {id: a, type: multiple, text: "A?", choices: [{value: l, label: L}]}
          - {id: b, type: single, text: "B?", within: a, choices: [{value: one, label: One, covers: [l, x]}]}
         """,
            "question b: choice 'one' covers 'x', which is not one of a's",
        ),
        (
            """
          - {id: b, type: single, text: "B?", within: a, choices: [{value: one, label: One, covers: [l]}]}
          - {id: a, type: multiple, text: "A?", choices: [{value: l, label: L}]}
         """,
            "question b: `within` must name an earlier multiple-choice question, not 'a'",
        ),
        (
            """
          - {id: b, type: single, text: "B?", choices: [{value: one, label: One, covers: [l]}]}
         """,
            "question b: only a question `within` another has choices that `cover` its choices",
        ),
        (
            """
          - {id: a, type: single, text: "A?", choices: yes_no_unsure, colour: red}
         """,
            "question a: unknown key 'colour'",
        ),
        (
            """
          - {id: a, type: text, text: "A?"}
         """,
            "question a: a text question needs `max_length`",
        ),
    ],
)
def test_a_malformed_questionnaire_names_the_file_and_question(tmp_path: Path, questions: str, message: str) -> None:
    path = write(tmp_path, GOOD_HEADER + textwrap.indent(textwrap.dedent(questions), " " * 10))
    with pytest.raises(DataError) as raised:
        load_questionnaire(path)
    assert any(p.startswith("questionnaire.yaml: ") and message in p for p in raised.value.problems), (
        raised.value.problems
    )


def test_invalid_yaml_is_a_data_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"questionnaire.yaml: not valid YAML"):
        load_questionnaire(write(tmp_path, "sections: [unclosed"))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD_HEADER
        + textwrap.indent(
            textwrap.dedent("""
        - {id: a, type: colour, text: "A?"}
        - {id: b, type: single, text: "B?", choices: nope}
    """),
            " " * 10,
        ),
    )
    with pytest.raises(DataError) as raised:
        load_questionnaire(path)
    problems = raised.value.problems
    assert any("question a: unknown type" in p for p in problems)
    assert any("question b: unknown choice set" in p for p in problems)


def test_safety_and_red_flag_questions_all_offer_not_sure_and_are_required() -> None:
    categorised = [q for q in QUESTIONNAIRE if q.category is not None]
    assert {q.category for q in categorised} == {Category.RED_FLAG, Category.SAFETY}
    assert all(UNSURE in q.choice_values and q.required for q in categorised)


def test_the_questionnaire_covers_every_domain_of_the_evidence_base() -> None:
    ids = set(QUESTIONNAIRE.questions)
    domains = {
        "A1 who is answering": {"respondent", "proxy_person_can_consent", "age", "interpreter_needed"},
        "A2 where": {"pain_regions", "main_region"},
        "A3 duration and onset": {"pain_duration_weeks", "pain_onset", "pain_trend"},
        "A4 intensity": {"pain_now", "pain_average", "pain_worst", "pain_interference"},
        "A5 muscle": {"muscle_tightness", "tender_spots", "movement_limited", "cramp_ache", "skin_changes"},
        "A6 nerve-type": {"nerve_symptoms"},
        "A7 tried": {"treatments_tried", "treatment_length", "treatment_effect", "needling_response"},
        "A8 needles": {"needle_fear", "needle_avoidance", "needle_fainting", "willing_to_try"},
        "A9 safety": {
            "blood_thinners",
            "blood_thinner_names",
            "bleeding_disorder",
            "immune_treatment",
            "pregnant",
            "epilepsy",
            "diabetes",
            "metal_allergy",
            "lung_condition",
            "implants",
            "recent_surgery",
            "skin_problem",
            "lymph_nodes_removed",
            "lymphoedema",
        },
        "A10 red flags": {
            "rf_saddle_numbness",
            "rf_bladder_bowel",
            "rf_stroke_signs",
            "rf_exertion_chest",
            "rf_calf_swelling",
            "rf_weight_loss",
            "rf_fever_unwell",
            "rf_major_trauma",
            "cancer_history",
            "rf_hand_symptoms",
            "rf_unsteady_walking",
            "rf_after_needling",
            "rf_severe_headache",
            "rf_pregnancy_signs",
            "rf_hot_joint_or_skin",
        },
    }
    for domain, questions in domains.items():
        assert questions <= ids, f"{domain}: missing {questions - ids}"


def test_someone_answering_for_another_person_is_addressed_as_such() -> None:
    pain_regions = QUESTIONNAIRE.questions["pain_regions"]
    assert pain_regions.wording(for_someone_else=False)[0] == "Where do you have pain?"
    assert pain_regions.wording(for_someone_else=True)[0] == "Where does the person have pain?"
    second_person = [q.id for q in QUESTIONNAIRE if " you " in f" {q.text_proxy} " and q.text_proxy != q.text]
    assert second_person == []


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"favourite_colour": "blue"}, "favourite_colour: unknown question id"),
        ({"age": "forty"}, "age: expects a whole number, got 'forty'"),
        ({"age": 40.5}, "age: expects a whole number"),
        ({"age": True}, "age: expects a whole number, got True"),
        ({"age": 121}, "age: 121 is outside 0 to 120"),
        ({"pain_now": -1}, "pain_now: -1 is outside 0 to 10"),
        ({"respondent": "neighbour"}, "respondent: 'neighbour' is not one of self, proxy"),
        ({"pain_regions": "neck"}, "pain_regions: expects a non-empty list of choices"),
        ({"pain_regions": []}, "pain_regions: expects a non-empty list of choices"),
        ({"pain_regions": ["neck", "tail"]}, "pain_regions: 'tail' not among"),
        ({"pain_regions": ["neck", "neck"]}, "pain_regions: a choice is repeated"),
        ({"treatments_tried": ["none", "massage"]}, "treatments_tried: 'none' cannot be combined"),
        (
            {"pain_regions": ["neck", "shoulder_left"], "main_region": "arm_elbow"},
            "main_region: 'arm_elbow' stands for upper_arm_left, upper_arm_right, elbow_forearm_left,"
            " elbow_forearm_right, none of which is chosen in pain_regions",
        ),
        (
            {"pain_duration_weeks": {"amount": 0, "unit": "days"}},
            "pain_duration_weeks: expects an amount of at least 1",
        ),
        (
            {"pain_duration_weeks": {"amount": -2, "unit": "weeks"}},
            "pain_duration_weeks: expects an amount of at least 1",
        ),
        ({"pain_duration_weeks": {"amount": 3, "unit": "fortnights"}}, "pain_duration_weeks: expects {amount, unit}"),
        (
            {"pain_duration_weeks": {"amount": "3", "unit": "days"}},
            "pain_duration_weeks: expects an amount of at least 1",
        ),
        ({"pain_duration_weeks": {"amount": 3}}, "pain_duration_weeks: expects {amount, unit}"),
        (
            {"pain_duration_weeks": {"amount": 101, "unit": "years"}},
            "pain_duration_weeks: 101 years is longer than 5200",
        ),
        (
            {"blood_thinners": "no", "blood_thinner_names": ["warfarin"]},
            "blood_thinner_names: does not apply given the other answers",
        ),
        (
            {"interpreter_needed": "yes", "interpreter_language": "x" * 61},
            "interpreter_language: is longer than 60 characters",
        ),
    ],
)
def test_invalid_answers_name_each_bad_id_or_value(answers: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidAnswers) as raised:
        QUESTIONNAIRE.validate(answers)
    assert any(problem in p for p in raised.value.problems), raised.value.problems


def test_all_invalid_answers_are_reported_together() -> None:
    with pytest.raises(InvalidAnswers) as raised:
        QUESTIONNAIRE.validate({"nope": 1, "age": -3, "respondent": "x"})
    assert len(raised.value.problems) == 3


def test_answers_must_be_a_mapping() -> None:
    with pytest.raises(InvalidAnswers, match="must be an object"):
        QUESTIONNAIRE.validate(["age", 40])


def test_none_counts_as_no_answer() -> None:
    assert QUESTIONNAIRE.validate({"age": None, "respondent": "self"}) == {"respondent": "self"}


def test_follow_up_questions_apply_only_after_the_answer_that_opens_them() -> None:
    def applicable(answers: dict[str, object]) -> set[str]:
        return {q.id for q in QUESTIONNAIRE.applicable(answers)}

    assert "blood_thinner_names" not in applicable({})
    assert "blood_thinner_names" in applicable({"blood_thinners": "yes"})
    assert "blood_thinner_names" not in applicable({"blood_thinners": "unsure"})
    assert "treatment_effect" in applicable({"treatments_tried": ["massage"]})
    assert "treatment_effect" not in applicable({"treatments_tried": ["none"]})
    assert "pregnant" not in applicable({"age": 8})
    assert "pregnant" in applicable({"age": 30})


def test_which_questions_apply_follows_answers_changed_in_place_after_they_were_asked_about() -> None:
    # `applicable` remembers its last few answer sets: a list or a mapping changed in place, or a
    # key added, must still be worked out afresh.
    def applicable(answers: dict[str, object]) -> set[str]:
        return {q.id for q in QUESTIONNAIRE.applicable(answers)}

    tried: list[str] = ["massage"]
    answers: dict[str, object] = {"treatments_tried": tried, "blood_thinners": "no"}
    assert "treatment_effect" in applicable(answers)
    tried[:] = ["none"]
    assert "treatment_effect" not in applicable(answers)
    answers["blood_thinners"] = "yes"
    assert "blood_thinner_names" in applicable(answers)
    answers["blood_thinners"] = "no"
    assert "blood_thinner_names" not in applicable(answers)


@settings(max_examples=40, deadline=None)
@given(complete_answers(), complete_answers())
def test_remembered_applicability_is_the_same_as_working_it_out(
    first: dict[str, object], second: dict[str, object]
) -> None:
    # Alternating between answer sets (as a request does between the stored and the posted
    # answers), each result is what working it out from scratch gives.
    for answers in (first, second, first, {**first, **second}, second):
        assert QUESTIONNAIRE.applicable(answers) == QUESTIONNAIRE._applicable(answers)


def test_threads_do_not_share_remembered_applicability() -> None:
    from concurrent.futures import ThreadPoolExecutor

    child, adult = {"age": 8}, {"age": 30}

    def pregnancy_asked(answers: dict[str, object]) -> bool:
        return any(q.id == "pregnant" for q in QUESTIONNAIRE.applicable(answers))

    with ThreadPoolExecutor(max_workers=4) as pool:
        asked = list(pool.map(pregnancy_asked, [child, adult] * 50))
    assert asked == [False, True] * 50


def test_answers_that_stop_applying_are_discarded_together_with_their_follow_ups() -> None:
    answers = {"diabetes": "yes", "foot_sore": "no", "epilepsy": "yes", "last_seizure": "over_12_months"}
    answers["epilepsy"] = "no"
    kept = QUESTIONNAIRE.applicable_answers(answers)
    assert kept == {"diabetes": "yes", "foot_sore": "no", "epilepsy": "no"}


def test_a_saved_page_replaces_its_own_answers_and_drops_what_stops_applying_elsewhere() -> None:
    page = QUESTIONNAIRE.section("pain_location")
    assert page is not None
    stored = {"respondent": "self", "age": 30, "pain_regions": ["neck"], "main_region": "neck", "pregnant": "no"}
    posted = {"age": 8, "pain_regions": ["lower_back"], "main_region": None, "respondent": "proxy"}

    updated = QUESTIONNAIRE.with_page(stored, page, posted)

    # The page's answers are replaced, not updated: an emptied answer is gone. An 8-year-old is
    # not asked about pregnancy (another page), and a posted id of another page changes nothing.
    assert updated == {"respondent": "self", "age": 8, "pain_regions": ["lower_back"]}
    assert stored["pregnant"] == "no"  # the stored answers are not changed in place


def test_missing_lists_required_questions_that_apply() -> None:
    missing = {q.id for q in QUESTIONNAIRE.missing({"respondent": "self"})}
    assert "age" in missing
    assert "proxy_relationship" not in missing  # does not apply to someone answering for themselves
    assert "skin_changes" not in missing  # optional


@settings(max_examples=60, deadline=None)
@given(complete_answers())
def test_generated_complete_answers_are_valid_and_complete(answers: dict[str, object]) -> None:
    assert QUESTIONNAIRE.problems(answers) == []
    assert QUESTIONNAIRE.missing(answers) == []


def test_the_data_dictionary_describes_every_question() -> None:
    dictionary = QUESTIONNAIRE.dictionary()
    assert [entry["id"] for entry in dictionary] == list(QUESTIONNAIRE.questions)
    by_id = {entry["id"]: entry for entry in dictionary}
    assert by_id["age"]["range"] == {"minimum": 0, "maximum": 120, "unit": "years"}
    assert by_id["blood_thinner_names"]["enable_when"] == {"equals": ["blood_thinners", "yes"]}
    assert {"value": "unsure", "label": "Not sure"} in by_id["rf_saddle_numbness"]["choices"]
    assert by_id["rf_saddle_numbness"]["category"] == "red_flag"
    assert {entry["type"] for entry in dictionary} == {t.value for t in QuestionType}


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        (
            """
          - {id: a, type: single, text: "A?", choices: yes_no_unsure, widget: body_map}
         """,
            "question a: a body map is a multiple-choice question",
        ),
        (
            """
          - {id: a, type: multiple, text: "A?", choices: yes_no_unsure, widget: dial}
         """,
            "question a: unknown widget 'dial'",
        ),
        (
            """
          - {id: a, type: single, text: "A?", choices: yes_no_unsure, someone_else_choice: proxy}
         """,
            "question a: `someone_else_choice` must be one of the choices of a single-choice question",
        ),
        (
            """
          - {id: a, type: single, text: "A?", choices: yes_no_unsure, someone_else_choice: "yes"}
          - {id: b, type: single, text: "B?", choices: yes_no_unsure, someone_else_choice: "yes"}
         """,
            "question b: only one question can ask who is answering",
        ),
        (
            """
          - {id: a, type: multiple, text: "A?", choices: yes_no_unsure, relationship: true}
         """,
            "question a: `relationship` marks a single-choice question",
        ),
        (
            """
          - {id: a, type: single, text: "A?", choices: yes_no_unsure, relationship: true}
          - {id: b, type: single, text: "B?", choices: yes_no_unsure, relationship: true}
         """,
            "question b: only one question can ask how the person answering is related",
        ),
    ],
)
def test_a_malformed_presentation_flag_names_the_question(tmp_path: Path, questions: str, message: str) -> None:
    path = write(tmp_path, GOOD_HEADER + textwrap.indent(textwrap.dedent(questions), " " * 10))
    with pytest.raises(DataError) as raised:
        load_questionnaire(path)
    assert any(message in p for p in raised.value.problems), raised.value.problems


def test_the_needle_reassurance_reads_only_questions_asked_so_far(tmp_path: Path) -> None:
    text = """
        version: "1"
        sections:
          - id: one
            title: "One"
            needle_reassurance_when: {equals: [b, "yes"]}
            questions:
              - {id: a, type: single, text: "A?", choices: [{value: "yes", label: "Yes"}]}
          - id: two
            title: "Two"
            questions:
              - {id: b, type: single, text: "B?", choices: [{value: "yes", label: "Yes"}]}
    """
    with pytest.raises(DataError) as raised:
        load_questionnaire(write(tmp_path, text))
    assert any(
        "section one: needle_reassurance_when reads 'b', which is not a question so far" in p
        for p in raised.value.problems
    ), raised.value.problems


def _reassurance_as_first_written(answers: dict[str, object]) -> bool:
    """The rule as the web app once wrote it, before it became data (app/patient/services.py)."""
    fear = answers.get("needle_fear")
    return (
        (isinstance(fear, int) and fear >= 4)
        or answers.get("needle_fainting") in ("yes", "unsure")
        or answers.get("needle_avoidance") == "yes"
        or answers.get("willing_to_try") == "unsure"
    )


def test_the_needle_reassurance_shows_for_fear_fainting_avoidance_or_doubt() -> None:
    section = QUESTIONNAIRE.needle_reassurance_section
    assert section is not None
    read = {"needle_fear", "needle_avoidance", "needle_fainting", "willing_to_try"}
    questions = {
        q.id: [*q.choice_values] or list(range(q.minimum or 0, (q.maximum or 0) + 1))
        for q in section.questions
        if q.id in read
    }
    assert section.needle_reassurance_when is not None
    assert set(section.needle_reassurance_when.names()) == read
    assert set(questions) == {"needle_fear", "needle_avoidance", "needle_fainting", "willing_to_try"}
    cases = [{}]
    for qid, values in questions.items():
        cases = [{**case, qid: value} for case in cases for value in [None, *values]]
    assert len(cases) == 12 * 3 * 4 * 4
    for answers in cases:
        answered = {qid: value for qid, value in answers.items() if value is not None}
        assert section.needs_needle_reassurance(answered) == _reassurance_as_first_written(answered), answered
    assert section.needs_needle_reassurance({"needle_fear": 4})
    assert not section.needs_needle_reassurance({"needle_fear": 3, "needle_fainting": "no", "willing_to_try": "yes"})


def test_presentation_flags_of_the_shipped_questionnaire() -> None:
    assert [q.id for q in QUESTIONNAIRE if q.widget] == ["pain_regions"]
    # The interpreter language too: the front desk books the interpreter from the queue (issue 17).
    assert [q.id for q in QUESTIONNAIRE.summary_questions] == [
        "main_region",
        "pain_duration_weeks",
        "interpreter_language",
    ]
    assert QUESTIONNAIRE.for_someone_else({"respondent": "proxy"})
    assert not QUESTIONNAIRE.for_someone_else({"respondent": "self"})
    assert not QUESTIONNAIRE.for_someone_else({})
    assert [s.id for s in QUESTIONNAIRE.sections if s.needle_reassurance_when] == ["needles"]


CHECKLIST_HEADER = """
    version: "1"
    choice_sets:
      yes_no_unsure:
        - {value: "yes", label: "Yes"}
        - {value: "no", label: "No"}
        - {value: unsure, label: "Not sure"}
      yes_no:
        - {value: "yes", label: "Yes"}
        - {value: "no", label: "No"}
    sections:
      - id: zero
        title: "Zero"
        questions:
          - {id: z, type: single, text: "Z?", choices: yes_no}
      - id: one
        title: "One"
"""


def checklist_file(tmp_path: Path, checklists: str, questions: str) -> Path:
    body = "    checklists:\n" + textwrap.indent(textwrap.dedent(checklists).strip() + "\n", " " * 6)
    body += "    questions:\n" + textwrap.indent(textwrap.dedent(questions), " " * 6)
    return write(tmp_path, textwrap.dedent(CHECKLIST_HEADER) + body)


A_AND_B = (
    '- {id: a, type: single, text: "A?", choices: yes_no_unsure, checklist_label: "A"}\n'
    '- {id: b, type: single, text: "B?", choices: yes_no_unsure, checklist_label: "B"}\n'
)


def test_a_well_formed_checklist_loads_and_is_one_prompt(tmp_path: Path) -> None:
    questionnaire = load_questionnaire(
        checklist_file(
            tmp_path,
            '- {id: ab, text: "Any of these?", text_proxy: "Any of these for them?", items: [a, b]}',
            A_AND_B + '- {id: c, type: single, text: "C?", choices: yes_no}\n',
        )
    )
    section = questionnaire.sections[1]
    [checklist] = section.checklists
    assert (checklist.item_ids, checklist.wording(True)) == (("a", "b"), ("Any of these for them?", None))
    assert [prompt.id for prompt in section.prompts] == ["ab", "c"]
    assert section.prompts_among({"b"}) == [checklist]
    assert [p.id for p in questionnaire.asked(section, {})] == ["ab", "c"]
    assert section.checklist_of("a") is checklist and section.checklist_of("c") is None


@pytest.mark.parametrize(
    ("checklists", "questions", "message"),
    [
        ("- {id: ab, text: T, items: [a, z]}", A_AND_B, "checklist ab: item 'z': is not a question of this section"),
        ("- {id: ab, text: T, items: [a, x]}", A_AND_B, "checklist ab: item 'x': is not a question of this section"),
        (
            "- {id: ab, text: T, items: [a, b]}",
            '- {id: a, type: single, text: "A?", choices: yes_no_unsure, checklist_label: "A"}\n'
            '- {id: b, type: single, text: "B?", choices: yes_no, checklist_label: "B"}\n',
            "item 'b': must be a single-choice question with exactly the choices yes, no, unsure",
        ),
        (
            "- {id: ab, text: T, items: [a, b]}",
            '- {id: a, type: single, text: "A?", choices: yes_no_unsure, checklist_label: "A"}\n'
            '- {id: b, type: multiple, text: "B?", choices: yes_no_unsure, checklist_label: "B"}\n',
            "item 'b': must be a single-choice question",
        ),
        (
            "- {id: ab, text: T, items: [a, b]}\n- {id: ba, text: U, items: [b, a]}",
            A_AND_B,
            "checklist ba: item 'b': is already in checklist ab",
        ),
        (
            "- {id: ab, text: T, items: [a, b]}",
            '- {id: a, type: single, text: "A?", choices: yes_no_unsure, checklist_label: "A"}\n'
            '- {id: b, type: single, text: "B?", choices: yes_no_unsure}\n',
            "item 'b': needs a `checklist_label`",
        ),
        (
            "- {id: ab, text: T, items: [a, b]}",
            A_AND_B + '- {id: c, type: single, text: "C?", choices: yes_no_unsure, checklist_label: "C"}\n',
            "question c: has a `checklist_label` but is in no checklist",
        ),
        (
            "- {id: ab, text: T, items: [a, b]}",
            '- {id: a, type: single, text: "A?", choices: yes_no_unsure, checklist_label: "A"}\n'
            '- {id: b, type: single, text: "B?", choices: yes_no_unsure, checklist_label: "B", required: false}\n',
            "item 'b': must be required",
        ),
        (
            "- {id: ab, text: T, items: [a, b]}",
            '- {id: a, type: single, text: "A?", choices: yes_no_unsure, checklist_label: "A"}\n'
            '- {id: b, type: single, text: "B?", choices: yes_no_unsure, checklist_label: "B",'
            ' enable_when: {equals: [a, "yes"]}}\n',
            "item 'b': its enable_when may read only earlier pages' questions",
        ),
        ("- {id: z, text: T, items: [a, b]}", A_AND_B, "checklist z: the id is already used"),
        ("- {id: ab, text: T, items: [a]}", A_AND_B, "checklist ab: `items` must list at least two questions"),
        ("- {id: ab, text: T, items: [a, b], colour: red}", A_AND_B, "checklist ab: unknown key 'colour'"),
        ("- {id: ab, items: [a, b]}", A_AND_B, "checklist 1 needs `id`, `text` and `items`"),
    ],
)
def test_rules_check_refuses_a_malformed_checklist(
    tmp_path: Path, checklists: str, questions: str, message: str
) -> None:
    with pytest.raises(DataError) as raised:
        load_questionnaire(checklist_file(tmp_path, checklists, questions))
    assert any(p.startswith("questionnaire.yaml: ") and message in p for p in raised.value.problems), (
        raised.value.problems
    )


def test_an_item_may_depend_on_an_earlier_page(tmp_path: Path) -> None:
    """Whom an item applies to may decide whether its checkbox is shown (the server decides)."""
    questions = A_AND_B.replace('checklist_label: "B"}', 'checklist_label: "B", enable_when: {equals: [z, "yes"]}}')
    questionnaire = load_questionnaire(checklist_file(tmp_path, "- {id: ab, text: T, items: [a, b]}", questions))
    section = questionnaire.sections[1]
    assert [q.id for q in questionnaire.applicable({"z": "no"}) if q.section_id == "one"] == ["a"]
    assert questionnaire.asked(section, {"z": "no"}) == list(section.checklists)


def test_the_shipped_checklists() -> None:
    checklists = {c.id: c.item_ids for section in QUESTIONNAIRE.sections for c in section.checklists}
    assert checklists == {
        "warning_signs_now": (
            "rf_saddle_numbness",
            "rf_bladder_bowel",
            "rf_sexual_change",
            "rf_stroke_signs",
            "rf_severe_headache",
            "rf_exertion_chest",
            "rf_after_needling",
            "rf_calf_swelling",
            "rf_pregnancy_signs",
        ),
        "doctor_signs": (
            "rf_both_legs",
            "rf_worsening_weakness",
            "rf_hand_symptoms",
            "rf_unsteady_walking",
            "rf_major_trauma",
            "osteoporosis",
            "rf_weight_loss",
            "rf_fever_unwell",
            "rf_night_pain",
            "rf_infection_risk",
            "rf_hot_joint_or_skin",
        ),
        "bleeding": ("blood_thinners", "bleeding_disorder", "easy_bleeding"),
        "health_conditions": (
            "pregnant",
            "epilepsy",
            "diabetes",
            "metal_allergy",
            "underweight",
            "recent_surgery",
            "skin_problem",
            "lymph_nodes_removed",
            "lymphoedema",
            "vascular_problem",
            "acute_illness",
            "long_term_condition",
            "told_avoid_needles",
        ),
    }


@pytest.mark.parametrize(
    ("answer", "weeks"),
    [
        (duration(1, "days"), 0),
        (duration(6, "days"), 0),
        (duration(7, "days"), 1),
        (duration(41, "days"), 5),  # still under six weeks
        (duration(42, "days"), 6),
        (duration(83, "days"), 11),  # still under twelve
        (duration(1, "months"), 4),
        (duration(2, "months"), 8),
        (duration(3, "months"), 13),
        (duration(2, "years"), 104),
        (duration(12, "weeks"), 12),
        (12, 12),  # stored as whole weeks before days could be given
        (0, 0),
    ],
)
def test_a_duration_reads_to_the_rules_in_completed_weeks(answer: object, weeks: int) -> None:
    question = QUESTIONNAIRE.questions["pain_duration_weeks"]
    assert question.problem_with(answer) is None
    assert duration_weeks(answer) == weeks == question.rule_value(answer)


def test_every_main_area_fits_the_body_map_areas_it_stands_for(ideal_answers: dict[str, object]) -> None:
    main_region = QUESTIONNAIRE.questions["main_region"]
    assert main_region.within == "pain_regions"
    for choice in main_region.choices:
        for region in choice.covers:
            assert not main_region.outside(choice.value, [region]), (choice.value, region)
            assert QUESTIONNAIRE.problems({"pain_regions": [region], "main_region": choice.value}) == []
    assert main_region.outside("shoulder", ["neck", "upper_back"])
    with pytest.raises(InvalidAnswers, match="main_region: 'shoulder' stands for"):
        rules.evaluate({**ideal_answers, "pain_regions": ["neck"], "main_region": "shoulder"})


def test_a_retired_question_id_is_never_reused(tmp_path: Path) -> None:
    """An answer stored under a retired id must keep meaning what it meant when it was asked."""

    def with_retired(retired_id: str) -> str:
        questions = '- {id: a, type: single, text: "A?", choices: yes_no_unsure}'
        retired = f"""
            retired:
              - {{id: {retired_id}, type: single, text: "An older A?", choices: yes_no_unsure}}
              - {{id: old, type: single, text: "Old?", choices: yes_no_unsure}}
        """
        return GOOD_HEADER + " " * 10 + questions + "\n" + textwrap.indent(textwrap.dedent(retired), " " * 4)

    with pytest.raises(DataError) as raised:
        load_questionnaire(write(tmp_path, with_retired("a")))
    assert raised.value.problems == ["questionnaire.yaml: retired, question a: is still asked (an id is never reused)"]
    kept = load_questionnaire(write(tmp_path, with_retired("b")))
    assert [q.id for q in kept.retired] == ["b", "old"] and "b" not in kept.questions


def test_the_shipped_retired_questions_are_those_no_longer_asked() -> None:
    assert {q.id for q in QUESTIONNAIRE.retired} >= {"rf_hands_walking", "rf_sudden_headache", "diabetes_feet"}
    assert not {q.id for q in QUESTIONNAIRE.retired} & set(QUESTIONNAIRE.questions)
