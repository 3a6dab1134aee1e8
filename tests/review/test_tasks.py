from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from review.models import Slot, SlotStatus
from review.services import slot_claim
from review.tasks import sweep_expired_leases
from tests.factories import started_study


def test_beat_sweeps_expired_leases_every_minute() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-expired-leases"]
    assert entry == {"task": "review.sweep_expired_leases", "schedule": 60.0}


@pytest.mark.django_db
def test_the_sweep_task_reopens_expired_leases_and_is_safe_to_rerun() -> None:
    study, [ann, bob, *_] = started_study(items=2)
    slot_claim(study_id=study.pk, reviewer=bob)
    slot_claim(study_id=study.pk, reviewer=ann, now=timezone.now() - timedelta(hours=1))
    assert sweep_expired_leases.apply().get() == 1
    assert sweep_expired_leases.apply().get() == 0
    assert Slot.objects.filter(status=SlotStatus.LEASED).get().holder == bob
