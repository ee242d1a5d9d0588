"""The safety net names every warning sign the questionnaire asks about (issue 20).

Every result page but the emergency one, and the page after a request is sent, list it
(tests/test_patient_submit.py checks the pages). Here: that the list leaves no warning sign out.
"""

from __future__ import annotations

import rules
from rules.engine import answers_read
from rules.outcomes import Outcome
from rules.questionnaire import Category

QUESTIONNAIRE = rules.questionnaire()
QUESTIONS = QUESTIONNAIRE.questions


def _follows_a_warning_sign(question_id: str) -> bool:
    """A rewording or a detail asked after an answer to another warning sign."""
    enable_when = QUESTIONS[question_id].enable_when
    return enable_when is not None and any(
        QUESTIONS[name].category is Category.RED_FLAG for name in enable_when.names()
    )


def test_every_warning_sign_a_red_flag_rule_reads_is_in_the_safety_net() -> None:
    net = QUESTIONNAIRE.safety_net
    assert net is not None
    signs = {
        qid
        for rule in rules.ruleset().rules
        if rule.outcome in (Outcome.EMERGENCY, Outcome.SEE_DOCTOR)
        for qid in answers_read(rule.when, rules.ruleset())
        if QUESTIONS[qid].category is Category.RED_FLAG and not _follows_a_warning_sign(qid)
    }
    assert {"rf_saddle_numbness", "rf_severe_headache", "rf_pregnancy_signs", "rf_hot_joint_or_skin"} <= signs
    assert sorted(signs - net.asks) == []


def test_the_safety_net_names_only_warning_signs() -> None:
    net = QUESTIONNAIRE.safety_net
    assert net is not None
    assert all(QUESTIONS[qid].category is Category.RED_FLAG for qid in net.asks)
    assert all(sign.text and sign.text[0].islower() for tier in net.tiers for sign in tier.signs)  # list items
