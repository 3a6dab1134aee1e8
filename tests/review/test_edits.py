"""Changing a review just saved (the reviewer's Undo), and a study's instructions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from agreement.models import AgreementSnapshot
from audit.models import AuditAction, AuditEvent
from review.errors import InvalidAnswers, ReviewNotEditable, ReviewNotYours
from review.models import Review
from review.selectors import REVIEW_EDIT_WINDOW, review_items_left
from review.services.answers import ReviewAnswers
from review.services.assignment import slot_skip
from review.services.studies import reviewer_profile_set, study_instructions_set, study_pause
from tagging.models import Tag
from tests.factories import UserFactory, started_study
from workspace.selectors import saved_notice_text
from workspace.services import work_claim, work_edit, work_submit

pytestmark = pytest.mark.django_db


def reviewed(study: Any, reviewer: Any, rating: int = 1) -> Review:
    slot = work_claim(study_id=study.pk, reviewer=reviewer)
    assert slot is not None
    return work_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=rating))


def test_undo_within_five_minutes_changes_the_one_row_audits_it_and_asks_for_a_refresh(
    django_capture_on_commit_callbacks: Any,
) -> None:
    study, [ann, *_] = started_study(items=2)
    review = reviewed(study, ann, rating=1)
    AgreementSnapshot.objects.filter(study=study).update(refresh_requested_at=None)
    tags = list(Tag.objects.order_by("position").values_list("pk", flat=True)[:2])
    answers = ReviewAnswers(
        rating=4,
        tag_ids=tuple(tags),
        needs_expertise=True,
        expertise_tag_id=tags[0],
        expertise_domain="chemistry",
        note="on second thought",
    )

    with django_capture_on_commit_callbacks(execute=True):
        edited = work_edit(
            review_id=review.pk, reviewer=ann, answers=answers, now=review.created_at + timedelta(minutes=4)
        )

    assert edited.pk == review.pk
    assert Review.objects.filter(reviewer=ann).count() == 1
    row = Review.objects.get(pk=review.pk)
    assert (row.rating, row.first_tag_id, row.second_tag_id) == (4, tags[0], tags[1])
    assert (row.needs_expertise, row.expertise_tag_id, row.expertise_domain, row.note) == (
        True,
        tags[0],
        "chemistry",
        "on second thought",
    )
    assert row.slot_id == review.slot_id and row.created_at == review.created_at
    event = AuditEvent.objects.get(action=AuditAction.REVIEW_EDITED)
    assert (event.actor, event.target_id, event.study_id) == (ann, review.pk, study.pk)
    assert event.details["before"]["rating"] == 1 and event.details["after"]["rating"] == 4
    assert "note" in event.details["changed"] and "note" not in event.details["after"]
    assert AgreementSnapshot.objects.get(study=study).refresh_requested_at is not None


def test_an_edit_after_five_minutes_is_refused_and_changes_nothing() -> None:
    study, [ann, *_] = started_study(items=1)
    review = reviewed(study, ann, rating=1)
    late = review.created_at + REVIEW_EDIT_WINDOW + timedelta(seconds=1)

    with pytest.raises(ReviewNotEditable, match="5 minutes"):
        work_edit(review_id=review.pk, reviewer=ann, answers=ReviewAnswers(rating=3), now=late)

    assert Review.objects.get(pk=review.pk).rating == 1
    assert not AuditEvent.objects.filter(action=AuditAction.REVIEW_EDITED).exists()


def test_another_reviewer_cannot_edit_a_review_that_is_not_theirs() -> None:
    study, [ann, bob, *_] = started_study(items=1)
    review = reviewed(study, ann, rating=1)

    with pytest.raises(ReviewNotYours):
        work_edit(review_id=review.pk, reviewer=bob, answers=ReviewAnswers(rating=3))

    assert Review.objects.get(pk=review.pk).rating == 1


def test_an_edit_in_a_paused_study_is_refused() -> None:
    study, [ann, *_] = started_study(items=1)
    review = reviewed(study, ann, rating=1)
    study_pause(study=study)

    with pytest.raises(ReviewNotEditable, match="not active"):
        work_edit(review_id=review.pk, reviewer=ann, answers=ReviewAnswers(rating=3))

    assert Review.objects.get(pk=review.pk).rating == 1


def test_only_the_last_review_can_be_changed() -> None:
    study, [ann, *_] = started_study(items=2)
    first = reviewed(study, ann, rating=1)
    reviewed(study, ann, rating=2)

    with pytest.raises(ReviewNotEditable, match="last review"):
        work_edit(review_id=first.pk, reviewer=ann, answers=ReviewAnswers(rating=3))


def test_an_edit_checks_the_answers_as_a_submit_does() -> None:
    study, [ann, *_] = started_study(items=1)
    review = reviewed(study, ann, rating=1)

    with pytest.raises(InvalidAnswers):
        work_edit(review_id=review.pk, reviewer=ann, answers=ReviewAnswers(rating=5))
    with pytest.raises(InvalidAnswers):
        work_edit(review_id=review.pk, reviewer=ann, answers=ReviewAnswers(rating=2, needs_expertise=True))

    assert Review.objects.get(pk=review.pk).rating == 1


def test_items_left_counts_what_the_reviewer_can_still_be_offered() -> None:
    study, [ann, bob, *_] = started_study(items=3, reviewers_per_item=1)
    assert review_items_left(study=study, reviewer=ann) == 3
    reviewed(study, ann)
    # The one ann reviewed is gone for her, and its only slot is gone for bob too.
    assert review_items_left(study=study, reviewer=ann) == 2
    assert review_items_left(study=study, reviewer=bob) == 2
    work_claim(study_id=study.pk, reviewer=bob)  # bob holds one: not on offer to ann meanwhile
    assert review_items_left(study=study, reviewer=ann) == 1
    assert review_items_left(study=study, reviewer=bob) == 2


def test_items_left_leave_out_what_the_reviewer_wrote_or_skipped_and_a_lease_once_it_lapses() -> None:
    study, [ann, bob, *_] = started_study(items=4, reviewers_per_item=1, authors=[1000, 1001, 1002, 1003])
    reviewer_profile_set(user=ann, red_team_member_id=1000)
    assert review_items_left(study=study, reviewer=ann) == 3  # she wrote the first
    skipped = work_claim(study_id=study.pk, reviewer=ann)
    assert skipped is not None
    slot_skip(slot_id=skipped.pk, reviewer=ann, reason="")
    assert review_items_left(study=study, reviewer=ann) == 2
    held = work_claim(study_id=study.pk, reviewer=ann)
    assert held is not None and held.leased_until is not None
    # The one she holds still counts for her; once its lease lapses it is neither hers nor open.
    assert review_items_left(study=study, reviewer=ann) == 2
    assert review_items_left(study=study, reviewer=ann, now=held.leased_until + timedelta(seconds=1)) == 1
    # Bob may have all but the one ann holds: her skip leaves its slot open for him.
    assert review_items_left(study=study, reviewer=bob) == 3


def test_setting_instructions_stores_them_and_audits_the_change_once() -> None:
    study, _ = started_study(items=1)
    lead = UserFactory(roles=["lead"])

    study_instructions_set(study=study, instructions="  Rate **0-4**.  ", actor=lead)
    study_instructions_set(study=study, instructions="Rate **0-4**.", actor=lead)

    study.refresh_from_db()
    assert study.instructions == "Rate **0-4**."
    events = AuditEvent.objects.filter(action=AuditAction.STUDY_CHANGED, study_id=study.pk)
    assert [event.actor for event in events] == [lead]


def test_an_audit_event_of_an_edit_passes_the_known_action_constraint() -> None:
    # The database's list of known actions includes the new one (audit/migrations/0002).
    event = AuditEvent.objects.create(actor_label="x", action=AuditAction.REVIEW_EDITED)
    assert event.pk is not None
    assert timezone.now() >= event.at


def test_items_left_is_counted_only_up_to_the_limit_and_the_notice_says_more_than() -> None:
    study, [ann, *_] = started_study(items=4)
    assert review_items_left(study=study, reviewer=ann, limit=2) == 3
    assert "More than 100 conversations left" not in saved_notice_text(reviewer=ann, study=study)
    assert "4 conversations left for you" in saved_notice_text(reviewer=ann, study=study)
