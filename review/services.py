"""Every write in the review app goes through a function here."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from audit.models import AuditAction
from audit.services import Actor, audit_record
from review.errors import (
    InvalidAnswers,
    LeaseLost,
    NotAMember,
    ReviewNotSaved,
    SlotNotYours,
    StudyHasReviews,
    StudyNotActive,
    StudyStateError,
)
from review.models import (
    Review,
    ReviewerProfile,
    Skip,
    Slot,
    SlotStatus,
    Study,
    StudyItem,
    StudyMembership,
    StudyStatus,
)
from review.sampling import Stratum, StratumTooSmall, StudyInvalid
from review.selectors import stratum_candidate_ids
from tagging.models import Tag
from transcripts.models import Transcript

# --- studies -----------------------------------------------------------------------------


def study_create(
    *,
    name: str,
    strata: Sequence[Stratum],
    seed: int,
    description: str = "",
    reviewers_per_item: int = 3,
    lease_minutes: int = 30,
    created_by: AbstractBaseUser | None = None,
    actor: Actor = None,
) -> Study:
    """Create a study from a seeded random sample, without replacement, of each stratum.

    The same seed on the same data gives the same items: candidates are ordered by
    content hash, which does not depend on import order or database ids.
    """
    if not strata:
        raise StudyInvalid("a study needs at least one stratum")
    if not 1 <= reviewers_per_item <= 20:
        raise StudyInvalid(f"reviewers per item must be 1-20, got {reviewers_per_item}")
    if lease_minutes < 1:
        raise StudyInvalid(f"lease minutes must be at least 1, got {lease_minutes}")
    if not name.strip():
        raise StudyInvalid("a study needs a name")
    if Study.objects.filter(name=name).exists():
        raise StudyInvalid(f"a study named {name!r} exists already")
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not secrecy
    chosen: set[int] = set()
    drawn: list[tuple[int, str]] = []
    summaries: list[dict[str, Any]] = []
    with transaction.atomic():
        for stratum in strata:
            candidates = [pk for pk in stratum_candidate_ids(stratum.filters) if pk not in chosen]
            if stratum.size > len(candidates):
                raise StratumTooSmall(stratum, available=len(candidates))
            picked = rng.sample(candidates, stratum.size)
            chosen.update(picked)
            drawn.extend((pk, stratum.label) for pk in picked)
            summaries.append({"filters": stratum.filters, "size": stratum.size, "available": len(candidates)})
        rng.shuffle(drawn)
        study = Study.objects.create(
            name=name,
            description=description,
            reviewers_per_item=reviewers_per_item,
            lease_minutes=lease_minutes,
            seed=seed,
            strata=summaries,
            created_by=created_by,
        )
        StudyItem.objects.bulk_create(
            [
                StudyItem(study=study, transcript_id=pk, position=position, stratum=label)
                for position, (pk, label) in enumerate(drawn, start=1)
            ],
            batch_size=1000,
        )
        audit_record(
            actor=actor if actor is not None else created_by,
            action=AuditAction.STUDY_CREATED,
            target=study,
            study=study,
            details={
                "seed": seed,
                "strata": summaries,
                "items": len(drawn),
                "reviewers_per_item": reviewers_per_item,
                "lease_minutes": lease_minutes,
            },
        )
    return study


# --- study lifecycle and membership ----------------------------------------------------


def study_start(*, study: Study, actor: Actor = None) -> Study:
    """Create every item's slots and open the study to its reviewers."""
    with transaction.atomic():
        study = Study.objects.select_for_update(no_key=True).get(pk=study.pk)
        if study.status != StudyStatus.DRAFT:
            raise StudyStateError(f"study {study.name!r} is {study.get_status_display().lower()}, not a draft")
        numbers = " UNION ALL ".join(f"SELECT {number} AS number" for number in range(1, study.reviewers_per_item + 1))
        # One statement, so starting a million-item study does not round-trip per slot.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {Slot._meta.db_table}
                    (study_id, item_id, number, position, author_member_id, item_done, status)
                SELECT item.study_id, item.id, n.number, item.position, transcript.red_team_member_id, 0, %s
                FROM {StudyItem._meta.db_table} item
                JOIN {Transcript._meta.db_table} transcript ON transcript.id = item.transcript_id
                CROSS JOIN ({numbers}) n
                WHERE item.study_id = %s
                """,  # noqa: S608 - table names and numbers come from code, not input
                [SlotStatus.OPEN, study.pk],
            )
            if connection.vendor == "postgresql":
                # Fresh statistics, or the planner may think a just-started study is empty and
                # pick a claim plan that reads every open slot (measured: 565 ms a review
                # instead of 15). Autovacuum would wait until 10% of the table had changed.
                cursor.execute(f"ANALYZE {Slot._meta.db_table}")  # noqa: S608 - a table name from code
        study.status = StudyStatus.ACTIVE
        study.save(update_fields=["status"])
        audit_record(actor=actor, action=AuditAction.STUDY_STARTED, target=study, study=study)
    return study


def study_pause(*, study: Study, actor: Actor = None) -> Study:
    return _study_move(
        study=study,
        allowed_from={StudyStatus.ACTIVE},
        to=StudyStatus.PAUSED,
        actor=actor,
        action=AuditAction.STUDY_PAUSED,
    )


def study_resume(*, study: Study, actor: Actor = None) -> Study:
    return _study_move(
        study=study,
        allowed_from={StudyStatus.PAUSED},
        to=StudyStatus.ACTIVE,
        actor=actor,
        action=AuditAction.STUDY_RESUMED,
    )


def study_archive(*, study: Study, actor: Actor = None) -> Study:
    """Close a study for good: nothing more is offered, its reviews and figures stay."""
    return _study_move(
        study=study,
        allowed_from={StudyStatus.DRAFT, StudyStatus.ACTIVE, StudyStatus.PAUSED},
        to=StudyStatus.ARCHIVED,
        actor=actor,
        action=AuditAction.STUDY_ARCHIVED,
    )


def _study_move(*, study: Study, allowed_from: set[str], to: str, actor: Actor, action: str) -> Study:
    with transaction.atomic():
        # Every membership row of the study, as each claim, skip and submit locks its own: this
        # waits for those in flight and holds off new ones until the new status commits, so no
        # skip or review lands in a study after it stopped being active. (Skips and submits
        # share-locking the study row instead would starve this lock in a busy study.)
        list(
            StudyMembership.objects.select_for_update(no_key=True)
            .filter(study_id=study.pk)
            .order_by("pk")
            .values_list("pk")
        )
        study = Study.objects.select_for_update(no_key=True).get(pk=study.pk)
        if study.status not in allowed_from:
            raise StudyStateError(f"study {study.name!r} is {study.get_status_display().lower()}")
        previous, study.status = study.status, to
        study.save(update_fields=["status"])
        audit_record(actor=actor, action=action, target=study, study=study, details={"from": previous})
    return study


def study_delete(*, study: Study, actor: Actor = None) -> None:
    """Delete a study nobody has reviewed or skipped yet, such as a draft made by mistake.

    A study with reviews or skips is refused with StudyHasReviews: archive it instead. The
    database refuses too (the reviews' and skips' foreign keys are PROTECT), so no other
    path can drop them either.
    """
    with transaction.atomic():
        # FOR UPDATE, unlike the claims' NO KEY UPDATE: it conflicts with the key-share lock
        # that a review's or skip's foreign-key check takes, so none can land between the
        # counts below and the delete.
        study = Study.objects.select_for_update().get(pk=study.pk)
        reviews, skips = study.reviews.count(), study.skips.count()
        if reviews or skips:
            raise StudyHasReviews(study, reviews=reviews, skips=skips)
        details = {"status": study.status, "items": study.items.count(), "seed": study.seed}
        audit_record(actor=actor, action=AuditAction.STUDY_DELETED, target=study, study=study, details=details)
        study.delete()


def study_details_set(*, study: Study, name: str, description: str, lease_minutes: int, actor: Actor = None) -> Study:
    """Rename a study, or change its description or lease length; each change is recorded from and to.

    Status, reviewers per item, notes sharing and the safeguards have their own services,
    which keep their rules (starting creates the slots): this one never touches them.
    """
    if lease_minutes < 1:
        raise ValueError("a lease lasts at least 1 minute")
    wanted = {"name": name, "description": description, "lease_minutes": lease_minutes}
    with transaction.atomic():
        current = Study.objects.select_for_update(no_key=True).filter(pk=study.pk).values(*wanted).get()
        changed = {key: {"from": current[key], "to": value} for key, value in wanted.items() if current[key] != value}
        if changed:
            Study.objects.filter(pk=study.pk).update(**wanted)
            for key, value in wanted.items():
                setattr(study, key, value)
            audit_record(actor=actor, action=AuditAction.STUDY_CHANGED, target=study, study=study, details=changed)
    return study


def study_members_set(*, study: Study, reviewers: Sequence[AbstractBaseUser], actor: Actor = None) -> None:
    """Make exactly these reviewers the study's members. Removing one keeps their reviews."""
    wanted = {reviewer.pk: reviewer for reviewer in reviewers}
    with transaction.atomic():
        leaving = list(
            StudyMembership.objects.select_for_update()
            .filter(study=study)
            .exclude(reviewer_id__in=wanted)
            .select_related("reviewer")
        )
        StudyMembership.objects.filter(pk__in=[membership.pk for membership in leaving]).delete()
        present = set(StudyMembership.objects.filter(study=study).values_list("reviewer_id", flat=True))
        joining = [wanted[pk] for pk in sorted(set(wanted) - present)]
        StudyMembership.objects.bulk_create(
            [StudyMembership(study=study, reviewer=reviewer) for reviewer in joining], ignore_conflicts=True
        )
        for membership in leaving:
            audit_record(actor=actor, action=AuditAction.MEMBER_REMOVED, target=membership.reviewer, study=study)
        for reviewer in joining:
            audit_record(actor=actor, action=AuditAction.MEMBER_ADDED, target=reviewer, study=study)


def reviewer_profile_set(
    *, user: AbstractBaseUser, red_team_member_id: int | None, actor: Actor = None
) -> ReviewerProfile:
    """Link a reviewer to their red-team id (they are never offered their own attacks); recorded."""
    with transaction.atomic():
        previous = (
            ReviewerProfile.objects.select_for_update().filter(user=user).values_list("red_team_member_id", flat=True)
        ).first()
        profile, _ = ReviewerProfile.objects.update_or_create(
            user=user, defaults={"red_team_member_id": red_team_member_id}
        )
        if previous != red_team_member_id:
            details = {"red_team_member_id": {"from": previous, "to": red_team_member_id}}
            audit_record(actor=actor, action=AuditAction.USER_CHANGED, target=user, details=details)
    return profile


# --- the assignment engine ---------------------------------------------------------------


@dataclass(frozen=True)
class _Membership:
    study: Study
    red_team_member_id: int | None


def _member_lock(*, study_id: int, reviewer: AbstractBaseUser) -> _Membership:
    """Lock the reviewer's membership row: one reviewer's claims, skips and submits run one at a time.

    The same query brings the study and the reviewer's red-team id. Every lock here is FOR
    NO KEY UPDATE, never FOR UPDATE: foreign-key checks take KEY SHARE locks at commit, and
    FOR UPDATE would deadlock a skip's check on an item with a submit holding that item
    (the concurrency test found exactly that).

    A status change (_study_move) locks every membership of the study first, so it waits for
    the reviewers' claims, skips and submits in flight and holds off new ones until it
    commits. The study row this brings may therefore predate a status change this lock
    waited for: skips and submits read the status again, in a later statement (_slot_lock).
    """
    if connection.vendor == "postgresql":
        # Raw SQL: this runs twice per review, and compiling the ORM version cost more than
        # the query itself.
        studies = list(
            Study.objects.raw(
                f"""
                SELECT study.*, profile.red_team_member_id AS reviewer_member_id
                FROM {StudyMembership._meta.db_table} membership
                JOIN {Study._meta.db_table} study ON study.id = membership.study_id
                LEFT JOIN {ReviewerProfile._meta.db_table} profile ON profile.user_id = membership.reviewer_id
                WHERE membership.study_id = %s AND membership.reviewer_id = %s
                FOR NO KEY UPDATE OF membership
                """,  # noqa: S608 - table names come from code; values are parameters
                [study_id, reviewer.pk],
            )
        )
        if not studies:
            raise NotAMember(f"you are not a reviewer in study {study_id}")
        return _Membership(study=studies[0], red_team_member_id=studies[0].reviewer_member_id)
    # SQLite runs one writing transaction at a time: there is nothing to lock row by row.
    membership = (
        StudyMembership.objects.select_for_update(no_key=True, of=("self",))
        .select_related("study")
        .annotate(reviewer_member_id=F("reviewer__reviewer_profile__red_team_member_id"))
        .filter(study_id=study_id, reviewer=reviewer)
        .first()
    )
    if membership is None:
        raise NotAMember(f"you are not a reviewer in study {study_id}")
    return _Membership(study=membership.study, red_team_member_id=membership.reviewer_member_id)


def leases_expire(*, now: datetime | None = None, study: Study | None = None, limit: int = 1000) -> int:
    """Return expired leases to the pool. Safe to run anywhere, any time, concurrently."""
    now = now or timezone.now()
    expired = Slot.objects.filter(status=SlotStatus.LEASED, leased_until__lte=now)
    if study is not None:
        expired = expired.filter(study=study)
    # No savepoint when called inside a claim: it only adds two round trips to every claim.
    with transaction.atomic(savepoint=False):
        ids = list(expired.select_for_update(skip_locked=True, no_key=True).values_list("id", flat=True)[:limit])
        return Slot.objects.filter(id__in=ids).update(
            status=SlotStatus.OPEN, holder=None, leased_at=None, leased_until=None
        )


@dataclass(frozen=True)
class ClaimLimits:
    """What the reviewer's own safeguards allow one claim: the wellbeing app decides, the claim enforces.

    refusal: raised before anything is leased (a pause, a reached cap, a break that is due).
    opted_out_tag_ids: topics whose items the reviewer is not shown.
    """

    refusal: Exception | None = None
    opted_out_tag_ids: tuple[int, ...] = ()


# Asked inside the claim's transaction, after the reviewer's membership lock, with the study and
# the claim's time. The reviewer's pages pass the wellbeing safeguards (workspace.services.work_claim).
ClaimGuard = Callable[[Study, datetime], ClaimLimits]


def claim_unlimited(study: Study, now: datetime) -> ClaimLimits:
    """A guard that allows every claim, for callers that are not a reviewer at work."""
    return ClaimLimits()


def slot_claim(
    *, study_id: int, reviewer: AbstractBaseUser, guard: ClaimGuard, now: datetime | None = None
) -> Slot | None:
    """Lease the reviewer their next slot, or give back the one they hold; None when nothing is left.

    Fullest items first, so agreement can be measured early. Never an item the reviewer
    authored, skipped or already holds, nor one whose known topics they opted out of. Rows
    another claim has locked are skipped, not waited for, so many reviewers claim at once
    without queueing behind each other.

    The guard is asked once the reviewer's membership is locked; its refusal is raised
    before anything is leased, and its opted-out topics are left out of the pick.
    """
    now = now or timezone.now()
    with transaction.atomic():
        membership = _member_lock(study_id=study_id, reviewer=reviewer)
        study = membership.study
        if study.status != StudyStatus.ACTIVE:
            raise StudyNotActive(study)
        limits = guard(study, now)
        if limits.refusal is not None:
            raise limits.refusal
        held = (
            Slot.objects.filter(study=study, holder=reviewer, status=SlotStatus.LEASED, leased_until__gt=now)
            .order_by("leased_at")
            .first()
        )
        if held is not None:
            if not _is_author(membership, held):
                return held
            # Linked to the transcript's author id after the lease was taken: the author
            # never gets their own attack back. The slot goes back to the pool for others.
            _slot_release(slot=held)
        lease = (now, now + timedelta(minutes=study.lease_minutes))
        pick = {
            "study": study,
            "reviewer": reviewer,
            "member_id": membership.red_team_member_id,
            "lease": lease,
            "opted_out": limits.opted_out_tag_ids,
        }
        slot = _lease_open_slot(**pick)
        # Expired leases count as open: reopened here when no open slot is left for this
        # reviewer (and every minute by the beat sweep), which spares every other claim a
        # round trip.
        if slot is None and leases_expire(now=now, study=study, limit=100):
            slot = _lease_open_slot(**pick)
        return slot


def _lease_open_slot(
    *,
    study: Study,
    reviewer: AbstractBaseUser,
    member_id: int | None,
    lease: tuple[datetime, datetime],
    opted_out: Sequence[int] = (),
) -> Slot | None:
    """Pick the best open slot for the reviewer, skipping rows others have locked, and lease it.

    opted_out: tag ids the reviewer will not be shown. An item's known topics are its
    transcript's source tags and the topics earlier reviewers of the item chose.
    """
    if connection.vendor == "postgresql":
        # The claim is the hottest statement Triad runs: pick and lease in one round trip.
        # NOT IN over the reviewer's own items becomes one hashed set per claim; NOT EXISTS
        # probed an index for every open slot passed over, and a reviewer's own items sort
        # first (fullest first), so a reviewer far into a study paid ~40 ms a claim.
        author_clause = "AND s.author_member_id <> %(member)s" if member_id is not None else ""
        # Only for reviewers with opt-outs, so everyone else's claim is the statement it was.
        # NOT EXISTS here, unlike the hashed NOT IN above: a hashed set of every item in the
        # study carrying one of the topics grows with the study's reviews (the pick measured
        # 38 ms at 100k items and 59 ms with all 20 topics opted out), while these probes of
        # unique indexes kept it under 1 ms at 1k and 100k items alike. Unlike a reviewer's
        # own items, excluded items rarely pile up at the front: others take them, fullest first.
        topics_clause = (
            f"""AND NOT EXISTS (
                          SELECT 1 FROM {StudyItem._meta.db_table} tagged
                          JOIN {Transcript.tags.through._meta.db_table} source
                            ON source.transcript_id = tagged.transcript_id
                          WHERE tagged.id = s.item_id AND source.tag_id = ANY(%(opted_out)s))
                      AND NOT EXISTS (
                          SELECT 1 FROM {Review._meta.db_table} earlier
                          WHERE earlier.item_id = s.item_id
                            AND (earlier.first_tag_id = ANY(%(opted_out)s)
                                 OR earlier.second_tag_id = ANY(%(opted_out)s)))"""  # noqa: S608
            if opted_out
            else ""
        )
        slots = list(
            Slot.objects.raw(
                f"""
                WITH pick AS (
                    SELECT s.id FROM {Slot._meta.db_table} s
                    WHERE s.study_id = %(study)s AND s.status = %(open)s {author_clause}
                      AND s.item_id NOT IN (
                          SELECT mine.item_id FROM {Slot._meta.db_table} mine
                          WHERE mine.holder_id = %(reviewer)s AND mine.study_id = %(study)s)
                      AND s.item_id NOT IN (
                          SELECT skipped.item_id FROM {Skip._meta.db_table} skipped
                          WHERE skipped.reviewer_id = %(reviewer)s AND skipped.study_id = %(study)s)
                      {topics_clause}
                    ORDER BY s.item_done DESC, s.position, s.number
                    LIMIT 1
                    FOR NO KEY UPDATE SKIP LOCKED
                )
                UPDATE {Slot._meta.db_table} SET status = %(leased)s, holder_id = %(reviewer)s,
                    leased_at = %(start)s, leased_until = %(until)s
                FROM pick WHERE {Slot._meta.db_table}.id = pick.id
                RETURNING {Slot._meta.db_table}.*
                """,  # noqa: S608 - table names come from code; values are parameters
                {
                    "study": study.pk,
                    "open": SlotStatus.OPEN,
                    "leased": SlotStatus.LEASED,
                    "member": member_id,
                    "reviewer": reviewer.pk,
                    "start": lease[0],
                    "until": lease[1],
                    "opted_out": list(opted_out),
                },
            )
        )
        return slots[0] if slots else None
    candidates = (
        Slot.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
        .filter(study=study, status=SlotStatus.OPEN)
        .filter(~Exists(Slot.objects.filter(item=OuterRef("item"), holder=reviewer)))
        .filter(~Exists(Skip.objects.filter(item=OuterRef("item"), reviewer=reviewer)))
        .order_by("-item_done", "position", "number")
    )
    if member_id is not None:
        candidates = candidates.exclude(author_member_id=member_id)
    if opted_out:
        candidates = candidates.filter(
            ~Exists(StudyItem.objects.filter(pk=OuterRef("item_id"), transcript__tags__in=opted_out)),
            ~Exists(
                Review.objects.filter(
                    Q(first_tag_id__in=opted_out) | Q(second_tag_id__in=opted_out), item_id=OuterRef("item_id")
                )
            ),
        )
    slot = candidates.first()
    if slot is not None:
        slot.status, slot.holder = SlotStatus.LEASED, reviewer
        slot.leased_at, slot.leased_until = lease
        slot.save(update_fields=["status", "holder", "leased_at", "leased_until"])
    return slot


def _slot_lock(*, slot_id: int) -> Slot:
    """Lock the slot and bring its study, read now: after the caller's membership lock, so the
    study's status is the one any pause or archive that lock waited for left behind."""
    return Slot.objects.select_for_update(no_key=True, of=("self",)).select_related("study").get(pk=slot_id)


def _is_author(membership: _Membership, slot: Slot) -> bool:
    return membership.red_team_member_id is not None and membership.red_team_member_id == slot.author_member_id


def _slot_release(*, slot: Slot) -> None:
    """Put a leased slot back into the pool. The caller holds the reviewer's membership lock."""
    slot.status, slot.holder, slot.leased_at, slot.leased_until = SlotStatus.OPEN, None, None, None
    slot.save(update_fields=["status", "holder", "leased_at", "leased_until"])


def slot_skip(*, slot_id: int, reviewer: AbstractBaseUser, reason: str = "") -> Skip:
    """Never offer this item to this reviewer again, and reopen the slot for others. Idempotent.

    Only while the study is active (StudyNotActive otherwise): nothing is written to a paused
    or archived study. It takes the same membership lock as a submit, so a skip and a submit
    of one item by one reviewer run one after the other, and the later one sees the earlier.
    """
    with transaction.atomic():
        slot = Slot.objects.filter(pk=slot_id).first()
        if slot is None:
            raise SlotNotYours(slot_id)
        _member_lock(study_id=slot.study_id, reviewer=reviewer)
        earlier = Skip.objects.filter(item_id=slot.item_id, reviewer=reviewer).first()
        slot = _slot_lock(slot_id=slot_id)
        if slot.holder_id != reviewer.pk or slot.status != SlotStatus.LEASED:
            if earlier is not None:
                return earlier  # a repeated click
            raise SlotNotYours(slot_id)
        if slot.study.status != StudyStatus.ACTIVE:
            raise StudyNotActive(slot.study)
        skip = Skip.objects.create(item_id=slot.item_id, study_id=slot.study_id, reviewer=reviewer, reason=reason[:500])
        _slot_release(slot=slot)
        return skip


@dataclass(frozen=True)
class ReviewAnswers:
    rating: int
    tag_ids: tuple[int, ...] = ()
    needs_expertise: bool = False
    expertise_domain: str = ""
    note: str = ""


# How long the review page's lease token vouches for the lease it was issued for, in lease
# lengths from the lease's start: a reviewer who overruns their lease by up to one more lease
# length still lands, if nobody took the slot meanwhile. Beyond that the answers are refused.
LEASE_TOKEN_LEASES = 2


def review_submit(
    *,
    slot_id: int,
    reviewer: AbstractBaseUser,
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
    _check_answers(answers)
    with transaction.atomic():
        slot = Slot.objects.filter(pk=slot_id).first()
        if slot is None:
            raise SlotNotYours(slot_id)
        membership = _member_lock(study_id=slot.study_id, reviewer=reviewer)
        # After the lock, so a double submit's second request finds the first one's review.
        existing = Review.objects.filter(slot_id=slot_id, reviewer=reviewer).first()
        if existing is not None:
            return existing
        # Lock the item before its slots: submits of one item queue here instead of
        # deadlocking over each other's sibling slots when they bump item_done.
        StudyItem.objects.select_for_update(no_key=True).filter(pk=slot.item_id).exists()
        slot = _slot_lock(slot_id=slot_id)
        refusal = _submit_refusal(slot=slot, membership=membership, reviewer=reviewer, leased_at=leased_at, now=now)
        if refusal is None:
            return _review_store(
                slot=slot, membership=membership, reviewer=reviewer, answers=answers, leased_at=leased_at, now=now
            )
        if _is_author(membership, slot) and slot.status == SlotStatus.LEASED and slot.holder_id == reviewer.pk:
            _slot_release(slot=slot)  # committed with the block; the refusal is raised after it
    raise refusal


def _submit_refusal(
    *, slot: Slot, membership: _Membership, reviewer: AbstractBaseUser, leased_at: datetime | None, now: datetime
) -> ReviewNotSaved | None:
    """Why these answers cannot be stored for this slot now, or None. The caller holds the locks."""
    study = slot.study  # read after the membership lock: see _slot_lock
    # The slot first: someone else's slot is refused as LeaseLost, whatever else is true.
    mine = slot.status == SlotStatus.LEASED and slot.holder_id == reviewer.pk
    if not (mine and slot.leased_until > now):
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
    if _is_author(membership, slot):
        return ReviewNotSaved(slot.pk, "you wrote this conversation, and nobody reviews their own")
    if Skip.objects.filter(item_id=slot.item_id, reviewer=reviewer).exists():
        return ReviewNotSaved(slot.pk, "you skipped this conversation, and a skipped one is not reviewed")
    return None


def _review_store(
    *,
    slot: Slot,
    membership: _Membership,
    reviewer: AbstractBaseUser,
    answers: ReviewAnswers,
    leased_at: datetime | None,
    now: datetime,
) -> Review:
    started = slot.leased_at if slot.holder_id == reviewer.pk else leased_at
    review = Review.objects.create(
        slot=slot,
        item_id=slot.item_id,
        study_id=slot.study_id,
        reviewer=reviewer,
        rating=answers.rating,
        first_tag_id=answers.tag_ids[0] if answers.tag_ids else None,
        second_tag_id=answers.tag_ids[1] if len(answers.tag_ids) > 1 else None,
        needs_expertise=answers.needs_expertise,
        expertise_domain=answers.expertise_domain if answers.needs_expertise else "",
        note=answers.note,
        seconds_on_task=max(0, int((now - started).total_seconds())) if started else 0,
        author_member_id=slot.author_member_id,
        reviewer_member_id=membership.red_team_member_id,
    )
    # One statement closes this slot and moves all the item's slots up the claim order.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Slot._meta.db_table} SET
                item_done = item_done + 1,
                status = CASE WHEN id = %(slot)s THEN %(done)s ELSE status END,
                holder_id = CASE WHEN id = %(slot)s THEN %(reviewer)s ELSE holder_id END,
                leased_at = CASE WHEN id = %(slot)s THEN %(started)s ELSE leased_at END,
                leased_until = CASE WHEN id = %(slot)s THEN NULL ELSE leased_until END
            WHERE item_id = %(item)s
            """,  # noqa: S608 - a table name from code; values are parameters
            {
                "slot": slot.pk,
                "done": SlotStatus.DONE,
                "reviewer": reviewer.pk,
                "started": started,
                "item": slot.item_id,
            },
        )
    return review


def _check_answers(answers: ReviewAnswers) -> None:
    if not 0 <= answers.rating <= 4:
        raise InvalidAnswers({"rating": "Choose a rating from 0 to 4."})
    if len(answers.tag_ids) > 2:
        raise InvalidAnswers({"tags": "Choose at most 2 topics."})
    if len(set(answers.tag_ids)) != len(answers.tag_ids):
        raise InvalidAnswers({"tags": "A topic was chosen twice."})
    if answers.tag_ids and Tag.objects.filter(pk__in=answers.tag_ids).count() != len(answers.tag_ids):
        raise InvalidAnswers({"tags": "Unknown topic."})
    if answers.needs_expertise and not answers.expertise_domain.strip():
        raise InvalidAnswers({"expertise_domain": "Say which domain the judgement needs."})


def study_notes_sharing_set(*, study: Study, enabled: bool, actor: Actor = None) -> Study:
    with transaction.atomic():
        locked = Study.objects.select_for_update(no_key=True).filter(pk=study.pk)
        previous = locked.values_list("api_share_notes", flat=True).get()
        if previous != enabled:
            Study.objects.filter(pk=study.pk).update(api_share_notes=enabled)
            details = {"api_share_notes": {"from": previous, "to": enabled}}
            audit_record(actor=actor, action=AuditAction.STUDY_CHANGED, target=study, study=study, details=details)
    study.api_share_notes = enabled
    return study
