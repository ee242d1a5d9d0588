"""The follow-up after treatment: its questions, their scales and words, and when it is asked
(issue 18). The one place both sides read: the patient's follow-up pages (app/patient/followup.py),
the models' CHECK constraints (app/models.py) and the staff side (trajectories, outcomes, exports).

Only free, widely used measures, each worded here in plain words of the project's own (no
licensed instrument's wording is copied):

- NRS: pain on a 0-10 numeric rating scale, now and on average over the past week. The
  screening asks the same two (marked `follow_up_baseline` in rules/data/questionnaire.yaml),
  which are the baseline for a change in pain.
- PGIC: the Patient Global Impression of Change, 7 points, 1 the best ("very much better") and
  7 the worst; "much or very much better" (`PGIC_MUCH_BETTER`) is the usual responder cut-off.
- PSFS: the Patient-Specific Functional Scale, up to three everyday activities the person names
  (on the assessment request form), each scored 0 (cannot do it) to 10 (as well as before).
- Whether they had IMS, and how many sessions.

Strings are marked with `N_` (English in the code, as staff read them) and translated where a
patient page shows them (`gettext(label)`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.i18n import N_

#: Weeks after the first appointment at which a follow-up is sent, unless the app's config
#: FOLLOW_UP_WEEKS (env FOLLOW_UP_WEEKS="2,6,12") says otherwise.
DEFAULT_FOLLOW_UP_WEEKS = (2, 6, 12)

#: How long a follow-up link works after its email is sent (config FOLLOW_UP_LINK_DAYS).
DEFAULT_FOLLOW_UP_LINK_DAYS = 14

#: How long after its due date a follow-up may still be sent (config FOLLOW_UP_SEND_DAYS): a
#: "2 weeks after" question sent at 10 weeks (an appointment recorded late, `notify` stopped for a
#: while) would ask about the wrong time, so a time point missed by more than this is skipped.
DEFAULT_FOLLOW_UP_SEND_DAYS = 7

#: The numeric rating scale of pain (NRS): whole numbers from 0 to 10.
PAIN_MIN, PAIN_MAX = 0, 10
#: Its two ends in words, shown beside 0 and 10.
PAIN_ENDS = {PAIN_MIN: N_("No pain"), PAIN_MAX: N_("Worst pain you can imagine")}

#: The Patient Global Impression of Change: point -> its plain wording, 1 (best) to 7 (worst).
PGIC: Mapping[int, str] = {
    1: N_("Very much better"),
    2: N_("Much better"),
    3: N_("A little better"),
    4: N_("About the same"),
    5: N_("A little worse"),
    6: N_("Much worse"),
    7: N_("Very much worse"),
}
PGIC_MIN, PGIC_MAX = min(PGIC), max(PGIC)
#: The points that count as "much or very much better" (the usual responder definition).
PGIC_MUCH_BETTER = frozenset({1, 2})
#: The points that count as worse; the thank-you page then shows the safety net first.
PGIC_WORSE = frozenset({5, 6, 7})

#: Whether the person had IMS since the screening: answer -> its words.
HAD_IMS: Mapping[str, str] = {
    "yes": N_("Yes"),
    "no": N_("No"),
    "not_sure": N_("I'm not sure"),
}
#: The number of IMS sessions a person can report (asked only after "yes").
IMS_SESSIONS_MIN, IMS_SESSIONS_MAX = 1, 99

#: The Patient-Specific Functional Scale: at most this many activities, each scored 0-10.
PSFS_MAX_ACTIVITIES = 3
PSFS_MIN, PSFS_MAX = 0, 10
PSFS_ENDS = {PSFS_MIN: N_("Cannot do it at all"), PSFS_MAX: N_("Can do it as well as before the pain")}
#: The longest activity name a person can type.
PSFS_ACTIVITY_MAX_LENGTH = 80

#: The questions, by the name each answer has in `FollowUp` (app/models.py), in our own words.
QUESTIONS: Mapping[str, str] = {
    "current_pain": N_("How bad is your pain right now?"),
    "average_pain": N_("Over the past week, how bad has your pain been on average?"),
    "pgic": N_("Since your first appointment, how has your pain problem changed overall?"),
    "had_ims": N_("Have you had IMS (dry needling) since your screening?"),
    "ims_sessions": N_("About how many IMS sessions have you had?"),
    "activity_score": N_("How well can you do this activity now?"),
}

#: Hints under the questions, where one helps.
HINTS: Mapping[str, str] = {
    "pgic": N_("Think about your pain, what you can do, and how you feel, compared with before treatment."),
    "ims_sessions": N_("Your best guess is fine."),
    "activity_score": N_("0 means you cannot do it at all, 10 means as well as before the pain."),
}

#: The activities question on the assessment request form.
ACTIVITIES_QUESTION = N_("Up to three everyday activities your pain makes hard (optional)")
ACTIVITIES_HINT = N_(
    "For example: lifting my child, sitting at work for an hour, gardening. We will ask how each one goes."
)


def follow_up_weeks(config: Mapping[str, Any]) -> tuple[int, ...]:
    """The weeks after the first appointment at which this installation sends follow-ups."""
    return tuple(config.get("FOLLOW_UP_WEEKS", DEFAULT_FOLLOW_UP_WEEKS))


def pgic_label(point: int | None) -> str | None:
    """The English words of a PGIC point (staff pages and exports), None when unanswered."""
    return None if point is None else PGIC.get(point)


def much_better(point: int | None) -> bool:
    """Whether a PGIC answer counts as "much or very much better"."""
    return point in PGIC_MUCH_BETTER
