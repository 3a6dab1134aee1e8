from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from agreement.analytics import StudyRatings, tag_frequency
from agreement.statistics import item_success_label, items_successful
from api.serializers import ItemSerializer


def test_items_rated_2_3_3_are_successful_in_the_api_the_dashboard_and_the_tag_counts_alike() -> None:
    ratings = [2, 3, 3]
    assert item_success_label(successes=2, reviews=3) == 1
    assert items_successful(np.array([ratings], dtype=float)).tolist() == [True]
    counted = SimpleNamespace(review_count=3, success_count=sum(rating >= 3 for rating in ratings))
    assert ItemSerializer().get_binary_label(counted) == 1
    study = StudyRatings(
        reviewers_per_item=3,
        seed=1,
        item_ids=np.array([10]),
        positions=np.array([1]),
        model_types=np.array(["rlhf"]),
        num_params=np.array(["52B"]),
        author_ratings=np.array([4]),
        min_harmlessness=np.array([0.0]),
        review_items=np.array([0, 0, 0], dtype=np.int64),
        review_ratings=np.array(ratings, dtype=np.int64),
        review_tags=np.array([[1, 0], [0, 0], [0, 0]], dtype=np.int64),
        review_seconds=np.array([1.0, 1.0, 1.0]),
    )
    found = tag_frequency(study, reviewers=study.reviewer_matrix())["rlhf"]
    assert found["successful_items"] == 1
    assert found["successful"] == {"1": 1}
