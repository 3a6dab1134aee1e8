"""Reads for agreement: a study's ratings matrix and its snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from django.contrib.auth.models import User

from agreement.analytics import StudyRatings
from agreement.models import AgreementSnapshot
from agreement.reviewer_quality import QualityInput, reviewer_quality_compute
from review.models import Review, Skip, Study, StudyItem

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


# --- reviewer quality -------------------------------------------------------------------------


def reviewer_quality_input(*, studies: Sequence[Study]) -> QualityInput:
    """Every review (in the order they were made) and every skip of the studies, in two queries."""
    raters = {study.pk: study.reviewers_per_item for study in studies}
    reviews = np.array(
        Review.objects.filter(study__in=list(raters))
        .order_by("created_at", "id")
        .values_list("item_id", "reviewer_id", "rating", "seconds_on_task", "study_id"),
        dtype=np.int64,
    ).reshape(-1, 5)
    skips = list(Skip.objects.filter(study__in=list(raters)).order_by("id").values_list("reviewer_id", "reason"))
    study_ids = np.array(list(raters), dtype=np.int64)
    per_study = np.array(list(raters.values()), dtype=np.int64)
    order = np.argsort(study_ids)
    review_raters = (
        per_study[order][np.searchsorted(study_ids[order], reviews[:, 4])] if len(reviews) else reviews[:, 4]
    )
    return QualityInput(
        review_items=reviews[:, 0],
        review_reviewers=reviews[:, 1],
        review_ratings=reviews[:, 2],
        review_seconds=reviews[:, 3],
        review_raters=review_raters,
        skip_reviewers=[reviewer for reviewer, _ in skips],
        skip_reasons=[reason for _, reason in skips],
    )


def reviewer_quality(*, studies: Sequence[Study]) -> dict[str, Any]:
    """Each reviewer's quality over the studies (agreement.reviewer_quality), rows by username.

    One study gives its page; several pool their items (the lead's overall page). Computed on
    read: the reviews of a 39k-item study take about a tenth of a second to compute
    (bench/agreement_bench.py), and the page is read far less often than reviews arrive.
    """
    result = reviewer_quality_compute(reviewer_quality_input(studies=studies))
    ids = [row["reviewer_id"] for row in result["reviewers"]]
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "username"))
    for row in result["reviewers"]:
        row["username"] = names.get(row["reviewer_id"], f"#{row['reviewer_id']}")
    result["reviewers"].sort(key=lambda row: row["username"])
    result["skip_rows"] = [
        {"username": row["username"], "reason": reason, "count": number, "first": index == 0}
        for row in result["reviewers"]
        for index, (reason, number) in enumerate(row["skip_reasons"])
    ]
    result["studies"] = len(studies)
    return result
