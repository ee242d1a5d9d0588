"""The overview's charts as geometry: where each bar, tick and label of its SVG charts goes.

Worked out here rather than in the template, so the template only writes the elements out and the
drawing can be tested. Coordinates are SVG user units (y grows downwards), rounded to a tenth: the
charts are drawn at most 40rem wide (staff.css), where a tenth of a unit is far below a pixel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The stacked bar chart's canvas.
WIDTH, HEIGHT = 600, 240
#: Room left of the plot for the ticks, and under it for the columns' labels.
LEFT, BOTTOM = 36, 28
#: Room above the tallest column, so its top stays clear of the canvas's edge.
HEADROOM = 8
#: Space between neighbouring columns (half on each side of a column).
GAP = 8
#: The charts' text size (`.chart__label` in staff.css): the top tick's baseline is this far down.
LABEL_SIZE = 12
#: The columns' labels' baseline, above the canvas's bottom edge.
COLUMN_LABEL_BASELINE = HEIGHT - 10
#: The ticks' right edge, this far left of the plot.
TICK_GAP = 6

#: The funnel's canvas width and the height of each step's row.
FUNNEL_WIDTH, FUNNEL_ROW = 600, 44
#: The funnel's bars start right of the steps' names; the first step's bar is the longest.
FUNNEL_BAR_X, FUNNEL_BAR_LENGTH, FUNNEL_BAR_HEIGHT = 110, 420, 28
#: Within a row: the bar's top, and the baselines of the step's name and of its count, level with
#: the bar's middle.
FUNNEL_BAR_TOP, FUNNEL_NAME_BASELINE, FUNNEL_COUNT_BASELINE = 8, 26, 27
#: Space between a funnel bar's end and its count.
FUNNEL_COUNT_GAP = 6


@dataclass(frozen=True)
class Line:
    """A straight line from (x1, y1) to (x2, y2)."""

    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Label:
    """A text anchored at (x, y), on its baseline; the template aligns it to start, middle or end."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Bar:
    """A rectangle whose top left corner is (x, y); `key` names what it counts, for its colour."""

    x: float
    y: float
    width: float
    height: float
    key: str


@dataclass(frozen=True)
class Column:
    """One column of a stacked bar chart: its bars from the bottom up, and the label under it."""

    bars: tuple[Bar, ...]
    label: Label


@dataclass(frozen=True)
class BarChart:
    """A stacked bar chart: its canvas, the baseline, the ticks beside the plot, and the columns."""

    width: int
    height: int
    baseline: Line
    #: The scale: the tallest column's total at the top of the plot, 0 at the baseline.
    ticks: tuple[Label, ...]
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class FunnelRow:
    """One step of a funnel chart: its name, its bar, and its count beside the bar's end."""

    name: Label
    bar: Bar
    count: Label


@dataclass(frozen=True)
class FunnelChart:
    """A funnel chart: its canvas, and one row per step, first step at the top."""

    width: int
    height: int
    rows: tuple[FunnelRow, ...]


def stacked_bar_chart(columns: Sequence[tuple[str, Mapping[str, int]]], order: Sequence[str]) -> BarChart:
    """A column per (label, counts by key), its bars stacked in `order` from the bottom, keys not
    counted left out; the tallest column's total fills the plot's height."""
    baseline = HEIGHT - BOTTOM
    # An empty chart keeps a scale of 0 to 1, rather than dividing by zero.
    tallest = max((sum(counts.values()) for _, counts in columns), default=0) or 1
    plot_height = baseline - HEADROOM
    space = (WIDTH - LEFT) / max(len(columns), 1)
    drawn = []
    for index, (text, counts) in enumerate(columns):
        x = LEFT + index * space + GAP / 2
        top: float = baseline
        bars = []
        for key in order:
            if counts.get(key):
                height = plot_height * counts[key] / tallest
                top -= height
                bars.append(Bar(round(x, 1), round(top, 1), round(space - GAP, 1), round(height, 1), key))
        drawn.append(Column(tuple(bars), Label(round(x + (space - GAP) / 2, 1), COLUMN_LABEL_BASELINE, text)))
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        baseline=Line(LEFT, baseline, WIDTH, baseline),
        ticks=(Label(LEFT - TICK_GAP, LABEL_SIZE, str(tallest)), Label(LEFT - TICK_GAP, baseline, "0")),
        columns=tuple(drawn),
    )


def funnel_chart(steps: Sequence[tuple[str, int]]) -> FunnelChart:
    """A bar per (step name, count), each as long against the first step's as its count is against
    the first step's count."""
    # No first step, or none at it: the bars keep a scale rather than dividing by zero.
    first = (steps[0][1] if steps else 0) or 1
    rows = []
    for index, (name, count) in enumerate(steps):
        top = index * FUNNEL_ROW
        length = FUNNEL_BAR_LENGTH * count / first
        rows.append(
            FunnelRow(
                name=Label(0, top + FUNNEL_NAME_BASELINE, name),
                bar=Bar(FUNNEL_BAR_X, top + FUNNEL_BAR_TOP, round(length, 1), FUNNEL_BAR_HEIGHT, "funnel"),
                count=Label(
                    round(FUNNEL_BAR_X + FUNNEL_COUNT_GAP + length, 1), top + FUNNEL_COUNT_BASELINE, str(count)
                ),
            )
        )
    return FunnelChart(width=FUNNEL_WIDTH, height=len(steps) * FUNNEL_ROW, rows=tuple(rows))
