"""Consensus labels recover known truth on synthetic data and match crowd-kit 1.4.2 where the algorithms are the same.

Synthetic data: items with a true class drawn from a prior, each rated by 3 of 20 reviewers
drawn at random, each reviewer answering from their own confusion matrix (a per-class accuracy
drawn uniformly, the rest spread over the other classes by a Dirichlet draw). Seeds are fixed,
so every figure below is deterministic; the tolerances were set with margin over seeds 0-4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import MACE, DawidSkene, MajorityVote

from agreement.consensus import (
    Consensus,
    Responses,
    consensus_compute,
    consensus_from_triples,
    dawid_skene,
    mace,
    majority_vote,
    responses_encode,
)

LIKERT_PRIOR = [0.35, 0.15, 0.15, 0.15, 0.2]
BINARY_PRIOR = [0.6, 0.4]
# crowd-kit 1.4.2 uses pandas' inplace keywords, which pandas 3.1 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:::crowdkit")
# Matching crowd-kit: same initialisation, same updates, same stopping rule; only the order of
# floating-point sums differs, so agreement is to rounding, far inside this.
MATCH = 1e-6


@dataclass(frozen=True)
class Synthetic:
    truth: np.ndarray  # (items,) true class code
    confusion: np.ndarray  # (reviewers, given, true)
    items: np.ndarray  # (responses,)
    reviewers: np.ndarray
    ratings: np.ndarray

    def responses(self) -> Responses:
        return responses_encode(self.items, self.reviewers, self.ratings)

    def empirical_confusion(self) -> np.ndarray:
        """The confusion each reviewer actually showed on these items (the generating one plus sampling noise)."""
        shape = self.confusion.shape
        counts = np.zeros(shape)
        np.add.at(counts, (self.reviewers, self.ratings, self.truth[self.items]), 1)
        return counts / counts.sum(axis=1, keepdims=True)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"task": self.items, "worker": self.reviewers, "label": self.ratings})


def synthetic(
    *,
    seed: int,
    items: int,
    prior: list[float],
    accuracy: tuple[float, float],
    reviewers: int = 20,
    spammers: int = 0,
    per_item: int = 3,
) -> Synthetic:
    """Seeded ratings; the first ``spammers`` reviewers answer uniformly at random whatever the truth."""
    rng = np.random.default_rng(seed)
    classes = len(prior)
    truth = rng.choice(classes, items, p=prior)
    confusion = np.empty((reviewers, classes, classes))
    for reviewer in range(reviewers):
        for true in range(classes):
            correct = rng.uniform(*accuracy)
            wrong = rng.dirichlet(np.ones(classes - 1)) * (1 - correct)
            confusion[reviewer, :, true] = np.insert(wrong, true, correct)
    confusion[:spammers] = 1 / classes
    chosen = np.argsort(rng.random((items, reviewers)), axis=1)[:, :per_item]
    cumulative = np.cumsum(confusion[chosen, :, truth[:, None]], axis=2)
    ratings = (rng.random((items, per_item))[:, :, None] > cumulative).sum(axis=2)
    return Synthetic(truth, confusion, np.repeat(np.arange(items), per_item), chosen.ravel(), ratings.ravel())


def accuracy(posteriors: np.ndarray, truth: np.ndarray) -> float:
    return float((posteriors.argmax(axis=1) == truth).mean())


# --- recovering the truth -------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary_data() -> Synthetic:
    return synthetic(seed=0, items=20_000, prior=BINARY_PRIOR, accuracy=(0.65, 0.9))


@pytest.fixture(scope="module")
def likert_data() -> Synthetic:
    return synthetic(seed=0, items=40_000, prior=LIKERT_PRIOR, accuracy=(0.65, 0.9))


@pytest.mark.parametrize("scale", ["binary", "likert"])
def test_dawid_skene_recovers_the_reviewers_confusion_matrices_priors_and_reliability(
    scale: str, binary_data: Synthetic, likert_data: Synthetic
) -> None:
    data = binary_data if scale == "binary" else likert_data
    prior = np.array(BINARY_PRIOR if scale == "binary" else LIKERT_PRIOR)
    fit = dawid_skene(data.responses())
    assert fit.converged
    assert fit.confusion is not None
    assert fit.priors is not None
    # Within 0.05 of what each reviewer actually did on these items; within 0.07 of the matrix
    # they were drawn from, which adds sampling noise (about 200 responses per Likert column).
    assert np.abs(fit.confusion - data.empirical_confusion()).max() < 0.05
    assert np.abs(fit.confusion - data.confusion).max() < 0.07
    assert np.abs(fit.priors - prior).max() < 0.03
    # Reliability: the chance of labelling a random item correctly, diag(confusion) . prior.
    true_reliability = np.einsum("wcc,c->w", data.confusion, prior)
    assert np.abs(fit.reliability - true_reliability).max() < 0.04


def test_dawid_skene_labels_items_at_least_as_accurately_as_the_majority_vote(
    binary_data: Synthetic, likert_data: Synthetic
) -> None:
    binary = binary_data.responses()
    assert accuracy(dawid_skene(binary).posteriors, binary_data.truth) >= 0.86
    assert accuracy(dawid_skene(binary).posteriors, binary_data.truth) >= accuracy(
        majority_vote(binary).posteriors, binary_data.truth
    )
    likert = likert_data.responses()
    # On five classes the confusion matrices help: reviewers' errors are not symmetric.
    assert accuracy(dawid_skene(likert).posteriors, likert_data.truth) >= 0.92
    assert accuracy(dawid_skene(likert).posteriors, likert_data.truth) >= (
        accuracy(majority_vote(likert).posteriors, likert_data.truth) + 0.015
    )


@pytest.mark.parametrize("prior", [BINARY_PRIOR, LIKERT_PRIOR], ids=["binary", "likert"])
def test_mace_finds_the_spammers_and_beats_the_majority_vote_they_mislead(prior: list[float]) -> None:
    data = synthetic(seed=0, items=20_000, prior=prior, accuracy=(0.8, 0.95), spammers=5)
    responses = data.responses()
    fit = mace(responses)
    # Spammers answer at random: MACE gives them reliability near 0, everyone else well above.
    assert fit.reliability[:5].max() < 0.1
    assert fit.reliability[5:].min() > 0.55
    assert accuracy(fit.posteriors, data.truth) >= accuracy(majority_vote(responses).posteriors, data.truth) + 0.015


# --- against crowd-kit ----------------------------------------------------------------------


@pytest.fixture(scope="module", params=["binary", "likert"])
def reference_data(request: pytest.FixtureRequest) -> Synthetic:
    prior = BINARY_PRIOR if request.param == "binary" else LIKERT_PRIOR
    return synthetic(seed=3, items=3_000, prior=prior, accuracy=(0.55, 0.9), reviewers=40, spammers=4)


def by_label(frame: pd.DataFrame) -> np.ndarray:
    """crowd-kit's probabilities with rows in task order and columns in label order (its own order varies)."""
    return frame.sort_index()[sorted(frame.columns)].to_numpy()


def test_majority_vote_matches_crowd_kit_and_breaks_ties_towards_the_smaller_label(reference_data: Synthetic) -> None:
    ours = majority_vote(reference_data.responses()).posteriors
    theirs = by_label(MajorityVote().fit_predict_proba(reference_data.frame()))
    np.testing.assert_array_equal(ours, theirs)
    # crowd-kit breaks ties by its column order, which follows label frequency; ours by label.
    tied = (ours == ours.max(axis=1, keepdims=True)).sum(axis=1) > 1
    labels = MajorityVote().fit_predict(reference_data.frame()).sort_index().to_numpy()
    np.testing.assert_array_equal(ours.argmax(axis=1)[~tied], labels[~tied])
    result = consensus_from_triples([(7, 1, 3), (7, 2, 1), (7, 3, 2)], method="majority_vote")
    assert result.item(7) == {"method": "majority_vote", "label": 1, "probability": pytest.approx(1 / 3)}


def test_dawid_skene_matches_crowd_kit_to_1e_6_with_the_same_iterations(reference_data: Synthetic) -> None:
    ours = dawid_skene(reference_data.responses())
    reference = DawidSkene(n_iter=100, tol=1e-5)
    theirs = by_label(reference.fit_predict_proba(reference_data.frame()))
    assert ours.iterations == len(reference.loss_history_)
    np.testing.assert_allclose(ours.posteriors, theirs, rtol=0, atol=MATCH)
    assert ours.priors is not None
    assert ours.confusion is not None
    assert reference.priors_ is not None
    assert reference.errors_ is not None
    np.testing.assert_allclose(ours.priors, reference.priors_.sort_index().to_numpy(), rtol=0, atol=MATCH)
    errors = reference.errors_[sorted(reference.errors_.columns)]
    for (reviewer, label), row in errors.iterrows():
        np.testing.assert_allclose(ours.confusion[reviewer, label], row.to_numpy(), rtol=0, atol=MATCH)
    # Labels the reviewer never gave have no row there and probability 0 here.
    given = set(errors.index)
    for reviewer, label in np.ndindex(ours.confusion.shape[:2]):
        if (reviewer, label) not in given:
            assert not ours.confusion[reviewer, label].any()


def recoded(data: Synthetic) -> pd.DataFrame:
    """The ratings with reviewers and labels renumbered in order of first appearance.

    crowd-kit's MACE indexes its parameters by first appearance (pd.factorize) but sums the
    spamming counts with a sorted groupby, so the two orders must coincide for its result to
    mean what it says; this renumbering makes them coincide, for crowd-kit and for us.
    """
    frame = data.frame()
    return frame.assign(worker=pd.factorize(frame["worker"])[0], label=pd.factorize(frame["label"])[0])


@pytest.mark.parametrize("method", ["vb", "em"])
def test_mace_matches_crowd_kit_to_1e_6(reference_data: Synthetic, method: Literal["vb", "em"]) -> None:
    frame = recoded(reference_data)
    ours = mace(responses_encode(frame["task"], frame["worker"], frame["label"]), method=method)
    # crowd-kit seeds every restart with the same random_state, so its restarts are identical.
    reference = MACE(n_restarts=1, n_iter=50, method=method, random_state=0)
    theirs = by_label(reference.fit_predict_proba(frame))
    np.testing.assert_allclose(ours.posteriors, theirs, rtol=0, atol=MATCH)
    assert ours.spamming is not None
    assert ours.strategies is not None
    np.testing.assert_allclose(ours.spamming, reference.spamming_, rtol=0, atol=MATCH)
    np.testing.assert_allclose(ours.strategies, reference.thetas_, rtol=0, atol=MATCH)


# --- the entry points -----------------------------------------------------------------------


def test_consensus_serves_each_item_its_method_label_and_probability() -> None:
    triples = [(10, 1, 4), (10, 2, 3), (10, 3, 0), (11, 1, 0), (11, 2, 1), (11, 3, 0)]
    for method in ("majority_vote", "dawid_skene", "mace"):
        result = consensus_from_triples(triples, method=method, scale="binary")
        assert isinstance(result, Consensus)
        assert result.item(10) == {"method": method, "label": 1, "probability": result.probabilities[0]}
        assert (result.item(11) or {}).get("label") == 0
        assert result.item(12) is None
        assert 0.5 <= result.probabilities.min() <= result.probabilities.max() <= 1
        assert set(result.reviewer_reliability()) == {1, 2, 3}


def test_the_binary_scale_counts_ratings_of_3_and_above_as_attack_success() -> None:
    triples = [(1, 1, 3), (1, 2, 3), (1, 3, 2), (2, 1, 2), (2, 2, 2), (2, 3, 4)]
    likert = consensus_from_triples(triples, method="majority_vote", scale="likert")
    binary = consensus_from_triples(triples, method="majority_vote", scale="binary")
    assert likert.labels.tolist() == [3, 2]
    assert binary.labels.tolist() == [1, 0]
    np.testing.assert_array_equal(binary.classes, [0, 1])


def test_consensus_is_deterministic_and_reports_labels_in_rating_values() -> None:
    data = synthetic(seed=5, items=2_000, prior=LIKERT_PRIOR, accuracy=(0.6, 0.9))
    ratings = data.ratings + 0  # codes 0-4 are the ratings themselves here
    for method in ("majority_vote", "dawid_skene", "mace"):
        first = consensus_compute(
            item_ids=data.items * 3 + 100, reviewer_ids=data.reviewers + 50, ratings=ratings, method=method
        )
        second = consensus_compute(
            item_ids=data.items * 3 + 100, reviewer_ids=data.reviewers + 50, ratings=ratings, method=method
        )
        np.testing.assert_array_equal(first.fit.posteriors, second.fit.posteriors)
        np.testing.assert_array_equal(first.item_ids, np.arange(2_000) * 3 + 100)
        np.testing.assert_array_equal(first.reviewer_ids, np.arange(20) + 50)
        assert set(first.labels.tolist()) <= {0, 1, 2, 3, 4}


def test_consensus_of_no_ratings_is_empty_and_an_unknown_method_is_refused() -> None:
    empty = consensus_from_triples([], method="dawid_skene")
    assert len(empty.item_ids) == 0
    assert empty.item(1) is None
    with pytest.raises(ValueError, match="unknown consensus method"):
        consensus_from_triples([(1, 1, 1)], method=cast(Any, "glad"))
