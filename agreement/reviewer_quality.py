"""Each reviewer's quality against the rest of the reviewers: pure computation over numpy arrays.

A lead wants to know, per reviewer: how much they did (reviews, median seconds on task, skips
and why), whether they rate higher or lower than the others on the same items, how far the
study's agreement depends on them, and whether they changed over time. Selectors load the
reviews and skips (agreement/selectors.py); this module turns them into JSON-ready rows.

Choices, and why:

* **Reviewers only.** The author's self-rating is what reviews check, so it is no reviewer's
  peer here: every comparison is between reviewers.
* **Leave-one-out on the reviewer's own items.** "Agreement with and without them" is
  computed on the same items both times: the reviewer's complete items (every review in),
  first with all their ratings (m raters), then with the reviewer's rating removed (m - 1).
  Fleiss' kappa needs the same number of ratings per item, which only holds this way; the
  rest of the study, which they never saw, says nothing about them. The gain, without minus
  with, is positive when removing the reviewer raises agreement.
* **Vectorised.** Fleiss' kappa and Krippendorff's alpha are sums over items of functions of
  the item's counts row, so each reviewer's with/without figures are bincounts over their
  reviews (the item's row, and the row minus their rating); no loop over items or reviewers
  in Python beyond the skip reasons. Items of several studies pool as one set (the overall
  page): kappa then uses each item's own number of raters (Fleiss' P_i per item, the
  category shares over all ratings), which is Fleiss' kappa exactly when all are equal.
* **Majority without them.** Agreement with the majority compares each rating with the
  label the *other* reviewers of the item give it: on the binary scale by the project's one
  definition of a successful item (statistics.item_success_label: a strict majority, a tie
  is no label), and on the 0-4 scale by the rating a strict majority of the others gave.
  Items where the others tie are left out of that reviewer's percentage.
* **Drift** by chronological thirds of each reviewer's own reviews (the first third of what
  they did, the middle, the last): their mean rating, their difference from the others and
  their agreement with the majority in each. Thirds rather than weeks so a reviewer who
  worked two days and one who worked two months are read the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from agreement.analytics import StudyRatings
from agreement.statistics import LIKERT_CATEGORIES, SUCCESS_THRESHOLD, success_labels_from_counts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CATEGORIES = len(LIKERT_CATEGORIES)
THIRDS = 3
# The largest (reviewers x possible counts rows) table counted directly before sorting instead.
PATTERN_TABLE_CELLS = 4_000_000
# The dashboard's "too small" line (agreement.dashboard.SMALL_GROUP_ITEMS, a test keeps them
# equal): below it a kappa or alpha is greyed, and the leave-one-out gain flags nobody.
MIN_ITEMS = 30

# --- the flag rules ---------------------------------------------------------------------------
# A reviewer is flagged as far from the rest when one of these holds, and the row says which and
# with what numbers.
#
# Lenient / strict: their mean difference from the others on the same items is at least half a
# scale point AND its t statistic (mean / (SD / sqrt n) over those items) is at least 3. Half a
# point on a 0-4 scale is the size at which the difference starts to move items across the
# binary success line (3) and so changes the study's answer; t >= 3 is a chance of about 0.3% per
# honest reviewer, so a pool of 30 honest reviewers expects about 0.1 false flags (roughly a
# Bonferroni correction of 5% over 15-30 reviewers). The t test uses the reviewer's own n, so a
# reviewer with few items needs a larger difference, and no item count floor is needed.
RATING_GAP = 0.5
T_MIN = 3.0
# Disagrees: removing them raises Fleiss' kappa (0-4) or ordinal alpha on their own items by at
# least 0.10, on at least MIN_ITEMS items. 0.10 is half a band of the usual kappa reading
# (Landis & Koch's bands are 0.2 wide), which changes what a lead would report; below 30 items
# the standard error of kappa itself is about 0.1 or more, so a gain there is noise.
LOO_GAIN = 0.10
# Drifting: the difference from the others moved by at least RATING_GAP between the first and the
# last third of their reviews, with a Welch t of at least T_MIN (the same reasoning as above).

RULES = {
    "rating": f"mean difference from the others on the same items at least {RATING_GAP} points with |t| >= {T_MIN:g}",
    "leave_one_out": f"kappa (0-4) or ordinal alpha on their items at least {LOO_GAIN:.2f} higher without them, "
    f"on at least {MIN_ITEMS} items",
    "drift": f"difference from the others moved at least {RATING_GAP} points from the first third of their reviews "
    f"to the last, with Welch |t| >= {T_MIN:g}",
}


@dataclass(frozen=True)
class QualityInput:
    """One row per review (parallel arrays) and one per skip; item and reviewer ids as in the database.

    Reviews come in the order they were made. ``review_raters`` is the number of reviews the
    item's study asks for (its reviewers_per_item), so an item with that many reviews is complete.
    """

    review_items: npt.ArrayLike
    review_reviewers: npt.ArrayLike
    review_ratings: npt.ArrayLike
    review_seconds: npt.ArrayLike
    review_raters: npt.ArrayLike
    skip_reviewers: npt.ArrayLike
    skip_reasons: list[str]


def skips_input(skips: list[tuple[int, str]]) -> dict[str, Any]:
    """QualityInput's skip fields from (reviewer id, reason) rows."""
    return {"skip_reviewers": [reviewer for reviewer, _ in skips], "skip_reasons": [reason for _, reason in skips]}


def quality_input_from_ratings(ratings: StudyRatings, skips: list[tuple[int, str]]) -> QualityInput:
    """A study's QualityInput from the ratings its snapshot already loaded, in the order reviews were made."""
    order = np.argsort(ratings.review_ids, kind="stable")
    return QualityInput(
        review_items=ratings.item_ids[ratings.review_items[order]] if ratings.review_count else [],
        review_reviewers=ratings.review_reviewers[order],
        review_ratings=ratings.review_ratings[order],
        review_seconds=ratings.review_seconds[order],
        review_raters=np.full(ratings.review_count, ratings.reviewers_per_item),
        **skips_input(skips),
    )


# --- the pieces, each on arrays -------------------------------------------------------------------


def fleiss_kappa_pooled(
    square_sums: FloatArray, raters: FloatArray, totals: FloatArray, items: FloatArray
) -> FloatArray:
    """Fleiss' kappa from per-group sums over items (one group per row), NaN where undefined.

    square_sums: sum over items of (sum_j n_ij^2 - m_i) / (m_i (m_i - 1)), Fleiss' P_i;
    raters: sum of m_i; totals: (groups x categories) sum of n_ij; items: item count. With every
    m_i equal this is statsmodels' fleiss_kappa(method="fleiss").
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = square_sums / items
        shares = totals / raters[:, None]
        chance = (shares * shares).sum(axis=1)
        kappa = (observed - chance) / (1 - chance)
    # One category holding every rating: chance agreement is 1, kappa 0/0.
    certain = totals.max(axis=1, initial=0) >= raters
    return np.where((items > 0) & ~certain, kappa, np.nan)


def _item_agreement(rows: IntArray, raters: IntArray) -> FloatArray:
    """Fleiss' P_i of each counts row, NaN where fewer than two raters."""
    with np.errstate(invalid="ignore", divide="ignore"):
        value = ((rows * rows).sum(axis=1) - raters) / (raters * (raters - 1))
    return np.where(raters >= 2, value, np.nan)


def _coincidences(rows: IntArray) -> FloatArray:
    """Krippendorff's coincidences of each counts row, flattened (rows x categories^2); zero below two ratings."""
    totals = rows.sum(axis=1)
    outer = rows[:, :, None] * rows[:, None, :] - np.eye(CATEGORIES, dtype=np.int64)[None] * rows[:, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = outer / (totals - 1)[:, None, None]
    return np.where((totals >= 2)[:, None, None], scaled, 0.0).reshape(len(rows), CATEGORIES * CATEGORIES)


def alpha_ordinal_from_coincidences(coincidences: FloatArray) -> FloatArray:
    """Krippendorff's ordinal alpha from (groups x categories^2) coincidence sums, NaN where undefined.

    The ordinal metric over the 0-4 scale: delta(c, k)^2 = (sum of n_g for g from c to k
    - (n_c + n_k) / 2)^2, n_g the coincidence margins (a value nobody used weighs nothing),
    as the krippendorff package computes it with value_domain 0-4.
    """
    matrix = coincidences.reshape(-1, CATEGORIES, CATEGORIES)
    margins = matrix.sum(axis=2)  # groups x categories
    cumulative = np.cumsum(margins, axis=1)
    low = np.minimum.outer(np.arange(CATEGORIES), np.arange(CATEGORIES))
    high = np.maximum.outer(np.arange(CATEGORIES), np.arange(CATEGORIES))
    # sum of n_g over g in [low, high] = cumulative[high] - cumulative[low] + margins[low]
    spans = cumulative[:, high] - cumulative[:, low] + margins[:, low]
    distance = (spans - (margins[:, :, None] + margins[:, None, :]) / 2) ** 2
    total = margins.sum(axis=1)
    observed = (matrix * distance).sum(axis=(1, 2))
    expected = (margins[:, :, None] * margins[:, None, :] * distance).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = 1 - (total - 1) * observed / expected
    return np.where((total >= 2) & (expected > 0), alpha, np.nan)


def _group_medians(groups: IntArray, count: int, values: FloatArray) -> FloatArray:
    if not len(values):
        return np.full(count, np.nan)
    whole = values.min() >= 0 and np.all(values == np.floor(values)) and values.max() < 2**31
    if whole:
        # Seconds are whole: one sort of (group, value) packed in an int64 is several times faster than lexsort.
        width = int(values.max()) + 1
        keys = np.sort(groups.astype(np.int64) * width + values.astype(np.int64))
        sorted_groups, sorted_values = keys // width, (keys % width).astype(np.float64)
    else:
        order = np.lexsort((values, groups))
        sorted_groups, sorted_values = groups[order], values[order]
    starts = np.searchsorted(sorted_groups, np.arange(count), side="left")
    sizes = np.searchsorted(sorted_groups, np.arange(count), side="right") - starts
    last = len(values) - 1
    low = sorted_values[np.clip(starts + (sizes - 1) // 2, 0, last)]
    high = sorted_values[np.clip(starts + sizes // 2, 0, last)]
    return np.where(sizes > 0, (low + high) / 2, np.nan)


def _mean_sd_t(groups: IntArray, count: int, values: FloatArray, used: npt.NDArray[np.bool_]) -> dict[str, FloatArray]:
    """Per group: n, mean, SD (ddof 1) and the one-sample t of the mean, over the rows where used."""
    n = np.bincount(groups[used], minlength=count).astype(np.float64)
    total = np.bincount(groups[used], weights=values[used], minlength=count)
    squares = np.bincount(groups[used], weights=values[used] ** 2, minlength=count)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        variance = np.maximum(squares - n * mean * mean, 0.0) / (n - 1)
        sd = np.sqrt(variance)
        t = mean / (sd / np.sqrt(n))
    t = np.where(sd > 0, t, np.where((n >= 2) & (mean != 0), np.copysign(np.inf, mean), np.nan))
    return {"n": n, "mean": np.where(n > 0, mean, np.nan), "sd": np.where(n >= 2, sd, np.nan), "t": t}


# --- the whole computation --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """The input as codes, with each review's item counts row with and without the review."""

    reviewer_ids: IntArray
    who: IntArray  # per review: reviewer code
    ratings: IntArray
    success: IntArray  # per review: 1 when the rating is at least SUCCESS_THRESHOLD
    item: IntArray  # per review: its item's code
    row_without: IntArray  # the same minus this review
    n_without: IntArray  # the item's other reviews
    on_complete: npt.NDArray[np.bool_]  # the item has every review its study asks for
    item_successes_others: IntArray  # successes among the item's other reviews
    others_mean: FloatArray  # the other reviews' mean rating (NaN without any)
    counts: IntArray  # (items x 5) counts rows
    complete: npt.NDArray[np.bool_]  # per item
    item_successes: IntArray
    reviewed: IntArray  # per item: reviews in

    @property
    def count(self) -> int:
        return len(self.reviewer_ids)


def _prepare(data: QualityInput) -> _Prepared:
    items_in = np.asarray(data.review_items, dtype=np.int64)
    reviewers_in = np.asarray(data.review_reviewers, dtype=np.int64)
    ratings = np.asarray(data.review_ratings, dtype=np.int64)
    reviewer_ids = np.union1d(np.unique(reviewers_in), np.unique(np.asarray(data.skip_reviewers, dtype=np.int64)))
    item_ids, item = np.unique(items_in, return_inverse=True)
    item = item.astype(np.int64).reshape(-1)
    n_items = len(item_ids)
    counts = np.bincount(item * CATEGORIES + ratings, minlength=n_items * CATEGORIES).reshape(n_items, CATEGORIES)
    reviewed = counts.sum(axis=1)
    asked = np.zeros(n_items, dtype=np.int64)
    asked[item] = np.asarray(data.review_raters, dtype=np.int64)
    complete = reviewed == asked
    success = (ratings >= SUCCESS_THRESHOLD).astype(np.int64)
    item_successes = np.bincount(item, weights=success, minlength=n_items).astype(np.int64)
    n_without = reviewed[item] - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        others_mean = (np.bincount(item, weights=ratings, minlength=n_items)[item] - ratings) / n_without
    row = counts[item]
    return _Prepared(
        reviewer_ids=reviewer_ids,
        who=np.searchsorted(reviewer_ids, reviewers_in),
        ratings=ratings,
        success=success,
        item=item,
        row_without=row - np.eye(CATEGORIES, dtype=np.int64)[ratings],
        n_without=n_without,
        on_complete=complete[item],
        item_successes_others=item_successes[item] - success,
        others_mean=np.where(n_without >= 1, others_mean, np.nan),
        counts=counts,
        complete=complete,
        item_successes=item_successes,
        reviewed=reviewed,
    )


def _activity(prep: _Prepared, data: QualityInput) -> tuple[dict[str, Any], list[Counter[str]]]:
    count = prep.count
    reviews = np.bincount(prep.who, minlength=count)
    skip_who = np.searchsorted(prep.reviewer_ids, np.asarray(data.skip_reviewers, dtype=np.int64))
    skips = np.bincount(skip_who, minlength=count)
    reasons: list[Counter[str]] = [Counter() for _ in range(count)]
    for index, reason in zip(skip_who.tolist(), data.skip_reasons, strict=True):
        reasons[index][reason.strip() or "(no reason given)"] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_rating = np.bincount(prep.who, weights=prep.ratings, minlength=count) / reviews
    columns = {
        "reviews": reviews,
        "median_seconds": _group_medians(prep.who, count, np.asarray(data.review_seconds, dtype=np.float64)),
        "skips": skips,
        "skip_rate": skips / (skips + reviews),
        "skip_percent": 100 * skips / (skips + reviews),
        "mean_rating": mean_rating,
    }
    return columns, reasons


def _against_others(prep: _Prepared) -> dict[str, Any]:
    """The rating gap from the others on the same items, and agreement with the others' majority."""
    count, who = prep.count, prep.who
    has_others = prep.n_without >= 1
    difference = np.nan_to_num(prep.ratings - prep.others_mean)
    others = _mean_sd_t(who, count, np.nan_to_num(prep.others_mean), has_others)
    gap = _mean_sd_t(who, count, difference, has_others)
    # Binary: the others' label by the successful-item rule; 0-4: the rating a strict majority of them gave.
    others_label = success_labels_from_counts(prep.item_successes_others, prep.n_without)
    binary_defined = ~np.isnan(others_label)
    binary_agree = binary_defined & (others_label == prep.success)
    likert_defined = has_others & (2 * prep.row_without.max(axis=1) > prep.n_without)
    likert_agree = likert_defined & (prep.row_without.argmax(axis=1) == prep.ratings)
    binary_n = np.bincount(who, weights=binary_defined, minlength=count)
    likert_n = np.bincount(who, weights=likert_defined, minlength=count)
    with np.errstate(invalid="ignore", divide="ignore"):
        binary_percent = 100 * np.bincount(who, weights=binary_agree, minlength=count) / binary_n
        likert_percent = 100 * np.bincount(who, weights=likert_agree, minlength=count) / likert_n
    return {
        "others_mean_rating": others["mean"],
        "rating_difference": gap["mean"],
        "rating_difference_sd": gap["sd"],
        "rating_difference_t": gap["t"],
        "compared_items": gap["n"],
        "majority_binary_percent": binary_percent,
        "majority_binary_items": binary_n,
        "majority_likert_percent": likert_percent,
        "majority_likert_items": likert_n,
        # Kept for the thirds, not shown per reviewer.
        "_difference": difference,
        "_has_others": has_others,
        "_binary_defined": binary_defined,
        "_binary_agree": binary_agree,
    }


def _leave_one_out(prep: _Prepared) -> dict[str, Any]:
    """Kappa (0-4 and binary) and ordinal alpha on each reviewer's complete items, with and without them."""
    count, who = prep.count, prep.who
    item_codes, base = _row_codes(prep.counts)
    codes = item_codes[prep.item]
    without_codes = codes - base**prep.ratings  # the same row with this review's rating taken out
    weights_with, patterns_with = _pattern_counts(who, count, codes, prep.on_complete, base)
    weights_without, patterns_without = _pattern_counts(who, count, without_codes, prep.on_complete, base)
    kappa_with = _kappa_of(weights_with, patterns_with)
    kappa_without = _kappa_of(weights_without, patterns_without)
    alpha_with = alpha_ordinal_from_coincidences(weights_with @ _coincidences(patterns_with))
    alpha_without = alpha_ordinal_from_coincidences(weights_without @ _coincidences(patterns_without))
    loo_items = np.bincount(who, weights=prep.on_complete, minlength=count)
    return {
        "loo_items": loo_items,
        "kappa_with": kappa_with,
        "kappa_without": kappa_without,
        "kappa_gain": kappa_without - kappa_with,
        "binary_kappa_with": _kappa_of(weights_with, _binary_fold(patterns_with)),
        "binary_kappa_without": _kappa_of(weights_without, _binary_fold(patterns_without)),
        "alpha_with": alpha_with,
        "alpha_without": alpha_without,
        "alpha_gain": alpha_without - alpha_with,
        "small": loo_items < MIN_ITEMS,
    }


def reviewer_leave_one_out(data: QualityInput) -> dict[str, Any]:
    """The leave-one-out figures alone, per reviewer code (sorted reviewer ids): what the bench times."""
    return _leave_one_out(_prepare(data))


def _drift(prep: _Prepared, others: dict[str, Any], reviews: IntArray) -> dict[str, Any]:
    """Each reviewer's reviews in time order, cut in thirds: per third and last minus first."""
    count, who = prep.count, prep.who
    # The input is in time order; a stable sort keeps it within a reviewer (radix on 16-bit codes).
    order = np.argsort(who.astype(np.int16) if count < 2**15 else who, kind="stable")
    sorted_who = who[order]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.searchsorted(sorted_who, sorted_who, side="left")
    slot = who * THIRDS + (THIRDS * rank) // np.maximum(reviews[who], 1)
    cells = count * THIRDS

    def per_third(values: npt.ArrayLike | None = None) -> FloatArray:
        return np.bincount(slot, weights=values, minlength=cells).reshape(count, THIRDS).astype(np.float64)

    gap = {
        key: value.reshape(count, THIRDS)
        for key, value in _mean_sd_t(slot, cells, others["_difference"], others["_has_others"]).items()
    }
    third_n = per_third()
    with np.errstate(invalid="ignore", divide="ignore"):
        third_rating = per_third(prep.ratings) / third_n
        third_binary = 100 * per_third(others["_binary_agree"]) / per_third(others["_binary_defined"])
        drift = gap["mean"][:, -1] - gap["mean"][:, 0]
        drift_t = drift / np.sqrt(gap["sd"][:, -1] ** 2 / gap["n"][:, -1] + gap["sd"][:, 0] ** 2 / gap["n"][:, 0])
    thirds = [
        [
            {
                "reviews": int(third_n[index, part]),
                "mean_rating": _number(third_rating[index, part]),
                "rating_difference": _number(gap["mean"][index, part]),
                "majority_binary_percent": _number(third_binary[index, part]),
            }
            for part in range(THIRDS)
        ]
        for index in range(count)
    ]
    return {"thirds": thirds, "drift": drift, "drift_t": drift_t}


def reviewer_quality_compute(data: QualityInput) -> dict[str, Any]:
    """Every reviewer's figures and flags, and the pool's figures for reference, JSON-ready (None for undefined).

    The reviews must come in time order (the selector orders them by when they were made).
    """
    prep = _prepare(data)
    activity, reasons = _activity(prep, data)
    others = _against_others(prep)
    columns = {**activity, **others, **_leave_one_out(prep)}
    columns.update(_drift(prep, others, activity["reviews"]))
    rows = []
    for index in range(prep.count):
        row: dict[str, Any] = {"reviewer_id": int(prep.reviewer_ids[index])}
        for key, values in columns.items():
            if key.startswith("_"):
                continue
            value = values[index]
            if isinstance(value, (list, dict)):
                row[key] = value
            elif isinstance(value, (bool, np.bool_)):
                row[key] = bool(value)
            elif key in INTEGER_COLUMNS:
                row[key] = int(value)
            else:
                row[key] = _number(value)
        row["skip_reasons"] = [[reason, number] for reason, number in reasons[index].most_common()]
        row["flags"] = reviewer_flags(row)
        rows.append(row)
    return {
        "reviewers": rows,
        "pool": _pool(prep.counts, prep.complete, prep.item_successes, prep.reviewed),
        "rules": RULES,
        "min_items": MIN_ITEMS,
    }


INTEGER_COLUMNS = frozenset(
    {"reviews", "skips", "compared_items", "majority_binary_items", "majority_likert_items", "loo_items"}
)


def _binary_fold(rows: IntArray) -> IntArray:
    success = np.asarray(LIKERT_CATEGORIES) >= SUCCESS_THRESHOLD
    return np.column_stack([rows[:, ~success].sum(axis=1), rows[:, success].sum(axis=1)])


def _same(rows: IntArray) -> IntArray:
    return rows


def _pattern_counts(
    who: IntArray, count: int, codes: IntArray, used: npt.NDArray[np.bool_], base: int
) -> tuple[FloatArray, IntArray]:
    """(reviewers x patterns) how many of each reviewer's used reviews have each distinct counts row, and the rows.

    Kappa and alpha see an item only through its counts row, and with m raters over 5 values
    there are at most C(m + 4, 4) rows (35 for 3 raters) however many items: summing any
    function of the row over a reviewer's items is this matrix times the function of the
    patterns, which is what keeps leave-one-out for every reviewer at a few bincounts. A row
    comes in as its code, the row's counts read as digits in base ``base`` (more than any count).
    """
    chosen = codes[used]
    powers = base ** np.arange(CATEGORIES, dtype=np.int64)
    space = int(base**CATEGORIES)
    if space * count <= PATTERN_TABLE_CELLS:
        # Few possible rows (4^5 = 1,024 with 3 raters): count (reviewer, code) pairs directly, no sort.
        table = np.bincount(who[used] * space + chosen, minlength=count * space).reshape(count, space)
        present = np.flatnonzero(table.any(axis=0))
        return table[:, present].astype(np.float64), (present[:, None] // powers) % base
    present, inverse = np.unique(chosen, return_inverse=True)
    cells = who[used] * len(present) + inverse.reshape(-1)
    weights = np.bincount(cells, minlength=count * len(present)).reshape(count, len(present))
    return weights.astype(np.float64), (present[:, None] // powers) % base


def _row_codes(counts: IntArray) -> tuple[IntArray, int]:
    """Each counts row as one integer (its counts as digits), and the base used."""
    base = int(counts.max(initial=0)) + 1
    return counts @ (base ** np.arange(CATEGORIES, dtype=np.int64)), base


def _kappa_of(weights: FloatArray, patterns: IntArray) -> FloatArray:
    """Per row of weights (pattern counts): Fleiss' kappa over those items; each pattern's raters are its sum."""
    raters = patterns.sum(axis=1)
    kappa = fleiss_kappa_pooled(
        weights @ np.nan_to_num(_item_agreement(patterns, raters)),
        weights @ raters.astype(np.float64),
        weights @ patterns.astype(np.float64),
        weights.sum(axis=1),
    )
    # An item with fewer than two ratings has no agreement of its own: no kappa over it.
    single = weights @ (raters < 2).astype(np.float64) > 0
    return np.where(single, np.nan, kappa)


def _pool(counts: IntArray, complete: npt.NDArray[np.bool_], successes: IntArray, reviewed: IntArray) -> dict[str, Any]:
    """The pool's own kappa (0-4 and binary) and ordinal alpha on its complete items, for reference."""
    codes, base = _row_codes(counts)
    weights, patterns = _pattern_counts(np.zeros(len(counts), dtype=np.int64), 1, codes, complete, base)
    labels = success_labels_from_counts(successes, reviewed)
    return {
        "items": len(counts),
        "complete_items": int(complete.sum()),
        "kappa": _number(_kappa_of(weights, patterns)[0]),
        "binary_kappa": _number(_kappa_of(weights, _binary_fold(patterns))[0]),
        "alpha": _number(alpha_ordinal_from_coincidences(weights @ _coincidences(patterns))[0]),
        "successful_items": int(np.nansum(labels)),
        "small": bool(complete.sum() < MIN_ITEMS),
    }


def reviewer_flags(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Which rules put the reviewer far from the rest, each with the numbers that did (RULES says why)."""
    flags: list[dict[str, Any]] = []
    difference, t = row["rating_difference"], row["rating_difference_t"]
    if difference is not None and t is not None and abs(difference) >= RATING_GAP and abs(t) >= T_MIN:
        kind = "lenient" if difference > 0 else "strict"
        flags.append(
            {
                "rule": "rating",
                "label": kind,
                "detail": f"rates {difference:+.2f} points against the others on {row['compared_items']} items "
                f"(t = {t:.1f})",
            }
        )
    if row["loo_items"] >= MIN_ITEMS:
        gains = [
            (name, gain)
            for name, gain in (("kappa", row["kappa_gain"]), ("ordinal alpha", row["alpha_gain"]))
            if gain is not None and gain >= LOO_GAIN
        ]
        if gains:
            said = ", ".join(f"{name} {gain:+.3f}" for name, gain in gains)
            flags.append(
                {
                    "rule": "leave_one_out",
                    "label": "disagrees",
                    "detail": f"without them on their {row['loo_items']} items: {said}",
                }
            )
    drift, drift_t = row["drift"], row["drift_t"]
    if drift is not None and drift_t is not None and abs(drift) >= RATING_GAP and abs(drift_t) >= T_MIN:
        first, last = row["thirds"][0]["rating_difference"], row["thirds"][-1]["rating_difference"]
        flags.append(
            {
                "rule": "drift",
                "label": "drifting",
                "detail": f"difference from the others {first:+.2f} in the first third, {last:+.2f} in the last "
                f"(t = {drift_t:.1f})",
            }
        )
    return flags


def _number(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
