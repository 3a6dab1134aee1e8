"""Experts against the crowd: the figures, checked against scikit-learn's Cohen's kappa."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import cohen_kappa_score

from agreement.experts import ExpertItem, cohen_kappa, expert_comparison_compute


def item(number: int, domain: str, expert: int, crowd: tuple[int, ...]) -> ExpertItem:
    return ExpertItem(item_id=100 + number, position=number, domain=domain, expert_rating=expert, crowd_ratings=crowd)


def test_cohen_kappa_matches_scikit_learn_on_random_verdicts() -> None:
    local = random.Random(5)  # noqa: S311 - test data
    for _ in range(50):
        pairs = [(local.random() < 0.4, local.random() < 0.6) for _ in range(local.randint(2, 40))]
        if len({a for a, _ in pairs} | {b for _, b in pairs}) < 2:
            continue
        want = cohen_kappa_score([a for a, _ in pairs], [b for _, b in pairs])
        assert cohen_kappa(pairs) == pytest.approx(want, abs=1e-12)


def test_cohen_kappa_is_undefined_when_every_verdict_is_the_same_and_without_items() -> None:
    assert cohen_kappa([(True, True)] * 4) is None
    assert cohen_kappa([]) is None


def test_the_comparison_counts_agreement_per_domain_with_a_tie_as_no_success() -> None:
    figures = expert_comparison_compute(
        [
            item(3, "Weapons", 4, (4, 3, 0)),  # crowd success, expert success: agree
            item(1, "Weapons", 0, (3, 3, 1)),  # crowd success, expert not: disagree
            item(2, "Theft", 4, (4, 0)),  # a tie is no success; the expert says success: disagree
            item(4, "Theft", 1, ()),  # no crowd rating yet: left out
        ]
    )

    assert (figures["n"], figures["agree"]) == (3, 1)
    assert [row["position"] for row in figures["items"]] == [1, 2, 3]
    assert figures["mean_abs_difference"] == pytest.approx((abs(0 - 7 / 3) + abs(4 - 2) + abs(4 - 7 / 3)) / 3)
    weapons = next(row for row in figures["domains"] if row["domain"] == "Weapons")
    assert (weapons["n"], weapons["agree"], weapons["crowd_success_share"], weapons["expert_success_share"]) == (
        2,
        1,
        1.0,
        0.5,
    )
    assert weapons["kappa"] == 0.0  # no better than chance: the crowd said success on both
