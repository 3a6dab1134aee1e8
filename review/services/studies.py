"""Writes of studies: creation and sampling, lifecycle, settings, members, reviewer profiles."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction

from audit.models import AuditAction
from audit.services import Actor, audit_record
from review.errors import (
    StudyHasReviews,
    StudyStateError,
)
from review.models import (
    ReviewerProfile,
    Slot,
    SlotStatus,
    Study,
    StudyItem,
    StudyMembership,
    StudyStatus,
)
from review.sampling import Stratum, StratumTooSmall, StudyInvalid
from review.selectors import stratum_candidate_ids
from transcripts.models import Transcript

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
                cursor.execute(f"ANALYZE {Slot._meta.db_table}")
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


def reviewer_profile_set(*, user: User, red_team_member_id: int | None, actor: Actor = None) -> ReviewerProfile:
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
