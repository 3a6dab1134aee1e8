"""Reads for agreement: a study's ratings matrix and its snapshot."""

from __future__ import annotations

import numpy as np

from agreement.analytics import StudyRatings
from agreement.models import AgreementSnapshot
from review.models import Review, Study, StudyItem

# --- lead dashboard -------------------------------------------------------------------------


def study_ratings(*, study: Study) -> StudyRatings:
    """Every rating of the study's reviewed items, author's included, loaded in two queries."""
    reviews = np.array(
        Review.objects.filter(study=study)
        .order_by("item_id", "id")
        .values_list("item_id", "rating", "first_tag_id", "second_tag_id", "seconds_on_task"),
        dtype=np.float64,
    ).reshape(-1, 5)
    # The whole study in one query, filtered here: an IN list of tens of thousands of ids costs more.
    items = np.array(
        StudyItem.objects.filter(study=study)
        .order_by("pk")
        .values_list(
            "pk",
            "position",
            "transcript__model_type",
            "transcript__num_params",
            "transcript__rating",
            "transcript__min_harmlessness_score_transcript",
        ),
        dtype=object,
    ).reshape(-1, 6)
    items = items[np.isin(items[:, 0].astype(np.int64), reviews[:, 0].astype(np.int64))]
    item_ids = items[:, 0].astype(np.int64)
    return StudyRatings(
        reviewers_per_item=study.reviewers_per_item,
        seed=study.seed,
        item_ids=item_ids,
        positions=items[:, 1].astype(np.int64),
        model_types=items[:, 2].astype(str),
        num_params=items[:, 3].astype(str),
        author_ratings=items[:, 4].astype(np.int64),
        min_harmlessness=items[:, 5].astype(np.float64),
        review_items=np.searchsorted(item_ids, reviews[:, 0].astype(np.int64)),
        review_ratings=reviews[:, 1].astype(np.int64),
        review_tags=np.nan_to_num(reviews[:, 2:4]).astype(np.int64),
        review_seconds=reviews[:, 4],
    )


def agreement_snapshot(*, study: Study) -> AgreementSnapshot | None:
    return AgreementSnapshot.objects.filter(study=study).first()
