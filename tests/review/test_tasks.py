from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from agreement.models import AgreementSnapshot
from agreement.services import agreement_refresh_request, agreement_snapshot_settle
from agreement.tasks import refresh_agreement
from review.models import Slot, SlotStatus
from review.services.answers import ReviewAnswers
from review.tasks import sweep_expired_leases
from tests.factories import review_everything, started_study
from workspace.services import work_claim, work_submit


def test_beat_sweeps_expired_leases_every_minute() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-expired-leases"]
    assert entry == {"task": "review.sweep_expired_leases", "schedule": 60.0}


@pytest.mark.django_db
def test_the_sweep_task_reopens_expired_leases_and_is_safe_to_rerun() -> None:
    study, [ann, bob, *_] = started_study(items=2)
    work_claim(study_id=study.pk, reviewer=bob)
    work_claim(study_id=study.pk, reviewer=ann, now=timezone.now() - timedelta(hours=1))
    assert sweep_expired_leases.apply().get() == 1
    assert sweep_expired_leases.apply().get() == 0
    assert Slot.objects.filter(status=SlotStatus.LEASED).get().holder == bob


@pytest.mark.django_db
def test_submissions_in_one_window_queue_one_recomputation(settings, django_capture_on_commit_callbacks) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a broker; the enqueue is captured, not sent

    study, [ann, bob, *_] = started_study(items=2)
    for reviewer in (ann, bob):
        slot = work_claim(study_id=study.pk, reviewer=reviewer)
        with django_capture_on_commit_callbacks(execute=False) as after_submit:
            work_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=2))
        # The submit asks for a refresh only after it commits; run that request, but keep its enqueue.
        with django_capture_on_commit_callbacks(execute=False) as enqueues:
            for callback in after_submit:
                callback()
        assert len(enqueues) == (1 if reviewer == ann else 0)
    assert AgreementSnapshot.objects.get(study=study).refresh_requested_at is not None
    assert agreement_refresh_request(study_id=study.pk) is False


@pytest.mark.django_db
def test_the_refresh_task_computes_the_snapshot_and_reopens_the_window() -> None:
    study, reviewers = started_study(items=3, reviewers=3)
    review_everything(study, reviewers, rate=lambda item, index: index)
    assert agreement_refresh_request(study_id=study.pk) is True
    assert refresh_agreement.apply(args=[study.pk]).get() == 9
    snapshot = AgreementSnapshot.objects.get(study=study)
    assert snapshot.computed_at is not None and snapshot.refresh_requested_at is None
    assert snapshot.data["agreement"][0]["n_items"] == 3
    # Safe to re-run: the same reviews give the same snapshot.
    first = snapshot.data
    refresh_agreement.apply(args=[study.pk]).get()
    assert AgreementSnapshot.objects.get(study=study).data == first
    assert agreement_refresh_request(study_id=study.pk) is True


@pytest.mark.django_db
def test_without_a_broker_a_pending_refresh_is_settled_when_the_dashboard_asks(
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    study, reviewers = started_study(items=2, reviewers=3)
    review_everything(study, reviewers)
    with django_capture_on_commit_callbacks(execute=False) as enqueues:
        assert agreement_refresh_request(study_id=study.pk) is True
    assert enqueues == []  # no task run inside a reviewer's request
    snapshot = agreement_snapshot_settle(study_id=study.pk)
    assert snapshot.review_count == 6 and snapshot.refresh_requested_at is None
    assert AgreementSnapshot.objects.get(study=study).computed_at is not None
