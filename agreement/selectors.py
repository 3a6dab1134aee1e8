"""Reads for agreement: a study's ratings matrix and its snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth.models import User

from agreement.analytics import StudyRatings
from agreement.consensus import DEFAULT_FIT, STUDY_FITS
from agreement.experts import ExpertItem, expert_comparison_compute
from agreement.models import AgreementSnapshot, ConsensusSnapshot, ItemConsensus
from agreement.reviewer_quality import QualityInput, reviewer_quality_compute, skips_input
from agreement.statistics import SUCCESS_THRESHOLD
from review.models import GOLD_ROLES, RaterRole, Review, Skip, Study, StudyItem

# --- lead dashboard -------------------------------------------------------------------------


def study_ratings(*, study: Study) -> StudyRatings:
    """Every rating of the study's reviewed items, author's included, loaded in two queries."""
    reviews = np.array(
        Review.objects.crowd()
        .filter(study=study)
        .order_by("item_id", "id")
        .values_list("item_id", "rating", "first_tag_id", "second_tag_id", "seconds_on_task", "reviewer_id", "id"),
        dtype=np.float64,
    ).reshape(-1, 7)
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
        review_reviewers=reviews[:, 5].astype(np.int64),
        review_ids=reviews[:, 6].astype(np.int64),
    )


def agreement_snapshot(*, study: Study) -> AgreementSnapshot | None:
    return AgreementSnapshot.objects.filter(study=study).first()


# --- experts against the crowd -----------------------------------------------------------------


def expert_comparison(*, study: Study) -> dict[str, Any]:
    """The study's expert reviews beside the crowd's ratings of the same items (agreement.experts)."""
    experts = list(
        Review.objects.filter(study=study, rater_role=RaterRole.EXPERT)
        .order_by("item_id")
        .values_list("item_id", "item__position", "slot__expert_tag__name", "rating")
    )
    crowd: dict[int, list[int]] = {}
    for item_id, rating in (
        Review.objects.crowd()
        .filter(item_id__in=[row[0] for row in experts])
        .order_by("id")
        .values_list("item_id", "rating")
    ):
        crowd.setdefault(item_id, []).append(rating)
    return expert_comparison_compute(
        ExpertItem(
            item_id=item_id,
            position=position,
            domain=domain,
            expert_rating=rating,
            crowd_ratings=tuple(crowd.get(item_id, ())),
        )
        for item_id, position, domain, rating in experts
    )


# --- gold accuracy ------------------------------------------------------------------------------


def gold_accuracy(*, studies: Sequence[Study]) -> list[dict[str, Any]]:
    """Each reviewer's answers to gold items against the leads' reference, by username: how many
    (calibration and silent checks), the share with the reference rating, the share agreeing on
    success (a rating of 3 or more) and the mean absolute error. Items no longer gold drop out."""
    rows = (
        Review.objects.filter(study__in=[study.pk for study in studies], rater_role__in=GOLD_ROLES)
        .filter(item__gold__isnull=False)
        .values_list("reviewer_id", "reviewer__username", "rater_role", "rating", "item__gold__rating")
    )
    people: dict[int, dict[str, Any]] = {}
    for reviewer_id, username, role, rating, reference in rows:
        person = people.setdefault(
            reviewer_id,
            {"username": username, "calibration": 0, "checks": 0, "exact": 0, "success": 0, "error": 0},
        )
        person["calibration" if role == RaterRole.CALIBRATION else "checks"] += 1
        person["exact"] += rating == reference
        person["success"] += (rating >= SUCCESS_THRESHOLD) == (reference >= SUCCESS_THRESHOLD)
        person["error"] += abs(rating - reference)
    result = []
    for person in people.values():
        answers = person["calibration"] + person["checks"]
        result.append(
            {
                "username": person["username"],
                "calibration": person["calibration"],
                "checks": person["checks"],
                "answers": answers,
                "exact_percent": 100 * person["exact"] / answers,
                "success_percent": 100 * person["success"] / answers,
                "mean_error": person["error"] / answers,
            }
        )
    return sorted(result, key=lambda row: row["username"])


# --- consensus labels ---------------------------------------------------------------------------


def consensus_ratings(*, study: Study) -> npt.NDArray[np.int64]:
    """(item id, reviewer id, rating) of every review of the study, one row each. Reviews only: the
    author's self-rating is the claim the reviews check, so it never enters consensus."""
    rows = Review.objects.crowd().filter(study=study).order_by("id").values_list("item_id", "reviewer_id", "rating")
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


# Each stored fit (consensus.STUDY_FITS) as the ItemConsensus columns holding its label and probability.
CONSENSUS_COLUMNS = {
    "dawid_skene": ("ds_binary_label", "ds_binary_probability"),
    "dawid_skene_likert": ("ds_likert_label", "ds_likert_probability"),
    "mace": ("mace_label", "mace_probability"),
}


def item_consensus_dict(row: ItemConsensus | None, *, fit: str = DEFAULT_FIT) -> dict[str, Any] | None:
    """An item's ``consensus`` as the API gives it: {method, scale, label, probability}; None if not computed."""
    if row is None:
        return None
    label, probability = CONSENSUS_COLUMNS[fit]
    return {
        "method": fit,
        "scale": STUDY_FITS[fit][1],
        "label": getattr(row, label),
        "probability": getattr(row, probability),
    }


def item_consensus(*, item_id: int) -> ItemConsensus | None:
    """One item's stored consensus labels; None before the study's consensus is computed."""
    return ItemConsensus.objects.filter(item_id=item_id).first()


def consensus_snapshot(*, study: Study) -> ConsensusSnapshot | None:
    return ConsensusSnapshot.objects.filter(study=study).first()


# --- reviewer quality -------------------------------------------------------------------------


def study_skips(*, studies: Sequence[Study]) -> list[tuple[int, str]]:
    """(reviewer id, reason) of every skip in the studies."""
    return list(
        Skip.objects.filter(study__in=[study.pk for study in studies])
        .order_by("id")
        .values_list("reviewer_id", "reason")
    )


def reviewer_quality_input(*, studies: Sequence[Study]) -> QualityInput:
    """Every review of the studies in the order they were made (by id: see StudyRatings), and every skip."""
    raters = {study.pk: study.reviewers_per_item for study in studies}
    reviews = np.array(
        Review.objects.crowd()
        .filter(study__in=list(raters))
        .order_by("id")
        .values_list("item_id", "reviewer_id", "rating", "seconds_on_task", "study_id"),
        dtype=np.int64,
    ).reshape(-1, 5)
    study_ids = np.array(sorted(raters), dtype=np.int64)
    per_study = np.array([raters[study_id] for study_id in study_ids], dtype=np.int64)
    return QualityInput(
        review_items=reviews[:, 0],
        review_reviewers=reviews[:, 1],
        review_ratings=reviews[:, 2],
        review_seconds=reviews[:, 3],
        review_raters=per_study[np.searchsorted(study_ids, reviews[:, 4])] if len(reviews) else reviews[:, 4],
        **skips_input(study_skips(studies=studies)),
    )


def reviewer_quality(*, studies: Sequence[Study]) -> dict[str, Any]:
    """Each reviewer's quality over the studies, items pooled, computed now (the overall page; a
    study's own page reads the figures its snapshot stores, agreement_snapshot_refresh)."""
    result = reviewer_quality_compute(reviewer_quality_input(studies=studies))
    result["studies"] = len(studies)
    # Consensus is fitted per study: pooled over several, the reliability columns stay empty.
    return reviewer_reliability_merge(reviewer_quality_named(result), None)


def reviewer_quality_named(result: dict[str, Any]) -> dict[str, Any]:
    """The figures with each reviewer's username (read now: names are not stored in snapshots),
    rows by username, and the skip reasons as table rows."""
    rows = [dict(row) for row in result.get("reviewers", [])]
    names = dict(User.objects.filter(pk__in=[row["reviewer_id"] for row in rows]).values_list("pk", "username"))
    for row in rows:
        row["username"] = names.get(row["reviewer_id"], f"#{row['reviewer_id']}")
    rows.sort(key=lambda row: row["username"])
    skip_rows = [
        {"username": row["username"], "reason": reason, "count": number, "first": index == 0}
        for row in rows
        for index, (reason, number) in enumerate(row["skip_reasons"])
    ]
    return {**result, "reviewers": rows, "skip_rows": skip_rows}


def study_reviewer_quality(
    *, study: Study, snapshot: AgreementSnapshot | None, consensus: ConsensusSnapshot | None = None
) -> dict[str, Any]:
    """One study's reviewer quality as its snapshot stores it, named; computed now when the snapshot
    has none (not computed yet, or computed before reviewer quality was part of it). With the study's
    consensus, each row also gets the reviewer's estimated reliability (reviewer_reliability_merge)."""
    stored = snapshot.data.get("reviewer_quality") if snapshot is not None and snapshot.computed_at else None
    if stored is None:
        quality = {**reviewer_quality(studies=[study]), "computed_at": None}
        return reviewer_reliability_merge(quality, consensus)
    else:
        computed_at = snapshot.computed_at if snapshot else None
        quality = {**reviewer_quality_named(stored), "studies": 1, "computed_at": computed_at}
    return reviewer_reliability_merge(quality, consensus)


# Each reviewer's estimated reliability per stored fit, as reviewer-quality row keys.
RELIABILITY_KEYS = {
    "dawid_skene": "dawid_skene_accuracy",
    "dawid_skene_likert": "dawid_skene_likert_accuracy",
    "mace": "mace_competence",
}
RELIABILITY_NOTE = (
    "Reliability, estimated from the reviewers' ratings alone on the success scale: DS is Dawid-Skene's accuracy, "
    "the chance the reviewer gives an item's true label (from their confusion matrix); MACE is MACE's competence, "
    "the chance they judge an item rather than answer at random. The API also gives Dawid-Skene's accuracy on 0-4."
)


def reviewer_reliability_merge(quality: dict[str, Any], consensus: ConsensusSnapshot | None) -> dict[str, Any]:
    """The quality figures with each row's reliability (None for a reviewer the consensus has not seen),
    and ``consensus_computed_at`` (None: no consensus yet, or figures pooled over several studies)."""
    reliability = consensus.data.get("reliability", {}) if consensus is not None and consensus.computed_at else {}
    rows = []
    for row in quality.get("reviewers", []):
        mine = reliability.get(str(row["reviewer_id"]), {})
        rows.append({**row, **{key: mine.get(fit) for fit, key in RELIABILITY_KEYS.items()}})
    computed_at = consensus.computed_at if consensus is not None else None
    return {**quality, "reviewers": rows, "consensus_computed_at": computed_at, "reliability_note": RELIABILITY_NOTE}
