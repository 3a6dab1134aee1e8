"""Calibrated noise for the wellbeing figures leads see, through OpenDP (wellbeing/PRIVACY.md).

Each figure is a sum over one cell of a partition, with every person contributing exactly one
value clamped to the scale, plus Laplace noise from OpenDP. The cell's size is public (it is
shown, and must be at least `MIN_GROUP`), so neighbouring data sets differ in one person's
values, not in who is there: symmetric distance 2 on a data set of known size. OpenDP computes
the privacy loss of each figure from that, and `Noisy.epsilon` is what it says, not what we hoped.

Nothing here touches the database, so the noise can be tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import opendp.prelude as dp

dp.enable_features("contrib")

# Privacy loss of one published figure, for one person's values in it. Feelings: one item's
# mean in a month. WHO-5: the month's mean score, and the month's band counts.
EPSILON = 1.0
# One person replacing their values moves a data set of known size by 2 in symmetric distance.
CHANGE_ONE_PERSON = 2
# The interval shown beside a figure holds the true value with this probability.
COVERAGE = 0.9


@dataclass(frozen=True)
class Noisy:
    value: float  # the published figure, noise included, brought back onto the scale
    margin: float  # half-width of the COVERAGE interval of the noise, in the figure's units
    epsilon: float  # privacy loss of this figure for one person, as OpenDP computes it


def laplace_margin(scale: float) -> float:
    """P(|Laplace(scale)| > t) = exp(-t / scale), so the COVERAGE interval is +-scale * ln(1 / (1 - COVERAGE))."""
    return scale * math.log(1 / (1 - COVERAGE))


def noisy_mean(values: Sequence[float], *, top: float, epsilon: float = EPSILON) -> Noisy:
    """The mean of one value per person on [0, top], from a noisy sum over a known number of people."""
    n = len(values)
    if n == 0:
        raise ValueError("a mean needs at least one value")
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False), size=n), dp.symmetric_distance()
    scale = top / epsilon  # the sum's sensitivity to one person's value is the width of the scale
    measurement = space >> dp.t.then_clamp((0.0, float(top))) >> dp.t.then_sum() >> dp.m.then_laplace(scale=scale)
    noisy_sum = measurement([float(value) for value in values])
    return Noisy(
        value=min(float(top), max(0.0, noisy_sum / n)),
        margin=laplace_margin(scale) / n,
        epsilon=float(measurement.map(CHANGE_ONE_PERSON)),
    )


def noisy_counts(categories: Sequence[str], members: Sequence[str], *, epsilon: float = EPSILON) -> list[Noisy]:
    """How many people fall in each category (one category each), as noisy whole numbers in [0, n]."""
    n = len(members)
    if n == 0:
        raise ValueError("counts need at least one person")
    space = dp.vector_domain(dp.atom_domain(T=str), size=n), dp.symmetric_distance()
    # Moving one person from one category to another changes two counts by one each.
    scale = 2 / epsilon
    measurement = (
        space
        >> dp.t.then_count_by_categories(categories=list(categories), null_category=False)
        >> dp.m.then_laplace(scale=scale)
    )
    counts = measurement(list(members))
    loss = float(measurement.map(CHANGE_ONE_PERSON))
    margin = discrete_laplace_margin(scale)
    return [Noisy(value=float(min(n, max(0, count))), margin=margin, epsilon=loss) for count in counts]


def discrete_laplace_margin(scale: float) -> float:
    """The least whole m with P(|Z| > m) <= 1 - COVERAGE, for Z discrete Laplace: P(Z = k) ~ exp(-|k| / scale).

    P(|Z| > m) = 2 exp(-(m + 1) / scale) / (1 + exp(-1 / scale)).
    """
    m = 0
    while 2 * math.exp(-(m + 1) / scale) / (1 + math.exp(-1 / scale)) > 1 - COVERAGE:
        m += 1
    return float(m)
