"""The workspace services behind the reviewer's pages: one call per page, safeguards included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from review.models import SlotStatus
from review.services.answers import ReviewAnswers
from tests.factories import started_study
from wellbeing.errors import BreakDue
from wellbeing.models import BreakEvent, BreakOutcome, ExposureDay
from workspace.services import work_page_claim, work_page_submit

pytestmark = pytest.mark.django_db


def test_a_page_claim_after_fifty_minutes_offers_a_break_and_leases_nothing() -> None:
    study, [ann, *_] = started_study(items=2)
    now = timezone.now()
    ExposureDay.objects.create(
        reviewer=ann,
        day=timezone.localdate(now),
        seconds=50 * 60,
        last_seen_at=now - timedelta(seconds=30),
        streak_started_at=now - timedelta(minutes=50),
    )
    with pytest.raises(BreakDue):
        work_page_claim(study_id=study.pk, reviewer=ann, now=now)
    assert BreakEvent.objects.filter(reviewer=ann, outcome=BreakOutcome.PROMPTED).count() == 1
    assert not study.slots.filter(holder=ann, status=SlotStatus.LEASED).exists()


def test_a_page_claim_counts_the_time_since_the_last_page_then_leases() -> None:
    study, [ann, *_] = started_study(items=2)
    slot = work_page_claim(study_id=study.pk, reviewer=ann)
    assert slot is not None and slot.holder_id == ann.pk
    assert ExposureDay.objects.filter(reviewer=ann).exists()


def test_a_page_submit_says_the_checkin_is_due_after_every_nth_review_of_the_study() -> None:
    study, [ann, *_] = started_study(items=3, checkin_every_reviews=2)
    due = []
    for _ in range(2):
        slot = work_page_claim(study_id=study.pk, reviewer=ann)
        assert slot is not None
        due.append(work_page_submit(slot_id=slot.pk, reviewer=ann, answers=ReviewAnswers(rating=1)).checkin_due)
    assert due == [False, True]
