"""The overview's chart geometry (app/staff/charts.py): bars in proportion to their counts, the
tallest filling the plot, stacks in order, the scale's ticks, and charts with nothing to show."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.staff.charts import (
    BOTTOM,
    FUNNEL_BAR_LENGTH,
    FUNNEL_BAR_X,
    FUNNEL_ROW,
    GAP,
    HEADROOM,
    HEIGHT,
    LEFT,
    WIDTH,
    Bar,
    BarChart,
    funnel_chart,
    stacked_bar_chart,
)

BASELINE = HEIGHT - BOTTOM
PLOT_HEIGHT = BASELINE - HEADROOM
ORDER = ("urgent", "soon", "later")
#: Coordinates are rounded to a tenth; a stack adds up to one rounding per bar.
TENTH = 0.05 + 1e-9


def stack_height(bars: tuple[Bar, ...]) -> float:
    return sum(bar.height for bar in bars)


def test_a_bars_height_is_proportional_to_its_count_and_the_tallest_column_fills_the_plot() -> None:
    chart = stacked_bar_chart([("a", {"urgent": 1}), ("b", {"urgent": 2}), ("c", {"urgent": 4})], ORDER)
    heights = [column.bars[0].height for column in chart.columns]
    assert heights == [PLOT_HEIGHT / 4, PLOT_HEIGHT / 2, PLOT_HEIGHT]
    tallest = chart.columns[2].bars[0]
    assert (tallest.y, tallest.y + tallest.height) == (HEADROOM, BASELINE)


def test_a_column_stacks_its_bars_in_order_from_the_baseline_up() -> None:
    chart = stacked_bar_chart([("week", {"later": 3, "urgent": 1, "soon": 0, "unknown": 2})], ORDER)
    [column] = chart.columns
    # Zero counts and keys not in the order draw nothing; the order is kept whatever the mapping's.
    assert [bar.key for bar in column.bars] == ["urgent", "later"]
    urgent, later = column.bars
    assert urgent.y + urgent.height == BASELINE
    assert later.y + later.height == pytest.approx(urgent.y, abs=TENTH)
    assert later.height == pytest.approx(3 * urgent.height, abs=TENTH)
    # The total (6, counting the unknown key) sets the scale, as the table's total column does.
    assert chart.ticks[0].text == "6"
    assert stack_height(column.bars) == pytest.approx(PLOT_HEIGHT * 4 / 6, abs=2 * TENTH)


def test_the_ticks_give_the_scale_beside_the_plot() -> None:
    chart = stacked_bar_chart([("a", {"urgent": 2, "soon": 5}), ("b", {"later": 3})], ORDER)
    top, zero = chart.ticks
    assert (top.text, zero.text) == ("7", "0")
    assert zero.y == BASELINE == chart.baseline.y1 == chart.baseline.y2
    assert top.y < HEADROOM + PLOT_HEIGHT / 10  # beside the tallest column's top
    assert top.x == zero.x < LEFT  # right-aligned left of the plot
    assert (chart.baseline.x1, chart.baseline.x2) == (LEFT, WIDTH)


def test_columns_share_the_plots_width_evenly_with_a_gap_between_them() -> None:
    chart = stacked_bar_chart([(str(n), {"urgent": 1}) for n in range(12)], ORDER)
    bars = [column.bars[0] for column in chart.columns]
    space = (WIDTH - LEFT) / 12
    assert [bar.x for bar in bars] == [round(LEFT + n * space + GAP / 2, 1) for n in range(12)]
    assert {bar.width for bar in bars} == {round(space - GAP, 1)}
    assert bars[-1].x + bars[-1].width == pytest.approx(WIDTH - GAP / 2, abs=2 * TENTH)
    # Each label is centred under its column, on one baseline below the plot.
    for column in chart.columns:
        bar = column.bars[0]
        assert column.label.x == pytest.approx(bar.x + bar.width / 2, abs=2 * TENTH)
        assert BASELINE < column.label.y < HEIGHT
    assert [column.label.text for column in chart.columns] == [str(n) for n in range(12)]


def test_a_single_column_spans_the_whole_plot() -> None:
    chart = stacked_bar_chart([("2/3", {"soon": 1})], ORDER)
    [column] = chart.columns
    [bar] = column.bars
    assert (bar.x, bar.width) == (LEFT + GAP / 2, WIDTH - LEFT - GAP)
    assert (bar.y, bar.height) == (HEADROOM, PLOT_HEIGHT)
    assert column.label.x == (LEFT + WIDTH) / 2
    assert chart.ticks[0].text == "1"


def test_zero_counts_draw_no_bars_but_keep_the_columns_labels_and_a_scale() -> None:
    chart = stacked_bar_chart([("a", {}), ("b", {"urgent": 0})], ORDER)
    assert [column.bars for column in chart.columns] == [(), ()]
    assert [column.label.text for column in chart.columns] == ["a", "b"]
    assert [tick.text for tick in chart.ticks] == ["1", "0"]


def test_no_columns_at_all_is_an_empty_plot() -> None:
    chart = stacked_bar_chart([], ORDER)
    assert chart.columns == ()
    assert (chart.width, chart.height) == (WIDTH, HEIGHT)
    assert [tick.text for tick in chart.ticks] == ["1", "0"]


def test_coordinates_are_rounded_to_a_tenth() -> None:
    chart = stacked_bar_chart([("a", {"urgent": 1, "soon": 2}), ("b", {"later": 1}), ("c", {})], ORDER)
    for column in chart.columns:
        for bar in column.bars:
            for value in (bar.x, bar.y, bar.width, bar.height):
                assert value == round(value, 1)
        assert column.label.x == round(column.label.x, 1)
    assert chart.columns[0].bars[1].height == round(PLOT_HEIGHT * 2 / 3, 1) == 136.0


@given(
    st.lists(
        st.dictionaries(st.sampled_from(ORDER), st.integers(min_value=0, max_value=10_000), max_size=3),
        min_size=1,
        max_size=20,
    )
)
def test_any_counts_stay_inside_the_plot_in_proportion(counts: list[dict[str, int]]) -> None:
    chart: BarChart = stacked_bar_chart([(str(n), c) for n, c in enumerate(counts)], ORDER)
    tallest = max(sum(c.values()) for c in counts) or 1
    for column, column_counts in zip(chart.columns, counts, strict=True):
        assert [bar.key for bar in column.bars] == [key for key in ORDER if column_counts.get(key)]
        for bar in column.bars:
            assert LEFT <= bar.x and bar.x + bar.width <= WIDTH + TENTH
            assert HEADROOM - 3 * TENTH <= bar.y and bar.y + bar.height <= BASELINE + 3 * TENTH
            assert bar.height == pytest.approx(PLOT_HEIGHT * column_counts[bar.key] / tallest, abs=TENTH)
        assert stack_height(column.bars) == pytest.approx(
            PLOT_HEIGHT * sum(column_counts.values()) / tallest, abs=3 * TENTH
        )


# ---- The funnel ------------------------------------------------------------------------------


def test_the_first_steps_bar_is_the_longest_and_the_others_are_in_proportion() -> None:
    chart = funnel_chart([("Submitted", 40), ("Reviewed", 30), ("Contacted", 10), ("Booked", 0)])
    widths = [row.bar.width for row in chart.rows]
    assert widths == [FUNNEL_BAR_LENGTH, FUNNEL_BAR_LENGTH * 3 / 4, FUNNEL_BAR_LENGTH / 4, 0]
    assert {row.bar.x for row in chart.rows} == {FUNNEL_BAR_X}
    assert {row.bar.key for row in chart.rows} == {"funnel"}


def test_each_step_has_its_row_with_its_name_and_its_count_after_its_bar() -> None:
    chart = funnel_chart([("Submitted", 40), ("Reviewed", 30), ("Booked", 0)])
    assert (chart.height, len(chart.rows)) == (3 * FUNNEL_ROW, 3)
    assert [row.name.text for row in chart.rows] == ["Submitted", "Reviewed", "Booked"]
    assert [row.count.text for row in chart.rows] == ["40", "30", "0"]
    for index, row in enumerate(chart.rows):
        top = index * FUNNEL_ROW
        assert top < row.bar.y and row.bar.y + row.bar.height < top + FUNNEL_ROW
        assert row.bar.y < row.name.y < row.bar.y + row.bar.height  # the name is level with the bar
        assert row.name.x == 0 < FUNNEL_BAR_X  # the name left of the bar
        assert row.count.x > row.bar.x + row.bar.width  # the count just after the bar's end
        assert row.count.x - (row.bar.x + row.bar.width) < 10


def test_a_funnel_with_nobody_at_its_first_step_draws_empty_bars() -> None:
    chart = funnel_chart([("Submitted", 0), ("Reviewed", 0)])
    assert [row.bar.width for row in chart.rows] == [0, 0]
    assert [row.count.text for row in chart.rows] == ["0", "0"]
    assert funnel_chart([]).rows == ()
