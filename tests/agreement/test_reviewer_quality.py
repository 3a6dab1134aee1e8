"""Reviewer quality (agreement/reviewer_quality.py) against a small case computed by hand, and
its vectorised leave-one-out against agreement/statistics.py computed reviewer by reviewer."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa

from agreement.dashboard import SMALL_GROUP_ITEMS
from agreement.reviewer_quality import (
    MIN_ITEMS,
    QualityInput,
    alpha_ordinal_from_coincidences,
    fleiss_kappa_pooled,
    reviewer_quality_compute,
)
from agreement.statistics import (
    alpha_compute,
    counts_from_ratings,
    fleiss_from_counts,
    item_success_label,
    success_labels_from_counts,
)

A, B, C = 101, 102, 103
# 4 items x 3 reviewers, every reviewer on every item (rows: items 1-4; columns: A, B, C).
HAND = [
    [4, 3, 1],
    [3, 3, 0],
    [2, 1, 1],
    [4, 4, 3],
]
SECONDS = {A: [30, 50, 70, 90], B: [100, 20, 40, 10], C: [45, 45, 45, 45]}


def hand_input(copies: int = 1) -> QualityInput:
    """The hand case in time order (item by item, A then B then C), repeated `copies` times on new items."""
    items, reviewers, ratings, seconds = [], [], [], []
    for copy in range(copies):
        for index, row in enumerate(HAND):
            for reviewer, rating in zip((A, B, C), row, strict=True):
                items.append(1000 * copy + index + 1)
                reviewers.append(reviewer)
                ratings.append(rating)
                seconds.append(SECONDS[reviewer][index])
    return QualityInput(
        review_items=items,
        review_reviewers=reviewers,
        review_ratings=ratings,
        review_seconds=seconds,
        review_raters=[3] * len(items),
        skip_reviewers=[A, C, C],
        skip_reasons=["too graphic", "too graphic", "  "],
    )


def by_reviewer(result: dict) -> dict[int, dict]:
    return {row["reviewer_id"]: row for row in result["reviewers"]}


def test_activity_figures_match_the_hand_computation() -> None:
    rows = by_reviewer(reviewer_quality_compute(hand_input()))
    # Reviews 4 each; medians of [30,50,70,90] = 60, of [10,20,40,100] = 30, of four 45s = 45.
    assert [rows[r]["reviews"] for r in (A, B, C)] == [4, 4, 4]
    assert [rows[r]["median_seconds"] for r in (A, B, C)] == [60, 30, 45]
    # Skip rate = skips / (skips + reviews): A 1/5, B 0/4, C 2/6; a blank reason is named as such.
    assert [rows[r]["skips"] for r in (A, B, C)] == [1, 0, 2]
    assert rows[A]["skip_rate"] == pytest.approx(0.2)
    assert rows[B]["skip_rate"] == 0
    assert rows[C]["skip_percent"] == pytest.approx(100 / 3)
    assert rows[C]["skip_reasons"] == [["too graphic", 1], ["(no reason given)", 1]]


def test_mean_rating_against_the_others_matches_the_hand_computation() -> None:
    rows = by_reviewer(reviewer_quality_compute(hand_input()))
    # A: 13/4 = 3.25; the others' means on A's items: 2, 1.5, 1, 3.5 -> 2.0; differences 2, 1.5, 1, 0.5
    # -> mean 1.25, SD sqrt(1.25/3) = 0.645497, t = 1.25 / (0.645497 / 2) = 3.872983.
    assert rows[A]["mean_rating"] == 3.25
    assert rows[A]["others_mean_rating"] == pytest.approx(2.0)
    assert rows[A]["rating_difference"] == pytest.approx(1.25)
    assert rows[A]["rating_difference_sd"] == pytest.approx(0.645497, abs=1e-6)
    assert rows[A]["rating_difference_t"] == pytest.approx(3.872983, abs=1e-6)
    # B: 11/4 = 2.75; differences 0.5, 1.5, -0.5, 0.5 -> 0.5, SD sqrt(2/3), t = 1.224745.
    assert rows[B]["mean_rating"] == 2.75
    assert rows[B]["rating_difference"] == pytest.approx(0.5)
    assert rows[B]["rating_difference_t"] == pytest.approx(1.224745, abs=1e-6)
    # C: 5/4 = 1.25; differences -2.5, -3, -0.5, -1 -> -1.75, SD sqrt(4.25/3) = 1.190238, t = -2.940588.
    assert rows[C]["mean_rating"] == 1.25
    assert rows[C]["rating_difference"] == pytest.approx(-1.75)
    assert rows[C]["rating_difference_t"] == pytest.approx(-2.940588, abs=1e-6)
    assert rows[C]["compared_items"] == 4


def test_agreement_with_the_others_majority_leaves_ties_out() -> None:
    rows = by_reviewer(reviewer_quality_compute(hand_input()))
    # Success (>= 3): item 1 = A1 B1 C0, item 2 = 1 1 0, item 3 = 0 0 0, item 4 = 1 1 1.
    # A: the others tie on items 1 and 2; agrees on 3 and 4 -> 100% of 2. B alike.
    # C: the others say success on 1, 2 and 4 and not on 3; C agrees on 3 and 4 -> 50% of 4.
    assert (rows[A]["majority_binary_percent"], rows[A]["majority_binary_items"]) == (100, 2)
    assert (rows[B]["majority_binary_percent"], rows[B]["majority_binary_items"]) == (100, 2)
    assert (rows[C]["majority_binary_percent"], rows[C]["majority_binary_items"]) == (50, 4)
    # 0-4: two others agree only on item 3 (1, 1) for A; on items 2 (3, 3) and 4 (4, 4) for C; never for B.
    assert (rows[A]["majority_likert_percent"], rows[A]["majority_likert_items"]) == (0, 1)
    assert (rows[B]["majority_likert_percent"], rows[B]["majority_likert_items"]) == (None, 0)
    assert (rows[C]["majority_likert_percent"], rows[C]["majority_likert_items"]) == (0, 2)


def test_leave_one_out_kappa_matches_the_hand_computation() -> None:
    result = reviewer_quality_compute(hand_input())
    rows = by_reviewer(result)
    # With all three on the 4 items: P_i = 0, 1/3, 1/3, 1/3 -> P = 1/4; category shares 1,3,1,4,3 of 12
    # -> P_e = 36/144 = 1/4; kappa = 0.
    for reviewer in (A, B, C):
        assert rows[reviewer]["loo_items"] == 4
        assert rows[reviewer]["kappa_with"] == pytest.approx(0.0, abs=1e-12)
    # Without A (B, C): P = 1/4, shares 1,3,0,3,1 of 8 -> P_e = 20/64; kappa = -0.0625 / 0.6875 = -1/11.
    assert rows[A]["kappa_without"] == pytest.approx(-1 / 11)
    # Without B (A, C): P = 0, shares 1,2,1,2,2 of 8 -> P_e = 14/64; kappa = -0.21875 / 0.78125 = -0.28.
    assert rows[B]["kappa_without"] == pytest.approx(-0.28)
    # Without C (A, B): P = 1/2, shares 0,1,1,3,3 of 8 -> P_e = 20/64; kappa = 0.1875 / 0.6875 = 3/11.
    assert rows[C]["kappa_without"] == pytest.approx(3 / 11)
    assert rows[C]["kappa_gain"] == pytest.approx(3 / 11)
    # Binary, all three: P_i = 1/3, 1/3, 1, 1 -> 2/3; shares 5/12, 7/12 -> P_e = 74/144; kappa = 22/70.
    assert rows[C]["binary_kappa_with"] == pytest.approx(22 / 70)
    # Binary without C: every pair agrees (P = 1), shares 2/8, 6/8 -> P_e = 10/16; kappa = 1.
    assert rows[C]["binary_kappa_without"] == pytest.approx(1.0)
    assert result["pool"]["kappa"] == pytest.approx(0.0, abs=1e-12)
    assert result["pool"]["binary_kappa"] == pytest.approx(22 / 70)
    assert result["pool"]["complete_items"] == 4


def test_leave_one_out_ordinal_alpha_matches_the_hand_computation() -> None:
    rows = by_reviewer(reviewer_quality_compute(hand_input()))
    # All three: coincidence margins n = 1, 3, 1, 4, 3 (12 values); observed sum of o*delta = 213.5,
    # expected sum of n_c*n_k*delta = 3216 (ordinal deltas from the margins); alpha = 1 - 11 * 213.5 / 3216.
    assert rows[C]["alpha_with"] == pytest.approx(1 - 11 * 213.5 / 3216)
    assert rows[C]["alpha_with"] == pytest.approx(0.269745, abs=1e-6)
    # Without C (A, B): margins 0, 1, 1, 3, 3 (8 values); observed 20, expected 608; alpha = 1 - 7 * 20 / 608.
    assert rows[C]["alpha_without"] == pytest.approx(1 - 7 * 20 / 608)
    assert rows[C]["alpha_gain"] == pytest.approx((1 - 7 * 20 / 608) - (1 - 11 * 213.5 / 3216))


def test_drift_thirds_follow_each_reviewers_own_order() -> None:
    rows = by_reviewer(reviewer_quality_compute(hand_input()))
    # A's 4 reviews in order fall in thirds 0, 0, 1, 2 (3 * rank // 4): ratings (4, 3), (2), (4);
    # differences (2, 1.5), (1), (0.5): first third 1.75, last 0.5 -> drift -1.25.
    thirds = rows[A]["thirds"]
    assert [third["reviews"] for third in thirds] == [2, 1, 1]
    assert [third["mean_rating"] for third in thirds] == [3.5, 2, 4]
    assert [third["rating_difference"] for third in thirds] == [1.75, 1, 0.5]
    assert rows[A]["drift"] == pytest.approx(-1.25)
    # One review in the last third has no SD, so no Welch t: no drift flag, however large.
    assert rows[A]["drift_t"] is None


def test_flags_name_the_rule_and_the_numbers_and_small_pools_flag_no_leave_one_out() -> None:
    rows = by_reviewer(reviewer_quality_compute(hand_input()))
    # A: +1.25 points with t 3.87 -> lenient. C: -1.75 points but t -2.94 -> not strict (too few items).
    assert [flag["label"] for flag in rows[A]["flags"]] == ["lenient"]
    assert "+1.25 points" in rows[A]["flags"][0]["detail"]
    assert "t = 3.9" in rows[A]["flags"][0]["detail"]
    assert rows[C]["flags"] == []
    # C's kappa gain of 0.27 is on 4 items, under MIN_ITEMS: greyed, not flagged.
    assert rows[C]["small"] is True
    assert rows[B]["flags"] == []


def test_with_enough_items_the_leave_one_out_gain_flags_the_reviewer_who_lowers_agreement() -> None:
    rows = by_reviewer(reviewer_quality_compute(hand_input(copies=8)))  # 32 items, the same patterns
    # Kappa sees only the patterns' shares, so it is unchanged by the copies: C's gain is still 3/11.
    assert rows[C]["loo_items"] == 32
    assert rows[C]["small"] is False
    assert rows[C]["kappa_gain"] == pytest.approx(3 / 11)
    labels = {flag["label"] for flag in rows[C]["flags"]}
    assert labels == {"strict", "disagrees"}
    assert "kappa +0.273" in next(flag["detail"] for flag in rows[C]["flags"] if flag["label"] == "disagrees")
    assert {flag["label"] for flag in rows[A]["flags"]} == {"lenient"}


def test_vectorised_leave_one_out_equals_statistics_computed_reviewer_by_reviewer() -> None:
    rng = np.random.default_rng(3)
    items, raters, reviewers = 200, 3, 7
    item_of = np.repeat(np.arange(items), raters)
    who = np.concatenate([rng.choice(reviewers, raters, replace=False) for _ in range(items)])
    truth = rng.integers(0, 5, items)
    rating = np.clip(truth[item_of] + rng.integers(-1, 2, len(item_of)), 0, 4)
    keep = rng.random(len(item_of)) > 0.1  # some items short of a review
    item_of, who, rating = item_of[keep], who[keep], rating[keep]
    data = QualityInput(item_of, who, rating, np.full(len(rating), 60), np.full(len(rating), raters), [], [])
    rows = by_reviewer(reviewer_quality_compute(data))
    matrix = np.full((items, reviewers), np.nan)
    matrix[item_of, who] = rating
    complete = (~np.isnan(matrix)).sum(axis=1) == raters
    for reviewer in range(reviewers):
        theirs = matrix[complete & ~np.isnan(matrix[:, reviewer])]
        with_them = np.array([row[~np.isnan(row)] for row in theirs])
        without = np.array([row[~np.isnan(row)] for row in np.delete(theirs, reviewer, axis=1)])
        row = rows[reviewer]
        assert row["loo_items"] == len(theirs)
        kappa_with = fleiss_from_counts(counts_from_ratings(with_them), resamples=0).kappa
        kappa_without = fleiss_from_counts(counts_from_ratings(without), resamples=0).kappa
        assert row["kappa_with"] == pytest.approx(kappa_with)
        assert row["kappa_without"] == pytest.approx(kappa_without)
        ordinal = {"level_of_measurement": "ordinal", "value_domain": range(5)}
        assert row["alpha_with"] == pytest.approx(alpha_compute(with_them, **ordinal))
        assert row["alpha_without"] == pytest.approx(alpha_compute(without, **ordinal))


def test_pooled_kappa_is_statsmodels_fleiss_kappa_when_every_item_has_the_same_raters() -> None:
    counts = counts_from_ratings(np.random.default_rng(5).integers(0, 5, (50, 4)))
    pooled = fleiss_kappa_pooled(
        np.array([(((counts * counts).sum(axis=1) - 4) / 12).sum()]),
        np.array([200.0]),
        counts.sum(axis=0)[None].astype(float),
        np.array([50.0]),
    )
    assert pooled[0] == pytest.approx(fleiss_kappa(counts, method="fleiss"))


def test_alpha_with_every_value_the_same_is_undefined() -> None:
    coincidences = np.zeros((1, 25))
    coincidences[0, 2 * 5 + 2] = 6.0
    assert np.isnan(alpha_ordinal_from_coincidences(coincidences)[0])


def test_the_array_success_rule_is_item_success_label() -> None:
    pairs = [(successes, reviews) for reviews in range(6) for successes in range(reviews + 1)]
    labels = success_labels_from_counts([s for s, _ in pairs], [r for _, r in pairs])
    for (successes, reviews), label in zip(pairs, labels, strict=True):
        expected = item_success_label(successes=successes, reviews=reviews)
        assert (np.isnan(label) and expected is None) or label == expected


def test_a_reviewer_with_only_skips_and_an_empty_input_give_rows_without_figures() -> None:
    empty = reviewer_quality_compute(QualityInput([], [], [], [], [], [], []))
    assert empty["reviewers"] == []
    assert empty["pool"]["kappa"] is None
    only_skips = reviewer_quality_compute(QualityInput([], [], [], [], [], [7], ["no"]))
    (row,) = only_skips["reviewers"]
    figures = (row["reviews"], row["skips"], row["skip_rate"], row["mean_rating"], row["kappa_with"])
    assert figures == (0, 1, 1, None, None)


def test_the_small_item_line_is_the_dashboards() -> None:
    assert MIN_ITEMS == SMALL_GROUP_ITEMS


def test_items_of_studies_with_different_raters_pool_with_each_items_own_count() -> None:
    # Study 1 asks 2 reviews (items 1, 2), study 2 asks 3 (item 3): all complete, kappa over the three
    # with P_i per item: item 1 (3, 3) -> 1, item 2 (1, 2) -> 0, item 3 (4, 4, 0) -> 1/3; P = 4/9.
    # Shares over 7 ratings: 0:1, 1:1, 2:1, 3:2, 4:2 -> P_e = 11/49; kappa = (4/9 - 11/49) / (38/49).
    data = QualityInput(
        review_items=[1, 1, 2, 2, 3, 3, 3],
        review_reviewers=[A, B, A, B, A, B, C],
        review_ratings=[3, 3, 1, 2, 4, 4, 0],
        review_seconds=[1] * 7,
        review_raters=[2, 2, 2, 2, 3, 3, 3],
        skip_reviewers=[],
        skip_reasons=[],
    )
    pool = reviewer_quality_compute(data)["pool"]
    assert pool["complete_items"] == 3
    assert pool["kappa"] == pytest.approx((4 / 9 - 11 / 49) / (38 / 49))
    assert pool["items"] == 3


def test_the_sorting_path_for_many_possible_rows_gives_the_same_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    direct = reviewer_quality_compute(hand_input(copies=3))
    # Studies with many reviewers per item have too many possible rows to count in a table; force that path.
    monkeypatch.setattr("agreement.reviewer_quality.PATTERN_TABLE_CELLS", 0)
    assert reviewer_quality_compute(hand_input(copies=3)) == direct
