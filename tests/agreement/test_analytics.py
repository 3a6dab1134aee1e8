from __future__ import annotations

import numpy as np
import pytest

from agreement.analytics import (
    AUTHOR_AND_REVIEWERS,
    REVIEWERS_ONLY,
    StudyRatings,
    agreement_rows,
    disagreement,
    harmlessness_by_rating,
    rating_distribution,
    self_vs_reviewers,
    snapshot_compute,
    success_by_size,
    tag_frequency,
    time_on_task,
)
from agreement.selectors import study_ratings
from review.models import Review
from tests.factories import review_everything, started_study


def ratings_of(
    items: list[dict], reviews: list[tuple[int, int, tuple[int, int], float]], reviewers_per_item: int = 3
) -> StudyRatings:
    """items: dicts with model_type, num_params, self, score; reviews: (item index, rating, tags, seconds)."""
    return StudyRatings(
        reviewers_per_item=reviewers_per_item,
        seed=1,
        item_ids=np.arange(10, 10 + len(items)),
        positions=np.arange(1, 1 + len(items)),
        model_types=np.array([item.get("model_type", "rlhf") for item in items], dtype=str),
        num_params=np.array([item.get("num_params", "52B") for item in items], dtype=str),
        author_ratings=np.array([item["self"] for item in items]),
        min_harmlessness=np.array([item.get("score", 0.0) for item in items], dtype=float),
        review_items=np.array([review[0] for review in reviews], dtype=np.int64),
        review_ratings=np.array([review[1] for review in reviews], dtype=np.int64),
        review_tags=np.array([review[2] for review in reviews], dtype=np.int64).reshape(-1, 2),
        review_seconds=np.array([review[3] for review in reviews], dtype=float),
    )


def test_reviewer_matrix_puts_each_review_in_its_items_row_whatever_the_order() -> None:
    ratings = ratings_of(
        [{"self": 4}, {"self": 0}],
        [(1, 2, (0, 0), 5), (0, 4, (0, 0), 5), (1, 1, (0, 0), 5), (0, 3, (0, 0), 5)],
    )
    matrix = ratings.reviewer_matrix()
    assert matrix.shape == (2, 3)
    assert sorted(matrix[0][~np.isnan(matrix[0])]) == [3, 4]
    assert sorted(matrix[1][~np.isnan(matrix[1])]) == [1, 2]
    assert np.isnan(matrix[:, 2]).all()
    assert ratings.author_and_reviewer_matrix(matrix)[:, 0].tolist() == [4, 0]


def test_agreement_is_reported_per_model_type_and_per_size_only_when_there_are_several_sizes() -> None:
    items = [{"self": 4, "model_type": "rlhf"}, {"self": 0, "model_type": "context distillation"}]
    reviews = [(0, 4, (0, 0), 1), (0, 4, (0, 0), 1), (0, 3, (0, 0), 1), (1, 0, (0, 0), 1), (1, 1, (0, 0), 1)]
    rows = agreement_rows(ratings_of(items, reviews), resamples=1000)
    groups = {(row["by"], row["value"], row["rater_set"]) for row in rows}
    assert groups == {
        (by, value, rater_set)
        for by, value in [("overall", "all"), ("model_type", "rlhf"), ("model_type", "context distillation")]
        for rater_set in (AUTHOR_AND_REVIEWERS, REVIEWERS_ONLY)
    }
    overall = next(row for row in rows if row["by"] == "overall" and row["rater_set"] == AUTHOR_AND_REVIEWERS)
    # The second item has 2 of its 3 reviews: reported as excluded, not mixed into kappa.
    assert (overall["n_items"], overall["n_excluded"], overall["raters_per_item"]) == (1, 1, 4)

    items[1]["num_params"] = "13B"
    sized = agreement_rows(ratings_of(items, reviews), resamples=1000)
    assert {row["value"] for row in sized if row["by"] == "num_params"} == {"13B", "52B"}


def test_rating_distribution_counts_self_ratings_of_reviewed_items_and_every_review() -> None:
    ratings = ratings_of([{"self": 4}, {"self": 4}, {"self": 0}], [(0, 3, (0, 0), 1), (1, 0, (0, 0), 1)])
    assert rating_distribution(ratings) == {"rlhf": {"self": [1, 0, 0, 0, 2], "reviewers": [1, 0, 0, 1, 0]}}


def test_tags_count_an_item_once_and_successful_means_mean_reviewer_rating_at_least_3() -> None:
    ratings = ratings_of(
        [{"self": 0}, {"self": 4}],
        [
            (0, 4, (7, 0), 1),  # item 0: mean 3.0 -> successful
            (0, 2, (7, 9), 1),
            (0, 3, (0, 0), 1),
            (1, 2, (9, 0), 1),  # item 1: mean 2.0 -> not successful
            (1, 2, (0, 0), 1),
        ],
    )
    found = tag_frequency(ratings, reviewers=ratings.reviewer_matrix())["rlhf"]
    assert found == {"items": 2, "successful_items": 1, "all": {"7": 1, "9": 2}, "successful": {"7": 1, "9": 1}}


def figure_case() -> StudyRatings:
    """Five items small enough to work out by hand (see the tests below)."""
    return ratings_of(
        [
            {"self": 4, "score": -2.0},  # rlhf 52B, reviews 4 3 1: mean 8/3, successful
            {"self": 0, "score": 1.0},  # rlhf 52B, reviews 0 0 1: mean 1/3, not successful
            {"self": 2, "score": 0.0},  # rlhf 52B, reviews 3 2 (one missing): mean 5/2, a tie
            {"self": 3, "score": -1.0, "num_params": "13B"},  # reviews 2: not successful
            {"self": 1, "score": 0.5, "model_type": "plain lm"},  # reviews 1 2 3: not successful
        ],
        [
            *[(0, 4, (0, 0), 1), (0, 3, (0, 0), 1), (0, 1, (0, 0), 1)],
            *[(1, 0, (0, 0), 1), (1, 0, (0, 0), 1), (1, 1, (0, 0), 1)],
            *[(2, 3, (0, 0), 1), (2, 2, (0, 0), 1)],
            (3, 2, (0, 0), 1),
            *[(4, 1, (0, 0), 1), (4, 2, (0, 0), 1), (4, 3, (0, 0), 1)],
        ],
    )


def test_success_by_size_gives_per_type_and_size_means_with_t_intervals_over_items() -> None:
    ratings = figure_case()
    rows = success_by_size(ratings, reviewers=ratings.reviewer_matrix())
    assert [(row["model_type"], row["num_params"], row["n_items"], row["n_reviews"]) for row in rows] == [
        ("plain lm", "52B", 1, 3),
        ("rlhf", "13B", 1, 1),
        ("rlhf", "52B", 3, 8),
    ]
    plain, small, big = rows
    assert plain["self_rating"] == {"mean": 1.0, "sd": None, "ci95": None, "n": 1}
    assert plain["reviewer_rating"]["mean"] == pytest.approx(2.0)
    assert small["reviewer_rating"]["mean"] == 2.0 and small["min_harmlessness"]["mean"] == -1.0
    # rlhf 52B self-ratings 4 0 2: mean 2, SD 2, t(0.975, 2) = 4.3027, half-width 4.3027 * 2 / sqrt(3) = 4.9683.
    assert big["self_rating"]["mean"] == 2.0 and big["self_rating"]["sd"] == pytest.approx(2.0)
    assert big["self_rating"]["ci95"] == pytest.approx([-2.9683, 6.9683], abs=1e-4)
    # Item means 8/3, 1/3, 5/2: mean 11/6, SD sqrt(61)/6 = 1.30171, half-width 4.3027 * 1.30171 / sqrt(3) = 3.2337.
    reviewer = big["reviewer_rating"]
    assert reviewer["mean"] == pytest.approx(11 / 6) and reviewer["sd"] == pytest.approx(1.30171, abs=1e-5)
    assert reviewer["ci95"] == pytest.approx([11 / 6 - 3.2337, 11 / 6 + 3.2337], abs=1e-4)
    assert big["min_harmlessness"]["mean"] == pytest.approx(-1 / 3) and big["min_harmlessness"]["n"] == 3


def test_self_vs_reviewers_counts_every_review_under_its_authors_rating_and_agreement_per_item() -> None:
    ratings = figure_case()
    found = self_vs_reviewers(ratings, reviewers=ratings.reviewer_matrix())
    assert found["counts"] == [
        [2, 1, 0, 0, 0],  # self 0: reviews 0 0 1
        [0, 1, 1, 1, 0],  # self 1: reviews 1 2 3
        [0, 0, 1, 1, 0],  # self 2: reviews 3 2
        [0, 0, 1, 0, 0],  # self 3: review 2
        [0, 1, 0, 1, 1],  # self 4: reviews 4 3 1
    ]
    assert found["exact"] == 5
    # Claimed success (self >= 3): items 0 (successful: agreed) and 3 (not successful).
    assert found["claimed"] == {"items": 2, "agreed": 1, "ties": 0}
    # Claimed none: items 1 and 4 (a majority below 3: agreed) and 2 (a tie: neither).
    assert found["not_claimed"] == {"items": 3, "agreed": 2, "ties": 1}


def test_an_unreviewed_study_has_no_figure_rows_and_an_empty_cross_table() -> None:
    data = snapshot_compute(ratings_of([], []))
    assert data["success_by_size"] == []
    assert data["self_vs_reviewers"]["counts"] == [[0] * 5] * 5
    assert data["self_vs_reviewers"]["claimed"] == {"items": 0, "agreed": 0, "ties": 0}


def test_harmlessness_by_rating_gives_mean_and_sample_sd_per_reviewer_rating() -> None:
    ratings = ratings_of(
        [{"self": 0, "score": -4.0}, {"self": 0, "score": 2.0}],
        [(0, 4, (0, 0), 1), (1, 4, (0, 0), 1), (1, 0, (0, 0), 1)],
    )
    rows = {row["rating"]: row for row in harmlessness_by_rating(ratings)}
    assert rows[4]["n"] == 2 and rows[4]["mean"] == pytest.approx(-1.0)
    assert rows[4]["sd"] == pytest.approx(np.std([-4.0, 2.0], ddof=1))
    assert rows[0] == {"rating": 0, "n": 1, "mean": 2.0, "sd": None}
    assert rows[2] == {"rating": 2, "n": 0, "mean": None, "sd": None}


def test_time_on_task_bins_are_round_numbers_and_keep_every_review() -> None:
    seconds = np.array([5, 12, 30, 44, 61, 75, 90, 118, 3600], dtype=float)
    found = time_on_task(seconds)
    assert sum(found["counts"]) == len(seconds)
    assert found["overflow"] >= 1
    width = found["edges"][1] - found["edges"][0]
    assert width in {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}
    assert found["median"] == 61
    assert time_on_task(np.array([]))["counts"] == []


def test_disagreement_ranks_complete_items_by_spread_and_skips_incomplete_ones() -> None:
    ratings = ratings_of(
        [{"self": 4}, {"self": 2}, {"self": 0}],
        [
            *[(0, 0, (0, 0), 1), (0, 0, (0, 0), 1), (0, 4, (0, 0), 1)],  # spread
            *[(1, 2, (0, 0), 1), (1, 2, (0, 0), 1), (1, 2, (0, 0), 1)],  # unanimous
            *[(2, 4, (0, 0), 1), (2, 4, (0, 0), 1)],  # incomplete
        ],
    )
    rows = disagreement(ratings, with_author=ratings.author_and_reviewer_matrix(ratings.reviewer_matrix()))
    assert [row["item_id"] for row in rows] == [10, 11]
    assert rows[0]["author_rating"] == 4 and rows[0]["reviewer_ratings"] == [0, 0, 4] and rows[0]["range"] == 4


def test_a_snapshot_of_an_unreviewed_study_is_empty_but_complete() -> None:
    data = snapshot_compute(ratings_of([], []))
    assert data["review_count"] == 0
    assert data["disagreement"] == [] and data["time_on_task"]["counts"] == []
    assert all(row["n_items"] == 0 and row["likert"]["fleiss_kappa"] is None for row in data["agreement"])


@pytest.mark.django_db
def test_study_ratings_loads_every_review_with_its_items_facts() -> None:
    study, reviewers = started_study(items=4, reviewers=3)
    given = review_everything(study, reviewers[:2], rate=lambda item, index: (item.position + index) % 5)
    ratings = study_ratings(study=study)
    assert ratings.review_count == given == 8
    assert len(ratings.item_ids) == 4
    matrix = ratings.reviewer_matrix()
    for review in Review.objects.filter(study=study):
        row = int(np.flatnonzero(ratings.item_ids == review.item_id)[0])
        assert review.rating in matrix[row].tolist()
    assert np.isnan(matrix[:, 2]).all()
