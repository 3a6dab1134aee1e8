"""Changing a review just submitted: the reviewer's "Undo", for a few minutes after the submit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from review.errors import NotAMember, ReviewNotEditable, ReviewNotYours
from review.models import RaterRole, Review
from review.selectors import review_edit_refusal
from review.services.answers import ReviewAnswers, review_answers_check
from review.services.assignment import membership_lock, slot_lock
from review.services.reviews import expert_slot_open


def review_edit(*, review_id: int, reviewer: User, answers: ReviewAnswers, now: datetime | None = None) -> Review:
    """Replace the answers of the reviewer's last review, in place: the same row, the same slot.

    Checked under the reviewer's membership lock (which a pause or an archive takes for every
    member first, so the study's status cannot change under the edit) and the review's row lock:
    the review is the reviewer's own and their latest, it was stored less than REVIEW_EDIT_WINDOW
    ago, and the study is active. The answers are checked as a submit checks them. Raises
    ReviewNotYours for a review that is missing or someone else's, ReviewNotEditable (with the
    reason) otherwise; nothing is changed then. The change is audited with what it changed.
    """
    now = now or timezone.now()
    review_answers_check(answers)
    with transaction.atomic():
        study_id = Review.objects.filter(pk=review_id, reviewer=reviewer).values_list("study_id", flat=True).first()
        if study_id is None:
            raise ReviewNotYours(review_id)
        try:
            membership_lock(study_id=study_id, reviewer=reviewer)
        except NotAMember:
            raise ReviewNotEditable(review_id, "you are no longer a reviewer in this study") from None
        review = Review.objects.select_for_update(no_key=True).get(pk=review_id)
        refusal = review_edit_refusal(review=review, reviewer=reviewer, now=now)
        if refusal is not None:
            raise ReviewNotEditable(review_id, refusal)
        before = _answers_of(review)
        review.rating = answers.rating
        review.first_tag_id = answers.tag_ids[0] if answers.tag_ids else None
        review.second_tag_id = answers.tag_ids[1] if len(answers.tag_ids) > 1 else None
        review.needs_expertise = answers.needs_expertise
        review.expertise_tag_id = answers.expertise_tag_id if answers.needs_expertise else None
        review.expertise_domain = answers.expertise_domain if answers.needs_expertise else ""
        review.note = answers.note
        review.save(
            update_fields=[
                "rating",
                "first_tag",
                "second_tag",
                "needs_expertise",
                "expertise_tag",
                "expertise_domain",
                "note",
            ]
        )
        if review.rater_role == RaterRole.CROWD and review.needs_expertise and review.expertise_tag_id is not None:
            expert_slot_open(slot=slot_lock(slot_id=review.slot_id), tag_id=review.expertise_tag_id)
        after = _answers_of(review)
        audit_record(
            actor=reviewer,
            action=AuditAction.REVIEW_EDITED,
            target=review,
            study=review.study,
            details={
                "changed": sorted(field for field in after if after[field] != before[field]),
                # The note's words stay in the review itself: the log says only whether it changed.
                "before": {field: value for field, value in before.items() if field != "note"},
                "after": {field: value for field, value in after.items() if field != "note"},
            },
        )
    return review


def _answers_of(review: Review) -> dict[str, Any]:
    return {
        "rating": review.rating,
        "tags": [tag for tag in (review.first_tag_id, review.second_tag_id) if tag is not None],
        "needs_expertise": review.needs_expertise,
        "expertise_tag": review.expertise_tag_id,
        "expertise_domain": review.expertise_domain,
        "note": review.note,
    }
