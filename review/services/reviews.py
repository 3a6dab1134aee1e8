"""Submitting a review: every rule checked under the row locks, once per slot."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from review.errors import (
    LeaseLost,
    ReviewNotSaved,
    SlotNotYours,
)
from review.models import (
    RaterRole,
    Review,
    Skip,
    Slot,
    SlotStatus,
    StudyItem,
    StudyStatus,
)
from review.services.answers import ReviewAnswers, review_answers_check
from review.services.assignment import LockedMembership, is_author, membership_lock, slot_lock, slot_release

# How long the review page's lease token vouches for the lease it was issued for, in lease
# lengths from the lease's start: a reviewer who overruns their lease by up to one more lease
# length still lands, if nobody took the slot meanwhile. Beyond that the answers are refused.
LEASE_TOKEN_LEASES = 2


def review_submit(
    *,
    slot_id: int,
    reviewer: User,
    answers: ReviewAnswers,
    leased_at: datetime | None = None,
    now: datetime | None = None,
) -> Review:
    """Store the reviewer's review of the slot, once; a retry returns the same review.

    Every rule is checked here, under the row locks, so none can change before the commit:
    - the study is active: a pause or an archive locks every membership of the study, so it
      waits for this submit to commit, or this submit waits for it and sees the new status;
    - the reviewer is not the transcript's author (they may have been linked to the author's
      id after taking the lease: their lease is then released for others);
    - the reviewer holds the slot's live lease, or takes the slot back free: leased_at, when
      the caller can vouch the slot was leased to this reviewer then (the review page's
      signed lease token), lets answers land within LEASE_TOKEN_LEASES lease lengths of it if
      the slot is open again or still this reviewer's expired lease;
    - the reviewer has neither skipped nor reviewed (nor holds another slot of) the item.
    Anything else raises ReviewNotSaved saying why (LeaseLost when the slot is no longer
    theirs to take), and no review is stored.
    """
    now = now or timezone.now()
    review_answers_check(answers)
    with transaction.atomic():
        where = Slot.objects.filter(pk=slot_id).values_list("study_id", "item_id").first()
        if where is None:
            raise SlotNotYours(slot_id)
        study_id, item_id = where
        membership = membership_lock(study_id=study_id, reviewer=reviewer)
        # After the lock, so a double submit's second request finds the first one's review.
        existing = Review.objects.filter(slot_id=slot_id, reviewer=reviewer).first()
        if existing is not None:
            return existing
        # Lock the item before its slots: submits of one item queue here instead of
        # deadlocking over each other's sibling slots when they bump item_done.
        StudyItem.objects.select_for_update(no_key=True).filter(pk=item_id).exists()
        slot = slot_lock(slot_id=slot_id)
        refusal = _submit_refusal(slot=slot, membership=membership, reviewer=reviewer, leased_at=leased_at, now=now)
        if refusal is None:
            return _review_store(
                slot=slot, membership=membership, reviewer=reviewer, answers=answers, leased_at=leased_at, now=now
            )
        if is_author(membership, slot) and slot.status == SlotStatus.LEASED and slot.holder_id == reviewer.pk:
            slot_release(slot=slot)  # committed with the block; the refusal is raised after it
    raise refusal


def _submit_refusal(
    *, slot: Slot, membership: LockedMembership, reviewer: User, leased_at: datetime | None, now: datetime
) -> ReviewNotSaved | None:
    """Why these answers cannot be stored for this slot now, or None. The caller holds the locks."""
    study = slot.study  # read after the membership lock: see slot_lock
    # The slot first: someone else's slot is refused as LeaseLost, whatever else is true.
    mine = slot.status == SlotStatus.LEASED and slot.holder_id == reviewer.pk
    if not (mine and slot.leased_until is not None and slot.leased_until > now):
        vouched = leased_at is not None and now <= leased_at + LEASE_TOKEN_LEASES * timedelta(
            minutes=study.lease_minutes
        )
        if not (vouched and (mine or slot.status == SlotStatus.OPEN)):
            return LeaseLost(slot.pk)
        if Slot.objects.filter(item_id=slot.item_id, holder=reviewer).exclude(pk=slot.pk).exists():
            return LeaseLost(slot.pk, "you already reviewed this conversation or hold it under another place")
    if study.status != StudyStatus.ACTIVE:
        return ReviewNotSaved(
            slot.pk, f"the study is {study.get_status_display().lower()}: nothing can be saved in it now"
        )
    if is_author(membership, slot):
        return ReviewNotSaved(slot.pk, "you wrote this conversation, and nobody reviews their own")
    if Skip.objects.filter(item_id=slot.item_id, reviewer=reviewer).exists():
        return ReviewNotSaved(slot.pk, "you skipped this conversation, and a skipped one is not reviewed")
    return None


def _review_store(
    *,
    slot: Slot,
    membership: LockedMembership,
    reviewer: User,
    answers: ReviewAnswers,
    leased_at: datetime | None,
    now: datetime,
) -> Review:
    started = slot.leased_at if slot.holder_id == reviewer.pk else leased_at
    review = Review.objects.create(
        slot=slot,
        item_id=slot.item_id,
        # The study read under the lock (slot_lock), so whoever reads review.study next
        # (the check-in rule, the "Saved" notice) has it without another query.
        study=slot.study,
        reviewer=reviewer,
        rating=answers.rating,
        first_tag_id=answers.tag_ids[0] if answers.tag_ids else None,
        second_tag_id=answers.tag_ids[1] if len(answers.tag_ids) > 1 else None,
        needs_expertise=answers.needs_expertise,
        expertise_tag_id=answers.expertise_tag_id if answers.needs_expertise else None,
        expertise_domain=answers.expertise_domain if answers.needs_expertise else "",
        note=answers.note,
        seconds_on_task=max(0, int((now - started).total_seconds())) if started else 0,
        author_member_id=slot.author_member_id,
        reviewer_member_id=membership.red_team_member_id,
        rater_role=slot.role,
    )
    # One statement closes this slot and, for a crowd review, moves all the item's slots up the
    # claim order: expert and gold reviews are not among the item's reviewers_per_item.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Slot._meta.db_table} SET
                item_done = item_done + CASE WHEN %(crowd)s THEN 1 ELSE 0 END,
                status = CASE WHEN id = %(slot)s THEN %(done)s ELSE status END,
                holder_id = CASE WHEN id = %(slot)s THEN %(reviewer)s ELSE holder_id END,
                leased_at = CASE WHEN id = %(slot)s THEN %(started)s ELSE leased_at END,
                leased_until = CASE WHEN id = %(slot)s THEN NULL ELSE leased_until END
            WHERE item_id = %(item)s AND (%(crowd)s OR id = %(slot)s)
            """,  # noqa: S608 - a table name from code; values are parameters
            {
                "crowd": slot.role == RaterRole.CROWD,
                "slot": slot.pk,
                "done": SlotStatus.DONE,
                "reviewer": reviewer.pk,
                "started": started,
                "item": slot.item_id,
            },
        )
    if review.rater_role == RaterRole.CROWD and review.needs_expertise and review.expertise_tag_id is not None:
        expert_slot_open(slot=slot, tag_id=review.expertise_tag_id)
    return review


def expert_slot_open(*, slot: Slot, tag_id: int) -> None:
    """Give the slot's item its one expert slot, in the domain a crowd review asked for.

    Numbered after the crowd's, open to reviewers who declared this area of expertise (the
    claim's expert pick). An item has one at most (slot_one_expert): a later request, in this
    domain or another, keeps the first, so an item never has more than one expert review.
    """
    number = slot.study.reviewers_per_item + 1
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Slot._meta.db_table}
                (study_id, item_id, number, position, author_member_id, item_done, status, role, expert_tag_id)
            VALUES (%s, %s, %s, %s, %s, 0, %s, %s, %s)
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 - a table name from code; values are parameters
            [
                slot.study_id,
                slot.item_id,
                number,
                slot.position,
                slot.author_member_id,
                SlotStatus.OPEN,
                RaterRole.EXPERT,
                tag_id,
            ],
        )
