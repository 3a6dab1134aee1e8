"""The reviewer's work as their pages do it: the review workflow's writes, held to the reviewer's
wellbeing safeguards and followed by the agreement refresh.

Every caller that acts for a reviewer at work (the pages, the demo, the benches) comes through
here, so none can forget a safeguard or leave a study's agreement stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from agreement.services import agreement_refresh_request
from review.models import Review, Slot
from review.services.answers import ReviewAnswers
from review.services.assignment import slot_claim
from review.services.edits import review_edit
from review.services.reviews import review_submit
from wellbeing.errors import BreakDue
from wellbeing.selectors.exposure import claim_guard
from wellbeing.selectors.surveys import checkin_due_after_review
from wellbeing.services.exposure import break_prompt, exposure_record


def work_claim(
    *, study_id: int, reviewer: User, now: datetime | None = None, prompt_breaks: bool = False
) -> Slot | None:
    """The reviewer's next slot in the study (or the one they hold), unless their safeguards refuse.

    prompt_breaks: also refuse with BreakDue once a break is due (the reviewer's pages ask for it).
    """
    guard = claim_guard(reviewer_id=reviewer.pk, check_break=prompt_breaks)
    return slot_claim(study_id=study_id, reviewer=reviewer, guard=guard, now=now)


def work_page_claim(*, study_id: int, reviewer: User, now: datetime | None = None) -> Slot | None:
    """The claim behind the reviewer's pages: the time since their last page counts, then
    work_claim with break prompts; a break due is offered (recorded) before BreakDue goes up.

    Raises what work_claim raises (NotAMember, StudyNotActive, PausedForToday,
    ExposureCapReached, BreakDue).
    """
    now = now or timezone.now()
    # Before the claim, so a return after time away starts a new stretch before the break check.
    # The only exposure write of the loop besides the check-in path: GET pages write nothing,
    # and the time from one claim to the next counts unless the reviewer was away.
    exposure_record(reviewer=reviewer, now=now)
    try:
        return work_claim(study_id=study_id, reviewer=reviewer, now=now, prompt_breaks=True)
    except BreakDue:
        break_prompt(reviewer=reviewer, now=now)
        raise


def work_submit(
    *,
    slot_id: int,
    reviewer: User,
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


@dataclass(frozen=True)
class PageSubmit:
    """A review stored from the review page, and whether the check-in comes before the next item."""

    review: Review
    checkin_due: bool


def work_page_submit(
    *, slot_id: int, reviewer: User, answers: ReviewAnswers, leased_at: datetime | None = None
) -> PageSubmit:
    """work_submit, then whether the check-in is due; when it is, the time so far counts now,
    because nothing is claimed (and so nothing records exposure) while the check-in is open.

    Raises what work_submit raises.
    """
    review = work_submit(slot_id=slot_id, reviewer=reviewer, answers=answers, leased_at=leased_at)
    checkin_due = checkin_due_after_review(reviewer=reviewer, study=review.study)
    if checkin_due:
        exposure_record(reviewer=reviewer)
    return PageSubmit(review=review, checkin_due=checkin_due)


def work_edit(*, review_id: int, reviewer: User, answers: ReviewAnswers, now: datetime | None = None) -> Review:
    """Change the reviewer's last review (see review_edit), then ask for the study's agreement refresh."""
    review = review_edit(review_id=review_id, reviewer=reviewer, answers=answers, now=now)
    study_id = review.study_id
    transaction.on_commit(lambda: agreement_refresh_request(study_id=study_id))
    return review
