"""The reviewer's work as their pages do it: the review workflow's writes, held to the reviewer's
wellbeing safeguards and followed by the agreement refresh.

Every caller that acts for a reviewer at work (the pages, the demo, the benches) comes through
here, so none can forget a safeguard or leave a study's agreement stale.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from agreement.services import agreement_refresh_request
from review.models import Review, Slot
from review.services.assignment import slot_claim
from review.services.reviews import ReviewAnswers, review_submit
from wellbeing.selectors.exposure import claim_guard


def work_claim(
    *, study_id: int, reviewer: AbstractBaseUser, now: datetime | None = None, prompt_breaks: bool = False
) -> Slot | None:
    """The reviewer's next slot in the study (or the one they hold), unless their safeguards refuse.

    prompt_breaks: also refuse with BreakDue once a break is due (the reviewer's pages ask for it).
    """
    guard = claim_guard(reviewer_id=reviewer.pk, check_break=prompt_breaks)
    return slot_claim(study_id=study_id, reviewer=reviewer, guard=guard, now=now)


def work_submit(
    *,
    slot_id: int,
    reviewer: AbstractBaseUser,
    answers: ReviewAnswers,
    leased_at: datetime | None = None,
    now: datetime | None = None,
) -> Review:
    """Store the reviewer's review (see review_submit), then ask for the study's agreement refresh.

    The request is debounced (agreement_refresh_request), so a retry that finds its review
    already stored costs one conditional UPDATE and queues nothing new.
    """
    review = review_submit(slot_id=slot_id, reviewer=reviewer, answers=answers, leased_at=leased_at, now=now)
    study_id = review.study_id
    transaction.on_commit(lambda: agreement_refresh_request(study_id=study_id))
    return review
