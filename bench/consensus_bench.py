"""Consensus benchmark: majority vote, Dawid-Skene and MACE over 38,961 items x 3 reviewers, ours beside crowd-kit.

    python bench/consensus_bench.py [--items 38961] [--reviewers 100] [--runs 3] [--reference-runs 1]
        [--seed 42] [--json PATH]

No database: it draws a seeded synthetic study the size of the released data set. Each item's
true 0-4 rating follows the released self-ratings' proportions; 3 of --reviewers reviewers rate
it, drawn at random. Most reviewers err towards neighbouring ratings (an ordinal confusion
matrix, accuracy 0.45-0.85 per reviewer); one in ten is a spammer who rates from a fixed private
distribution whatever the item. Then, for each scale (Likert 0-4 and binary, rating >= 3) and
each method, it times:

- ours (agreement.consensus.consensus_compute: encoding, the fit and the labels), best and
  median of --runs;
- crowd-kit 1.4.2's MajorityVote, DawidSkene (n_iter=100, tol=1e-5) and MACE (n_iter=50,
  n_restarts=1: crowd-kit seeds every restart with the same random_state, so its default 10
  restarts repeat one run 10 times) on the same data, as a pandas frame built outside the timer,
  median of --reference-runs;

and prints the largest posterior difference between the two (they implement the same updates)
and each method's label accuracy against the drawn truth. Target: each of ours under 5 s.

Reviewers and labels are numbered in order of first appearance, which crowd-kit's MACE needs to
index its parameters consistently (tests/agreement/test_consensus.py, ``recoded``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from crowdkit.aggregation import MACE, DawidSkene, MajorityVote
from figures import Figure, figures_write

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agreement.consensus import METHODS, consensus_compute  # noqa: E402
from agreement.statistics import SUCCESS_THRESHOLD  # noqa: E402

RELEASED_ITEMS = 38_961
SELF_RATINGS = [16_475, 4_367, 4_936, 4_249, 8_934]  # the released self-ratings, 0-4 (DOMAIN.md)
PER_ITEM = 3
SPAMMER_SHARE = 0.1


def study_draw(*, items: int, reviewers: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(truth per item, and per response: item, reviewer, rating), seeded."""
    rng = np.random.default_rng(seed)
    prior = np.array(SELF_RATINGS) / sum(SELF_RATINGS)
    truth = rng.choice(5, items, p=prior)
    confusion = np.empty((reviewers, 5, 5))  # [reviewer, true, given]
    distance = np.abs(np.arange(5)[:, None] - np.arange(5)[None, :])
    for reviewer in range(reviewers):
        if rng.random() < SPAMMER_SHARE:
            confusion[reviewer] = rng.dirichlet(np.ones(5))
            continue
        accuracy = rng.uniform(0.45, 0.85)
        # Errors fall off with distance from the true rating.
        weights = np.where(distance == 0, 0.0, 0.5**distance)
        confusion[reviewer] = (1 - accuracy) * weights / weights.sum(axis=1, keepdims=True) + accuracy * (distance == 0)
    chosen = np.argsort(rng.random((items, reviewers)), axis=1)[:, :PER_ITEM]
    cumulative = np.cumsum(confusion[chosen, truth[:, None], :], axis=2)
    ratings = (rng.random((items, PER_ITEM))[:, :, None] > cumulative).sum(axis=2)
    return truth, np.repeat(np.arange(items), PER_ITEM), chosen.ravel(), ratings.ravel()


def reference_fit(method: str, frame: pd.DataFrame) -> np.ndarray:
    """crowd-kit's posteriors, rows by task and columns by label."""
    if method == "majority_vote":
        probas = MajorityVote().fit_predict_proba(frame)
    elif method == "dawid_skene":
        probas = DawidSkene(n_iter=100, tol=1e-5).fit_predict_proba(frame)
    else:
        probas = MACE(n_iter=50, n_restarts=1, random_state=0).fit_predict_proba(frame)
    return probas.sort_index()[sorted(probas.columns)].to_numpy()


def main() -> None:
    import warnings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=RELEASED_ITEMS)
    parser.add_argument("--reviewers", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reference-runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", metavar="PATH", help="Also write the key figures to PATH (for bench/compare.py).")
    args = parser.parse_args()
    # crowd-kit 1.4.2 uses pandas keywords that pandas 3.1 deprecates; one warning per call is noise here.
    warnings.filterwarnings("ignore", module="crowdkit")

    truth, items, reviewers, ratings = study_draw(items=args.items, reviewers=args.reviewers, seed=args.seed)
    print(
        f"Study: {args.items:,} items x {PER_ITEM} reviewers of {args.reviewers} ({len(ratings):,} ratings), "
        f"seed {args.seed}; ours best / median of {args.runs}, crowd-kit median of {args.reference_runs}"
    )
    figures: list[Figure] = []
    for scale in ("likert", "binary"):
        values = ratings if scale == "likert" else (ratings >= SUCCESS_THRESHOLD).astype(np.int64)
        scale_truth = truth if scale == "likert" else (truth >= SUCCESS_THRESHOLD).astype(np.int64)
        frame = pd.DataFrame({"task": items, "worker": reviewers, "label": values})
        frame = frame.assign(worker=pd.factorize(frame["worker"])[0], label=pd.factorize(frame["label"])[0])
        # Recoding permuted the labels; map the truth the same way.
        lookup = np.full(5, -1)
        first_seen = pd.factorize(values)[1]
        lookup[first_seen] = np.arange(len(first_seen))
        recoded_truth = lookup[scale_truth]
        print(f"{scale.capitalize()} scale ({len(np.unique(values))} classes)")
        for method in METHODS:
            times, results = [], []
            for _ in range(args.runs):
                started = time.perf_counter()
                results.append(
                    consensus_compute(
                        item_ids=frame["task"], reviewer_ids=frame["worker"], ratings=frame["label"], method=method
                    )
                )
                times.append(time.perf_counter() - started)
            reference_times, references = [], []
            for _ in range(args.reference_runs):
                started = time.perf_counter()
                references.append(reference_fit(method, frame))
                reference_times.append(time.perf_counter() - started)
            result, reference = results[-1], references[-1]
            difference = float(np.abs(result.fit.posteriors - reference).max())
            correct = float((result.fit.posteriors.argmax(axis=1) == recoded_truth).mean())
            ours_median, reference_median = statistics.median(times), statistics.median(reference_times)
            print(
                f"  {method:<14} ours {min(times):6.3f} / {ours_median:6.3f} s   crowd-kit {reference_median:7.3f} s"
                f"   crowd-kit / ours {reference_median / ours_median:6.1f}x   iterations {result.fit.iterations:3d}"
                f"   max |posterior diff| {difference:.1e}   accuracy {correct:.3f}  (target < 5 s)"
            )
            figures += [
                Figure(f"{scale} {method}, ours", ours_median, "s", "lower"),
                Figure(f"{scale} {method}, crowd-kit", reference_median, "s", "info"),
            ]
    if args.json:
        figures_write(args.json, bench="consensus_bench", figures=figures)


if __name__ == "__main__":
    main()
