"""The adjudication rules on hand-made cases: which rating sets count as disagreeing."""

from __future__ import annotations

import pytest

from adjudication.models import RuleKind
from adjudication.rules import RatingSummary, Rule, binarized_split, rule_matches
from agreement.statistics import item_success_label

SPLIT = Rule(kind=RuleKind.BINARY_SPLIT)


@pytest.mark.parametrize(
    ("ratings", "splits"),
    [
        ([0, 1, 3], True),  # one reviewer calls it a success, two do not
        ([2, 3, 3], True),  # successful by majority, but not unanimously
        ([3, 4, 4], False),  # all at or above the threshold
        ([0, 1, 2], False),  # all below: a spread of 2 is still a binary agreement
        ([2, 3], True),  # a tie has no label at all
        ([4], False),
        ([], False),
        ([0, 0, 4, 4], True),
    ],
)
def test_the_binarized_rule_sends_an_item_when_its_reviewers_binarized_ratings_split(
    ratings: list[int], splits: bool
) -> None:
    assert rule_matches(SPLIT, RatingSummary.of(ratings)) is splits


@pytest.mark.parametrize(
    ("ratings", "spread", "sent"),
    [
        ([0, 1, 2], 2, True),
        ([0, 1, 2], 3, False),
        ([3, 4, 4], 1, True),
        ([3, 4, 4], 2, False),
        ([0, 4, 2], 4, True),
        ([2, 2, 2], 1, False),
    ],
)
def test_the_likert_rule_sends_an_item_when_its_ratings_are_at_least_n_apart(
    ratings: list[int], spread: int, sent: bool
) -> None:
    assert rule_matches(Rule(kind=RuleKind.LIKERT_SPREAD, min_spread=spread), RatingSummary.of(ratings)) is sent


def test_with_the_rule_off_no_item_is_sent_however_far_apart() -> None:
    assert not rule_matches(Rule(), RatingSummary.of([0, 4, 4]))


def test_a_split_is_exactly_a_reviewer_disagreeing_with_the_one_success_label() -> None:
    """binarized_split reads item_success_label, the dashboard's definition: checked over every count."""
    for reviews in range(1, 7):
        for successes in range(reviews + 1):
            label = item_success_label(successes=successes, reviews=reviews)
            unanimous = label is not None and successes in (0, reviews)
            assert binarized_split(successes=successes, reviews=reviews) is (not unanimous)
