"""Expert routing: a crowd review that says judging needs domain expertise opens the item's one
expert slot, which only reviewers who declared that area claim; the expert review is a rater set
of its own (rater_role "expert") and never one of the item's reviewers_per_item reviews."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection

from review.models import RaterRole, Review, Slot, SlotStatus, Study
from review.services.answers import ReviewAnswers
from review.services.studies import reviewer_profile_set
from tagging.models import Tag
from tests.factories import started_study
from wellbeing.services.exposure import preference_set
from workspace.services import work_claim, work_edit, work_submit

pytestmark = pytest.mark.django_db


def tags() -> tuple[Tag, Tag]:
    # get_or_create: a transactional test starts with every table empty, migration data included.
    weapons, _ = Tag.objects.get_or_create(name="Weapons", defaults={"slug": "weapons", "position": 101})
    theft, _ = Tag.objects.get_or_create(name="Theft", defaults={"slug": "theft", "position": 102})
    return weapons, theft


def flagged(rating: int, domain: Tag) -> ReviewAnswers:
    return ReviewAnswers(rating=rating, needs_expertise=True, expertise_tag_id=domain.pk)


def test_a_crowd_review_asking_for_expertise_opens_one_expert_slot_in_that_domain() -> None:
    study, [ann, ben, *_] = started_study(items=1)
    weapons, theft = tags()

    work_submit(slot_id=work_claim(study_id=study.pk, reviewer=ann).pk, reviewer=ann, answers=flagged(3, weapons))
    work_submit(slot_id=work_claim(study_id=study.pk, reviewer=ben).pk, reviewer=ben, answers=flagged(1, theft))

    expert = Slot.objects.get(study=study, role=RaterRole.EXPERT)
    assert (expert.number, expert.status, expert.expert_tag_id) == (4, SlotStatus.OPEN, weapons.pk)
    assert Slot.objects.filter(study=study, role=RaterRole.CROWD).count() == 3


def test_only_a_reviewer_with_the_matching_expertise_claims_the_expert_slot_and_never_its_author() -> None:
    study, [ann, ben, cat, dan] = started_study(items=2, reviewers=4, authors=[7, 8])
    weapons, theft = tags()
    reviewer_profile_set(user=ben, red_team_member_id=None, expertise_tag_ids=[theft.pk])
    reviewer_profile_set(user=cat, red_team_member_id=7, expertise_tag_ids=[weapons.pk])  # wrote item 1
    reviewer_profile_set(user=dan, red_team_member_id=None, expertise_tag_ids=[weapons.pk])
    first = work_claim(study_id=study.pk, reviewer=ann)
    assert first is not None and first.item.position == 1
    work_submit(slot_id=first.pk, reviewer=ann, answers=flagged(4, weapons))

    ben_slot = work_claim(study_id=study.pk, reviewer=ben)
    cat_slot = work_claim(study_id=study.pk, reviewer=cat)
    dan_slot = work_claim(study_id=study.pk, reviewer=dan)

    assert ben_slot is not None and ben_slot.role == RaterRole.CROWD  # another domain: crowd work
    assert cat_slot is not None and cat_slot.role == RaterRole.CROWD and cat_slot.item.position == 2  # the author
    assert dan_slot is not None and dan_slot.role == RaterRole.EXPERT and dan_slot.item_id == first.item_id
    review = work_submit(slot_id=dan_slot.pk, reviewer=dan, answers=ReviewAnswers(rating=0))
    assert review.rater_role == RaterRole.EXPERT
    # The expert review is not one of the item's three: its crowd slots did not move up.
    assert set(Slot.objects.filter(item=first.item, role=RaterRole.CROWD).values_list("item_done", flat=True)) == {1}


def test_a_reviewer_already_on_the_item_is_never_its_expert_and_the_expert_never_reviews_it_again() -> None:
    study, [ann, ben, *_] = started_study(items=1, reviewers=4)
    weapons, _ = tags()
    reviewer_profile_set(user=ann, red_team_member_id=None, expertise_tag_ids=[weapons.pk])
    slot = work_claim(study_id=study.pk, reviewer=ann)
    work_submit(slot_id=slot.pk, reviewer=ann, answers=flagged(2, weapons))

    assert work_claim(study_id=study.pk, reviewer=ann) is None  # she rated it: not its expert too
    reviewer_profile_set(user=ben, red_team_member_id=None, expertise_tag_ids=[weapons.pk])
    expert = work_claim(study_id=study.pk, reviewer=ben)
    assert expert is not None and expert.role == RaterRole.EXPERT
    work_submit(slot_id=expert.pk, reviewer=ben, answers=flagged(2, weapons))
    assert work_claim(study_id=study.pk, reviewer=ben) is None  # not a crowd review of it as well
    assert Slot.objects.filter(study=study, role=RaterRole.EXPERT).count() == 1  # an expert's flag opens none


def test_an_expert_who_opted_out_of_a_topic_is_not_offered_an_item_with_it() -> None:
    study, [ann, ben, *_] = started_study(items=1, reviewers=4)
    weapons, theft = tags()
    work_submit(
        slot_id=work_claim(study_id=study.pk, reviewer=ann).pk,
        reviewer=ann,
        answers=ReviewAnswers(rating=2, tag_ids=(theft.pk,), needs_expertise=True, expertise_tag_id=weapons.pk),
    )
    reviewer_profile_set(user=ben, red_team_member_id=None, expertise_tag_ids=[weapons.pk])
    preference_set(user=ben, opted_out_tag_ids=[theft.pk], daily_cap_minutes=None)

    slot = work_claim(study_id=study.pk, reviewer=ben)
    assert slot is None


def test_an_edit_that_asks_for_expertise_opens_the_expert_slot() -> None:
    study, [ann, *_] = started_study(items=1)
    weapons, _ = tags()
    slot = work_claim(study_id=study.pk, reviewer=ann)
    review = work_submit(slot_id=slot.pk, reviewer=ann, answers=ReviewAnswers(rating=1))
    assert not Slot.objects.filter(study=study, role=RaterRole.EXPERT).exists()

    work_edit(
        review_id=review.pk, reviewer=ann, answers=flagged(1, weapons), now=review.created_at + timedelta(1 / 1440)
    )

    assert Slot.objects.get(study=study, role=RaterRole.EXPERT).expert_tag_id == weapons.pk


@pytest.mark.django_db(transaction=True)
def test_under_concurrent_claims_items_get_exactly_three_crowd_reviews_and_at_most_one_expert_review() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/triad")
    items = 60
    # Items 1-60 are written by red-team members 1-60; experts 0-3 wrote items 1-4.
    study, reviewers = started_study(items=items, reviewers=10, authors=list(range(1, items + 1)))
    weapons, theft = tags()
    experts = reviewers[:4]
    for number, expert in enumerate(experts, start=1):
        domains = [weapons.pk] if number % 2 else [weapons.pk, theft.pk]
        reviewer_profile_set(user=expert, red_team_member_id=number, expertise_tag_ids=domains)
    failures: list[BaseException] = []

    def work(reviewer, seed: int) -> None:  # type: ignore[no-untyped-def]
        local = random.Random(seed)  # noqa: S311 - test data
        try:
            while (slot := work_claim(study_id=study.pk, reviewer=reviewer)) is not None:
                domain = local.choice([weapons, theft, None])
                answers = ReviewAnswers(rating=local.randint(0, 4))
                if domain is not None and slot.role == RaterRole.CROWD:
                    answers = flagged(answers.rating, domain)
                work_submit(slot_id=slot.pk, reviewer=reviewer, answers=answers)
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            connection.close()

    # Two threads per reviewer: the same person clicking in two tabs.
    threads = [
        threading.Thread(target=work, args=(reviewer, seed)) for seed, reviewer in enumerate([*reviewers, *reviewers])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures

    assert not any(thread.is_alive() for thread in threads)
    assert_expert_routing_held(study, experts, items=items)


def assert_expert_routing_held(study: Study, experts: list[User], *, items: int) -> None:
    """Exactly three crowd reviews an item, one expert review at most, by an expert in the
    slot's domain, never by the author, never a reviewer twice on an item."""
    crowd: Counter[int] = Counter()
    expert: Counter[int] = Counter()
    people: defaultdict[int, list[int]] = defaultdict(list)
    for review in Review.objects.filter(study=study).select_related("item__transcript", "slot"):
        (crowd if review.rater_role == RaterRole.CROWD else expert)[review.item_id] += 1
        people[review.item_id].append(review.reviewer_id)
        assert review.reviewer_member_id != review.item.transcript.red_team_member_id
        if review.rater_role == RaterRole.EXPERT:
            assert review.slot.expert_tag_id in set(
                review.reviewer.reviewer_profile.expertise.values_list("pk", flat=True)
            )
    assert set(crowd.values()) == {3} and len(crowd) == items
    assert max(expert.values(), default=0) <= 1
    assert all(len(who) == len(set(who)) for who in people.values())
    asked = set(
        Review.objects.filter(study=study, rater_role=RaterRole.CROWD, needs_expertise=True).values_list(
            "item_id", flat=True
        )
    )
    assert set(Slot.objects.filter(study=study, role=RaterRole.EXPERT).values_list("item_id", flat=True)) == asked
    assert set(expert) <= asked
    # An expert slot left open had nobody to take it: every expert in its domain rated or wrote the item.
    for slot in Slot.objects.filter(study=study, role=RaterRole.EXPERT, status=SlotStatus.OPEN):
        for number, person in enumerate(experts, start=1):
            if person.reviewer_profile.expertise.filter(pk=slot.expert_tag_id).exists():
                assert person.pk in people[slot.item_id] or slot.author_member_id == number
