"""The staff pages' charts as geometry: where each bar, line, tick and label of their SVG charts goes
(the Overview's, and a patient's follow-ups on the screening page).

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


#: The line chart's canvas (a patient's follow-ups: a few time points on a 0-10 scale).
LINE_WIDTH, LINE_HEIGHT = 480, 200
#: Each series' marker, so that the series differ by shape as well as by line and colour.
MARKERS = ("circle", "square")
#: A marker's half size (a circle's radius, half a square's side).
MARKER_RADIUS = 4


@dataclass(frozen=True)
class Point:
    """One value of a series, drawn at (x, y); `text` is the value as written in the table."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Series:
    """One line of a line chart: its points, left to right, and the marker drawn at each."""

    key: str
    marker: str
    points: tuple[Point, ...]

    @property
    def polyline(self) -> str:
        """The `points` attribute of the SVG polyline through the points, in order."""
        return " ".join(f"{point.x},{point.y}" for point in self.points)


@dataclass(frozen=True)
class LineChart:
    """A line chart over evenly spaced columns on a fixed scale from 0 to `maximum`: its canvas,
    the baseline, faint grid lines at the ticks, the ticks, the columns' labels and the lines."""

    width: int
    height: int
    baseline: Line
    grid: tuple[Line, ...]
    ticks: tuple[Label, ...]
    labels: tuple[Label, ...]
    series: tuple[Series, ...]
    marker_radius: int = MARKER_RADIUS


def line_chart(
    columns: Sequence[str], series: Sequence[tuple[str, Sequence[int | None]]], maximum: int, step: int = 5
) -> LineChart:
    """A line per (key, values), one value per column (None where there is none: the line then
    joins the values either side of it), on a scale from 0 at the baseline to `maximum` at the
    top, with a tick every `step`; each series gets the next of `MARKERS`."""
    baseline = LINE_HEIGHT - BOTTOM
    plot_height = baseline - HEADROOM
    space = (LINE_WIDTH - LEFT) / max(len(columns), 1)

    def y_of(value: int) -> float:
        return round(baseline - plot_height * value / maximum, 1)

    def x_of(index: int) -> float:
        return round(LEFT + (index + 0.5) * space, 1)

    values = range(0, maximum + 1, step)
    label_baseline = LINE_HEIGHT - (HEIGHT - COLUMN_LABEL_BASELINE)  # as far above the bottom as the bar chart's
    return LineChart(
        width=LINE_WIDTH,
        height=LINE_HEIGHT,
        baseline=Line(LEFT, baseline, LINE_WIDTH, baseline),
        grid=tuple(Line(LEFT, y_of(value), LINE_WIDTH, y_of(value)) for value in values if value),
        # Each tick's baseline a third of the text's size below its line, so the number sits level with it.
        ticks=tuple(Label(LEFT - TICK_GAP, round(y_of(value) + LABEL_SIZE / 3, 1), str(value)) for value in values),
        labels=tuple(Label(x_of(index), label_baseline, text) for index, text in enumerate(columns)),
        series=tuple(
            Series(
                key,
                MARKERS[number % len(MARKERS)],
                tuple(
                    Point(x_of(index), y_of(value), str(value))
                    for index, value in enumerate(points)
                    if value is not None
                ),
            )
            for number, (key, points) in enumerate(series)
        ),
    )


#: The interval chart's canvas width, each row's height, and where its scale runs (0 to 1): right
#: of the rows' labels.
INTERVAL_WIDTH, INTERVAL_ROW = 600, 26
INTERVAL_PLOT_LEFT, INTERVAL_PLOT_RIGHT = 200, 580
#: The estimate's marker's radius.
ESTIMATE_RADIUS = 5


@dataclass(frozen=True)
class IntervalRow:
    """One estimate of an interval chart: its label, the interval as a line, the estimate as a dot,
    and whether it rests on too few people to read (drawn hollow and dashed)."""

    label: Label
    interval: Line
    estimate_x: float
    estimate_y: float
    too_few: bool


@dataclass(frozen=True)
class IntervalChart:
    """Shares with their confidence intervals on a common scale from 0 to 1 (0% to 100%): a row
    per estimate, dashed reference lines at the ticks, the ticks under the last row."""

    width: int
    height: int
    rows: tuple[IntervalRow, ...]
    references: tuple[Line, ...]
    ticks: tuple[Label, ...]
    estimate_radius: int = ESTIMATE_RADIUS


def interval_chart(
    rows: Sequence[tuple[str, float, float, float, bool]], ticks: Sequence[float] = (0, 0.5, 1)
) -> IntervalChart:
    """A row per (label, estimate, low, high, too few), each a share from 0 to 1, drawn as a dot on
    a line from `low` to `high`; the scale's ticks (as percentages) under the rows."""
    span = INTERVAL_PLOT_RIGHT - INTERVAL_PLOT_LEFT

    def x_of(share: float) -> float:
        return round(INTERVAL_PLOT_LEFT + span * min(max(share, 0.0), 1.0), 1)

    bottom = len(rows) * INTERVAL_ROW
    drawn = []
    for index, (text, estimate, low, high, too_few) in enumerate(rows):
        middle = index * INTERVAL_ROW + INTERVAL_ROW / 2
        drawn.append(
            IntervalRow(
                Label(0, middle + LABEL_SIZE / 3, text),
                Line(x_of(low), middle, x_of(high), middle),
                x_of(estimate),
                middle,
                too_few,
            )
        )
    return IntervalChart(
        width=INTERVAL_WIDTH,
        height=bottom + BOTTOM,
        rows=tuple(drawn),
        references=tuple(Line(x_of(tick), 0, x_of(tick), bottom) for tick in ticks),
        ticks=tuple(Label(x_of(tick), bottom + BOTTOM - 10, f"{round(tick * 100)}%") for tick in ticks),
    )
