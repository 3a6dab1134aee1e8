"""The PostgreSQL statements of the assignment engine give the answers of their portable twins.

Each vendor-specific function sits beside a portable one; on PostgreSQL both run here on the
same data, and must pick the same slots in the same order and lock the same membership.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from review.errors import NotAMember
from review.models import Slot
from review.services.answers import ReviewAnswers
from review.services.assignment import (
    _lease_open_slot_portable,
    _lease_open_slot_postgresql,
    _membership_lock_portable,
    _membership_lock_postgresql,
    slot_skip,
)
from review.services.reviews import review_submit
from review.services.studies import reviewer_profile_set
from tagging.models import Tag
from tests.factories import UserFactory, started_study

pytestmark = pytest.mark.django_db

LEASE_TWINS = [_lease_open_slot_postgresql, _lease_open_slot_portable]
LOCK_TWINS = [_membership_lock_postgresql, _membership_lock_portable]


def _claims(
    lease_slot: Callable[..., Slot | None], *, member: int
) -> list[tuple[str, int, int] | tuple[str, None, None]]:
    """Claims by three reviewers on a fresh study, each submitted or skipped in turn, until none is left.

    ann (red-team member `member`) wrote items 1 and 3; bob opted out of the topic of item 4's transcript; cat opted out
    of the topic ann gives her reviews, so the items ann reviews are not offered to her.
    """
    first, second = Tag.objects.order_by("position")[:2]
    study, [ann, bob, cat] = started_study(
        items=6, reviewers=3, authors=[member, 8, member, 9, 10, 11], reviewers_per_item=2
    )
    reviewer_profile_set(user=ann, red_team_member_id=member)
    study.items.get(position=4).transcript.tags.add(first)
    plans: list[tuple[str, User, int | None, tuple[int, ...]]] = [
        ("ann", ann, member, ()),
        ("bob", bob, None, (first.pk,)),
        ("cat", cat, None, (second.pk,)),
    ]
    now = timezone.now()
    seen: list[tuple[str, int, int] | tuple[str, None, None]] = []
    for turn in range(30):
        name, reviewer, member_id, opted_out = plans[turn % 3]
        with transaction.atomic():
            slot = lease_slot(
                study=study,
                reviewer=reviewer,
                member_id=member_id,
                lease=(now, now + timedelta(minutes=30)),
                opted_out=opted_out,
            )
        if slot is None:
            seen.append((name, None, None))
            continue
        seen.append((name, slot.item.position, slot.number))
        if turn % 4 == 3:
            slot_skip(slot_id=slot.pk, reviewer=reviewer)
        else:
            tags = (second.pk,) if name == "ann" else ()
            review_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=2, tag_ids=tags), now=now)
    return seen


def test_both_claims_lease_the_same_slots_in_the_same_order(on_postgres: None) -> None:
    postgresql, portable = (
        _claims(lease_slot, member=member) for lease_slot, member in zip(LEASE_TWINS, (7, 17), strict=True)
    )
    assert postgresql == portable
    claimed = [claim for claim in postgresql if claim[1] is not None]
    assert len(claimed) > 10
    assert not any(name == "ann" and position in (1, 3) for name, position, _ in claimed)
    assert not any(name == "bob" and position == 4 for name, position, _ in claimed)


def test_both_membership_locks_bring_the_same_study_and_red_team_id(on_postgres: None) -> None:
    study, [ann, bob] = started_study(items=1, reviewers=2)
    reviewer_profile_set(user=ann, red_team_member_id=42)
    outsider = UserFactory(roles=["reviewer"])
    with transaction.atomic():
        locked = [[lock(study_id=study.pk, reviewer=reviewer) for reviewer in (ann, bob)] for lock in LOCK_TWINS]
        for lock in LOCK_TWINS:
            with pytest.raises(NotAMember), transaction.atomic():
                lock(study_id=study.pk, reviewer=outsider)
    assert [[(m.study.pk, m.study.status, m.red_team_member_id) for m in twin] for twin in locked] == [
        [(study.pk, study.status, 42), (study.pk, study.status, None)]
    ] * 2
