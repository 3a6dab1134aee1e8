"""Agreement's Celery tasks: thin, safe to re-run, calling the services."""

from __future__ import annotations

from celery import shared_task

from agreement.services import (
    CONSENSUS_TASK,
    REFRESH_TASK,
    agreement_refreshes_requeue,
    agreement_snapshot_refresh,
    consensus_refresh,
    consensus_refreshes_requeue,
)


# Named in agreement.services, which sends it by that name; "review." since queued messages carry it.
@shared_task(name=REFRESH_TASK)
def refresh_agreement(study_id: int) -> int:
    """Recompute a study's agreement snapshot. Safe to re-run: it rewrites the snapshot from the reviews.

    Runs again if its worker is killed (acks_late, reject_on_worker_lost, and Redis's
    visibility_timeout when the whole worker is gone), which is why it must stay idempotent.
    """
    return agreement_snapshot_refresh(study_id=study_id).review_count


@shared_task(name="review.catch_up_agreement_refreshes")
def catch_up_agreement_refreshes() -> int:
    """Beat, every 10 s: re-send overdue agreement and consensus refreshes (lost enqueue, dead worker).
    Idempotent (see the services)."""
    return agreement_refreshes_requeue() + consensus_refreshes_requeue()


@shared_task(name=CONSENSUS_TASK)
def refresh_consensus(study_id: int) -> int:
    """Recompute a study's consensus labels (sent after each agreement snapshot). Safe to re-run:
    it replaces the study's consensus rows from the reviews."""
    return consensus_refresh(study_id=study_id).review_count
