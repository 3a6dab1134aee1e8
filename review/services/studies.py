"""Writes of studies: creation and sampling, lifecycle, settings, members, reviewer profiles."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import KombuError

from audit.models import AuditAction
from audit.services import Actor, audit_record
from review.errors import (
    RedTeamIdTaken,
    StudyHasReviews,
    StudyStateError,
)
from review.models import (
    ReviewerProfile,
    Slot,
    SlotStatus,
    Study,
    StudyItem,
    StudyLead,
    StudyMembership,
    StudyStatus,
)
from review.sampling import Stratum, StratumTooSmall, StudyInvalid
from review.selectors import stratum_candidate_ids
from tagging.models import Tag
from transcripts.models import Transcript

logger = logging.getLogger(__name__)

# What a publish raises when Redis is down or drops the connection (as agreement.services).
BROKER_ERRORS = (KombuError, redis.RedisError, OSError)

# --- studies -----------------------------------------------------------------------------


def study_plan_check(
    *,
    name: str,
    strata: Sequence[Stratum],
    reviewers_per_item: int = 3,
    lease_minutes: int = 30,
) -> None:
    """Raise StudyInvalid, with a message per field, unless a study can be created as planned.

    The one statement of the plan rules: the study form shows these messages on its fields.
    A stratum that holds too few transcripts is found when drawing (StratumTooSmall).
    """
    errors: dict[str | None, str] = {}
    if not name.strip():
        errors["name"] = "A study needs a name."
    elif Study.objects.filter(name=name).exists():
        errors["name"] = "A study with this name exists already."
    if not 1 <= reviewers_per_item <= 20:
        errors["reviewers_per_item"] = f"reviewers per item must be 1-20, got {reviewers_per_item}"
    if lease_minutes < 1:
        errors["lease_minutes"] = f"lease minutes must be at least 1, got {lease_minutes}"
    if not strata:
        errors[None] = "Draw at least one transcript: give a size to at least one stratum."
    for stratum in strata:
        if stratum.size < 1:
            errors[None] = f"Stratum '{stratum.label}' asks for {stratum.size} transcripts: give it at least 1."
    if errors:
        raise StudyInvalid(errors=errors)


def study_create(
    *,
    name: str,
    strata: Sequence[Stratum],
    seed: int,
    description: str = "",
    reviewers_per_item: int = 3,
    lease_minutes: int = 30,
    created_by: User | None = None,
    actor: Actor = None,
) -> Study:
    """Create a study from a seeded random sample, without replacement, of each stratum.

    The same seed on the same data gives the same items: candidates are ordered by
    content hash, which does not depend on import order or database ids.
    """
    study_plan_check(name=name, strata=strata, reviewers_per_item=reviewers_per_item, lease_minutes=lease_minutes)
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
        if created_by is not None:
            # The creator owns the study: they, and the co-leads they add, are its only leads.
            StudyLead.objects.create(study=study, lead=created_by)
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


# The start task (review.tasks.start_study) by its registered name: the task module imports
# these services, so they send it by name (as agreement.services.REFRESH_TASK). Sent through the
# app's registry, it runs in-process, after the commit, when Celery is eager (no REDIS_URL).
START_TASK = "review.start_study"
# Items whose slots one transaction of the start creates: one progress step of the lead's bar.
START_BATCH_ITEMS = 50_000
# One run of the start task stops after this long and queues the next, well inside the task time
# limit and the broker's visibility timeout, so no worker is killed or the task re-sent mid-way.
START_RUN_SECONDS = 60.0


@dataclass(frozen=True)
class StartRequest:
    """What asking to start did: `queued` is False when the study was starting already
    (the start was sent to the workers again, nothing else changed)."""

    study: Study
    queued: bool


def study_start_request(*, study: Study, actor: Actor = None) -> StartRequest:
    """Move a draft to "starting" and queue the task that creates its slots; returns at once.

    The lead's request does no more than lock and count: a million-item study's slots are made
    by a worker (study_start_continue), which moves the study to active when they all exist.
    Asking again while it starts sends the task again (a lost enqueue, a worker that never
    came) without recording anything: the task resumes where the last one stopped.
    """
    with transaction.atomic():
        study = Study.objects.select_for_update(no_key=True).get(pk=study.pk)
        if study.status not in (StudyStatus.DRAFT, StudyStatus.STARTING):
            raise StudyStateError(f"study {study.name!r} is {study.get_status_display().lower()}, not a draft")
        first = study.status == StudyStatus.DRAFT
        if first:
            total = StudyItem.objects.filter(study_id=study.pk).count()
            Study.objects.filter(pk=study.pk).update(
                status=StudyStatus.STARTING,
                start_items_total=total,
                start_items_done=0,
                start_position=0,
                start_touched_at=timezone.now(),
            )
            study.status, study.start_items_total, study.start_items_done, study.start_position = (
                StudyStatus.STARTING,
                total,
                0,
                0,
            )
            audit_record(
                actor=actor,
                action=AuditAction.STUDY_STARTED,
                target=study,
                study=study,
                details={"from": StudyStatus.DRAFT, "items": total},
            )
        study_id = study.pk
        transaction.on_commit(lambda: study_start_enqueue(study_id=study_id))
    return StartRequest(study=study, queued=first)


def study_start_enqueue(*, study_id: int) -> bool:
    """Send the start task; with the broker down, log it and go on (False): the study stays
    starting, and the lead's Start button (study_start_request again) sends it once more.

    Without a broker (Celery eager, no REDIS_URL) the start runs here, after the commit, as the
    task would: only workers import the task modules, so a send by name from a web process
    would not find the task to run eagerly (Celery sends it to the in-memory broker instead).
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        while study_start_continue(study_id=study_id) is False:
            pass
        return True
    try:
        current_app.signature(START_TASK, args=[study_id]).apply_async()
    except BROKER_ERRORS as exc:
        logger.warning("start of study %s not queued, broker unavailable (%s); ask again to resend", study_id, exc)
        return False
    return True


def study_start_continue(
    *, study_id: int, batch_items: int = START_BATCH_ITEMS, seconds: float = START_RUN_SECONDS
) -> bool | None:
    """Create the slots of a starting study, a batch of items per transaction, for up to `seconds`.

    Returns True once the study is active (now or before), False when time ran out with items
    left (the task queues itself again), None when there is nothing to do: no such study, or
    one that is not starting (archived meanwhile: unarchiving queues the start again).
    Safe to re-run and to run twice at once: each batch locks the study row, reads how far
    the start got, and records its progress in the same transaction as its slots.
    """
    deadline = time.monotonic() + seconds
    while True:
        with transaction.atomic():
            study = Study.objects.select_for_update(no_key=True).filter(pk=study_id).first()
            if study is None or study.status != StudyStatus.STARTING:
                if study is not None and study.status in (StudyStatus.ACTIVE, StudyStatus.PAUSED):
                    return True
                return None
            upper = _start_batch_end(study=study, batch_items=batch_items)
            if upper is not None:
                created = _slots_insert(study=study, after_position=study.start_position, up_to_position=upper)
                done = min(study.start_items_total, study.start_items_done + created // study.reviewers_per_item)
                Study.objects.filter(pk=study.pk).update(
                    start_position=upper, start_items_done=done, start_touched_at=timezone.now()
                )
            else:
                # Every item has its slots: fresh statistics, then open the study to its reviewers.
                _slots_analyze()
                Study.objects.filter(pk=study.pk).update(
                    status=StudyStatus.ACTIVE, start_items_done=study.start_items_total
                )
                return True
        if time.monotonic() >= deadline:
            return False


# A start whose progress has not moved for this long is re-sent by beat's catch-up: longer than
# any one batch takes (a few seconds for 50,000 items) plus a wait in a busy queue.
START_STALL_SECONDS = 120


def study_starts_requeue(*, now: datetime | None = None) -> int:
    """Re-send the start of every study that has been starting without progress for
    START_STALL_SECONDS (its enqueue was lost with Redis down, or its worker died); returns how
    many were sent. Each is claimed by a conditional UPDATE that moves its mark to now, so two
    catch-ups at once send it once, and a start is re-sent at most once a window. One sent
    while a worker still runs it is harmless: the runs take turns on the study's lock."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=START_STALL_SECONDS)
    stalled = Q(status=StudyStatus.STARTING) & (Q(start_touched_at__lt=cutoff) | Q(start_touched_at__isnull=True))
    sent = 0
    for study_id in Study.objects.filter(stalled).values_list("pk", flat=True):
        if Study.objects.filter(stalled, pk=study_id).update(start_touched_at=now) and study_start_enqueue(
            study_id=study_id
        ):
            sent += 1
    return sent


def _start_batch_end(*, study: Study, batch_items: int) -> int | None:
    """The position of the last item of the next batch after study.start_position; None when none is left."""
    items = StudyItem.objects.filter(study_id=study.pk, position__gt=study.start_position).order_by("position")
    positions = list(items.values_list("position", flat=True)[batch_items - 1 : batch_items])
    if positions:
        return positions[0]
    # Fewer than a batch left: up to the last item, if there is any left at all.
    return items.order_by("-position").values_list("position", flat=True).first()


def _slots_insert(*, study: Study, after_position: int, up_to_position: int | None) -> int:
    """Create the slots of the study's items in (after_position, up_to_position] (None: to the end) in
    one statement, so a million items are not a round trip a slot; returns how many were made."""
    numbers = " UNION ALL ".join(f"SELECT {number} AS number" for number in range(1, study.reviewers_per_item + 1))
    upper = "" if up_to_position is None else "AND item.position <= %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Slot._meta.db_table}
                (study_id, item_id, number, position, author_member_id, item_done, status)
            SELECT item.study_id, item.id, n.number, item.position, transcript.red_team_member_id, 0, %s
            FROM {StudyItem._meta.db_table} item
            JOIN {Transcript._meta.db_table} transcript ON transcript.id = item.transcript_id
            CROSS JOIN ({numbers}) n
            WHERE item.study_id = %s AND item.position > %s {upper}
            """,  # noqa: S608 - table names and numbers come from code, not input
            [SlotStatus.OPEN, study.pk, after_position, *([] if up_to_position is None else [up_to_position])],
        )
        return int(cursor.rowcount)


def _slots_analyze() -> None:
    if connection.vendor == "postgresql":
        # Fresh statistics, or the planner may think a just-started study is empty and
        # pick a claim plan that reads every open slot (measured: 565 ms a review
        # instead of 15). Autovacuum would wait until 10% of the table had changed.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Slot._meta.db_table}")


def study_start(*, study: Study, actor: Actor = None) -> Study:
    """Create every item's slots and open the study to its reviewers now, in one transaction.

    For commands, the admin and tests, which wait for it; the lead's page asks for
    study_start_request instead, which a worker carries out without holding up the request.
    """
    with transaction.atomic():
        study = Study.objects.select_for_update(no_key=True).get(pk=study.pk)
        if study.status != StudyStatus.DRAFT:
            raise StudyStateError(f"study {study.name!r} is {study.get_status_display().lower()}, not a draft")
        total = StudyItem.objects.filter(study_id=study.pk).count()
        _slots_insert(study=study, after_position=0, up_to_position=None)
        _slots_analyze()
        study.status = StudyStatus.ACTIVE
        study.start_items_total = study.start_items_done = total
        study.save(update_fields=["status", "start_items_total", "start_items_done"])
        audit_record(
            actor=actor,
            action=AuditAction.STUDY_STARTED,
            target=study,
            study=study,
            details={"from": StudyStatus.DRAFT, "items": total},
        )
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
    """Close a study: nothing more is offered, its reviews and figures stay; study_unarchive undoes it."""
    return _study_move(
        study=study,
        allowed_from={StudyStatus.DRAFT, StudyStatus.STARTING, StudyStatus.ACTIVE, StudyStatus.PAUSED},
        to=StudyStatus.ARCHIVED,
        actor=actor,
        action=AuditAction.STUDY_ARCHIVED,
    )


def study_unarchive(*, study: Study, actor: Actor = None) -> Study:
    """Undo an archive: the study goes back to the status it had (a study archived before that was
    kept goes back to paused if it had started, else to draft). One archived while starting
    starts again where it stopped."""
    study = _study_move(
        study=study, allowed_from={StudyStatus.ARCHIVED}, to=None, actor=actor, action=AuditAction.STUDY_UNARCHIVED
    )
    if study.status == StudyStatus.STARTING:
        study_id = study.pk
        transaction.on_commit(lambda: study_start_enqueue(study_id=study_id))
    return study


def _study_move(*, study: Study, allowed_from: set[str], to: str | None, actor: Actor, action: str) -> Study:
    """Move the study to `to`, or out of the archive to where it was (to=None); recorded from and to."""
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
        previous = study.status
        if to is None:
            to = study.archived_from or _status_before_archive(study)
        study.status = to
        study.archived_from = previous if to == StudyStatus.ARCHIVED else ""
        study.save(update_fields=["status", "archived_from"])
        audit_record(actor=actor, action=action, target=study, study=study, details={"from": previous, "to": to})
    return study


def _status_before_archive(study: Study) -> str:
    """For a study archived before archives kept their status: paused if it has slots, else draft."""
    return StudyStatus.PAUSED if Slot.objects.filter(study_id=study.pk).exists() else StudyStatus.DRAFT


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


def study_members_set(*, study: Study, reviewers: Sequence[User], actor: Actor = None) -> None:
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
    *,
    user: User,
    red_team_member_id: int | None,
    expertise_tag_ids: Sequence[int] | None = None,
    actor: Actor = None,
) -> ReviewerProfile:
    """Link a reviewer to their red-team id (they are never offered their own attacks) and, when
    given, set their declared areas of expertise (harm tags); what changed is recorded."""
    taken = ReviewerProfile.objects.filter(red_team_member_id=red_team_member_id).exclude(user=user)
    if red_team_member_id is not None and taken.exists():
        raise RedTeamIdTaken(f"Red-team member id {red_team_member_id} belongs to another account already.")
    with transaction.atomic():
        existing = ReviewerProfile.objects.select_for_update().filter(user=user).first()
        previous = existing.red_team_member_id if existing is not None else None
        before = sorted(existing.expertise.values_list("name", flat=True)) if existing is not None else []
        profile, _ = ReviewerProfile.objects.update_or_create(
            user=user, defaults={"red_team_member_id": red_team_member_id}
        )
        details: dict[str, Any] = {}
        if previous != red_team_member_id:
            details["red_team_member_id"] = {"from": previous, "to": red_team_member_id}
        if expertise_tag_ids is not None:
            expertise = list(Tag.objects.filter(pk__in=expertise_tag_ids))
            profile.expertise.set(expertise)
            after = sorted(tag.name for tag in expertise)
            if after != before:
                details["expertise"] = {"from": before, "to": after}
        if details:
            audit_record(actor=actor, action=AuditAction.USER_CHANGED, target=user, details=details)
    return profile


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


# --- instructions ------------------------------------------------------------------------


def study_instructions_set(*, study: Study, instructions: str, actor: Actor) -> Study:
    """Set what the study's reviewers are asked to do (Markdown, shown rendered with no HTML)."""
    instructions = instructions.strip()
    with transaction.atomic():
        locked = Study.objects.select_for_update(no_key=True).filter(pk=study.pk)
        previous = locked.values_list("instructions", flat=True).get()
        if previous != instructions:
            Study.objects.filter(pk=study.pk).update(instructions=instructions)
            # The text itself is on the study; the log keeps its length before and after.
            details = {"instructions": {"from_characters": len(previous), "to_characters": len(instructions)}}
            audit_record(actor=actor, action=AuditAction.STUDY_CHANGED, target=study, study=study, details=details)
    study.instructions = instructions
    return study
