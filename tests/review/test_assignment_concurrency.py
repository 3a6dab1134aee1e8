"""Many reviewers clicking at once, on the real PostgreSQL, each thread with its own connection."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict

import pytest
from django.db import connection

from review.errors import LeaseLost, SlotNotYours
from review.models import Review, Slot, SlotStatus
from review.services import ReviewAnswers, review_submit, reviewer_profile_set, slot_claim, slot_skip
from tests.factories import started_study

THREADS = 20
REVIEWERS = 10
ITEMS = 200
MAX_SKIPS_PER_ITEM = 2  # so every item keeps enough willing reviewers to finish


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_concurrent_reviewers_leave_every_item_with_exactly_three_distinct_non_author_reviews(
    on_postgres: None, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    authors = [rng.randint(1, 15) for _ in range(ITEMS)]  # members 1-10 are also reviewers
    study, reviewers = started_study(items=ITEMS, reviewers=REVIEWERS, authors=authors)
    for number, reviewer in enumerate(reviewers, start=1):
        reviewer_profile_set(user=reviewer, red_team_member_id=number)

    lock = threading.Lock()
    events: list[tuple[float, str, int, int, object]] = []  # (when, what, slot, reviewer, lease start)
    skips_per_item: Counter[int] = Counter()
    stored_review_ids: set[int] = set()
    failures: list[BaseException] = []

    def next_slot(reviewer):  # type: ignore[no-untyped-def]
        """The reviewer's next slot; None only once no lease anywhere could still be skipped back
        into the pool. Stopping at the first None left an item short when a slot reopened
        after every reviewer who could take it had stopped."""
        give_up_at = time.monotonic() + 120
        while time.monotonic() < give_up_at:
            slot = slot_claim(study_id=study.pk, reviewer=reviewer)
            if slot is not None or not Slot.objects.filter(study=study, status=SlotStatus.LEASED).exists():
                return slot
            time.sleep(0.02)
        return None

    def work(reviewer, thread_seed: int) -> None:  # type: ignore[no-untyped-def]
        local = random.Random(thread_seed)  # noqa: S311 - test data
        try:
            while (slot := next_slot(reviewer)) is not None:
                claimed_at = time.monotonic()
                with lock:
                    events.append((claimed_at, "claim", slot.pk, reviewer.pk, slot.leased_at))
                    skip = local.random() < 0.15 and skips_per_item[slot.item_id] < MAX_SKIPS_PER_ITEM
                    if skip:
                        skips_per_item[slot.item_id] += 1
                try:
                    released_at = time.monotonic()
                    if skip:
                        slot_skip(slot_id=slot.pk, reviewer=reviewer, reason="concurrency test")
                    else:
                        review = review_submit(
                            slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=local.randint(0, 4))
                        )
                        with lock:
                            stored_review_ids.add(review.pk)
                    with lock:
                        events.append((released_at, "skip" if skip else "done", slot.pk, reviewer.pk, None))
                except (SlotNotYours, LeaseLost):
                    pass  # this reviewer's other thread acted on the same slot first
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(reviewers[number % REVIEWERS], seed * 1000 + number))
        for number in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures

    reviews = list(Review.objects.values_list("id", "item_id", "reviewer_id", "author_member_id", "reviewer_member_id"))
    assert len(reviews) == ITEMS * 3
    assert {review_id for review_id, *_ in reviews} == stored_review_ids, "a returned review is missing"
    per_item: defaultdict[int, list[int]] = defaultdict(list)
    for _, item_id, reviewer_id, author, reviewer_member in reviews:
        per_item[item_id].append(reviewer_id)
        assert reviewer_member != author, "a review by the transcript's author"
    assert len(per_item) == ITEMS
    assert all(len(set(ids)) == len(ids) == 3 for ids in per_item.values())
    assert not Slot.objects.filter(study=study).exclude(status=SlotStatus.DONE).exists()

    # No slot was held by two reviewers at once. A claim is logged after it returns and a
    # release before it starts, so a legal hand-over always logs release before claim. A
    # claim that hands back a lease the reviewer already holds (same start) is no new lease.
    holder: dict[int, int] = {}
    seen_leases: set[tuple[int, object]] = set()
    for _, what, slot_id, reviewer_id, lease_start in sorted(events, key=lambda event: event[0]):
        if what == "claim":
            if (slot_id, lease_start) in seen_leases:
                continue
            seen_leases.add((slot_id, lease_start))
            assert holder.get(slot_id) in (None, reviewer_id), f"slot {slot_id} leased to two reviewers at once"
            holder[slot_id] = reviewer_id
        elif holder.get(slot_id) == reviewer_id:
            del holder[slot_id]
