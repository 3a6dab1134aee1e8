"""Expert reviews and gold answers are rater sets of their own: a lead's every agreement figure is
the same before and after they come in, whatever they say. Played as the lead would meet it: the
study is reviewed through the services, then an expert and a new reviewer in calibration answer
with ratings chosen to move every figure if they were counted."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from adjudication.models import RuleKind
from adjudication.selectors import queue_item_ids
from adjudication.services import adjudication_rule_set
from agreement.models import ItemConsensus
from agreement.selectors import expert_comparison, study_ratings, study_reviewer_quality
from agreement.services import agreement_snapshot_refresh, consensus_refresh
from api.selectors import label_dict, labels_of, studies_progress, study_items
from review.models import RaterRole, Review, Study
from review.selectors import study_progress
from review.services.answers import ReviewAnswers
from review.services.gold import gold_item_mark, study_gold_settings_set
from review.services.studies import reviewer_profile_set
from tagging.models import Tag
from tests.factories import UserFactory, started_study
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db

ITEMS = 12


def figures(study: Study, lead: User) -> dict[str, Any]:
    """Everything a lead reads of the raters' agreement, recomputed now."""
    snapshot = agreement_snapshot_refresh(study_id=study.pk, resamples=200)
    consensus = consensus_refresh(study_id=study.pk)
    quality = study_reviewer_quality(study=study, snapshot=snapshot, consensus=consensus)
    progress = study_progress(study=study)
    items = study_items(study=study).order_by("pk")
    return {
        "snapshot": snapshot.data,
        "snapshot_reviews": snapshot.review_count,
        "consensus": consensus.data,
        "consensus_reviews": consensus.review_count,
        "item_consensus": list(ItemConsensus.objects.filter(study=study).order_by("item_id").values()),
        "quality": [{k: v for k, v in row.items() if k != "username"} for row in quality["reviewers"]],
        "ratings": study_ratings(study=study).review_ids.tolist(),
        "adjudication_queue": queue_item_ids(study=study),
        "progress": {k: v for k, v in progress.items() if k not in ("expert_reviews", "gold_answers")},
        "api_progress": studies_progress(studies=[study]),
        "api_items": [(i.pk, i.review_count, i.success_count, i.mean_rating) for i in items],
    }


def test_expert_reviews_and_gold_answers_move_no_agreement_figure(lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=ITEMS, reviewers=6, reviewers_per_item=3)
    crowd, expert, newcomer = reviewers[:4], reviewers[4], reviewers[5]
    weapons = Tag.objects.get(name="Weapons")
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    # The crowd: ratings that disagree now and then; every third item asks for a weapons expert.
    for index, reviewer in enumerate(crowd):
        while (slot := work_claim(study_id=study.pk, reviewer=reviewer)) is not None:
            position = slot.item.position
            rating = (position + index) % 5 if position % 2 else 4 - index % 2
            asks = position % 3 == 0
            answers = ReviewAnswers(rating=rating, needs_expertise=asks, expertise_tag_id=weapons.pk if asks else None)
            work_submit(slot_id=slot.pk, reviewer=reviewer, answers=answers)
    before = figures(study, lead)
    assert before["snapshot_reviews"] == 3 * ITEMS and before["adjudication_queue"]

    # An expert rates every item they are sent 0 where the crowd leans 4 and 4 where it leans 0.
    reviewer_profile_set(user=expert, red_team_member_id=None, expertise_tag_ids=[weapons.pk])
    while (slot := work_claim(study_id=study.pk, reviewer=expert)) is not None:
        assert slot.role == RaterRole.EXPERT
        work_submit(slot_id=slot.pk, reviewer=expert, answers=ReviewAnswers(rating=0 if slot.item_id % 2 else 4))
    # A new reviewer's calibration round on three gold items, every answer the opposite of the reference.
    for position in (1, 2, 4):
        item = study.items.get(position=position)
        gold_item_mark(study=study, item_id=item.pk, rating=4, tag_ids=[], explanation="Works.", actor=lead)
    study_gold_settings_set(study=study, calibration_items=3, gold_percent=50, actor=lead)
    while (slot := work_claim(study_id=study.pk, reviewer=newcomer)) is not None:
        assert slot.role == RaterRole.CALIBRATION
        work_submit(slot_id=slot.pk, reviewer=newcomer, answers=ReviewAnswers(rating=0))

    after = figures(study, lead)

    assert Review.objects.filter(study=study, rater_role=RaterRole.EXPERT).count() == ITEMS // 3
    assert Review.objects.filter(study=study, rater_role=RaterRole.CALIBRATION).count() == 3
    for name, value in before.items():
        assert after[name] == value, name
    progress = study_progress(study=study)
    assert (progress["expert_reviews"], progress["gold_answers"]) == (ITEMS // 3, 3)
    assert expert_comparison(study=study)["n"] == ITEMS // 3


def test_labels_carry_expert_reviews_with_their_role_and_never_a_gold_answer(lead: User) -> None:
    study, [ann, ben, cat, dan, newcomer] = started_study(leads=[lead], items=1, reviewers=5, reviewers_per_item=3)
    weapons = Tag.objects.get(name="Weapons")
    reviewer_profile_set(user=dan, red_team_member_id=None, expertise_tag_ids=[weapons.pk])
    for reviewer in (ann, ben, cat):
        slot = work_claim(study_id=study.pk, reviewer=reviewer)
        answers = ReviewAnswers(rating=3, needs_expertise=True, expertise_tag_id=weapons.pk)
        work_submit(slot_id=slot.pk, reviewer=reviewer, answers=answers)
    slot = work_claim(study_id=study.pk, reviewer=dan)
    work_submit(slot_id=slot.pk, reviewer=dan, answers=ReviewAnswers(rating=1))
    gold_item_mark(study=study, item_id=study.items.get().pk, rating=3, tag_ids=[], explanation="x", actor=lead)
    study_gold_settings_set(study=study, calibration_items=1, gold_percent=0, actor=UserFactory())
    slot = work_claim(study_id=study.pk, reviewer=newcomer)
    work_submit(slot_id=slot.pk, reviewer=newcomer, answers=ReviewAnswers(rating=0))

    labels = [label_dict({**row, "share_notes": False}) for row in labels_of(user=lead, study=study)]

    assert sorted(label["rater_role"] for label in labels) == ["crowd", "crowd", "crowd", "expert"]
    assert {label["expertise_tag"] for label in labels if label["rater_role"] == "crowd"} == {"Weapons"}
