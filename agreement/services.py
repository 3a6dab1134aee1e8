"""Every write of agreement snapshots: asking for a refresh, sending it to the workers, and the
refresh itself."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import redis
from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from agreement.analytics import snapshot_compute
from agreement.consensus import study_consensus_compute
from agreement.models import AgreementSnapshot, ConsensusSnapshot, ItemConsensus
from agreement.reviewer_quality import quality_input_from_ratings, reviewer_quality_compute
from agreement.selectors import CONSENSUS_COLUMNS, consensus_ratings, study_ratings, study_skips
from core.durability import commit_without_waiting_for_disk
from review.models import Study

logger = logging.getLogger(__name__)

# What a publish raises when Redis is down or drops the connection (kombu wraps most of them).
BROKER_ERRORS = (KombuError, redis.RedisError, OSError)
# The refresh task (agreement.tasks.refresh_agreement) by its registered name: tasks call these
# services, so services send tasks by name rather than import the module that imports them.
# Sent through the app's registry, it still runs in-process when Celery is eager.
REFRESH_TASK = "review.refresh_agreement"
# The consensus task (agreement.tasks.refresh_consensus), sent after each agreement snapshot.
CONSENSUS_TASK = "agreement.refresh_consensus"


# --- agreement snapshots -----------------------------------------------------------------


def agreement_refresh_request(
    *, study_id: int, now: datetime | None = None, delay: int | None = None, force: bool = False
) -> bool:
    """Queue a recomputation of the study's snapshot unless one is queued already.

    The conditional UPDATE is the debounce: only the request that flips
    refresh_requested_at from NULL enqueues, with a countdown of the debounce window, so
    a busy study is recomputed at most once per window and never for every submit.
    force (a lead asking now) enqueues whatever is queued; the task is safe to re-run.
    """
    now = now or timezone.now()
    delay = settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS if delay is None else delay
    table = AgreementSnapshot._meta.db_table
    # One statement on every submit: it makes the study's row if there is none yet (a new study,
    # or one made before snapshots existed) and marks it, unless a refresh is queued already.
    # A row comes back only when this request did mark it (PostgreSQL and SQLite alike).
    only_unmarked = "" if force else f"WHERE {table}.refresh_requested_at IS NULL"
    sql = f"""
        INSERT INTO {table} (study_id, review_count, data, refresh_requested_at)
        VALUES (%(study)s, 0, '{{}}', %(now)s)
        ON CONFLICT (study_id) DO UPDATE SET refresh_requested_at = excluded.refresh_requested_at
        {only_unmarked}
        RETURNING id
    """  # noqa: S608 - a table name from code; values are parameters
    with transaction.atomic():
        commit_without_waiting_for_disk()  # a lost request is caught up by the beat (core/durability.py)
        with connection.cursor() as cursor:
            cursor.execute(sql, {"study": study_id, "now": connection.ops.adapt_datetimefield_value(now)})
            queued = cursor.fetchone() is not None
    # Without a broker a task would run inside the reviewer's request, countdown ignored, on
    # every submit; there the request stays pending and the dashboard settles it when viewed.
    # With Redis down the enqueue is logged and skipped; the mark stays set, so the beat's
    # catch-up (agreement_refreshes_requeue) sends it once Redis is back.
    if queued and (force or not settings.CELERY_TASK_ALWAYS_EAGER):
        transaction.on_commit(lambda: refresh_agreement_enqueue(study_id=study_id, countdown=delay))
    return bool(queued)


# A refresh asked for longer ago than the debounce window plus this is overdue: its enqueue
# failed (Redis down), Redis lost it (restarted without persistence), its worker died while
# holding it for its countdown, or the workers are far behind. With the catch-up every 10 s
# (settings.CELERY_BEAT_SCHEDULE) a lost refresh runs within debounce + 20 s of being asked
# for, or of its fault ending, whichever is later. A refresh merely late by more than this
# runs twice, which is harmless (it is rewritten from the reviews) and rare (one takes ~1 s).
AGREEMENT_REFRESH_GRACE_SECONDS = 10


def agreement_refreshes_requeue(*, now: datetime | None = None) -> int:
    """Re-send every overdue agreement refresh; returns how many were sent.

    Each is claimed by a conditional UPDATE that moves its mark to now, so two runs at once
    cannot both send it, and an overdue refresh is re-sent at most once per window. If the
    send fails too, the moved mark brings it back one window later. A refresh that did run
    meanwhile (clearing the mark) is not claimed; one sent twice is harmless, since the
    task rewrites the snapshot from the reviews. Sends do not pile up while the workers are
    down: this runs in a worker, so catch-ups queued meanwhile run back to back when one
    returns, and only the first finds the refresh overdue.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS + AGREEMENT_REFRESH_GRACE_SECONDS)
    sent = 0
    overdue = AgreementSnapshot.objects.filter(refresh_requested_at__lt=cutoff).values_list("study_id", flat=True)
    for study_id in overdue:
        claimed = AgreementSnapshot.objects.filter(study_id=study_id, refresh_requested_at__lt=cutoff).update(
            refresh_requested_at=now
        )
        if claimed and refresh_agreement_enqueue(study_id=study_id, countdown=0):
            sent += 1
    return sent


def agreement_snapshot_settle(*, study_id: int) -> AgreementSnapshot | None:
    """The study's snapshot, first recomputed if a refresh is pending and no worker will do it."""
    snapshot = AgreementSnapshot.objects.filter(study_id=study_id).first()
    if snapshot is not None and snapshot.refresh_requested_at is not None and settings.CELERY_TASK_ALWAYS_EAGER:
        snapshot = agreement_snapshot_refresh(study_id=study_id)
    return snapshot


def agreement_snapshot_refresh(*, study_id: int, resamples: int = 1000) -> AgreementSnapshot:
    """Recompute the study's agreement table and dashboard figures from its reviews now."""
    study = Study.objects.get(pk=study_id)
    snapshot, _ = AgreementSnapshot.objects.get_or_create(study=study)
    # Cleared before reading: a submit that lands during the computation queues the next one.
    AgreementSnapshot.objects.filter(pk=snapshot.pk).update(refresh_requested_at=None)
    snapshot.refresh_requested_at = None
    started = time.perf_counter()
    ratings = study_ratings(study=study)
    data = snapshot_compute(ratings, resamples=resamples)
    # Reviewer quality from the same load: a second read of 117k reviews would cost as much as computing it.
    data["reviewer_quality"] = reviewer_quality_compute(
        quality_input_from_ratings(ratings, study_skips(studies=[study]))
    )
    snapshot.data = data
    snapshot.review_count = data["review_count"]
    snapshot.computed_at = timezone.now()
    snapshot.compute_seconds = time.perf_counter() - started
    snapshot.save(update_fields=["data", "review_count", "computed_at", "compute_seconds"])
    # Consensus labels come from the same reviews but in their own task: fitting them costs about
    # as much again as this whole snapshot, which must stay under its 2 s budget.
    consensus_refresh_request(study_id=study.pk)
    return snapshot


# --- consensus labels ------------------------------------------------------------------------


def consensus_refresh_request(*, study_id: int, now: datetime | None = None) -> None:
    """Mark the study's consensus as due, and send its task once the caller's transaction commits.

    Called by every agreement refresh, which is debounced already, so the consensus is
    recomputed at most once per debounce window too. Without a broker nothing is sent: readers
    settle it (consensus_snapshot_settle), as they do the agreement snapshot.
    """
    now = now or timezone.now()
    snapshot, _ = ConsensusSnapshot.objects.get_or_create(study_id=study_id)
    ConsensusSnapshot.objects.filter(pk=snapshot.pk).update(refresh_requested_at=now)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: task_enqueue(task=CONSENSUS_TASK, study_id=study_id, countdown=0))


def consensus_refreshes_requeue(*, now: datetime | None = None) -> int:
    """Re-send consensus refreshes overdue as agreement ones are (a lost send, a dead worker); each is
    claimed by moving its mark to now, as in agreement_refreshes_requeue. Returns how many were sent."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS + AGREEMENT_REFRESH_GRACE_SECONDS)
    sent = 0
    overdue = ConsensusSnapshot.objects.filter(refresh_requested_at__lt=cutoff).values_list("study_id", flat=True)
    for study_id in overdue:
        claimed = ConsensusSnapshot.objects.filter(study_id=study_id, refresh_requested_at__lt=cutoff).update(
            refresh_requested_at=now
        )
        if claimed and task_enqueue(task=CONSENSUS_TASK, study_id=study_id, countdown=0):
            sent += 1
    return sent


def consensus_snapshot_settle(*, study_id: int) -> ConsensusSnapshot | None:
    """The study's consensus, first recomputed if it is due and no worker will do it (the agreement
    snapshot settled first, since its refresh is what makes the consensus due)."""
    agreement_snapshot_settle(study_id=study_id)
    snapshot = ConsensusSnapshot.objects.filter(study_id=study_id).first()
    if snapshot is not None and snapshot.refresh_requested_at is not None and settings.CELERY_TASK_ALWAYS_EAGER:
        snapshot = consensus_refresh(study_id=study_id)
    return snapshot


def consensus_refresh(*, study_id: int) -> ConsensusSnapshot:
    """Recompute the study's consensus labels from its reviews: every item's row and the summary.

    Safe to re-run: the study's rows are replaced whole, in one transaction, so readers see the
    old labels or the new ones, never a mix.
    """
    study = Study.objects.get(pk=study_id)
    snapshot, _ = ConsensusSnapshot.objects.get_or_create(study=study)
    # Cleared before reading: an agreement refresh that lands during the computation marks the next one.
    ConsensusSnapshot.objects.filter(pk=snapshot.pk).update(refresh_requested_at=None)
    snapshot.refresh_requested_at = None
    started = time.perf_counter()
    rows = consensus_ratings(study=study)
    result = study_consensus_compute(item_ids=rows[:, 0], reviewer_ids=rows[:, 1], ratings=rows[:, 2])
    columns: dict[str, list[Any]] = {"item_id": result.item_ids.tolist()}
    for fit, (label, probability) in CONSENSUS_COLUMNS.items():
        columns[label] = result.fits[fit].labels.tolist()
        # Posteriors are normalised in floating point: keep the stored ones inside the 0-1 constraint.
        columns[probability] = np.clip(result.fits[fit].probabilities, 0.0, 1.0).tolist()
    with transaction.atomic():
        ItemConsensus.objects.filter(study=study).delete()
        _item_consensus_insert(study_id=study.pk, columns=columns)
        snapshot.data = result.summary
        snapshot.review_count = len(rows)
        snapshot.computed_at = timezone.now()
        snapshot.compute_seconds = time.perf_counter() - started
        snapshot.save(update_fields=["data", "review_count", "computed_at", "compute_seconds"])
    return snapshot


def _item_consensus_insert(*, study_id: int, columns: dict[str, list[Any]]) -> None:
    """Write one ItemConsensus row per item from parallel columns. On PostgreSQL one INSERT from
    unnest() of the column arrays, each sent as one array literal (repr keeps every float exactly):
    building and saving 39k model instances took 5 of the task's 8 s, and letting the driver adapt
    the 270k list elements one by one still 0.8 s."""
    if connection.vendor != "postgresql":
        rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        ItemConsensus.objects.bulk_create([ItemConsensus(study_id=study_id, **row) for row in rows], batch_size=2000)
        return
    types = {"item_id": "bigint"} | {
        name: "smallint" if name.endswith("_label") else "float8" for name in columns if name != "item_id"
    }
    arrays = ", ".join(f"%s::text::{types[name]}[]" for name in columns)
    names = ", ".join(columns)
    sql = f"""
        INSERT INTO {ItemConsensus._meta.db_table} (study_id, {names})
        SELECT %s::bigint, * FROM unnest({arrays})
    """  # noqa: S608 - table and column names from the model; values are parameters
    with connection.cursor() as cursor:
        literals = ["{" + ",".join(map(repr, values)) + "}" for values in columns.values()]
        cursor.execute(sql, [study_id, *literals])


def task_enqueue(*, task: str, study_id: int, countdown: int) -> bool:
    """Send one of agreement's study tasks by name; with the broker down, log it and go on (False)."""
    try:
        current_app.signature(task, args=[study_id]).apply_async(countdown=countdown)
    except BROKER_ERRORS as exc:
        logger.warning("%s of study %s not queued, broker unavailable (%s)", task, study_id, exc)
        return False
    return True


def refresh_agreement_enqueue(*, study_id: int, countdown: int) -> bool:
    """Send a refresh to the workers; with the broker down, log it and go on (False).

    It runs after a reviewer's submit commits, so raising would show them an error for a
    review that is saved. Nothing is lost: the snapshot's refresh mark stays set, and
    catch_up_agreement_refreshes re-sends it once Redis is back.
    """
    try:
        current_app.signature(REFRESH_TASK, args=[study_id]).apply_async(countdown=countdown)
    except BROKER_ERRORS as exc:
        logger.warning("agreement refresh of study %s not queued, broker unavailable (%s); beat retries", study_id, exc)
        return False
    return True
