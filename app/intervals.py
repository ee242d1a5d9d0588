"""95% confidence intervals for the Overview's outcomes (issue 18): a proportion's (the share much
better, the response rate) and a mean's (the change in pain). Pure arithmetic on counts and sums
that the database adds up, no Flask and no SciPy (not a dependency: these few lines suffice).

- A proportion: the Wilson score interval (Wilson 1927; recommended over the usual "p ± 1.96 SE"
  by Brown, Cai and DasGupta, Statistical Science 2001;16(2):101-133, because it stays inside 0 to
  1 and keeps close to its 95% coverage with few people, and at 0 of n or n of n).
- A mean: the t interval, mean ± t(0.975, n - 1) × sd / √n, with Student's t quantile worked out
  exactly for the whole number of degrees of freedom it always has here (`t_quantile`), so it is
  right for 2 people as for 2,000.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

#: The two-sided 95% point of the standard normal distribution (its 97.5th percentile).
Z_95 = 1.959963984540054

#: Below this many people a share or a mean is not worth reading: the interval spans most of the
#: scale. Shown, with its interval, but said plainly.
TOO_FEW = 10

#: Beyond this many degrees of freedom `t_quantile` uses the Cornish-Fisher expansion, which
#: there agrees with the exact quantile to better than 1e-9 (and saves summing thousands of terms).
_EXACT_DEGREES_OF_FREEDOM = 300


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95% confidence interval (`low` to `high`), from `n` observations."""

    estimate: float
    low: float
    high: float
    n: int

    @property
    def too_few(self) -> bool:
        """Whether it rests on fewer than TOO_FEW observations: too few to read."""
        return self.n < TOO_FEW


def wilson(successes: int, trials: int, z: float = Z_95) -> Interval | None:
    """The share `successes / trials` with its Wilson score interval; None without any trial.

    centre = (p + z²/2n) / (1 + z²/n), half-width = z/(1 + z²/n) · √(p(1 - p)/n + z²/4n²).
    For 7 of 10: 0.700 (0.397 to 0.892); 0 of 12: 0 (0 to 0.243); 12 of 12: 1 (0.757 to 1).
    """
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # At 0 or n of n one end is exactly 0 or 1; rounding must not put it a hair outside.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(p, low, high, trials)


def t_within(t: float, degrees_of_freedom: int) -> float:
    """P(|T| ≤ t) for Student's t with a whole number of degrees of freedom, exactly: the finite
    series of Abramowitz and Stegun 26.7.3 (odd) and 26.7.4 (even), with θ = atan(t / √ν)."""
    nu = degrees_of_freedom
    theta = math.atan(t / math.sqrt(nu))
    sin, cos = math.sin(theta), math.cos(theta)
    cos2 = cos * cos
    if nu % 2 == 0:
        # sinθ (1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + ... up to cos^(ν-2)θ)
        term = total = 1.0
        for k in range(1, nu // 2):
            term *= cos2 * (2 * k - 1) / (2 * k)
            total += term
        return sin * total
    if nu == 1:
        return 2 * theta / math.pi
    # 2/π (θ + sinθ (cosθ + 2/3 cos³θ + 2·4/(3·5) cos⁵θ + ... up to cos^(ν-2)θ))
    term = total = cos
    for k in range(1, (nu - 1) // 2):
        term *= cos2 * (2 * k) / (2 * k + 1)
        total += term
    return 2 / math.pi * (theta + sin * total)


@lru_cache(maxsize=1024)  # a few sample sizes per page, each worked out once (memory bounded)
def t_quantile(degrees_of_freedom: int, confidence: float = 0.95) -> float:
    """Student's t critical value: the t with P(|T| ≤ t) = `confidence` (two-sided), for a whole
    number of degrees of freedom. For 95%: 12.706 at 1, 4.303 at 2, 2.262 at 9, 2.045 at 29.

    Exact (bisection on `t_within` to machine precision) up to 300 degrees of freedom; beyond,
    the Cornish-Fisher expansion of Abramowitz and Stegun 26.7.5, off by less than 1e-9 there.
    """
    if degrees_of_freedom < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    if not 0 < confidence < 1:
        raise ValueError("the confidence is a probability between 0 and 1")
    nu = degrees_of_freedom
    if nu > _EXACT_DEGREES_OF_FREEDOM:
        z = _normal_quantile((1 + confidence) / 2)
        z3, z5, z7, z9 = z**3, z**5, z**7, z**9
        return (
            z
            + (z3 + z) / (4 * nu)
            + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu**2)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu**3)
            + (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * nu**4)
        )
    low, high = 0.0, 1.0
    while t_within(high, nu) < confidence:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if t_within(middle, nu) < confidence:
            low = middle
        else:
            high = middle
    return high


def _normal_quantile(probability: float) -> float:
    """The standard normal quantile, by bisection on the error function (for large-ν t quantiles)."""
    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if 0.5 * math.erfc(-middle / math.sqrt(2)) < probability:
            low = middle
        else:
            high = middle
    return high


def mean_interval(n: int, total: int, sum_of_squares: int) -> Interval | None:
    """The mean of `n` whole numbers, from their sum and the sum of their squares (as the database
    adds them up), with its t interval; None without any number.

    With one number the interval is unknown (no spread to measure): it is the mean itself at both
    ends, and `too_few` says so. The variance is worked out from the whole-number sums exactly,
    (n·Σx² - (Σx)²) / (n(n - 1)), so no rounding creeps in however large the sums.
    """
    if n <= 0:
        return None
    mean = total / n
    if n == 1:
        return Interval(mean, mean, mean, n)
    variance = (n * sum_of_squares - total * total) / (n * (n - 1))
    half = t_quantile(n - 1) * math.sqrt(max(variance, 0.0) / n)
    return Interval(mean, mean - half, mean + half, n)
