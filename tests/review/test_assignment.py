"""The assignment engine: claim, skip, submit and lease expiry, rule by rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from review.errors import (
    InvalidAnswers,
    LeaseLost,
    NotAMember,
    ReviewNotSaved,
    SlotNotYours,
    StudyNotActive,
    StudyStateError,
)
from review.models import Review, Skip, Slot, SlotStatus, StudyStatus
from review.services.answers import ReviewAnswers
from review.services.assignment import leases_expire, slot_skip
from review.services.studies import (
    reviewer_profile_set,
    study_archive,
    study_members_set,
    study_pause,
    study_resume,
    study_start,
)
from tagging.models import Tag
from tests.factories import StudyFactory, UserFactory, started_study
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db

ANSWERS = ReviewAnswers(rating=3)


def test_starting_a_study_creates_reviewers_per_item_slots_for_every_item() -> None:
    study, _ = started_study(items=4, reviewers_per_item=3)
    assert study.status == StudyStatus.ACTIVE
    assert Slot.objects.filter(study=study).count() == 12
    assert sorted(set(Slot.objects.values_list("number", flat=True))) == [1, 2, 3]
    assert not Slot.objects.exclude(status=SlotStatus.OPEN).exists()


def test_a_study_starts_only_once() -> None:
    study, _ = started_study(items=1)
    with pytest.raises(StudyStateError, match="is active, not a draft"):
        study_start(study=study)
    assert Slot.objects.count() == 3


def test_a_claim_leases_a_slot_for_the_studys_lease_time() -> None:
    study, [ann, *_] = started_study(lease_minutes=15)
    now = timezone.now()
    slot = work_claim(study_id=study.pk, reviewer=ann, now=now)
    assert slot is not None
    slot.refresh_from_db()
    assert (slot.status, slot.holder, slot.leased_at) == (SlotStatus.LEASED, ann, now)
    assert slot.leased_until == now + timedelta(minutes=15)


def test_a_reviewer_holding_a_live_lease_gets_the_same_slot_back() -> None:
    study, [ann, *_] = started_study()
    first = work_claim(study_id=study.pk, reviewer=ann)
    assert work_claim(study_id=study.pk, reviewer=ann) == first
    assert Slot.objects.filter(holder=ann).count() == 1


def test_the_author_is_never_offered_their_own_transcript() -> None:
    study, [ann, *_] = started_study(items=3, authors=[7, 8, 7])
    reviewer_profile_set(user=ann, red_team_member_id=7)
    seen = []
    while (slot := work_claim(study_id=study.pk, reviewer=ann)) is not None:
        seen.append(slot.author_member_id)
        work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS)
    assert seen == [8]


def test_the_database_refuses_a_review_by_the_author() -> None:
    study, [ann, *_] = started_study(items=1, authors=[5])
    slot = Slot.objects.filter(study=study).first()
    with pytest.raises(IntegrityError):
        Review.objects.create(
            slot=slot,
            item_id=slot.item_id,
            study=study,
            reviewer=ann,
            rating=2,
            seconds_on_task=1,
            author_member_id=5,
            reviewer_member_id=5,
        )


def test_a_reviewer_linked_to_the_author_after_the_claim_is_refused_and_the_slot_goes_back() -> None:
    study, [ann, *_] = started_study(items=1, authors=[5])
    slot = work_claim(study_id=study.pk, reviewer=ann)
    reviewer_profile_set(user=ann, red_team_member_id=5)  # linked after the claim
    with pytest.raises(ReviewNotSaved, match="you wrote this conversation"):
        work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS)
    assert not Review.objects.exists()
    slot.refresh_from_db()
    assert (slot.status, slot.holder) == (SlotStatus.OPEN, None)


def test_a_held_lease_is_not_handed_back_to_a_reviewer_linked_to_its_author() -> None:
    study, [ann, *_] = started_study(items=2, authors=[5, 6])
    first = work_claim(study_id=study.pk, reviewer=ann)
    reviewer_profile_set(user=ann, red_team_member_id=first.author_member_id)
    again = work_claim(study_id=study.pk, reviewer=ann)
    assert again is not None and again.item_id != first.item_id
    first.refresh_from_db()
    assert (first.status, first.holder) == (SlotStatus.OPEN, None)
    # With nothing else left, the claim answers "nothing left" and still lets the slot go.
    work_submit(slot_id=again.pk, reviewer=ann, answers=ANSWERS)
    assert work_claim(study_id=study.pk, reviewer=ann) is None
    assert not Slot.objects.filter(holder=ann, status=SlotStatus.LEASED).exists()


def test_a_skipped_item_cannot_then_be_reviewed_even_with_the_lease_token() -> None:
    study, [ann, *_] = started_study(items=2)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    slot_skip(slot_id=slot.pk, reviewer=ann)
    with pytest.raises(ReviewNotSaved, match="you skipped this conversation"):
        work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS, leased_at=slot.leased_at)
    assert not Review.objects.exists()
    assert Skip.objects.filter(reviewer=ann).count() == 1


def test_a_reviewed_item_cannot_then_be_skipped() -> None:
    study, [ann, *_] = started_study(items=2)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS)
    with pytest.raises(SlotNotYours):
        slot_skip(slot_id=slot.pk, reviewer=ann)
    assert not Skip.objects.exists()


@pytest.mark.parametrize("close", [study_pause, study_archive])
def test_nothing_is_stored_once_the_study_is_paused_or_archived_while_a_lease_is_held(close) -> None:  # type: ignore[no-untyped-def]
    study, [ann, *_] = started_study(items=2)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    study = close(study=study)
    with pytest.raises(ReviewNotSaved, match=f"the study is {study.status}"):
        work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS, leased_at=slot.leased_at)
    with pytest.raises(StudyNotActive):
        slot_skip(slot_id=slot.pk, reviewer=ann)
    assert not Review.objects.exists() and not Skip.objects.exists()
    slot.refresh_from_db()
    assert slot.holder == ann  # kept: after a resume the reviewer goes on where they were


def test_a_review_held_through_a_pause_is_stored_after_the_resume() -> None:
    study, [ann, *_] = started_study(items=1)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    study = study_resume(study=study_pause(study=study))
    assert work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS).slot_id == slot.pk


def test_a_lease_token_vouches_for_at_most_two_lease_lengths() -> None:
    study, [ann, *_] = started_study(items=1, lease_minutes=30)
    start = timezone.now()
    slot = work_claim(study_id=study.pk, reviewer=ann, now=start)
    leases_expire(now=start + timedelta(minutes=31))
    with pytest.raises(LeaseLost):
        work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS, leased_at=start, now=start + timedelta(hours=2))
    with pytest.raises(LeaseLost):
        work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS, leased_at=start, now=start + timedelta(days=6))
    assert not Review.objects.exists()
    review = work_submit(
        slot_id=slot.pk, reviewer=ann, answers=ANSWERS, leased_at=start, now=start + timedelta(minutes=59)
    )
    assert review.seconds_on_task == 59 * 60


def test_an_expired_lease_nobody_swept_needs_the_token_to_land() -> None:
    study, [ann, *_] = started_study(items=1)
    start = timezone.now()
    slot = work_claim(study_id=study.pk, reviewer=ann, now=start)
    with pytest.raises(LeaseLost):
        work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS, now=start + timedelta(minutes=31))
    later = start + timedelta(minutes=31)
    assert work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS, leased_at=start, now=later).rating == 3


def test_items_closest_to_completion_come_first() -> None:
    study, [ann, bob, cat, *_] = started_study(items=3)
    first = work_claim(study_id=study.pk, reviewer=ann)
    assert first is not None
    work_submit(slot_id=first.pk, reviewer=ann, answers=ANSWERS)
    second = work_claim(study_id=study.pk, reviewer=bob)
    assert second is not None and second.item_id == first.item_id
    work_submit(slot_id=second.pk, reviewer=bob, answers=ANSWERS)
    third = work_claim(study_id=study.pk, reviewer=cat)
    assert third is not None and third.item_id == first.item_id


def test_a_reviewer_never_gets_an_item_twice_and_an_item_gets_exactly_three_reviews() -> None:
    study, reviewers = started_study(items=2, reviewers=5)
    for reviewer in reviewers:
        while (slot := work_claim(study_id=study.pk, reviewer=reviewer)) is not None:
            work_submit(slot_id=slot.pk, reviewer=reviewer, answers=ANSWERS)
    assert Review.objects.count() == 6
    for item in study.items.all():
        assert item.reviews.count() == 3
        assert item.reviews.values("reviewer").distinct().count() == 3


def test_a_skipped_item_is_never_offered_again_and_its_slot_reopens() -> None:
    study, [ann, bob, *_] = started_study(items=1)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    assert slot is not None
    slot_skip(slot_id=slot.pk, reviewer=ann, reason="not today")
    assert work_claim(study_id=study.pk, reviewer=ann) is None
    assert Skip.objects.get().reason == "not today"
    slot.refresh_from_db()
    assert (slot.status, slot.holder) == (SlotStatus.OPEN, None)
    assert work_claim(study_id=study.pk, reviewer=bob) is not None


def test_skipping_twice_is_harmless() -> None:
    study, [ann, *_] = started_study(items=2)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    assert slot is not None
    slot_skip(slot_id=slot.pk, reviewer=ann)
    slot_skip(slot_id=slot.pk, reviewer=ann)
    assert Skip.objects.count() == 1


def test_skipping_someone_elses_slot_is_refused() -> None:
    study, [ann, bob, *_] = started_study(items=2)
    other = work_claim(study_id=study.pk, reviewer=bob)
    assert other is not None
    with pytest.raises(SlotNotYours):
        slot_skip(slot_id=other.pk, reviewer=ann)
    other.refresh_from_db()
    assert other.holder == bob


def test_an_expired_lease_is_open_to_the_next_claim() -> None:
    study, [ann, bob, *_] = started_study(items=1, reviewers_per_item=1)
    start = timezone.now()
    slot = work_claim(study_id=study.pk, reviewer=ann, now=start)
    assert work_claim(study_id=study.pk, reviewer=bob, now=start + timedelta(minutes=10)) is None
    later = work_claim(study_id=study.pk, reviewer=bob, now=start + timedelta(minutes=31))
    assert later is not None and later.pk == slot.pk and later.holder == bob


def test_the_sweep_returns_only_expired_leases() -> None:
    study, [ann, bob, *_] = started_study(items=2)
    start = timezone.now()
    work_claim(study_id=study.pk, reviewer=ann, now=start)
    work_claim(study_id=study.pk, reviewer=bob, now=start + timedelta(minutes=20))
    assert leases_expire(now=start + timedelta(minutes=35)) == 1
    assert Slot.objects.filter(status=SlotStatus.LEASED).get().holder == bob


def test_submit_records_the_answers_and_the_time_on_task() -> None:
    study, [ann, *_] = started_study(items=1)
    start = timezone.now()
    slot = work_claim(study_id=study.pk, reviewer=ann, now=start)
    theft, weapons = Tag.objects.filter(name__in=["Theft", "Weapons"]).order_by("name")
    answers = ReviewAnswers(
        rating=4,
        tag_ids=(theft.pk, weapons.pk),
        needs_expertise=True,
        expertise_tag_id=weapons.pk,
        expertise_domain="chemistry",
        note="hm",
    )
    review = work_submit(slot_id=slot.pk, reviewer=ann, answers=answers, now=start + timedelta(seconds=95))
    assert (review.rating, review.tag_ids, review.expertise_tag_id, review.expertise_domain, review.note) == (
        4,
        [theft.pk, weapons.pk],
        weapons.pk,
        "chemistry",
        "hm",
    )
    assert review.seconds_on_task == 95
    slot.refresh_from_db()
    assert slot.status == SlotStatus.DONE


def test_a_double_submit_stores_exactly_one_review() -> None:
    study, [ann, *_] = started_study(items=2)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    first = work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS)
    again = work_submit(slot_id=slot.pk, reviewer=ann, answers=ReviewAnswers(rating=0))
    assert again == first
    assert Review.objects.count() == 1
    assert Review.objects.get().rating == 3


def test_submit_on_someone_elses_slot_is_refused() -> None:
    study, [ann, bob, *_] = started_study(items=2)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    work_claim(study_id=study.pk, reviewer=bob)
    with pytest.raises(LeaseLost):
        work_submit(slot_id=slot.pk, reviewer=bob, answers=ANSWERS)
    with pytest.raises(SlotNotYours):
        work_submit(slot_id=999_999, reviewer=bob, answers=ANSWERS)
    assert not Review.objects.exists()


def test_a_lapsed_lease_taken_by_someone_else_saves_nothing() -> None:
    study, [ann, bob, *_] = started_study(items=1, reviewers_per_item=1)
    start = timezone.now()
    slot = work_claim(study_id=study.pk, reviewer=ann, now=start)
    work_claim(study_id=study.pk, reviewer=bob, now=start + timedelta(minutes=31))
    with pytest.raises(LeaseLost):
        work_submit(slot_id=slot.pk, reviewer=ann, answers=ANSWERS, leased_at=start)
    assert not Review.objects.exists()


def test_a_lapsed_lease_nobody_took_still_lands() -> None:
    study, [ann, *_] = started_study(items=1)
    start = timezone.now()
    slot = work_claim(study_id=study.pk, reviewer=ann, now=start)
    leases_expire(now=start + timedelta(minutes=31))
    review = work_submit(
        slot_id=slot.pk, reviewer=ann, answers=ANSWERS, leased_at=start, now=start + timedelta(minutes=40)
    )
    assert review.seconds_on_task == 40 * 60


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (ReviewAnswers(rating=5), "rating"),
        (ReviewAnswers(rating=-1), "rating"),
        (ReviewAnswers(rating=2, tag_ids=(1, 2, 3)), "tags"),
        (ReviewAnswers(rating=2, tag_ids=(1, 1)), "tags"),
        (ReviewAnswers(rating=2, tag_ids=(99999,)), "tags"),
        (ReviewAnswers(rating=2, needs_expertise=True), "expertise_tag"),
        (ReviewAnswers(rating=2, needs_expertise=True, expertise_tag_id=2**63 - 1), "expertise_tag"),
    ],
)
def test_invalid_answers_are_refused_by_the_server(answers: ReviewAnswers, field: str) -> None:
    study, [ann, *_] = started_study(items=1)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    with pytest.raises(InvalidAnswers) as caught:
        work_submit(slot_id=slot.pk, reviewer=ann, answers=answers)
    assert field in caught.value.errors
    assert not Review.objects.exists()


def test_the_database_refuses_the_same_topic_twice() -> None:
    study, [ann, *_] = started_study(items=1)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    review = work_submit(slot_id=slot.pk, reviewer=ann, answers=ReviewAnswers(rating=1, tag_ids=(3,)))
    review.second_tag_id = review.first_tag_id
    with pytest.raises(IntegrityError):
        review.save()


def test_nothing_can_be_claimed_in_a_paused_study_until_it_resumes() -> None:
    study, [ann, *_] = started_study(items=1)
    study = study_pause(study=study)
    with pytest.raises(StudyNotActive, match="is paused"):
        work_claim(study_id=study.pk, reviewer=ann)
    study = study_resume(study=study)
    assert work_claim(study_id=study.pk, reviewer=ann) is not None


def test_only_members_can_claim() -> None:
    study, _ = started_study(items=1)
    with pytest.raises(NotAMember):
        work_claim(study_id=study.pk, reviewer=UserFactory(roles=["reviewer"]))


def test_a_draft_study_cannot_be_claimed_from() -> None:
    study = StudyFactory()
    ann = UserFactory(roles=["reviewer"])
    study_members_set(study=study, reviewers=[ann])
    with pytest.raises(StudyNotActive, match="is draft"):
        work_claim(study_id=study.pk, reviewer=ann)
