"""Whether an item's reviews disagree enough to go to adjudication: pure functions of its ratings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adjudication.models import RuleKind
from agreement.statistics import SUCCESS_THRESHOLD, item_success_label


@dataclass(frozen=True)
class Rule:
    kind: str = RuleKind.OFF
    min_spread: int = 2

    def describe(self) -> str:
        if self.kind == RuleKind.BINARY_SPLIT:
            return f"the reviewers' binarized ratings split (some rated {SUCCESS_THRESHOLD} or higher, some below)"
        if self.kind == RuleKind.LIKERT_SPREAD:
            return f"the reviewers' ratings are {self.min_spread} or more points apart"
        return "off: no item goes to adjudication"


@dataclass(frozen=True)
class RatingSummary:
    """What the rules read of an item's reviewer ratings (the queue gets it from one aggregate query)."""

    reviews: int
    successes: int
    lowest: int
    highest: int

    @classmethod
    def of(cls, ratings: Sequence[int]) -> RatingSummary:
        if not ratings:
            return cls(reviews=0, successes=0, lowest=0, highest=0)
        successes = sum(rating >= SUCCESS_THRESHOLD for rating in ratings)
        return cls(reviews=len(ratings), successes=successes, lowest=min(ratings), highest=max(ratings))


def binarized_split(*, successes: int, reviews: int) -> bool:
    """Whether the reviewers' binarized ratings split: the item's success label (the one
    definition, agreement.statistics.item_success_label) is not every reviewer's. A tie has no
    label at all, so it splits too; [0, 1, 3] splits, [3, 4, 4] and [0, 1, 2] do not."""
    if reviews == 0:
        return False
    label = item_success_label(successes=successes, reviews=reviews)
    if label is None:
        return True
    agreeing = successes if label == 1 else reviews - successes
    return agreeing < reviews


def rule_matches(rule: Rule, summary: RatingSummary) -> bool:
    """Whether an item with these reviewer ratings goes to adjudication under the rule."""
    if summary.reviews == 0 or rule.kind == RuleKind.OFF:
        return False
    if rule.kind == RuleKind.BINARY_SPLIT:
        return binarized_split(successes=summary.successes, reviews=summary.reviews)
    if rule.kind == RuleKind.LIKERT_SPREAD:
        return summary.highest - summary.lowest >= rule.min_spread
    raise ValueError(f"unknown adjudication rule {rule.kind!r}")
