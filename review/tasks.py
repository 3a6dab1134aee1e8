from __future__ import annotations

from celery import shared_task
from django.db import transaction

from review.services.assignment import leases_expire
from review.services.studies import START_TASK, study_start_continue, study_start_enqueue, study_starts_requeue


@shared_task(name="review.sweep_expired_leases")
def sweep_expired_leases() -> int:
    """Return lapsed leases to the pool. Safe to re-run: it only reopens what has expired."""
    return leases_expire()


# Named in review.services.studies, which sends it by that name; keep it (queued messages carry it).
@shared_task(name=START_TASK)
def start_study(study_id: int) -> bool | None:
    """Create a starting study's slots and open it (study_start_continue); when one run's time is
    up with items left, queue the next run. Safe to re-run, and to run twice at once: every batch
    locks the study and resumes after the last committed one; a study that is not starting
    (started already, archived, deleted) is left as it is."""
    finished = study_start_continue(study_id=study_id)
    if finished is False:
        transaction.on_commit(lambda: study_start_enqueue(study_id=study_id))
    return finished


@shared_task(name="review.catch_up_starts")
def catch_up_starts() -> int:
    """Beat, every minute: re-send starts that stopped moving (a lost enqueue, a dead worker). Idempotent."""
    return study_starts_requeue()
