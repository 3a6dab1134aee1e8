"""A study's agreement table and dashboard figures, computed from its ratings.

Pure computation over numpy arrays (no queries): selectors load a StudyRatings, this
module turns it into the JSON a snapshot stores, and the dashboard and the CLI read that.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agreement.statistics import (
    SUCCESS_THRESHOLD,
    Agreement,
    agreement_compute,
    items_success_labels,
    items_successful,
    mean_interval,
)

AUTHOR_AND_REVIEWERS = "author + reviewers"
REVIEWERS_ONLY = "reviewers only"
RATER_SETS = (AUTHOR_AND_REVIEWERS, REVIEWERS_ONLY)
RATINGS = (0, 1, 2, 3, 4)
DISAGREEMENT_ROWS = 20
# Time-on-task bins are this wide until the last, which gathers the long tail.
TIME_BIN_COUNT = 12


@dataclass(frozen=True)
class StudyRatings:
    """Every rating of a study's reviewed items, as parallel arrays.

    Items are those with at least one review; reviews point at them by index.
    """

    reviewers_per_item: int
    seed: int
    item_ids: np.ndarray  # (items,)
    positions: np.ndarray  # (items,)
    model_types: np.ndarray  # (items,) str
    num_params: np.ndarray  # (items,) str
    author_ratings: np.ndarray  # (items,)
    min_harmlessness: np.ndarray  # (items,)
    review_items: np.ndarray  # (reviews,) index into the item arrays
    review_ratings: np.ndarray  # (reviews,)
    review_tags: np.ndarray  # (reviews, 2) tag ids, 0 where none
    review_seconds: np.ndarray  # (reviews,)
    # Who gave each review, and its id: ids are assigned at the insert that stamps created_at, so
    # their order is the order reviews were made (reviewer quality's drift reads it).
    review_reviewers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # (reviews,)
    review_ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # (reviews,)

    @property
    def review_count(self) -> int:
        return len(self.review_ratings)

    def reviewer_matrix(self) -> np.ndarray:
        """Items x reviewers_per_item reviewer ratings, NaN where a review is still missing."""
        matrix = np.full((len(self.item_ids), self.reviewers_per_item), np.nan)
        if self.review_count:
            order = np.argsort(self.review_items, kind="stable")
            items = self.review_items[order]
            # Each review's place among its item's reviews: its index minus where the item's run starts.
            starts = np.searchsorted(items, items, side="left")
            column = np.arange(len(items)) - starts
            matrix[items, column] = self.review_ratings[order]
        return matrix

    def author_and_reviewer_matrix(self, reviewers: np.ndarray) -> np.ndarray:
        """The author's self-rating as column 0 before the reviewers' ratings: the paper's 4 raters."""
        return np.column_stack([self.author_ratings.astype(float), reviewers])


def snapshot_compute(ratings: StudyRatings, *, resamples: int = 1000) -> dict[str, Any]:
    """Everything the dashboard shows that depends on reviews, as JSON-ready data."""
    reviewers = ratings.reviewer_matrix()
    with_author = ratings.author_and_reviewer_matrix(reviewers)
    return {
        "review_count": ratings.review_count,
        "reviewed_items": len(ratings.item_ids),
        "agreement": agreement_rows(ratings, reviewers=reviewers, with_author=with_author, resamples=resamples),
        "rating_distribution": rating_distribution(ratings),
        "tag_frequency": tag_frequency(ratings, reviewers=reviewers),
        "success_by_size": success_by_size(ratings, reviewers=reviewers),
        "self_vs_reviewers": self_vs_reviewers(ratings, reviewers=reviewers),
        "harmlessness_by_rating": harmlessness_by_rating(ratings),
        "time_on_task": time_on_task(ratings.review_seconds),
        "disagreement": disagreement(ratings, with_author=with_author),
    }


def agreement_rows(
    ratings: StudyRatings,
    *,
    resamples: int,
    reviewers: np.ndarray | None = None,
    with_author: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Agreement for both rater sets, overall, per model type, and per size when there are several."""
    reviewers = ratings.reviewer_matrix() if reviewers is None else reviewers
    with_author = ratings.author_and_reviewer_matrix(reviewers) if with_author is None else with_author
    groups: list[tuple[str, str, np.ndarray]] = [("overall", "all", np.ones(len(ratings.item_ids), dtype=bool))]
    groups += [("model_type", value, ratings.model_types == value) for value in sorted(set(ratings.model_types))]
    sizes = sorted(set(ratings.num_params), key=_size_order)
    if len(sizes) > 1:
        groups += [("num_params", value, ratings.num_params == value) for value in sizes]
    rows = []
    for by, value, mask in groups:
        for rater_set, matrix, raters in (
            (AUTHOR_AND_REVIEWERS, with_author, ratings.reviewers_per_item + 1),
            (REVIEWERS_ONLY, reviewers, ratings.reviewers_per_item),
        ):
            result: Agreement = agreement_compute(
                matrix[mask], raters_per_item=raters, resamples=resamples, seed=ratings.seed
            )
            rows.append({"by": by, "value": value, "rater_set": rater_set, **result.as_dict()})
    return rows


def rating_distribution(ratings: StudyRatings) -> dict[str, dict[str, list[int]]]:
    """Per model type: counts of self-ratings (of reviewed items) and of reviewer ratings, 0-4."""
    result = {}
    review_types = ratings.model_types[ratings.review_items] if ratings.review_count else np.array([], dtype=str)
    for model_type in sorted(set(ratings.model_types)):
        own = ratings.author_ratings[ratings.model_types == model_type].astype(int)
        theirs = ratings.review_ratings[review_types == model_type].astype(int)
        result[model_type] = {
            "self": np.bincount(own, minlength=5)[:5].tolist(),
            "reviewers": np.bincount(theirs, minlength=5)[:5].tolist(),
        }
    return result


def tag_frequency(ratings: StudyRatings, *, reviewers: np.ndarray) -> dict[str, dict[str, Any]]:
    """Per model type: how many items at least one reviewer tagged with each topic.

    Counted over all reviewed items and over the successful ones (statistics.items_successful:
    a strict majority of reviewer ratings at least SUCCESS_THRESHOLD, the paper's binarization).
    """
    successful = items_successful(reviewers)
    items = np.repeat(ratings.review_items, 2)
    tags = ratings.review_tags.ravel()
    tagged = tags > 0
    # An item counts once per tag however many of its reviewers chose it.
    pairs = np.unique(np.column_stack([items[tagged], tags[tagged]]).astype(np.int64), axis=0)
    pair_items, pair_tags = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.array([], int), np.array([], int))
    result = {}
    for model_type in sorted(set(ratings.model_types)):
        in_type = ratings.model_types == model_type
        chosen = in_type[pair_items] if len(pair_items) else np.array([], bool)
        won = chosen & successful[pair_items] if len(pair_items) else chosen
        result[model_type] = {
            "items": int(in_type.sum()),
            "successful_items": int((in_type & successful).sum()),
            "all": _tag_counts(pair_tags[chosen]),
            "successful": _tag_counts(pair_tags[won]),
        }
    return result


def success_by_size(ratings: StudyRatings, *, reviewers: np.ndarray) -> list[dict[str, Any]]:
    """The paper's Figure 1: per model type and size, the mean self-rating, the mean reviewer rating
    and the mean min-harmlessness score of the reviewed items, each with its 95% t interval.

    The unit is the item, so the three means rest on the same n: an item's reviewer rating is the
    mean of the reviews it has (its reviews are not independent of each other).
    """
    with warnings.catch_warnings():
        # Loaded items all have a review; a row of NaN would be "mean of empty slice": NaN, left out.
        warnings.simplefilter("ignore", RuntimeWarning)
        item_reviewer_mean = np.nanmean(reviewers, axis=1) if len(reviewers) else np.array([])
    reviews_per_item = np.bincount(ratings.review_items, minlength=len(ratings.item_ids))
    # Groups by integer code: comparing 39k strings a dozen times costs more than all the means.
    types, type_codes = np.unique(ratings.model_types, return_inverse=True)
    sizes, size_codes = np.unique(ratings.num_params, return_inverse=True)
    groups = type_codes * len(sizes) + size_codes
    rows = []
    for type_index, model_type in enumerate(types):
        present = {int(code) % len(sizes) for code in np.unique(groups[type_codes == type_index])}
        for size_index in sorted(present, key=lambda index: _size_order(str(sizes[index]))):
            size = sizes[size_index]
            mask = groups == type_index * len(sizes) + size_index
            rows.append(
                {
                    "model_type": str(model_type),
                    "num_params": str(size),
                    "n_items": int(mask.sum()),
                    "n_reviews": int(reviews_per_item[mask].sum()),
                    "self_rating": mean_interval(ratings.author_ratings[mask]),
                    "reviewer_rating": mean_interval(item_reviewer_mean[mask]),
                    "min_harmlessness": mean_interval(ratings.min_harmlessness[mask]),
                }
            )
    return rows


def self_vs_reviewers(ratings: StudyRatings, *, reviewers: np.ndarray) -> dict[str, Any]:
    """The author's self-rating against each reviewer's rating, and how often reviewers agree with
    the author's claim.

    `counts[a][r]` is the number of reviews rating r of items their author rated a: every review
    counts once, so no rounding of a mean decides a column. The headline is per item with the one
    success rule (statistics.item_success_label): an author claims success with a self-rating of
    SUCCESS_THRESHOLD or more; reviewers agree when the item is successful, and with a claim of
    no success when a strict majority of its reviewers rated it below; a tie agrees with neither.
    """
    counts = np.zeros((len(RATINGS), len(RATINGS)), dtype=np.int64)
    if ratings.review_count:
        np.add.at(counts, (ratings.author_ratings[ratings.review_items], ratings.review_ratings), 1)
    labels = items_success_labels(reviewers) if len(reviewers) else np.array([])
    claimed = ratings.author_ratings >= SUCCESS_THRESHOLD

    def verdicts(mask: np.ndarray, agreeing: float) -> dict[str, int]:
        chosen = labels[mask]
        return {
            "items": int(mask.sum()),
            "agreed": int((chosen == agreeing).sum()),
            "ties": int(np.isnan(chosen).sum()),
        }

    return {
        "counts": counts.tolist(),
        "exact": int(np.trace(counts)),
        "claimed": verdicts(claimed, 1.0),
        "not_claimed": verdicts(~claimed, 0.0),
    }


def _tag_counts(tags: np.ndarray) -> dict[str, int]:
    values, counts = np.unique(tags, return_counts=True)
    return {str(int(value)): int(count) for value, count in zip(values, counts, strict=True)}


def harmlessness_by_rating(ratings: StudyRatings) -> list[dict[str, Any]]:
    """Mean and SD of the transcript's min-harmlessness score for each reviewer rating."""
    scores = ratings.min_harmlessness[ratings.review_items] if ratings.review_count else np.array([])
    rows = []
    for rating in RATINGS:
        chosen = scores[ratings.review_ratings == rating]
        rows.append(
            {
                "rating": rating,
                "n": len(chosen),
                "mean": float(chosen.mean()) if len(chosen) else None,
                "sd": float(chosen.std(ddof=1)) if len(chosen) > 1 else None,
            }
        )
    return rows


def time_on_task(seconds: np.ndarray) -> dict[str, Any]:
    """A histogram of seconds on task with equal bins up to the 95th percentile, and its quantiles."""
    if not len(seconds):
        return {"edges": [], "counts": [], "overflow": 0, "median": None, "p90": None, "n": 0}
    width = _nice_step(max(float(np.percentile(seconds, 95)), 1.0) / TIME_BIN_COUNT)
    edges = [width * index for index in range(TIME_BIN_COUNT + 1)]
    counts, _ = np.histogram(np.minimum(seconds, edges[-1] - 1e-9), bins=edges)
    return {
        "edges": edges,
        "counts": counts.tolist(),
        # Reviews longer than the last edge are counted in the last bar; this says how many.
        "overflow": int((seconds >= edges[-1]).sum()),
        "median": float(np.median(seconds)),
        "p90": float(np.percentile(seconds, 90)),
        "n": len(seconds),
    }


def disagreement(ratings: StudyRatings, *, with_author: np.ndarray) -> list[dict[str, Any]]:
    """The fully reviewed items whose four ratings spread the most (standard deviation, then range)."""
    complete = ~np.isnan(with_author).any(axis=1)
    if not complete.any():
        return []
    indexes = np.flatnonzero(complete)
    matrix = with_author[indexes]
    spread = matrix.std(axis=1)
    span = matrix.max(axis=1) - matrix.min(axis=1)
    order = np.lexsort((ratings.positions[indexes], -span, -spread))[:DISAGREEMENT_ROWS]
    return [
        {
            "item_id": int(ratings.item_ids[indexes[row]]),
            "position": int(ratings.positions[indexes[row]]),
            "model_type": str(ratings.model_types[indexes[row]]),
            "num_params": str(ratings.num_params[indexes[row]]),
            "author_rating": int(matrix[row, 0]),
            "reviewer_ratings": sorted(int(value) for value in matrix[row, 1:]),
            "sd": float(spread[row]),
            "range": int(span[row]),
        }
        for row in order
    ]


def _nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at least `raw`, so bin edges read as round numbers."""
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return float(factor * magnitude)
    return float(10 * magnitude)


def _size_order(size: str) -> float:
    return float(size.rstrip("B"))
