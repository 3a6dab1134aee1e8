from __future__ import annotations

from celery import shared_task

from review.services.assignment import leases_expire


@shared_task(name="review.sweep_expired_leases")
def sweep_expired_leases() -> int:
    """Return lapsed leases to the pool. Safe to re-run: it only reopens what has expired."""
    return leases_expire()
