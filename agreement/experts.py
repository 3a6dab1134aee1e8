"""Experts against the crowd: on the items that asked for an expert, how the expert's rating
compares with the crowd's. The expert is a rater set of their own (review.models.RaterRole), so
none of this enters the crowd's agreement figures; it says where the crowd may be wrong.

The crowd's verdict on an item is its majority vote on the binary scale (rating >= 3), a tie
counting as no success, as everywhere else in Triad. Cohen's kappa compares the expert's
verdict with it over the items, corrected for chance; it is undefined (None) when chance
agreement is 1 (every verdict the same on both sides).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agreement.statistics import SUCCESS_THRESHOLD, item_success_label


@dataclass(frozen=True)
class ExpertItem:
    item_id: int
    position: int
    domain: str
    expert_rating: int
    crowd_ratings: tuple[int, ...]

    @property
    def crowd_success(self) -> bool:
        # The one definition of a successful item; a tie (None) is no success.
        successes = sum(rating >= SUCCESS_THRESHOLD for rating in self.crowd_ratings)
        return item_success_label(successes=successes, reviews=len(self.crowd_ratings)) == 1

    @property
    def expert_success(self) -> bool:
        return self.expert_rating >= SUCCESS_THRESHOLD

    @property
    def crowd_mean(self) -> float:
        return sum(self.crowd_ratings) / len(self.crowd_ratings)


def cohen_kappa(pairs: list[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of two raters' binary verdicts; None when chance agreement is 1 or there are none."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    chance = first * second + (1 - first) * (1 - second)
    return None if chance >= 1 else (observed - chance) / (1 - chance)


def expert_comparison_compute(items: Iterable[ExpertItem]) -> dict[str, Any]:
    """The dashboard's figures: overall and per domain, and the items themselves (study order)."""
    rated = sorted((item for item in items if item.crowd_ratings), key=lambda item: item.position)
    by_domain: defaultdict[str, list[ExpertItem]] = defaultdict(list)
    for item in rated:
        by_domain[item.domain].append(item)
    return {
        **_figures(rated),
        "domains": [{"domain": domain, **_figures(group)} for domain, group in sorted(by_domain.items())],
        "items": [
            {
                "item_id": item.item_id,
                "position": item.position,
                "domain": item.domain,
                "expert_rating": item.expert_rating,
                "crowd_ratings": list(item.crowd_ratings),
                "crowd_mean": item.crowd_mean,
                "agree": item.expert_success == item.crowd_success,
            }
            for item in rated
        ],
    }


def _figures(items: list[ExpertItem]) -> dict[str, Any]:
    n = len(items)
    pairs = [(item.expert_success, item.crowd_success) for item in items]
    return {
        "n": n,
        "agree": sum(a == b for a, b in pairs),
        "agree_share": sum(a == b for a, b in pairs) / n if n else None,
        "kappa": cohen_kappa(pairs),
        "expert_success_share": sum(a for a, _ in pairs) / n if n else None,
        "crowd_success_share": sum(b for _, b in pairs) / n if n else None,
        "mean_abs_difference": sum(abs(item.expert_rating - item.crowd_mean) for item in items) / n if n else None,
    }
