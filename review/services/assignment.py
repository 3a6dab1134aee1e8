"""The assignment engine: claiming a slot under a lease, giving it back, skipping it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core.durability import commit_without_waiting_for_disk
from core.rows import ModelColumns, instance_from_row, instances_from_row, model_columns, row_fetch
from review.errors import (
    NotAMember,
    SlotNotYours,
    StudyNotActive,
)
from review.models import (
    GOLD_ROLES,
    RaterRole,
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
from review.services.gold import gold_slot_lease
from transcripts.models import Transcript

# --- the assignment engine ---------------------------------------------------------------


@dataclass(frozen=True)
class LockedMembership:
    study: Study
    red_team_member_id: int | None
    # The reviewer's declared areas of expertise (tag ids): expert slots in them are theirs to claim.
    expertise_tag_ids: tuple[int, ...] = ()


def membership_lock(*, study_id: int, reviewer: User) -> LockedMembership:
    """Lock the reviewer's membership row: one reviewer's claims, skips and submits run one at a time.

    The same query brings the study and the reviewer's red-team id. Every lock here is FOR
    NO KEY UPDATE, never FOR UPDATE: foreign-key checks take KEY SHARE locks at commit, and
    FOR UPDATE would deadlock a skip's check on an item with a submit holding that item
    (the concurrency test found exactly that).

    A status change (_study_move) locks every membership of the study first, so it waits for
    the reviewers' claims, skips and submits in flight and holds off new ones until it
    commits. The study row this brings may therefore predate a status change this lock
    waited for: skips and submits read the status again, in a later statement (slot_lock).
    """
    lock = _membership_lock_postgresql if connection.vendor == "postgresql" else _membership_lock_portable
    return lock(study_id=study_id, reviewer=reviewer)


def _membership_lock_postgresql(*, study_id: int, reviewer: User) -> LockedMembership:
    # Written out, read by a plain cursor: this runs twice per review, and building it
    # through the ORM (or reading it through a RawQuerySet) cost more than the query itself.
    columns = _study_columns()
    expertise = ReviewerProfile.expertise.through._meta.db_table
    row = row_fetch(
        f"""
        SELECT {columns.sql}, profile.red_team_member_id,
            ARRAY(SELECT area.tag_id FROM {expertise} area WHERE area.reviewerprofile_id = profile.id)
        FROM {StudyMembership._meta.db_table} membership
        JOIN {Study._meta.db_table} study ON study.id = membership.study_id
        LEFT JOIN {ReviewerProfile._meta.db_table} profile ON profile.user_id = membership.reviewer_id
        WHERE membership.study_id = %s AND membership.reviewer_id = %s
        FOR NO KEY UPDATE OF membership
        """,  # noqa: S608 - table names come from code; values are parameters
        [study_id, reviewer.pk],
    )
    if row is None:
        raise NotAMember(f"you are not a reviewer in study {study_id}")
    return LockedMembership(
        study=instance_from_row(Study, columns, row), red_team_member_id=row[-2], expertise_tag_ids=tuple(row[-1])
    )


@cache
def _study_columns() -> ModelColumns:
    return model_columns([("study", Study)])


@cache
def _slot_columns() -> ModelColumns:
    return model_columns([(Slot._meta.db_table, Slot)])


def _membership_lock_portable(*, study_id: int, reviewer: User) -> LockedMembership:
    # On SQLite, which runs one writing transaction at a time, the lock is a no-op.
    membership = (
        StudyMembership.objects.select_for_update(no_key=True, of=("self",))
        .select_related("study")
        .annotate(reviewer_member_id=F("reviewer__reviewer_profile__red_team_member_id"))
        .filter(study_id=study_id, reviewer=reviewer)
        .first()
    )
    if membership is None:
        raise NotAMember(f"you are not a reviewer in study {study_id}")
    member_id: int | None = getattr(membership, "reviewer_member_id", None)
    expertise = ReviewerProfile.expertise.through.objects.filter(reviewerprofile__user=reviewer)
    return LockedMembership(
        study=membership.study,
        red_team_member_id=member_id,
        expertise_tag_ids=tuple(expertise.order_by("tag_id").values_list("tag_id", flat=True)),
    )


def leases_expire(*, now: datetime | None = None, study: Study | None = None, limit: int = 1000) -> int:
    """Return expired leases to the pool. Safe to run anywhere, any time, concurrently."""
    now = now or timezone.now()
    # Gold slots are made for one reviewer and stay theirs (slot_gold_held): their next claim
    # takes an expired one back (review.services.gold).
    expired = Slot.objects.filter(status=SlotStatus.LEASED, leased_until__lte=now).exclude(role__in=GOLD_ROLES)
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


def slot_claim(*, study_id: int, reviewer: User, guard: ClaimGuard, now: datetime | None = None) -> Slot | None:
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
        # A lease lost in a database crash is open again, and the reviewer's lease token lets
        # their answers take it back (core/durability.py).
        commit_without_waiting_for_disk()
        membership = membership_lock(study_id=study_id, reviewer=reviewer)
        study = membership.study
        if study.status != StudyStatus.ACTIVE:
            raise StudyNotActive(study)
        limits = guard(study, now)
        if limits.refusal is not None:
            raise limits.refusal
        held = _slot_held(study_id=study.pk, reviewer_id=reviewer.pk, now=now)
        if held is not None:
            if not is_author(membership, held):
                return held
            # Linked to the transcript's author id after the lease was taken: the author
            # never gets their own attack back. The slot goes back to the pool for others.
            slot_release(slot=held)
        lease = (now, now + timedelta(minutes=study.lease_minutes))
        member_id = membership.red_team_member_id
        opted_out = limits.opted_out_tag_ids
        # A calibration or gold item, when the study serves one now (review.services.gold).
        slot = gold_slot_lease(study=study, reviewer=reviewer, member_id=member_id, lease=lease, opted_out=opted_out)
        if slot is None and membership.expertise_tag_ids:
            # An item waiting for an expert in their domain comes before the crowd's work.
            slot = _lease_open_slot(
                study=study,
                reviewer=reviewer,
                member_id=member_id,
                lease=lease,
                opted_out=opted_out,
                domains=membership.expertise_tag_ids,
            )
        if slot is None:
            slot = _lease_open_slot(
                study=study, reviewer=reviewer, member_id=member_id, lease=lease, opted_out=opted_out
            )
        # Expired leases count as open: reopened here when no open slot is left for this
        # reviewer (and every minute by the beat sweep), which spares every other claim a
        # round trip.
        if slot is None and leases_expire(now=now, study=study, limit=100):
            slot = _lease_open_slot(
                study=study, reviewer=reviewer, member_id=member_id, lease=lease, opted_out=opted_out
            )
        return slot


def _slot_held(*, study_id: int, reviewer_id: int, now: datetime) -> Slot | None:
    """The live lease the reviewer holds in the study, oldest first; written out, as every claim asks."""
    columns = _slot_columns()
    table = Slot._meta.db_table
    row = row_fetch(
        f"SELECT {columns.sql} FROM {table} WHERE {table}.study_id = %s AND {table}.holder_id = %s "  # noqa: S608
        f"AND {table}.status = %s AND {table}.leased_until > %s ORDER BY {table}.leased_at LIMIT 1",
        [study_id, reviewer_id, SlotStatus.LEASED, connection.ops.adapt_datetimefield_value(now)],
    )
    return None if row is None else instance_from_row(Slot, columns, row)


def _lease_open_slot(
    *,
    study: Study,
    reviewer: User,
    member_id: int | None,
    lease: tuple[datetime, datetime],
    opted_out: Sequence[int] = (),
    domains: Sequence[int] = (),
) -> Slot | None:
    """Pick the best open slot for the reviewer, skipping rows others have locked, and lease it.

    A crowd slot, fullest item first, then position and slot number; or, given domains (the
    reviewer's areas of expertise), an expert slot in one of them, first by position. Never an
    item the reviewer authored (member_id), holds or held, or skipped. opted_out: tag ids the reviewer will not be
    shown; an item's known topics are its transcript's source tags and the topics earlier
    reviewers of the item chose. Both twins below follow these rules, and a test holds them
    to the same picks.
    """
    lease_slot = _lease_open_slot_postgresql if connection.vendor == "postgresql" else _lease_open_slot_portable
    return lease_slot(
        study=study, reviewer=reviewer, member_id=member_id, lease=lease, opted_out=opted_out, domains=domains
    )


def _lease_open_slot_postgresql(
    *,
    study: Study,
    reviewer: User,
    member_id: int | None,
    lease: tuple[datetime, datetime],
    opted_out: Sequence[int] = (),
    domains: Sequence[int] = (),
) -> Slot | None:
    # The claim is the hottest statement Triad runs: pick and lease in one round trip.
    columns = _slot_columns()
    pick = _open_slot_pick_sql(by_author=member_id is not None, by_topic=bool(opted_out), expert=bool(domains))
    row = row_fetch(
        f"""
        WITH pick AS ({pick})
        UPDATE {Slot._meta.db_table} SET status = %(leased)s, holder_id = %(reviewer)s,
            leased_at = %(start)s, leased_until = %(until)s
        FROM pick WHERE {Slot._meta.db_table}.id = pick.id
        RETURNING {columns.sql}
        """,  # noqa: S608 - table names come from code; values are parameters
        {
            "study": study.pk,
            "open": SlotStatus.OPEN,
            "crowd": RaterRole.CROWD,
            "expert": RaterRole.EXPERT,
            "domains": list(domains),
            "leased": SlotStatus.LEASED,
            "member": member_id,
            "reviewer": reviewer.pk,
            "start": lease[0],
            "until": lease[1],
            "opted_out": list(opted_out),
        },
    )
    if row is None:
        return None
    return instance_from_row(Slot, columns, row)


def _open_slot_pick_sql(*, by_author: bool, by_topic: bool, expert: bool = False) -> str:
    """The SELECT ... FOR NO KEY UPDATE SKIP LOCKED of the one slot to lease: a crowd slot, or
    (expert) an expert slot in one of the reviewer's domains, each through its partial index."""
    # NOT IN over the reviewer's own items becomes one hashed set per claim; NOT EXISTS
    # probed an index for every open slot passed over, and a reviewer's own items sort
    # first (fullest first), so a reviewer far into a study paid ~40 ms a claim.
    author_clause = "AND s.author_member_id <> %(member)s" if by_author else ""
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
        if by_topic
        else ""
    )
    role_clause = "s.role = %(expert)s AND s.expert_tag_id = ANY(%(domains)s)" if expert else "s.role = %(crowd)s"
    order = "s.position" if expert else "s.item_done DESC, s.position, s.number"
    return f"""
        SELECT s.id FROM {Slot._meta.db_table} s
        WHERE s.study_id = %(study)s AND s.status = %(open)s AND {role_clause} {author_clause}
          AND s.item_id NOT IN (
              SELECT mine.item_id FROM {Slot._meta.db_table} mine
              WHERE mine.holder_id = %(reviewer)s AND mine.study_id = %(study)s)
          AND s.item_id NOT IN (
              SELECT skipped.item_id FROM {Skip._meta.db_table} skipped
              WHERE skipped.reviewer_id = %(reviewer)s AND skipped.study_id = %(study)s)
          {topics_clause}
        ORDER BY {order}
        LIMIT 1
        FOR NO KEY UPDATE SKIP LOCKED
    """  # noqa: S608 - table names come from code; values are parameters


def _lease_open_slot_portable(
    *,
    study: Study,
    reviewer: User,
    member_id: int | None,
    lease: tuple[datetime, datetime],
    opted_out: Sequence[int] = (),
    domains: Sequence[int] = (),
) -> Slot | None:
    candidates = (
        Slot.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
        .filter(study=study, status=SlotStatus.OPEN)
        .filter(~Exists(Slot.objects.filter(item=OuterRef("item"), holder=reviewer)))
        .filter(~Exists(Skip.objects.filter(item=OuterRef("item"), reviewer=reviewer)))
    )
    if domains:
        candidates = candidates.filter(role=RaterRole.EXPERT, expert_tag_id__in=domains).order_by("position")
    else:
        candidates = candidates.filter(role=RaterRole.CROWD).order_by("-item_done", "position", "number")
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


def slot_lock(*, slot_id: int) -> Slot:
    """Lock the slot and bring its study, read now: after the caller's membership lock, so the
    study's status is the one any pause or archive that lock waited for left behind."""
    # Written out: every submit and skip runs it (see _membership_lock_postgresql).
    columns = _slot_and_study_columns()
    lock = " FOR NO KEY UPDATE OF s" if connection.features.has_select_for_no_key_update else ""
    row = row_fetch(
        f"SELECT {columns.sql} FROM {Slot._meta.db_table} s "  # noqa: S608 - names from code
        f"JOIN {Study._meta.db_table} study ON study.id = s.study_id WHERE s.id = %s{lock}",
        [slot_id],
    )
    if row is None:
        raise Slot.DoesNotExist(f"no slot {slot_id}")
    slot, study = instances_from_row(columns, row)
    assert isinstance(slot, Slot)  # noqa: S101 - for the type checker
    Slot.study.field.set_cached_value(slot, study)
    return slot


@cache
def _slot_and_study_columns() -> ModelColumns:
    return model_columns([("s", Slot), ("study", Study)])


def is_author(membership: LockedMembership, slot: Slot) -> bool:
    return membership.red_team_member_id is not None and membership.red_team_member_id == slot.author_member_id


def slot_release(*, slot: Slot) -> None:
    """Put a leased slot back into the pool. The caller holds the reviewer's membership lock.

    A gold slot was made for this reviewer alone (slot_gold_held), so it goes instead."""
    if slot.role in GOLD_ROLES:
        slot.delete()
        return
    slot.status, slot.holder, slot.leased_at, slot.leased_until = SlotStatus.OPEN, None, None, None
    slot.save(update_fields=["status", "holder", "leased_at", "leased_until"])


def slot_skip(*, slot_id: int, reviewer: User, reason: str = "") -> Skip:
    """Never offer this item to this reviewer again, and reopen the slot for others. Idempotent.

    Only while the study is active (StudyNotActive otherwise): nothing is written to a paused
    or archived study. It takes the same membership lock as a submit, so a skip and a submit
    of one item by one reviewer run one after the other, and the later one sees the earlier.
    """
    with transaction.atomic():
        slot = Slot.objects.filter(pk=slot_id).first()
        if slot is None:
            raise SlotNotYours(slot_id)
        membership_lock(study_id=slot.study_id, reviewer=reviewer)
        earlier = Skip.objects.filter(item_id=slot.item_id, reviewer=reviewer).first()
        slot = slot_lock(slot_id=slot_id)
        if slot.holder_id != reviewer.pk or slot.status != SlotStatus.LEASED:
            if earlier is not None:
                return earlier  # a repeated click
            raise SlotNotYours(slot_id)
        if slot.study.status != StudyStatus.ACTIVE:
            raise StudyNotActive(slot.study)
        skip = Skip.objects.create(item_id=slot.item_id, study_id=slot.study_id, reviewer=reviewer, reason=reason[:500])
        slot_release(slot=slot)
        return skip
