"""Gold items and calibration: a lead's reference answers, and serving them to reviewers.

A study item becomes gold when a lead records its reference answer and an explanation
(GoldItem). A study can then open each reviewer's work with a calibration round of
calibration_items gold items, each answer followed by the reference (workspace's feedback
page), and afterwards serve a gold item on about gold_percent of a reviewer's claims, as a
silent check. A gold answer is a review in a slot made for that one reviewer (role calibration
or gold; slot_gold_held), so the content warning, the lease, skips and the wellbeing
safeguards apply to it as to any item, and agreement, consensus and adjudication never read it
(Review.objects.crowd()).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q

from audit.models import AuditAction
from audit.services import Actor, audit_record
from review.errors import InvalidAnswers
from review.models import (
    GOLD_NUMBER_BASE,
    GOLD_ROLES,
    GoldItem,
    RaterRole,
    Review,
    Skip,
    Slot,
    SlotStatus,
    Study,
    StudyItem,
)
from review.services.answers import ReviewAnswers, review_answers_errors
from transcripts.models import Transcript

CALIBRATION_ITEMS_MAX = 50
GOLD_NUMBER_TRIES = 20
GOLD_PERCENT_MAX = 50


def gold_item_mark(
    *, study: Study, item_id: int, rating: int, tag_ids: Sequence[int], explanation: str, actor: User
) -> GoldItem:
    """Make the study's item gold with this reference answer, or change its reference.

    Raises InvalidAnswers (a message per field) for a rating outside 0-4, more than two or
    repeated or unknown topics, an empty explanation, or an item that is not the study's.
    """
    explanation = explanation.strip()
    # A reference answer follows the rules of a review's answers (rating 0-4, two known topics).
    errors = review_answers_errors(ReviewAnswers(rating=rating, tag_ids=tuple(tag_ids)))
    if not explanation:
        errors["explanation"] = "Explain the reference answer: reviewers read it after their calibration answer."
    item = StudyItem.objects.filter(study=study, pk=item_id).first()
    if item is None:
        errors["item"] = f"Item {item_id} is not in study {study.pk}."
    if errors:
        raise InvalidAnswers(errors)
    with transaction.atomic():
        reference = {
            "study": study,
            "rating": rating,
            "first_tag_id": tag_ids[0] if tag_ids else None,
            "second_tag_id": tag_ids[1] if len(tag_ids) > 1 else None,
            "explanation": explanation,
        }
        # Who marked it stays the first lead; a change of reference is in the audit log.
        gold, created = GoldItem.objects.update_or_create(
            item_id=item_id, defaults=reference, create_defaults={**reference, "marked_by": actor}
        )
        audit_record(
            actor=actor,
            action=AuditAction.GOLD_MARKED,
            target=item,
            study=study,
            details={"item": item_id, "rating": rating, "tags": list(tag_ids), "changed": not created},
        )
    return gold


def gold_item_unmark(*, study: Study, item_id: int, actor: Actor) -> bool:
    """The item is gold no more: it is not served as a gold item again. Answers already given
    stay (they are the reviewers' record), and their accuracy is no longer shown. Idempotent."""
    with transaction.atomic():
        deleted, _ = GoldItem.objects.filter(study=study, item_id=item_id).delete()
        if deleted:
            audit_record(
                actor=actor,
                action=AuditAction.GOLD_UNMARKED,
                target=StudyItem.objects.filter(pk=item_id).first(),
                study=study,
                details={"item": item_id},
            )
    return bool(deleted)


def study_gold_settings_set(*, study: Study, calibration_items: int, gold_percent: int, actor: Actor) -> Study:
    """How many gold items open each reviewer's work (with feedback), and the share of later
    claims that are a silent gold check. Raises InvalidAnswers naming a value out of range."""
    errors: dict[str, str] = {}
    if not 0 <= calibration_items <= CALIBRATION_ITEMS_MAX:
        errors["calibration_items"] = f"Choose 0 to {CALIBRATION_ITEMS_MAX} calibration items."
    if not 0 <= gold_percent <= GOLD_PERCENT_MAX:
        errors["gold_percent"] = f"Choose a share from 0 to {GOLD_PERCENT_MAX}%."
    if errors:
        raise InvalidAnswers(errors)
    with transaction.atomic():
        locked = Study.objects.select_for_update(no_key=True).filter(pk=study.pk)
        row = locked.values_list("calibration_items", "gold_percent").get()
        before: dict[str, int] = {"calibration_items": row[0], "gold_percent": row[1]}
        after = {"calibration_items": calibration_items, "gold_percent": gold_percent}
        if before != after:
            locked.update(**after)
            details = {name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]}
            audit_record(actor=actor, action=AuditAction.STUDY_CHANGED, target=study, study=study, details=details)
    study.calibration_items, study.gold_percent = calibration_items, gold_percent
    return study


# --- serving gold items (inside the claim) -------------------------------------------------------


def gold_slot_lease(
    *,
    study: Study,
    reviewer: User,
    member_id: int | None,
    lease: tuple[datetime, datetime],
    opted_out: Sequence[int] = (),
) -> Slot | None:
    """The gold item this claim serves the reviewer, leased to them; None when it serves none.

    Called by slot_claim under the reviewer's membership lock, after their live lease (if any)
    was handed back. In order: a gold slot of theirs whose lease lapsed comes back; while they
    have given fewer than calibration_items calibration answers, a calibration item; after
    that, on about gold_percent of claims, a gold check. Studies that use neither cost nothing.
    """
    if not study.calibration_items and not study.gold_percent:
        return None
    lapsed = Slot.objects.filter(study=study, holder=reviewer, role__in=GOLD_ROLES, status=SlotStatus.LEASED).first()
    if lapsed is not None:
        lapsed.leased_at, lapsed.leased_until = lease
        lapsed.save(update_fields=["leased_at", "leased_until"])
        return lapsed
    counts = Review.objects.filter(study=study, reviewer=reviewer).aggregate(
        calibration=Count("id", filter=Q(rater_role=RaterRole.CALIBRATION)), answered=Count("id")
    )
    if counts["calibration"] < study.calibration_items:
        role = RaterRole.CALIBRATION
    elif study.gold_percent and gold_check_due(study=study, reviewer_id=reviewer.pk, answered=counts["answered"]):
        role = RaterRole.GOLD
    else:
        return None
    item = _gold_item_for(study=study, reviewer=reviewer, member_id=member_id, opted_out=opted_out)
    if item is None:
        return None
    # The item's next gold number. Another reviewer's claim may take the same number at the same
    # moment (their membership lock is not ours): the unique index refuses one, which tries the next.
    for _ in range(GOLD_NUMBER_TRIES):
        taken = Slot.objects.filter(item=item, number__gte=GOLD_NUMBER_BASE).aggregate(last=Max("number"))["last"]
        try:
            with transaction.atomic():
                return Slot.objects.create(
                    study=study,
                    item=item,
                    number=GOLD_NUMBER_BASE if taken is None else taken + 1,
                    position=item.position,
                    author_member_id=item.transcript.red_team_member_id,
                    role=role,
                    status=SlotStatus.LEASED,
                    holder=reviewer,
                    leased_at=lease[0],
                    leased_until=lease[1],
                )
        except IntegrityError:
            continue
    return None


def gold_check_due(*, study: Study, reviewer_id: int, answered: int) -> bool:
    """Whether the reviewer's claim after `answered` answers in the study is a gold check.

    A hash of the study's seed, the reviewer and the count, read as a number in [0, 100): the
    same reviewer at the same point always gets the same answer (reproducible, and a reload
    cannot fish for or dodge a check), while reviewers get their checks at different points.
    """
    digest = hashlib.blake2b(f"{study.seed}:{reviewer_id}:{answered}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 10_000 < study.gold_percent * 100


def _gold_item_for(
    *, study: Study, reviewer: User, member_id: int | None, opted_out: Sequence[int]
) -> StudyItem | None:
    """The study's first gold item (by position) the reviewer may be served: not their own attack,
    none they hold, held or skipped, none with a topic they opted out of (its source tags or the
    topics its reviewers chose), as the crowd's claim rules them out."""
    items = (
        StudyItem.objects.filter(study=study, gold__isnull=False)
        .exclude(pk__in=Slot.objects.filter(study=study, holder=reviewer).values("item_id"))
        .exclude(pk__in=Skip.objects.filter(study=study, reviewer=reviewer).values("item_id"))
        .select_related("transcript")
        .order_by("position")
    )
    if member_id is not None:
        items = items.exclude(transcript__red_team_member_id=member_id)
    if opted_out:
        tagged = Transcript.tags.through.objects.filter(tag_id__in=opted_out).values("transcript_id")
        chosen = Review.objects.filter(
            Q(first_tag_id__in=opted_out) | Q(second_tag_id__in=opted_out), study=study
        ).values("item_id")
        items = items.exclude(transcript_id__in=tagged).exclude(pk__in=chosen)
    return items.first()
