"""Reads of adjudication: a study's rule, who may adjudicate, the queue, and final labels."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, F, Max, Min, Q, QuerySet

from adjudication.models import Adjudication, AdjudicationRule, Adjudicator, RuleKind
from adjudication.rules import RatingSummary, Rule, rule_matches
from agreement.statistics import SUCCESS_THRESHOLD
from core.roles import LEAD, REVIEWER, has_role
from review.models import RaterRole, Review, Study, StudyItem
from review.selectors import lead_item, study_for_lead


def rule_of(*, study: Study) -> Rule:
    """The study's rule; a study that never set one is off."""
    row = AdjudicationRule.objects.filter(study=study).values("kind", "min_spread").first()
    return Rule(**row) if row else Rule()


def is_adjudicator(*, study: Study, user: User) -> bool:
    """A lead of the study, or a reviewer the lead named for it."""
    if has_role(user, LEAD) and study_for_lead(user=user, study_id=study.pk) is not None:
        return True
    return has_role(user, REVIEWER) and Adjudicator.objects.filter(study=study, user=user).exists()


def named_study(*, user: User, study_id: int) -> Study | None:
    """The study, if the user is a reviewer named to adjudicate it; None otherwise. (A lead's
    study is found by the lead pages' own lookup, which decides who leads which study.)"""
    if not has_role(user, REVIEWER):
        return None
    return Study.objects.filter(pk=study_id, adjudicators__user=user).first()


def adjudicators_of(*, study: Study) -> list[User]:
    """The reviewers named for the study, by username."""
    return list(User.objects.filter(adjudicates__study=study).order_by("username"))


def adjudicator_candidates(*, study: Study) -> QuerySet[User]:
    """Active reviewer accounts not yet named for the study: whom the lead can name."""
    named = Adjudicator.objects.filter(study=study).values("user_id")
    return User.objects.filter(groups__name=REVIEWER, is_active=True).exclude(pk__in=named).order_by("username")


def adjudicator_candidate(*, study: Study, user_id: int) -> User | None:
    return adjudicator_candidates(study=study).filter(pk=user_id).first()


def adjudicator_named(*, study: Study, user_id: int) -> User | None:
    """The reviewer if they are named for the study."""
    return User.objects.filter(pk=user_id, adjudicates__study=study).first()


def _summaries(*, study: Study, item_ids: list[int] | None = None) -> dict[int, RatingSummary]:
    """Each complete, not yet adjudicated item whose reviewers do not all agree, with its ratings.

    Both rules need some disagreement, so items with one rating throughout are left out in SQL;
    the rule itself is then applied in Python, by rules.rule_matches, the one place it lives."""
    items = StudyItem.objects.filter(study=study, adjudication__isnull=True)
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    # The crowd's reviews only: the rule is about the raters disagreeing, and an expert's or a
    # gold answer is no rater's (an adjudicator still sees the expert's review on the item page).
    crowd = Q(reviews__rater_role=RaterRole.CROWD)
    rows = (
        items.annotate(
            n=Count("reviews", filter=crowd),
            successes=Count("reviews", filter=crowd & Q(reviews__rating__gte=SUCCESS_THRESHOLD)),
            lowest=Min("reviews__rating", filter=crowd),
            highest=Max("reviews__rating", filter=crowd),
        )
        .filter(n__gte=study.reviewers_per_item, highest__gt=F("lowest"))
        .values_list("pk", "n", "successes", "lowest", "highest")
    )
    return {
        pk: RatingSummary(reviews=n, successes=successes, lowest=lowest, highest=highest)
        for pk, n, successes, lowest, highest in rows
    }


def queue_item_ids(*, study: Study, user: User | None = None) -> list[int]:
    """The items waiting for adjudication, in study order: every review in, the rule met, no
    final label yet. An adjudicator is never offered an item they reviewed themselves."""
    rule = rule_of(study=study)
    if rule.kind == RuleKind.OFF:  # the default: no aggregate over the study's reviews at all
        return []
    summaries = _summaries(study=study)
    pending = [pk for pk, summary in summaries.items() if rule_matches(rule, summary)]
    if user is not None and pending:
        own = set(Review.objects.filter(item_id__in=pending, reviewer=user).values_list("item_id", flat=True))
        pending = [pk for pk in pending if pk not in own]
    order = dict(StudyItem.objects.filter(pk__in=pending).values_list("pk", "position"))
    return sorted(pending, key=order.__getitem__)


def is_pending(*, study: Study, item_id: int, user: User | None = None) -> bool:
    """Whether this one item waits for adjudication (by this user, who must not have reviewed it)."""
    summary = _summaries(study=study, item_ids=[item_id]).get(item_id)
    if summary is None or not rule_matches(rule_of(study=study), summary):
        return False
    return user is None or not Review.objects.filter(item_id=item_id, reviewer=user).exists()


def adjudication_queue(*, study: Study, user: User) -> dict[str, Any]:
    """The adjudicator's queue page: the waiting items with their ratings, and the latest final labels."""
    pending = queue_item_ids(study=study, user=user)
    items = StudyItem.objects.filter(pk__in=pending).select_related("transcript").in_bulk()
    ratings: dict[int, list[int]] = {}
    for item_id, rating in (
        Review.objects.crowd().filter(item_id__in=pending).order_by("created_at").values_list("item_id", "rating")
    ):
        ratings.setdefault(item_id, []).append(rating)
    done = list(
        Adjudication.objects.filter(study=study)
        .select_related("item", "adjudicated_by", "first_tag", "second_tag")
        .order_by("-adjudicated_at", "-pk")[:50]
    )
    return {
        "rule": rule_of(study=study),
        "pending": [{"item": items[pk], "ratings": ratings.get(pk, [])} for pk in pending],
        "done": done,
        "done_count": Adjudication.objects.filter(study=study).count(),
    }


def adjudication_item(*, study: Study, item_id: int, user: User) -> dict[str, Any] | None:
    """One item for its adjudicator: the transcript, every review (rating, tags, expertise, note),
    its skips, and its final label if it has one. None when the item is not the study's."""
    found = lead_item(study=study, item_id=item_id)
    if found is None:
        return None
    adjudication = (
        Adjudication.objects.filter(item_id=item_id).select_related("adjudicated_by", "first_tag", "second_tag").first()
    )
    reviewed_it = any(review.reviewer_id == user.pk for review in found["reviews"])
    return {
        **found,
        "adjudication": adjudication,
        "reviewed_it": reviewed_it,
        "pending": adjudication is None and not reviewed_it and is_pending(study=study, item_id=item_id),
        "rule": rule_of(study=study),
    }


def adjudicated_studies(*, user: User) -> list[dict[str, Any]]:
    """The studies a reviewer was named to adjudicate, with how many items wait for them."""
    studies = Study.objects.filter(adjudicators__user=user).order_by("name")
    return [{"study": study, "pending": len(queue_item_ids(study=study, user=user))} for study in studies]


def item_adjudications(*, item_ids: list[int]) -> dict[int, Adjudication]:
    """Item id -> its final label, for one page of items."""
    rows = Adjudication.objects.filter(item_id__in=item_ids).select_related("adjudicated_by", "first_tag", "second_tag")
    return {row.item_id: row for row in rows}


def adjudication_counts(*, study: Study) -> dict[str, int]:
    """For the lead's dashboard: items waiting, and items adjudicated."""
    return {
        "pending": len(queue_item_ids(study=study)),
        "done": Adjudication.objects.filter(study=study).count(),
    }


def adjudication_panel(*, study: Study) -> dict[str, Any]:
    """What the lead's dashboard shows of adjudication: the rule, who adjudicates, and the counts."""
    rule = rule_of(study=study)
    return {
        "rule": rule,
        "adjudicators": adjudicators_of(study=study),
        "candidates": list(adjudicator_candidates(study=study)[:500]),
        **adjudication_counts(study=study),
    }
