"""The overview page (app/staff/reports.py): the weekly chart and its table, the funnel and its
table, drawn from what was submitted; the geometry itself is tested in test_staff_charts.py."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from flask import Flask
from flask.testing import FlaskClient

import rules
from app.display import CLINIC_TIME_ZONE
from app.staff.reports import FunnelStep
from tests.conftest import insert_submitted, submit_screening
from tests.support.staff_pages import post_form, text_of

OVERVIEW = "/staff/overview"


def monday(weeks_ago: int) -> date:
    today = datetime.now(CLINIC_TIME_ZONE).date()
    return today - timedelta(days=today.weekday(), weeks=weeks_ago)


def midweek(weeks_ago: int) -> datetime:
    """Wednesday noon in the clinic of a week shown on the overview: inside that week whatever today is."""
    return datetime.combine(monday(weeks_ago) + timedelta(days=2), time(12), tzinfo=CLINIC_TIME_ZONE)


def rects(html: str, kind: str) -> list[dict[str, str]]:
    """The attributes of every bar of one kind (an outcome, or "funnel") drawn on the page."""
    return [
        dict(re.findall(r'(\w+)="([^"]*)"', match))
        for match in re.findall(rf"<rect ([^>]*chart__bar--{kind}\"[^>]*)/>", html)
    ]


def test_the_overview_draws_and_tabulates_each_week_by_outcome(app: Flask, physio_client: FlaskClient) -> None:
    insert_submitted(
        app,
        [{"outcome": "possible", "submitted_at": midweek(2)}] * 6
        + [{"outcome": "likely", "submitted_at": midweek(0)}] * 2
        + [{"outcome": "emergency", "submitted_at": midweek(0)}],
    )
    response = physio_client.get(OVERVIEW)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)

    # The table: one row per week, oldest first, the counts in the outcomes' order, then the total.
    assert f"{monday(2).isoformat()} 0 0 0 0 0 6 0 6" in text
    assert f"{monday(0).isoformat()} 1 0 0 0 2 0 0 3" in text
    assert text.count(" 0 0 0 0 0 0 0 0 ") == 10  # the twelve weeks, ten of them empty

    # The chart: 12 columns of 47 units from x=36; the tallest week (6) fills the plot's 204 units.
    assert rects(html, "possible") == [
        {"x": "463.0", "y": "8.0", "width": "39.0", "height": "204.0", "class": "chart__bar chart__bar--possible"}
    ]
    [emergency], [likely] = rects(html, "emergency"), rects(html, "likely")
    assert (emergency["x"], emergency["y"], emergency["height"]) == ("557.0", "178.0", "34.0")  # at the bottom
    assert (likely["x"], likely["y"], likely["height"]) == ("557.0", "110.0", "68.0")  # on top of it
    assert ">6</text>" in html and ">0</text>" in html  # the scale
    week_label = f"{monday(0).day}/{monday(0).month}"
    assert f'text-anchor="middle">{week_label}</text>' in html


def test_the_overview_draws_and_tabulates_the_funnel(app: Flask, physio_client: FlaskClient) -> None:
    statuses = ["booked", "contacted", "contacted", "in_review"] + ["new"] * 5
    insert_submitted(
        app, [{"outcome": "likely", "submitted_at": midweek(1), "review_status": status} for status in statuses]
    )
    response = physio_client.get(OVERVIEW)
    text = text_of(response)
    assert "Submitted 9 100% Reviewed 4 44% Contacted 3 33% Booked 1 11%" in text
    widths = [bar["width"] for bar in rects(response.get_data(as_text=True), "funnel")]
    assert widths == ["420.0", str(round(420 * 4 / 9, 1)), "140.0", str(round(420 / 9, 1))]


def test_an_empty_overview_has_a_scale_and_empty_bars(physio_client: FlaskClient) -> None:
    response = physio_client.get(OVERVIEW)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert not re.search(r"chart__bar--(?!funnel)", html.split("<figcaption>")[0])
    assert [bar["width"] for bar in rects(html, "funnel")] == ["0.0"] * 4
    assert "Submitted 0 0% Reviewed 0 0%" in text_of(response)


def test_a_funnel_steps_percent_is_its_share_of_the_submitted_rounded() -> None:
    assert [FunnelStep("s", count, 9).percent for count in (9, 4, 3, 1, 0)] == [100, 44, 33, 11, 0]
    assert FunnelStep("s", 1, 8).percent == 12  # 12.5 rounds to even, as the page always did
    assert FunnelStep("s", 0, 0).percent == 0


def test_agreement_by_rule_credits_only_the_rules_that_decided_the_outcome(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    """An emergency also fires the candidacy rule C-L1 (likely); a physiotherapist who agrees
    with the emergency has not agreed that the patient is a likely candidate."""
    emergency = submit_screening(app, {**ideal_answers, "rf_saddle_numbness": "yes"})
    fired = rules.evaluate({**ideal_answers, "rf_saddle_numbness": "yes"}).rule_ids
    assert fired == ["RF-E1", "C-L1"]
    url = f"/staff/screenings/{emergency}"
    assert (
        post_form(physio_client, url, url + "/judgement", {"outcome": "emergency", "reason": "Sent"}).status_code == 303
    )
    html = physio_client.get(OVERVIEW).get_data(as_text=True)
    by_rule = html[html.index("By rule that fired") :]
    assert re.search(r"<th scope=\"row\">RF-E1</th><td>1</td><td>1</td>", by_rule)
    assert "C-L1" not in by_rule
    assert "Judged blind: 0 of 1" in text_of(physio_client.get(OVERVIEW))
