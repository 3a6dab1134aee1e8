"""Many reviewers clicking at once, on the real PostgreSQL, each thread with its own connection.

Besides claims, reviews and skips, the mix has a skip followed by a submit from the review
page (with its lease token), submits on a lapsed lease and with a lease token past its
lifetime, a lead pausing and resuming the study, and reviewers linked to authors' ids while
they hold leases. Whatever the interleaving: never a fourth review, never two by one person,
never one by the author, never a review and a skip by one reviewer of one item, and nothing
stored while the study is not active.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from review.errors import ReviewNotSaved, SlotNotYours, StudyNotActive
from review.models import Review, Skip, Slot, SlotStatus, Study, StudyStatus
from review.services.answers import ReviewAnswers
from review.services.assignment import slot_skip
from review.services.reviews import LEASE_TOKEN_LEASES
from review.services.studies import reviewer_profile_set, study_archive, study_pause, study_resume
from tests.factories import started_study
from workspace.services import work_claim, work_submit

THREADS = 20
REVIEWERS = 10
ITEMS = 200
MAX_SKIPS_PER_ITEM = 2  # so every item keeps enough willing reviewers to finish
# Authors 11-15 are nobody's at first; the lead links reviewers to them mid-run. Ids are unique,
# so at most one reviewer is an item's author at any moment: 10 - 2 skips - 1 author >= 3.
RELINK_IDS = range(11, 16)


def _next_slot(study_id: int, reviewer) -> Slot | None:  # type: ignore[no-untyped-def]
    """The reviewer's next slot; None only once no lease anywhere could still be skipped back
    into the pool. Stopping at the first None left an item short when a slot reopened
    after every reviewer who could take it had stopped. A paused study is waited out."""
    give_up_at = time.monotonic() + 120
    while time.monotonic() < give_up_at:
        try:
            slot = work_claim(study_id=study_id, reviewer=reviewer)
        except StudyNotActive:
            time.sleep(0.01)
            continue
        if slot is not None or not Slot.objects.filter(study_id=study_id, status=SlotStatus.LEASED).exists():
            return slot
        time.sleep(0.02)
    return None


class _Run:
    """What the threads of one run share, and the steps of the reviewers and the lead."""

    def __init__(self, study: Study, reviewers: list[User]) -> None:
        self.study = study
        self.reviewers = reviewers
        self.lease = timedelta(minutes=study.lease_minutes)
        self.lock = threading.Lock()
        self.events: list[tuple[float, str, int, int, object]] = []  # (when, what, slot, reviewer, lease start)
        self.skips_per_item: Counter[int] = Counter()
        self.stored_review_ids: set[int] = set()
        self.failures: list[BaseException] = []
        self.paused: list[tuple[datetime, datetime]] = []  # (paused by then, still paused then)
        self.refusals: Counter[str] = Counter()
        self.reviewers_done = threading.Event()

    def submit(self, slot: Slot, reviewer: User, answers: ReviewAnswers) -> Review | None:
        """Submit as the review page does, waiting out a pause; None when refused for good."""
        while True:
            try:
                return work_submit(slot_id=slot.pk, reviewer=reviewer, answers=answers, leased_at=slot.leased_at)
            except ReviewNotSaved as exc:
                if "the study is paused" not in exc.reason:
                    with self.lock:
                        self.refusals[type(exc).__name__] += 1
                    return None  # lost, authored after a relink, or acted on by the other thread
                time.sleep(0.01)

    def work(self, reviewer: User, thread_seed: int) -> None:
        local = random.Random(thread_seed)  # noqa: S311 - test data
        try:
            while (slot := _next_slot(self.study.pk, reviewer)) is not None:
                self._work_on(slot, reviewer, local, thread_seed)
        except BaseException as exc:  # surfaced by the test
            self.failures.append(exc)
        finally:
            connection.close()

    def _work_on(self, slot: Slot, reviewer: User, local: random.Random, thread_seed: int) -> None:
        claimed_at = time.monotonic()
        with self.lock:
            self.events.append((claimed_at, "claim", slot.pk, reviewer.pk, slot.leased_at))
            skip = local.random() < 0.15 and self.skips_per_item[slot.item_id] < MAX_SKIPS_PER_ITEM
            if skip:
                self.skips_per_item[slot.item_id] += 1
        answers = ReviewAnswers(rating=local.randint(0, 4))
        try:
            released_at = time.monotonic()
            if skip:
                self._skip(slot, reviewer, answers, local, released_at)
            else:
                self._review(slot, reviewer, answers, local, released_at, thread_seed)
        except SlotNotYours:
            pass  # this reviewer's other thread acted on the same slot first

    def _skip(
        self, slot: Slot, reviewer: User, answers: ReviewAnswers, local: random.Random, released_at: float
    ) -> None:
        try:
            slot_skip(slot_id=slot.pk, reviewer=reviewer, reason="concurrency test")
        except StudyNotActive:
            with self.lock:
                self.skips_per_item[slot.item_id] -= 1
            return  # the lease stays; the next claim hands it back
        with self.lock:
            self.events.append((released_at, "skip", slot.pk, reviewer.pk, None))
        # Half the time, then the review page's submit, lease token and all.
        if local.random() < 0.5 and self.submit(slot, reviewer, answers) is not None:
            self.failures.append(AssertionError(f"slot {slot.pk}: reviewed after a skip"))

    def _review(
        self,
        slot: Slot,
        reviewer: User,
        answers: ReviewAnswers,
        local: random.Random,
        released_at: float,
        thread_seed: int,
    ) -> None:
        mode = local.random()
        if mode < 0.1:  # a lease token past its lifetime, then a fresh submit
            self._submit_with_expired_token(slot, reviewer, answers, thread_seed)
        if mode < 0.2:  # the lease lapsed a minute ago, nobody took it: the token lands it
            review = self._submit_after_lapse(slot, reviewer, answers)
        else:
            review = self.submit(slot, reviewer, answers)
        if review is not None:
            with self.lock:
                self.stored_review_ids.add(review.pk)
                self.events.append((released_at, "done", slot.pk, reviewer.pk, None))

    def _submit_with_expired_token(self, slot: Slot, reviewer: User, answers: ReviewAnswers, thread_seed: int) -> None:
        late = slot.leased_at + LEASE_TOKEN_LEASES * self.lease + timedelta(seconds=1)
        marked = ReviewAnswers(rating=answers.rating, note=f"stale token {thread_seed} {slot.pk}")
        try:
            stale = work_submit(slot_id=slot.pk, reviewer=reviewer, answers=marked, leased_at=slot.leased_at, now=late)
        except ReviewNotSaved:
            return
        # Only the review this reviewer's other thread stored may come back.
        if stale.note == marked.note:
            self.failures.append(AssertionError(f"slot {slot.pk}: stored on an expired lease token"))

    def _submit_after_lapse(self, slot: Slot, reviewer: User, answers: ReviewAnswers) -> Review | None:
        lapsed = slot.leased_at + self.lease + timedelta(minutes=1)
        try:
            return work_submit(
                slot_id=slot.pk, reviewer=reviewer, answers=answers, leased_at=slot.leased_at, now=lapsed
            )
        except ReviewNotSaved:
            return self.submit(slot, reviewer, answers)  # paused, or a relink: as usual

    def lead(self, lead_seed: int) -> None:
        local = random.Random(lead_seed)  # noqa: S311 - test data
        links = {reviewer.pk: number for number, reviewer in enumerate(self.reviewers, start=1)}
        try:
            while not self.reviewers_done.is_set():
                time.sleep(local.uniform(0.05, 0.15))
                if local.random() < 0.5:
                    self._pause_a_moment(local)
                else:
                    self._relink_someone(local, links)
        except BaseException as exc:
            self.failures.append(exc)
        finally:
            connection.close()

    def _pause_a_moment(self, local: random.Random) -> None:
        study_pause(study=self.study)
        paused_by = timezone.now()
        time.sleep(local.uniform(0.01, 0.05))
        still_paused = timezone.now()
        study_resume(study=self.study)
        self.paused.append((paused_by, still_paused))

    def _relink_someone(self, local: random.Random, links: dict[int, int]) -> None:
        reviewer = local.choice(self.reviewers)
        others = {number for pk, number in links.items() if pk != reviewer.pk}
        free = sorted(set(RELINK_IDS) - others)
        if free:
            links[reviewer.pk] = local.choice(free)
            reviewer_profile_set(user=reviewer, red_team_member_id=links[reviewer.pk])


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
    run = _Run(study, reviewers)

    threads = [
        threading.Thread(target=run.work, args=(reviewers[number % REVIEWERS], seed * 1000 + number))
        for number in range(THREADS)
    ]
    lead_thread = threading.Thread(target=run.lead, args=(seed,))
    lead_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    run.reviewers_done.set()
    lead_thread.join(timeout=30)
    assert not run.failures, run.failures
    assert run.paused, "the lead never paused the study: the mix is not what it says"

    _assert_three_distinct_reviews_each_none_while_paused(study, run)
    _assert_no_slot_leased_to_two_at_once(study, run.events)


def _assert_three_distinct_reviews_each_none_while_paused(study: Study, run: _Run) -> None:
    reviews = list(
        Review.objects.values_list(
            "id", "item_id", "reviewer_id", "author_member_id", "reviewer_member_id", "created_at"
        )
    )
    assert len(reviews) == ITEMS * 3
    assert {review_id for review_id, *_ in reviews} == run.stored_review_ids, "a returned review is missing"
    per_item: defaultdict[int, list[int]] = defaultdict(list)
    for _, item_id, reviewer_id, author, reviewer_member, created_at in reviews:
        per_item[item_id].append(reviewer_id)
        assert reviewer_member != author, "a review by the transcript's author"
        assert not any(start < created_at < end for start, end in run.paused), "a review stored while paused"
    assert len(per_item) == ITEMS
    assert all(len(set(ids)) == len(ids) == 3 for ids in per_item.values())
    assert not Slot.objects.filter(study=study).exclude(status=SlotStatus.DONE).exists()
    skips = set(Skip.objects.values_list("item_id", "reviewer_id"))
    assert not skips & {(item_id, reviewer_id) for _, item_id, reviewer_id, *_ in reviews}, "a review and a skip"
    for created_at in Skip.objects.values_list("created_at", flat=True):
        assert not any(start < created_at < end for start, end in run.paused), "a skip stored while paused"


def _assert_no_slot_leased_to_two_at_once(study: Study, events: list[tuple[float, str, int, int, object]]) -> None:
    """A claim is logged after it returns and a release before it starts, so a legal hand-over
    always logs release before claim. A claim that hands back a lease the reviewer already
    holds (same start) is no new lease. Slots of items by the relinked ids are left out: a
    claim or submit may release those inside the service when their holder turns out to be
    the author."""
    relinked = set(Slot.objects.filter(study=study, author_member_id__in=RELINK_IDS).values_list("id", flat=True))
    holder: dict[int, int] = {}
    seen_leases: set[tuple[int, object]] = set()
    for _, what, slot_id, reviewer_id, lease_start in sorted(events, key=lambda event: event[0]):
        if slot_id in relinked:
            continue
        if what == "claim":
            if (slot_id, lease_start) in seen_leases:
                continue
            seen_leases.add((slot_id, lease_start))
            assert holder.get(slot_id) in (None, reviewer_id), f"slot {slot_id} leased to two reviewers at once"
            holder[slot_id] = reviewer_id
        elif holder.get(slot_id) == reviewer_id:
            del holder[slot_id]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_stored_once_an_archive_lands_mid_run(on_postgres: None) -> None:
    study, reviewers = started_study(items=60, reviewers=6)
    archived_at: list[datetime] = []
    refused: Counter[str] = Counter()
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(reviewer) -> None:  # type: ignore[no-untyped-def]
        try:
            while True:
                try:
                    slot = work_claim(study_id=study.pk, reviewer=reviewer)
                    if slot is None:
                        return
                    work_submit(
                        slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=1), leased_at=slot.leased_at
                    )
                except (StudyNotActive, ReviewNotSaved) as exc:
                    with lock:
                        refused[type(exc).__name__] += 1
                    return
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    def archive() -> None:
        try:
            while Review.objects.filter(study=study).count() < 20:
                time.sleep(0.005)
            study_archive(study=study)
            archived_at.append(timezone.now())
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(reviewer,)) for reviewer in reviewers * 2]
    archiver = threading.Thread(target=archive)
    archiver.start()
    for thread in threads:
        thread.start()
    for thread in [*threads, archiver]:
        thread.join(timeout=120)
    assert not failures, failures
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ARCHIVED
    count = Review.objects.filter(study=study).count()
    assert sum(refused.values()) == len(threads), (refused, count, archived_at)  # the archive stopped everyone
    assert 20 <= count < 180
    assert not Review.objects.filter(study=study, created_at__gt=archived_at[0]).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("act", ["submit", "skip"])
def test_a_submit_or_skip_waits_for_an_archive_in_progress_and_then_stores_nothing(on_postgres: None, act: str) -> None:
    """The archive takes its locks first and commits late; the reviewer's write must wait for it
    and then see the study archived, rather than act on the status it read before."""
    study, [ann, *_] = started_study(items=1)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    locked, outcome = threading.Event(), []

    def archive_slowly() -> None:
        try:
            with transaction.atomic():
                study_archive(study=study)  # its locks are held until this outer block commits
                locked.set()
                time.sleep(0.5)  # the reviewer's write starts meanwhile
        finally:
            connection.close()

    archiver = threading.Thread(target=archive_slowly)
    archiver.start()
    assert locked.wait(10)
    started = time.monotonic()
    try:
        if act == "submit":
            work_submit(slot_id=slot.pk, reviewer=ann, answers=ReviewAnswers(rating=2), leased_at=slot.leased_at)
        else:
            slot_skip(slot_id=slot.pk, reviewer=ann)
    except ReviewNotSaved as exc:
        outcome.append(exc.reason)
    except StudyNotActive as exc:
        outcome.append(str(exc))
    waited = time.monotonic() - started
    archiver.join(timeout=10)
    assert outcome and "archived" in outcome[0], outcome
    assert waited > 0.3  # it waited for the archive's commit rather than reading the old status
    assert not Review.objects.exists() and not Skip.objects.exists()
