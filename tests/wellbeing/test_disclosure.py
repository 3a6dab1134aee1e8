"""The noise on leads' wellbeing figures: OpenDP's, of the size the page says, and bounded by the scale.

These are statistical tests of real draws (OpenDP cannot be seeded). Each bound below fails by
chance with probability under 10^-6.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from django.conf import settings

from wellbeing.disclosure import COVERAGE, EPSILON, discrete_laplace_margin, laplace_margin, noisy_counts, noisy_mean

DRAWS = 2000


def test_a_noisy_mean_has_the_privacy_loss_and_margin_it_claims() -> None:
    drawn = noisy_mean([0.0, 1.0, 2.0, 3.0, 4.0], top=4)
    assert drawn.epsilon == pytest.approx(EPSILON, rel=1e-9)  # OpenDP's own accounting for changing one person
    assert drawn.margin == pytest.approx(4 / EPSILON * math.log(10) / 5)
    assert laplace_margin(1.0) == pytest.approx(math.log(1 / (1 - COVERAGE)))


def test_the_noise_stays_inside_its_margin_as_often_as_the_page_says() -> None:
    values = [2.0] * 6
    draws = [noisy_mean(values, top=4) for _ in range(DRAWS)]
    inside = sum(abs(drawn.value - 2.0) <= drawn.margin for drawn in draws) / DRAWS
    # Binomial(2000, 0.9): 5.3 standard deviations either side is 0.9 +- 0.036.
    assert 0.86 <= inside <= 0.94
    # And it is noise: the draws differ, centred on the truth.
    assert len({drawn.value for drawn in draws}) > DRAWS * 0.9
    assert abs(sum(drawn.value for drawn in draws) / DRAWS - 2.0) < 0.11


def test_everyone_answering_alike_does_not_show_as_an_exact_figure() -> None:
    """All five said 'not at all': an exact 0.00 would tell the lead each of their answers."""
    draws = [noisy_mean([0.0] * 5, top=4).value for _ in range(DRAWS)]
    assert all(0 <= value <= 4 for value in draws)
    # Laplace of scale 0.8, clamped at 0: about half the draws are above 0, a fifth above 0.37.
    assert 0.4 <= sum(value > 0 for value in draws) / DRAWS <= 0.6
    assert sum(value > 0.37 for value in draws) / DRAWS > 0.15


def test_values_off_the_scale_are_clamped_before_they_are_summed() -> None:
    """One person's contribution is bounded by the scale, whatever reaches the function."""
    draws = [noisy_mean([400.0] * 5, top=4).value for _ in range(200)]
    assert max(draws) <= 4.0
    # If 400 were summed unclamped, the mean would be pinned at the top; clamped to 4 it is noisy below it.
    assert sum(value < 4.0 for value in draws) > 50


def test_noisy_counts_are_whole_numbers_within_the_group_and_their_margin() -> None:
    members = ["a"] * 3 + ["b"] * 5 + ["c"] * 7
    inside = 0
    for _ in range(DRAWS // 2):
        counts = noisy_counts(["a", "b", "c"], members)
        for drawn, truth in zip(counts, (3, 5, 7), strict=True):
            assert drawn.value == int(drawn.value) and 0 <= drawn.value <= 15
            assert drawn.epsilon == pytest.approx(EPSILON)
            inside += abs(drawn.value - truth) <= drawn.margin
    assert inside / (3 * (DRAWS // 2)) >= 0.85  # at least 90% before clamping, which only brings values closer
    assert discrete_laplace_margin(2.0) == 5.0


def test_an_empty_group_has_no_figure() -> None:
    with pytest.raises(ValueError, match="at least one"):
        noisy_mean([], top=4)
    with pytest.raises(ValueError, match="at least one"):
        noisy_counts(["a"], [])


def test_the_privacy_document_states_the_noise_the_code_adds() -> None:
    document = (Path(settings.BASE_DIR) / "wellbeing" / "PRIVACY.md").read_text(encoding="utf-8")
    text = " ".join(document.split())
    assert f"ε = {EPSILON:g} per figure" in text
    assert f"{laplace_margin(4 / EPSILON) / 5:.2f} for 5 people, {laplace_margin(4 / EPSILON) / 15:.2f} for 15" in text
    assert f"{laplace_margin(100 / EPSILON) / 15:.1f} for 15 people" in text
    assert f"and {discrete_laplace_margin(2 / EPSILON):g} for a band count" in text
    assert f"{round(COVERAGE * 100)}% of the time" in text
