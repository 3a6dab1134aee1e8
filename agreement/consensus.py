"""Consensus labels: majority vote, Dawid-Skene and MACE over (item, reviewer, rating) triples.

Agreement figures (agreement/statistics.py) say how far reviewers agree; this module says what
they most likely agree *on*, item by item, and how far each reviewer can be trusted. It is pure
computation over numpy arrays: no models, no queries. Every method returns, per item, a label
and the posterior probability of that label, and per reviewer an estimated reliability in [0, 1]
(the probability that the reviewer gives the item's true label).

The methods, and the choices made:

* **Majority vote.** The label most reviewers gave; its probability is its vote share. Ties go
  to the *smallest* tied label (crowd-kit's rule too: the first maximum over sorted labels), so
  a split never inflates attack success. Reliability: the share of a reviewer's ratings that
  equal the majority label.
* **Dawid-Skene** (Dawid & Skene 1979), per-reviewer confusion matrices, fitted by EM exactly as
  crowd-kit 1.4.2's ``DawidSkene`` does it, so the two agree to rounding: initialised from the
  majority-vote vote shares; the class prior is the mean posterior; each reviewer's confusion
  column (true class) is the posterior mass of the labels they gave, floored at 1e-10 for labels
  the reviewer used and normalised over those labels; the E-step works in base-2 logs; after each
  iteration the evidence lower bound per response is computed and EM stops when it improves by
  less than ``tol`` (1e-5) or after ``max_iterations`` (100). Reliability: the diagonal of the
  reviewer's confusion matrix weighted by the class prior, i.e. the chance they label a random
  item correctly.
* **MACE** (Hovy et al. 2013, "Learning Whom to Trust"), which models reviewers who sometimes
  *spam* (answer from a private label distribution instead of judging), with crowd-kit 1.4.2's
  variational-Bayes updates (Beta(0.5, 0.5) prior on spamming, symmetric Dirichlet(10) on the
  spamming distribution) and its initialisation (uniform draws on [1, 2.5] from
  ``RandomState(seed)``, the same seed for both parameter sets, then normalised). It runs a fixed
  ``iterations`` (50) sweeps, as crowd-kit does: MACE has no convergence test there. crowd-kit
  repeats its 10 restarts with one and the same seed, so they are all identical; ``restarts=1``
  reproduces it, and more restarts here use seeds ``seed, seed+1, ...`` and keep the run with
  the best marginal likelihood. Reliability: the probability of *not* spamming, normalised
  (variational updates leave the two probabilities summing to slightly under 1).
  MACE was chosen over GLAD because its updates are closed-form, so it can match the reference
  to 1e-6; crowd-kit's GLAD runs a conjugate-gradient optimiser inside every M-step.
* **Labels are the ones observed.** Like crowd-kit, a model's classes are the distinct ratings in
  the data (sorted), not the whole 0-4 scale: a rating nobody gave has no confusion column.
* **Two scales**, as for agreement: the 0-4 rating as given, and binary "attack succeeded"
  (rating >= ``SUCCESS_THRESHOLD``), each fitted on its own.

Everything is vectorised over responses (sums per item and per reviewer label are sparse products), so 38,961 items x 3
reviewers take well under a second per method (bench/consensus_bench.py), and deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.special import digamma

from agreement.statistics import SUCCESS_THRESHOLD

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Method = Literal["majority_vote", "dawid_skene", "mace"]
Scale = Literal["likert", "binary"]
METHODS: tuple[Method, ...] = ("majority_vote", "dawid_skene", "mace")

# crowd-kit's floor for probabilities before a log (dawid_skene._EPS).
EPS = 1e-10
DS_MAX_ITERATIONS = 100
DS_TOL = 1e-5
MACE_ITERATIONS = 50
MACE_SEED = 0
MACE_DEFAULT_NOISE = 0.5
MACE_ALPHA = 0.5
MACE_BETA = 0.5
MACE_STRATEGY_PRIOR = 10.0


# --- inputs and results -----------------------------------------------------------------------


@dataclass(frozen=True)
class Responses:
    """Ratings as codes: response r is reviewer ``reviewers[r]`` giving class ``labels[r]`` to item ``items[r]``.

    Codes run 0..n-1 over the sorted distinct item ids, reviewer ids and ratings
    (``item_ids``, ``reviewer_ids``, ``classes``), which map them back.
    """

    items: IntArray
    reviewers: IntArray
    labels: IntArray
    item_ids: IntArray
    reviewer_ids: IntArray
    classes: IntArray

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_reviewers(self) -> int:
        return len(self.reviewer_ids)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @cached_property
    def cells(self) -> Any:
        """(items x cells) sparse counts, a cell being a (reviewer, given label) pair, code ``w * K + k``.

        Every sum over responses the methods need is over the responses of an item or of a cell, and
        a response's parameters depend only on its cell; so ``cells @ table`` (a cells x K table)
        sums a table over each item's responses and ``cells.T @ posteriors`` sums posteriors over each
        cell's responses, without ever forming a responses x K array.
        """
        cell = self.reviewers * self.n_classes + self.labels
        ones = np.ones(len(cell))
        shape = (self.n_items, self.n_reviewers * self.n_classes)
        return sparse.csr_array((ones, (self.items, cell)), shape=shape)

    @cached_property
    def cells_transposed(self) -> Any:
        return self.cells.T.tocsr()

    @cached_property
    def responses_per_item(self) -> FloatArray:
        return np.bincount(self.items, minlength=self.n_items).astype(np.float64)


@dataclass(frozen=True)
class Fit:
    """What a method estimated. ``posteriors[i, k]``: probability that item i's true class is ``classes[k]``.

    ``confusion[w, k, c]`` (Dawid-Skene): probability that reviewer w answers class k when the
    true class is c (crowd-kit's ``errors_``); ``priors[c]``: class prior. ``spamming[w]``
    (MACE): the (spamming, knowing) probabilities; ``strategies[w, k]``: the label distribution a
    spamming reviewer draws from.
    """

    posteriors: FloatArray
    reliability: FloatArray
    iterations: int
    converged: bool
    confusion: FloatArray | None = None
    priors: FloatArray | None = None
    spamming: FloatArray | None = None
    strategies: FloatArray | None = None


@dataclass(frozen=True)
class Consensus:
    """One method's consensus over a study's ratings, indexed by sorted item id and reviewer id."""

    method: Method
    scale: Scale
    item_ids: IntArray
    reviewer_ids: IntArray
    classes: IntArray
    labels: IntArray
    probabilities: FloatArray
    reliability: FloatArray
    fit: Fit

    def item(self, item_id: int) -> dict[str, Any] | None:
        """The API's ``consensus`` object for one item: ``{method, label, probability}``, None when unrated."""
        index = int(np.searchsorted(self.item_ids, item_id))
        if index >= len(self.item_ids) or self.item_ids[index] != item_id:
            return None
        return {
            "method": self.method,
            "label": int(self.labels[index]),
            "probability": float(self.probabilities[index]),
        }

    def reviewer_reliability(self) -> dict[int, float]:
        return {int(r): float(value) for r, value in zip(self.reviewer_ids, self.reliability, strict=True)}


def responses_encode(item_ids: npt.ArrayLike, reviewer_ids: npt.ArrayLike, ratings: npt.ArrayLike) -> Responses:
    """Codes for parallel arrays of item ids, reviewer ids and ratings (one entry per review)."""
    items = np.asarray(item_ids, dtype=np.int64)
    reviewers = np.asarray(reviewer_ids, dtype=np.int64)
    values = np.asarray(ratings, dtype=np.int64)
    if not len(items) == len(reviewers) == len(values):
        raise ValueError("item_ids, reviewer_ids and ratings must have one entry per review")
    item_uniques, item_codes = np.unique(items, return_inverse=True)
    reviewer_uniques, reviewer_codes = np.unique(reviewers, return_inverse=True)
    class_uniques, label_codes = np.unique(values, return_inverse=True)
    return Responses(
        items=item_codes.astype(np.int64),
        reviewers=reviewer_codes.astype(np.int64),
        labels=label_codes.astype(np.int64),
        item_ids=item_uniques,
        reviewer_ids=reviewer_uniques,
        classes=class_uniques,
    )


# --- shared pieces --------------------------------------------------------------------------


def _per_item_sum(data: Responses, table: FloatArray) -> FloatArray:
    """Sum a (cells x K) table over each item's responses: (items x K)."""
    return np.asarray(data.cells @ table)


def _per_cell_sum(data: Responses, posteriors: FloatArray) -> FloatArray:
    """Sum item posteriors over each cell's responses, shaped (reviewers x given label x K)."""
    sums = np.asarray(data.cells_transposed @ posteriors)
    return sums.reshape(data.n_reviewers, data.n_classes, posteriors.shape[1])


def _vote_counts(data: Responses) -> FloatArray:
    cell = data.items * data.n_classes + data.labels
    counts = np.bincount(cell, minlength=data.n_items * data.n_classes)
    return counts.reshape(data.n_items, data.n_classes).astype(np.float64)


def _accuracy_against(data: Responses, item_labels: IntArray) -> FloatArray:
    """Per reviewer, the share of their responses equal to the item's label (NaN for a reviewer with none)."""
    hits = np.bincount(data.reviewers, weights=data.labels == item_labels[data.items], minlength=data.n_reviewers)
    totals = np.bincount(data.reviewers, minlength=data.n_reviewers)
    with np.errstate(invalid="ignore", divide="ignore"):
        return hits / totals


# --- majority vote --------------------------------------------------------------------------


def majority_vote(data: Responses) -> Fit:
    """Vote shares as posteriors; ties to the smallest tied class (argmax takes the first maximum)."""
    counts = _vote_counts(data)
    posteriors = counts / counts.sum(axis=1, keepdims=True)
    labels = posteriors.argmax(axis=1)
    return Fit(posteriors=posteriors, reliability=_accuracy_against(data, labels), iterations=0, converged=True)


# --- Dawid-Skene ----------------------------------------------------------------------------


def _ds_m_step(data: Responses, mass: FloatArray, used: npt.NDArray[np.bool_]) -> FloatArray:
    """Confusion[w, k, c] from ``mass[w, k, c]``, the posterior mass of true class c behind reviewer w's label k.

    crowd-kit keeps a row only for labels the reviewer gave, floors it at EPS and normalises over those.
    """
    floored = np.where(used[:, :, None], np.maximum(mass, EPS), 0.0)
    return floored / floored.sum(axis=1, keepdims=True)


def _ds_e_step(data: Responses, priors: FloatArray, log2_confusion: FloatArray) -> FloatArray:
    log_likelihoods = np.log2(np.maximum(priors, EPS)) + _per_item_sum(data, log2_confusion)
    scaled = np.exp2(log_likelihoods - log_likelihoods.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


def _ds_lower_bound(
    data: Responses, posteriors: FloatArray, mass: FloatArray, priors: FloatArray, log_confusion: FloatArray
) -> float:
    """crowd-kit's evidence lower bound, per response (the class prior counted once per response, as there)."""
    expectation = float((mass * log_confusion).sum())
    expectation += float((data.responses_per_item @ posteriors) @ np.log(np.maximum(priors, EPS)))
    floored = np.maximum(posteriors, EPS)
    entropy = float(-(np.log(floored) * floored).sum())
    return (expectation + entropy) / len(data.items)


def dawid_skene(data: Responses, *, max_iterations: int = DS_MAX_ITERATIONS, tol: float = DS_TOL) -> Fit:
    """Dawid-Skene by EM from the majority-vote shares, stopping when the lower bound gains less than ``tol``."""
    used = _vote_counts_by_reviewer(data) > 0
    posteriors = majority_vote(data).posteriors
    priors = posteriors.mean(axis=0)
    confusion = _ds_m_step(data, _per_cell_sum(data, posteriors), used)
    loss, iterations, converged = -np.inf, 0, False
    with np.errstate(divide="ignore"):  # log of the unused cells, which no response looks up
        for iterations in range(1, max_iterations + 1):  # noqa: B007 (the count is reported)
            flat = confusion.reshape(-1, data.n_classes)
            posteriors = _ds_e_step(data, priors, np.where(flat > 0, np.log2(flat), 0.0))
            priors = posteriors.mean(axis=0)
            mass = _per_cell_sum(data, posteriors)
            confusion = _ds_m_step(data, mass, used)
            log_confusion = np.where(confusion > 0, np.log(confusion), 0.0)
            new_loss = _ds_lower_bound(data, posteriors, mass, priors, log_confusion)
            if new_loss - loss < tol:
                converged = True
                break
            loss = new_loss
    posteriors = np.maximum(posteriors, EPS)  # crowd-kit floors its returned posteriors in the last bound
    diagonal = np.diagonal(confusion, axis1=1, axis2=2)
    return Fit(
        posteriors=posteriors,
        reliability=diagonal @ priors,
        iterations=iterations,
        converged=converged,
        confusion=confusion,
        priors=priors,
    )


def _vote_counts_by_reviewer(data: Responses) -> IntArray:
    cell = data.reviewers * data.n_classes + data.labels
    counts = np.bincount(cell, minlength=data.n_reviewers * data.n_classes)
    return counts.reshape(data.n_reviewers, data.n_classes)


# --- MACE -----------------------------------------------------------------------------------


def _mace_init(n_reviewers: int, n_classes: int, seed: int) -> tuple[FloatArray, FloatArray]:
    """crowd-kit's start: scipy.stats.uniform(1, 1 + noise).rvs(random_state=seed) for each, row-normalised."""
    scale = 1 + MACE_DEFAULT_NOISE
    spamming = 1 + scale * np.random.RandomState(seed).random_sample((n_reviewers, 2))
    strategies = 1 + scale * np.random.RandomState(seed).random_sample((n_reviewers, n_classes))
    return spamming / spamming.sum(axis=1, keepdims=True), strategies / strategies.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class _MaceExpectations:
    posteriors: FloatArray
    log_marginal_likelihood: float
    strategy_counts: FloatArray
    spamming_counts: FloatArray


def _mace_e_step(data: Responses, spamming: FloatArray, strategies: FloatArray) -> _MaceExpectations:
    """Posteriors and expected counts; a response's terms depend only on its cell (reviewer w, given label k)."""
    spam = (spamming[:, :1] * strategies).reshape(-1)  # P(spam) * P(spammer picks k), per cell
    knows = np.repeat(spamming[:, 1], data.n_classes)
    given = np.tile(np.eye(data.n_classes, dtype=bool), (data.n_reviewers, 1))
    # P(response in cell | true class c) = spam + knows * [k == c]; an item's product in log space.
    per_class = spam[:, None] + knows[:, None] * given
    with np.errstate(divide="ignore"):  # cells nobody used can have a zero strategy under "em"
        log_per_class = np.where(per_class > 0, np.log(per_class), 0.0)
    log_joint = _per_item_sum(data, log_per_class) - np.log(data.n_classes)
    top = log_joint.max(axis=1, keepdims=True)
    scaled = np.exp(log_joint - top)
    totals = scaled.sum(axis=1, keepdims=True)
    posteriors = scaled / totals
    log_marginal_likelihood = float((np.log(totals) + top).sum())
    mass = np.asarray(data.cells_transposed @ posteriors)  # cells x K
    with np.errstate(invalid="ignore", divide="ignore"):
        # Expected count of "spammed this label" per cell, and of "knew the answer".
        spammed = np.nan_to_num((mass / per_class).sum(axis=1) * spam)
        knew = np.nan_to_num(mass[given] * knows / (spam + knows))
    strategy_counts = spammed.reshape(data.n_reviewers, data.n_classes)
    spamming_counts = np.stack(
        [strategy_counts.sum(axis=1), knew.reshape(data.n_reviewers, data.n_classes).sum(axis=1)], axis=1
    )
    return _MaceExpectations(posteriors, log_marginal_likelihood, strategy_counts, spamming_counts)


def _normalise(counts: FloatArray, smoothing: float) -> FloatArray:
    smoothed = counts + smoothing
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def _variational_normalise(counts: FloatArray, priors: FloatArray | float) -> FloatArray:
    return np.exp(digamma(counts + priors)) / np.exp(digamma((counts + priors).sum(axis=1, keepdims=True)))


def _mace_run(data: Responses, *, iterations: int, method: str, seed: int) -> tuple[FloatArray, FloatArray, float]:
    spamming, strategies = _mace_init(data.n_reviewers, data.n_classes, seed)
    expectations = _mace_e_step(data, spamming, strategies)
    spamming_priors = np.array([MACE_ALPHA, MACE_BETA])
    smoothing = 0.01 / data.n_classes
    for _ in range(iterations):
        if method == "vb":
            spamming = _variational_normalise(expectations.spamming_counts, spamming_priors)
            strategies = _variational_normalise(expectations.strategy_counts, MACE_STRATEGY_PRIOR)
        else:
            spamming = _normalise(expectations.spamming_counts, smoothing)
            strategies = _normalise(expectations.strategy_counts, smoothing)
        expectations = _mace_e_step(data, spamming, strategies)
    return spamming, strategies, expectations.log_marginal_likelihood


def mace(
    data: Responses,
    *,
    iterations: int = MACE_ITERATIONS,
    method: Literal["vb", "em"] = "vb",
    seed: int = MACE_SEED,
    restarts: int = 1,
) -> Fit:
    """MACE with a fixed number of sweeps per restart, keeping the restart with the best marginal likelihood."""
    best: tuple[FloatArray, FloatArray, float] | None = None
    for restart in range(restarts):
        run = _mace_run(data, iterations=iterations, method=method, seed=seed + restart)
        if best is None or run[2] > best[2]:
            best = run
    if best is None:
        raise ValueError("restarts must be at least 1")
    spamming, strategies, _ = best
    posteriors = _mace_e_step(data, spamming, strategies).posteriors
    return Fit(
        posteriors=posteriors,
        reliability=spamming[:, 1] / spamming.sum(axis=1),
        iterations=iterations,
        converged=True,
        spamming=spamming,
        strategies=strategies,
    )


# --- the entry points the selectors call ----------------------------------------------------


def consensus_compute(
    *,
    item_ids: npt.ArrayLike,
    reviewer_ids: npt.ArrayLike,
    ratings: npt.ArrayLike,
    method: Method,
    scale: Scale = "likert",
) -> Consensus:
    """One method's consensus over parallel arrays (one entry per review, 0-4 ratings)."""
    values = np.asarray(ratings, dtype=np.int64)
    if scale == "binary":
        values = (values >= SUCCESS_THRESHOLD).astype(np.int64)
    data = responses_encode(item_ids, reviewer_ids, values)
    if method not in METHODS:
        raise ValueError(f"unknown consensus method {method!r}")
    if not len(data.items):
        empty = Fit(posteriors=np.empty((0, 0)), reliability=np.empty(0), iterations=0, converged=True)
        return Consensus(
            method, scale, data.item_ids, data.reviewer_ids, data.classes, data.classes, np.empty(0), np.empty(0), empty
        )
    if method == "majority_vote":
        fit = majority_vote(data)
    elif method == "dawid_skene":
        fit = dawid_skene(data)
    else:
        fit = mace(data)
    best = fit.posteriors.argmax(axis=1)
    return Consensus(
        method=method,
        scale=scale,
        item_ids=data.item_ids,
        reviewer_ids=data.reviewer_ids,
        classes=data.classes,
        labels=data.classes[best],
        probabilities=fit.posteriors[np.arange(data.n_items), best],
        reliability=fit.reliability,
        fit=fit,
    )


def consensus_from_triples(
    triples: Iterable[tuple[int, int, int]], *, method: Method, scale: Scale = "likert"
) -> Consensus:
    """The same from (item_id, reviewer_id, rating) rows, as ``values_list`` returns them."""
    rows = np.array(list(triples), dtype=np.int64).reshape(-1, 3)
    return consensus_compute(
        item_ids=rows[:, 0], reviewer_ids=rows[:, 1], ratings=rows[:, 2], method=method, scale=scale
    )


# --- a study's consensus, as the snapshot task stores it ------------------------------------

# What a study stores per item, each a (method, scale) fit: the API's ``?consensus=`` names them.
STUDY_FITS: dict[str, tuple[Method, Scale]] = {
    "dawid_skene": ("dawid_skene", "binary"),
    "dawid_skene_likert": ("dawid_skene", "likert"),
    "mace": ("mace", "binary"),
}
# The API's and the export's consensus when none is asked for: binary like the study's success
# figures, and Dawid-Skene because it weighs each reviewer by their own confusion matrix.
DEFAULT_FIT = "dawid_skene"
EXAMPLE_ITEMS = 5


@dataclass(frozen=True)
class StudyConsensus:
    """Every stored fit of a study (STUDY_FITS) over the same items, and the summary its snapshot keeps."""

    item_ids: IntArray
    fits: dict[str, Consensus]
    summary: dict[str, Any]


def _differences(model: Consensus, majority: FloatArray, item_ids: IntArray) -> dict[str, Any]:
    """Where the model's label differs from the majority's, among items with a majority (NaN: a tie)."""
    decided = ~np.isnan(majority)
    differs = decided & (model.labels != np.nan_to_num(majority).astype(np.int64))
    return {
        "items": int(decided.sum()),
        "ties": int((~decided).sum()),
        "differs": int(differs.sum()),
        "percent": float(100 * differs.sum() / decided.sum()) if decided.any() else None,
        "examples": [int(item) for item in item_ids[differs][:EXAMPLE_ITEMS]],
    }


def _strict_majority(data_items: IntArray, values: IntArray, n_items: int, n_classes: int) -> FloatArray:
    """Per item, the class more than half the reviews gave, NaN when none did (a tie, or a split)."""
    counts = np.bincount(data_items * n_classes + values, minlength=n_items * n_classes).reshape(n_items, n_classes)
    totals = counts.sum(axis=1)
    top = counts.argmax(axis=1)
    return np.where(2 * counts.max(axis=1) > totals, top, np.nan)


def study_consensus_compute(
    *, item_ids: npt.ArrayLike, reviewer_ids: npt.ArrayLike, ratings: npt.ArrayLike
) -> StudyConsensus:
    """Dawid-Skene (binary and 0-4) and MACE (binary) over one study's reviews, with the summary the
    dashboard and the reviewer table read: each reviewer's reliability per fit, and how often
    Dawid-Skene's label differs from the majority vote (a strict majority, as the study's success
    label; items where reviewers tie have no majority and are counted apart)."""
    items = np.asarray(item_ids, dtype=np.int64)
    reviewers = np.asarray(reviewer_ids, dtype=np.int64)
    values = np.asarray(ratings, dtype=np.int64)
    fits = {
        name: consensus_compute(item_ids=items, reviewer_ids=reviewers, ratings=values, method=method, scale=scale)
        for name, (method, scale) in STUDY_FITS.items()
    }
    unique_items, item_codes = np.unique(items, return_inverse=True)
    binary = (values >= SUCCESS_THRESHOLD).astype(np.int64)
    majority_binary = _strict_majority(item_codes, binary, len(unique_items), 2)
    majority_likert = _strict_majority(item_codes, values, len(unique_items), 5)
    reliability: dict[str, dict[str, float]] = {}
    for name, fit in fits.items():
        for reviewer, value in fit.reviewer_reliability().items():
            reliability.setdefault(str(reviewer), {})[name] = value
    summary = {
        "items": len(unique_items),
        "reviews": len(items),
        "reliability": reliability,
        "versus_majority": {
            "binary": _differences(fits["dawid_skene"], majority_binary, unique_items),
            "likert": _differences(fits["dawid_skene_likert"], majority_likert, unique_items),
        },
        "iterations": {name: fit.fit.iterations for name, fit in fits.items()},
    }
    return StudyConsensus(item_ids=unique_items, fits=fits, summary=summary)
