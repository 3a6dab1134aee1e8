from __future__ import annotations

from celery import shared_task

from review.services import agreement_snapshot_refresh, leases_expire


@shared_task(name="review.sweep_expired_leases")
def sweep_expired_leases() -> int:
    """Return lapsed leases to the pool. Safe to re-run: it only reopens what has expired."""
    return leases_expire()


@shared_task(name="review.refresh_agreement")
def refresh_agreement(study_id: int) -> int:
    """Recompute a study's agreement snapshot. Safe to re-run: it rewrites the snapshot from the reviews."""
    return agreement_snapshot_refresh(study_id=study_id).review_count
