"""One patient's follow-ups after treatment, as the screening page shows them (issue 18): each time
point's answers beside the screening's own pain scores (the baseline), what became of each
invitation, and a small chart of the pain over time, drawn by app/staff/charts.py with the same
numbers in a table beside it.

Read-only: the screening page that shows it is audited as a whole (`view_screening`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import rules
from app import measures
from app.models import FollowUp, Screening
from app.staff import charts

#: What became of a follow-up's invitation, in words (`response_status`).
RESPONSE_LABELS = {
    "answered": "Answered",
    "started": "Being answered",
    "sent": "Sent, not answered yet",
    "expired": "Not answered (link expired)",
    "stopped": "Stopped by the patient",
    "not_sent": "Email not sent yet",
}

#: The two pain answers of a follow-up, drawn as the chart's lines; the screening asks each too
#: (its question marked `follow_up_baseline` in the questionnaire), which gives the baseline.
PAIN_LABELS = {"current_pain": "Pain now", "average_pain": "Average pain, past week"}


def status_of(
    *,
    answered_at: datetime | None,
    sent_at: datetime | None,
    token_expires_at: datetime | None,
    started_at: datetime | None,
    stopped_at: datetime | None,
    now: datetime,
) -> str:
    """What became of one follow-up's invitation (a key of RESPONSE_LABELS), from its times and
    when its person stopped follow-ups (None if they did not).

    Answered once the person sent the answers; stopped when the person stopped follow-ups before
    answering while its link could still have been used (or before it was sent); expired when its
    link ran out unanswered; otherwise sent (being answered once a page is saved), or not sent yet.
    """
    if answered_at is not None:
        return "answered"
    if stopped_at is not None and (sent_at is None or token_expires_at is None or stopped_at < token_expires_at):
        return "stopped"
    if sent_at is None or token_expires_at is None:
        return "not_sent"
    if token_expires_at <= now:
        return "expired"
    return "started" if started_at is not None else "sent"


def response_status(follow_up: FollowUp, stopped_at: datetime | None, now: datetime) -> str:
    """`status_of` one follow-up."""
    return status_of(
        answered_at=follow_up.answered_at,
        sent_at=follow_up.sent_at,
        token_expires_at=follow_up.token_expires_at,
        started_at=follow_up.started_at,
        stopped_at=stopped_at,
        now=now,
    )


@dataclass(frozen=True)
class TimePoint:
    """One row of the trajectory: the screening itself (the baseline, `week` None) or a follow-up."""

    label: str
    week: int | None
    #: A key of RESPONSE_LABELS; None for the baseline.
    status: str | None
    #: When: the screening's submission, or the follow-up's answer, sending or due date.
    when: datetime | None
    current_pain: int | None
    average_pain: int | None
    pgic: int | None = None
    had_ims: str | None = None
    ims_sessions: int | None = None
    #: Activity position -> its score, 0-10 (Patient-Specific Functional Scale).
    scores: Mapping[int, int] | None = None

    @property
    def answered(self) -> bool:
        return self.status == "answered"

    @property
    def pgic_label(self) -> str | None:
        return measures.pgic_label(self.pgic)

    @property
    def much_better(self) -> bool:
        return measures.much_better(self.pgic)

    @property
    def had_ims_label(self) -> str | None:
        return None if self.had_ims is None else measures.HAD_IMS.get(self.had_ims, self.had_ims)


@dataclass(frozen=True)
class Trajectory:
    """A screening's baseline and follow-ups, earliest first, with their chart."""

    #: The baseline first, then one per follow-up written so far.
    points: tuple[TimePoint, ...]
    #: The activities the person named: (position, their words).
    activities: tuple[tuple[int, str], ...]
    #: Whether the person agreed to follow-ups, and when they stopped them (None if they did not).
    consented: bool
    stopped_at: datetime | None
    chart: charts.LineChart

    @property
    def baseline(self) -> TimePoint:
        return self.points[0]

    @property
    def follow_ups(self) -> tuple[TimePoint, ...]:
        return self.points[1:]

    @property
    def answered(self) -> int:
        return sum(point.answered for point in self.follow_ups)


def _baseline(screening: Screening, answer: str) -> int | None:
    """The screening's own answer to the question a follow-up's `answer` asks again, if whole."""
    question_id = rules.questionnaire().follow_up_baselines.get(answer)
    value = (screening.answers or {}).get(question_id) if question_id else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def trajectory(screening: Screening, now: datetime) -> Trajectory:
    """The follow-ups of `screening` beside its baseline, each with what became of it."""
    stopped_at = screening.follow_ups_stopped_at
    baseline = TimePoint(
        "At screening",
        None,
        None,
        screening.submitted_at,
        _baseline(screening, "current_pain"),
        _baseline(screening, "average_pain"),
    )
    points = [baseline]
    for follow_up in screening.follow_ups:
        status = response_status(follow_up, stopped_at, now)
        answered = status == "answered"
        points.append(
            TimePoint(
                f"{follow_up.week} weeks",
                follow_up.week,
                status,
                follow_up.answered_at or follow_up.sent_at or follow_up.due_at,
                # Answers saved page by page count only once sent.
                follow_up.current_pain if answered else None,
                follow_up.average_pain if answered else None,
                follow_up.pgic if answered else None,
                follow_up.had_ims if answered else None,
                follow_up.ims_sessions if answered else None,
                {score.activity.position: score.score for score in follow_up.activity_scores} if answered else {},
            )
        )
    request = screening.assessment_request
    return Trajectory(
        points=tuple(points),
        activities=tuple((activity.position, activity.name) for activity in screening.follow_up_activities),
        consented=request is not None and request.follow_up_consent_at is not None,
        stopped_at=stopped_at,
        chart=charts.line_chart(
            ["Screening" if point.week is None else f"{point.week} wk" for point in points],
            [(key, [getattr(point, key) for point in points]) for key in PAIN_LABELS],
            maximum=measures.PAIN_MAX,
        ),
    )
