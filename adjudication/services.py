"""Writes of adjudication: the study's rule, its named adjudicators, and final labels. Each is audited."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from adjudication.errors import AlreadyAdjudicated, InvalidAdjudication, NotInQueue
from adjudication.models import SPREAD_MAX, SPREAD_MIN, Adjudication, AdjudicationRule, Adjudicator, RuleKind
from adjudication.selectors import is_adjudicator, is_pending
from audit.models import AuditAction
from audit.services import audit_record
from review.models import Study, StudyItem
from tagging.models import Tag

MAX_TAGS = 2
REASON_MAX_CHARS = 5000


def adjudication_rule_set(*, study: Study, kind: str, min_spread: int, actor: User) -> AdjudicationRule:
    """Set which disagreeing items of the study go to adjudication. Items already adjudicated keep
    their final label; the queue follows the new rule at once (it is computed, not stored)."""
    if kind not in RuleKind.values:
        raise InvalidAdjudication({"kind": f"unknown rule {kind!r}"})
    if not SPREAD_MIN <= min_spread <= SPREAD_MAX:
        raise InvalidAdjudication({"min_spread": f"must be {SPREAD_MIN} to {SPREAD_MAX}"})
    with transaction.atomic():
        rule, _ = AdjudicationRule.objects.select_for_update().get_or_create(study=study)
        before = {"kind": rule.kind, "min_spread": rule.min_spread}
        after = {"kind": kind, "min_spread": min_spread}
        if before != after:  # the same rule again writes nothing
            rule.kind, rule.min_spread = kind, min_spread
            rule.save()
            audit_record(
                actor=actor,
                action=AuditAction.STUDY_CHANGED,
                target=study,
                study=study,
                details={"adjudication_rule": {"from": before, "to": after}},
            )
    return rule


def adjudicator_add(*, study: Study, user: User, actor: User) -> Adjudicator:
    """Name a reviewer as an adjudicator of the study; naming them again changes nothing."""
    with transaction.atomic():
        adjudicator, created = Adjudicator.objects.get_or_create(study=study, user=user)
        if created:
            audit_record(
                actor=actor,
                action=AuditAction.ADJUDICATOR_ADDED,
                target=study,
                study=study,
                details={"user": user.get_username()},
            )
    return adjudicator


def adjudicator_remove(*, study: Study, user: User, actor: User) -> bool:
    """Take a reviewer off the study's adjudicators; their past final labels stay."""
    with transaction.atomic():
        deleted, _ = Adjudicator.objects.filter(study=study, user=user).delete()
        if deleted:
            audit_record(
                actor=actor,
                action=AuditAction.ADJUDICATOR_REMOVED,
                target=study,
                study=study,
                details={"user": user.get_username()},
            )
    return bool(deleted)


def _clean(*, rating: int, tag_ids: Sequence[int], reason: str) -> tuple[list[Tag], str]:
    errors: dict[str, str] = {}
    if not 0 <= rating <= 4:
        errors["rating"] = "choose a final rating from 0 to 4"
    if len(set(tag_ids)) != len(tag_ids):
        errors["tags"] = "a topic can be chosen once"
    elif len(tag_ids) > MAX_TAGS:
        errors["tags"] = f"choose at most {MAX_TAGS} topics"
    tags = Tag.objects.in_bulk(list(tag_ids))
    if len(tags) != len(set(tag_ids)):
        errors.setdefault("tags", "unknown topic")
    reason = reason.strip()
    if not reason:
        errors["reason"] = "say why this is the final label"
    elif len(reason) > REASON_MAX_CHARS:
        errors["reason"] = f"keep the reason under {REASON_MAX_CHARS} characters"
    if errors:
        raise InvalidAdjudication(errors)
    return [tags[tag_id] for tag_id in tag_ids], reason


def adjudication_record(
    *, study: Study, item_id: int, adjudicator: User, rating: int, tag_ids: Sequence[int], reason: str
) -> Adjudication:
    """Record the final label of an item waiting in the study's queue: once per item.

    Two adjudicators may open the same item. The item's row is locked before the check, so the
    second waits for the first to commit and then finds its label (AlreadyAdjudicated, not a
    second label); where row locks do not exist (SQLite), the one-to-one column refuses the
    second insert and that is reported the same way."""
    tags, reason = _clean(rating=rating, tag_ids=tag_ids, reason=reason)
    if not is_adjudicator(study=study, user=adjudicator):
        raise NotInQueue("you are not an adjudicator of this study")
    with transaction.atomic():
        item = StudyItem.objects.select_for_update().filter(study=study, pk=item_id).first()
        if item is None:
            raise NotInQueue("no such item in this study")
        existing = Adjudication.objects.filter(item=item).select_related("adjudicated_by").first()
        if existing is not None:
            raise AlreadyAdjudicated(item_id=item.pk, by=existing.adjudicated_by.get_username())
        if not is_pending(study=study, item_id=item.pk, user=adjudicator):
            raise NotInQueue(
                "this item is not waiting for your adjudication: its reviews are not all in, they agree "
                "under the study's rule, or you reviewed it yourself"
            )
        try:
            with transaction.atomic():
                adjudication = Adjudication.objects.create(
                    item=item,
                    study=study,
                    rating=rating,
                    first_tag=tags[0] if tags else None,
                    second_tag=tags[1] if len(tags) > 1 else None,
                    reason=reason,
                    adjudicated_by=adjudicator,
                )
        except IntegrityError as error:
            raise AlreadyAdjudicated(item_id=item.pk, by="another adjudicator") from error
        audit_record(
            actor=adjudicator,
            action=AuditAction.ITEM_ADJUDICATED,
            target=item,
            study=study,
            details={"rating": rating, "tags": [tag.name for tag in tags], "reason": reason},
        )
    return adjudication
