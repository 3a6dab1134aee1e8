from __future__ import annotations

import logging

import redis
from celery import shared_task
from kombu.exceptions import KombuError

from review.services import agreement_refreshes_requeue, agreement_snapshot_refresh, leases_expire

logger = logging.getLogger(__name__)

# What a publish raises when Redis is down or drops the connection (kombu wraps most of them).
BROKER_ERRORS = (KombuError, redis.RedisError, OSError)


@shared_task(name="review.sweep_expired_leases")
def sweep_expired_leases() -> int:
    """Return lapsed leases to the pool. Safe to re-run: it only reopens what has expired."""
    return leases_expire()


@shared_task(name="review.refresh_agreement")
def refresh_agreement(study_id: int) -> int:
    """Recompute a study's agreement snapshot. Safe to re-run: it rewrites the snapshot from the reviews.

    Runs again if its worker is killed (acks_late, reject_on_worker_lost, and Redis's
    visibility_timeout when the whole worker is gone), which is why it must stay idempotent.
    """
    return agreement_snapshot_refresh(study_id=study_id).review_count


@shared_task(name="review.catch_up_agreement_refreshes")
def catch_up_agreement_refreshes() -> int:
    """Beat, every 10 s: re-send overdue refreshes (lost enqueue, dead worker). Idempotent (see the service)."""
    return agreement_refreshes_requeue()


def refresh_agreement_enqueue(*, study_id: int, countdown: int) -> bool:
    """Send a refresh to the workers; with the broker down, log it and go on (False).

    It runs after a reviewer's submit commits, so raising would show them an error for a
    review that is saved. Nothing is lost: the snapshot's refresh mark stays set, and
    catch_up_agreement_refreshes re-sends it once Redis is back.
    """
    try:
        refresh_agreement.apply_async(args=[study_id], countdown=countdown)
    except BROKER_ERRORS as exc:
        logger.warning("agreement refresh of study %s not queued, broker unavailable (%s); beat retries", study_id, exc)
        return False
    return True
