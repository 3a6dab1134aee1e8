"""Topic opt-outs inside work_claim: never an item whose known topics the reviewer opted out of.

Known topics are the transcript's source tags and the topics earlier reviewers of the item
chose. Runs on SQLite (the ORM pick) and on PostgreSQL (the raw pick-and-lease statement).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from review.models import Review, Slot, StudyItem
from review.services.answers import ReviewAnswers
from tagging.models import Tag
from tests.factories import review_everything, started_study
from transcripts.models import Transcript
from wellbeing.services.exposure import preference_set
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def topics() -> list[Tag]:
    return list(Tag.objects.order_by("position")[:3])


def items_of(study: Any) -> list[StudyItem]:
    return list(StudyItem.objects.filter(study=study).order_by("position"))


def claimed_items(study: Any, reviewer: Any) -> list[int]:
    """Every item the reviewer is offered, reviewing each, until nothing is left for them."""
    seen = []
    while (slot := work_claim(study_id=study.pk, reviewer=reviewer)) is not None:
        seen.append(slot.item_id)
        work_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=1))
    return seen


def opt_out(reviewer: Any, *tags: Tag) -> None:
    preference_set(user=reviewer, opted_out_tag_ids=[tag.pk for tag in tags], daily_cap_minutes=None)


def test_an_item_with_a_source_tag_i_opted_out_of_is_never_offered_to_me(topics: list[Tag]) -> None:
    study, [ann, *_] = started_study(items=4)
    tagged = items_of(study)[1]
    tagged.transcript.tags.add(topics[0])
    opt_out(ann, topics[0])
    seen = claimed_items(study, ann)
    assert tagged.pk not in seen
    assert sorted(seen) == sorted(item.pk for item in items_of(study) if item.pk != tagged.pk)


def test_any_one_of_several_opted_out_topics_is_enough_to_keep_an_item_away(topics: list[Tag]) -> None:
    study, [ann, *_] = started_study(items=3)
    first, second, third = items_of(study)
    first.transcript.tags.add(topics[0])
    second.transcript.tags.add(topics[2], topics[1])
    opt_out(ann, topics[0], topics[1])
    assert claimed_items(study, ann) == [third.pk]


def test_a_topic_i_did_not_opt_out_of_does_not_keep_an_item_away(topics: list[Tag]) -> None:
    study, [ann, *_] = started_study(items=2)
    items_of(study)[0].transcript.tags.add(topics[1])
    opt_out(ann, topics[0])
    assert len(claimed_items(study, ann)) == 2


def test_an_item_an_earlier_reviewer_tagged_with_my_topic_is_no_longer_offered_to_me(topics: list[Tag]) -> None:
    study, [ann, bob, cat, *_] = started_study(items=3)
    opt_out(ann, topics[0])
    first = work_claim(study_id=study.pk, reviewer=bob)
    work_submit(slot_id=first.pk, reviewer=bob, answers=ReviewAnswers(rating=3, tag_ids=(topics[2].pk, topics[0].pk)))
    # Fullest first: the item bob just reviewed would be next for anyone, but not for ann.
    mine = work_claim(study_id=study.pk, reviewer=ann)
    assert mine is not None and mine.item_id != first.item_id
    other = work_claim(study_id=study.pk, reviewer=cat)
    assert other is not None and other.item_id == first.item_id
    work_submit(slot_id=mine.pk, reviewer=ann, answers=ReviewAnswers(rating=0))
    assert first.item_id not in claimed_items(study, ann)


def test_the_first_of_an_earlier_reviewers_topics_counts_as_well(topics: list[Tag]) -> None:
    study, [ann, bob, *_] = started_study(items=2)
    opt_out(ann, topics[1])
    first = work_claim(study_id=study.pk, reviewer=bob)
    work_submit(slot_id=first.pk, reviewer=bob, answers=ReviewAnswers(rating=3, tag_ids=(topics[1].pk,)))
    assert first.item_id not in claimed_items(study, ann)


def test_the_study_still_completes_for_the_others(topics: list[Tag]) -> None:
    study, [ann, bob, cat, dan] = started_study(items=6)
    items = items_of(study)
    for item in items[:2]:
        item.transcript.tags.add(topics[0])
    opt_out(ann, topics[0])

    def reviewers_topics(item: StudyItem, index: int) -> list[int]:
        return [topics[0].pk] if item.pk == items[2].pk else []  # bob's review reveals a third one

    review_everything(study, [bob, ann, cat, dan], tags=reviewers_topics)
    assert Review.objects.filter(study=study).count() == 18
    for item in items:
        assert item.reviews.count() == 3
    avoided = {item.pk for item in items[:3]}
    assert not Review.objects.filter(reviewer=ann, item_id__in=avoided).exists()
    assert not Slot.objects.filter(study=study).exclude(status="done").exists()


def test_other_reviewers_opt_outs_do_not_change_what_i_am_offered(topics: list[Tag]) -> None:
    study, [ann, bob, *_] = started_study(items=2)
    items_of(study)[0].transcript.tags.add(topics[0])
    opt_out(bob, topics[0])
    assert len(claimed_items(study, ann)) == 2


def test_opt_outs_add_no_query_to_a_claim_and_reviewers_without_them_claim_as_before(topics: list[Tag]) -> None:
    study, [ann, bob, *_] = started_study(items=3)
    items_of(study)[0].transcript.tags.add(topics[0])
    opt_out(ann, topics[0])
    tag_table = Transcript.tags.through._meta.db_table
    with CaptureQueriesContext(connection) as plain:
        work_claim(study_id=study.pk, reviewer=bob)
    with CaptureQueriesContext(connection) as opted:
        work_claim(study_id=study.pk, reviewer=ann)
    assert len(opted) == len(plain)
    assert not any(tag_table in query["sql"] for query in plain.captured_queries)
    assert sum(tag_table in query["sql"] for query in opted.captured_queries) == 1


def test_start_reviewing_skips_to_an_item_without_my_topics(client: Client, topics: list[Tag]) -> None:
    study, [ann, *_] = started_study(items=2)
    first, second = items_of(study)
    first.transcript.tags.add(topics[0])
    client.force_login(ann)
    client.post("/wellbeing/preferences/", {"opted_out_tags": [topics[0].pk]})
    location = client.post(f"/review/studies/{study.pk}/next")["Location"]
    assert Slot.objects.get(pk=location.split("/")[-2]).item_id == second.pk
