"""The 95% confidence intervals of the Overview's outcomes (app/intervals.py), against published
values: Wilson score intervals as Newcombe (Statistics in Medicine 1998;17:857-872) and Brown, Cai
and DasGupta (Statistical Science 2001;16:101-133) tabulate them, Student's t critical values as
printed in every table (NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.2), and R's
t.test on Student's own sleep data (Cushny and Peebles, as in R's `datasets::sleep`)."""

import math

import pytest

from app.intervals import TOO_FEW, Interval, mean_interval, t_quantile, t_within, wilson

pytestmark = pytest.mark.one_backend


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (7, 10, 0.3968, 0.8922),  # the brief's and Newcombe's example
        (0, 12, 0.0, 0.2425),
        (12, 12, 0.7575, 1.0),
        (0, 10, 0.0, 0.2775),  # Newcombe 1998, table II: 0/10 -> 0 to 0.2775
        (1, 29, 0.0061, 0.1718),  # Newcombe 1998, table II: 1/29 -> 0.0061 to 0.1718
        (81, 263, 0.2553, 0.3662),  # Newcombe 1998, table II: 81/263 -> 0.2553 to 0.3662
        (15, 148, 0.0624, 0.1605),  # Newcombe 1998, table II: 15/148 -> 0.0624 to 0.1605
    ],
)
def test_the_wilson_interval_matches_published_values(successes: int, trials: int, low: float, high: float) -> None:
    found = wilson(successes, trials)
    assert found is not None
    assert found.estimate == successes / trials and found.n == trials
    assert found.low == pytest.approx(low, abs=5e-5) and found.high == pytest.approx(high, abs=5e-5)


def test_the_wilson_interval_stays_within_0_and_1_and_has_none_without_a_trial() -> None:
    assert wilson(0, 0) is None
    for trials in (1, 2, 5, 37):
        for successes in range(trials + 1):
            found = wilson(successes, trials)
            assert found is not None and 0.0 <= found.low <= found.estimate <= found.high <= 1.0
    assert wilson(0, 1) == Interval(0.0, 0.0, pytest.approx(0.7935, abs=5e-5), 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        wilson(11, 10)


@pytest.mark.parametrize(
    ("degrees_of_freedom", "critical"),
    [
        (1, 12.706),
        (2, 4.303),
        (3, 3.182),
        (4, 2.776),
        (5, 2.571),
        (6, 2.447),
        (7, 2.365),
        (8, 2.306),
        (9, 2.262),
        (10, 2.228),
        (11, 2.201),
        (15, 2.131),
        (20, 2.086),
        (29, 2.045),
        (30, 2.042),
        (40, 2.021),
        (60, 2.000),
        (100, 1.984),
        (120, 1.980),
        (1000, 1.962),
    ],
)
def test_the_t_quantile_matches_the_printed_table(degrees_of_freedom: int, critical: float) -> None:
    assert t_quantile(degrees_of_freedom) == pytest.approx(critical, abs=5e-4)


def test_the_t_quantile_is_exact_where_it_switches_to_the_expansion_and_tends_to_the_normal() -> None:
    # Exact to many places: the 97.5th percentile of t with 1 and 2 degrees of freedom in closed form.
    assert t_quantile(1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-12)  # Cauchy: tan(π(p - ½))
    assert t_quantile(2) == pytest.approx(math.sqrt(2 / (1 - 0.95**2) - 2), rel=1e-12)
    # Either side of the switch from the exact series to the Cornish-Fisher expansion (300).
    assert t_within(t_quantile(300), 300) == pytest.approx(0.95, abs=1e-12)
    assert t_within(t_quantile(301), 301) == pytest.approx(0.95, abs=1e-9)
    assert t_quantile(300) > t_quantile(301) > t_quantile(10**6) > 1.959963984
    assert t_quantile(10**6) == pytest.approx(1.959963984540054, abs=1e-5)
    assert t_quantile(9, 0.99) == pytest.approx(3.250, abs=5e-4)  # the table's 99% column


def test_the_mean_interval_of_a_hand_worked_sample() -> None:
    # Changes in pain -4, -3, -3, -2, -2, -2, -1, -1, 0, 0: sum -18, sum of squares 48, so the mean
    # is -1.8, the variance (10 x 48 - 18²) / (10 x 9) = 156/90, the standard error
    # sqrt(156/900) = 0.41633, and with t(0.975, 9) = 2.262157 the interval -2.7418 to -0.8582.
    found = mean_interval(10, -18, 48)
    assert found is not None
    assert found.estimate == -1.8 and found.n == 10 and not found.too_few
    assert found.low == pytest.approx(-2.7418, abs=5e-4) and found.high == pytest.approx(-0.8582, abs=5e-4)


def test_the_mean_interval_matches_r_on_students_sleep_data() -> None:
    # t.test(extra ~ group, data = sleep, paired = TRUE) in R: the mean difference -1.58, with its
    # 95% interval -2.4598858 to -0.7001142. The differences, in tenths of an hour (whole numbers,
    # as the database adds them up): -12 -24 -13 -13 0 -10 -18 -8 -46 -14.
    differences = [-12, -24, -13, -13, 0, -10, -18, -8, -46, -14]
    found = mean_interval(len(differences), sum(differences), sum(d * d for d in differences))
    assert found is not None
    assert found.estimate == pytest.approx(-15.8)
    assert found.low / 10 == pytest.approx(-2.4598858, abs=1e-6)
    assert found.high / 10 == pytest.approx(-0.7001142, abs=1e-6)


def test_a_mean_of_one_or_none_has_no_interval_and_small_counts_are_too_few() -> None:
    assert mean_interval(0, 0, 0) is None
    assert mean_interval(1, -3, 9) == Interval(-3.0, -3.0, -3.0, 1)
    assert mean_interval(3, 6, 12) == Interval(2.0, 2.0, 2.0, 3)  # no spread: a zero-width interval
    assert mean_interval(TOO_FEW - 1, 0, 10).too_few  # type: ignore[union-attr]
    assert not mean_interval(TOO_FEW, 0, 10).too_few  # type: ignore[union-attr]
    assert wilson(8, TOO_FEW - 1).too_few  # type: ignore[union-attr]
    assert not wilson(0, TOO_FEW).too_few  # type: ignore[union-attr]
