"""A Celery worker killed in the middle of a task: the task runs again, and counts once.

"In the middle" is made certain, not hoped for: the test holds a row lock the refresh task
needs (SELECT ... FOR UPDATE on the study's snapshot, in a connection of its own), waits
until the worker's database session is blocked on it, and only then kills.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from agreement.models import AgreementSnapshot
from agreement.services import agreement_snapshot_refresh
from agreement.tasks import refresh_agreement
from review.models import Review
from tests.disposable.worker import committed_database_url
from tests.factories import review_everything, started_study

# Short, so a message whose worker vanished comes back within the test (production: 600 s).
VISIBILITY_TIMEOUT = 3
WORKER_ENV = {"TRIAD_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT), "TRIAD_AGREEMENT_DEBOUNCE_SECONDS": "1"}


def sessions_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_for(condition: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def reviewed_study(on_postgres: None, app_on_private_redis: Any, seeded: None) -> Any:
    """A study with all 9 of its reviews, and an empty queue. PostgreSQL only: the test sees the
    worker blocked on a row lock in pg_stat_activity, and the worker shares the committed database."""
    study, reviewers = started_study(items=3, reviewers=3)
    assert review_everything(study, reviewers, rate=lambda item, index: (item.position + index) % 5) == 9
    app_on_private_redis.client().flushdb()  # the submits' own refresh: this test sends its own
    return study


@pytest.fixture
def snapshot_lock(reviewed_study: Any) -> Iterator[psycopg.Connection]:
    """A connection of its own holding the study snapshot's row lock until it commits."""
    holder = psycopg.connect(committed_database_url())
    holder.execute(
        f"SELECT id FROM {AgreementSnapshot._meta.db_table} WHERE study_id = %s FOR UPDATE",  # noqa: S608
        [reviewed_study.pk],
    )
    yield holder
    holder.close()


def assert_refreshed_once_in_effect(study: Any) -> None:
    assert AgreementSnapshot.objects.filter(study=study).count() == 1
    snapshot = AgreementSnapshot.objects.get(study=study)
    assert snapshot.computed_at is not None and snapshot.refresh_requested_at is None
    assert snapshot.review_count == 9 == Review.objects.filter(study=study).count()
    # Exactly what one computation from the reviews gives.
    assert snapshot.data == agreement_snapshot_refresh(study_id=study.pk).data


def test_a_task_whose_pool_process_is_killed_runs_again_at_once(
    reviewed_study: Any, snapshot_lock: Any, workers: Any
) -> None:
    worker = workers.start(**WORKER_ENV)
    refresh_agreement.apply_async(args=[reviewed_study.pk])
    wait_for(lambda: sessions_waiting_for_a_lock() == 1, timeout=20, what="the task to block on the lock")

    worker.kill_pool_process()
    # acks_late + reject_on_worker_lost: the parent puts the message back and a new pool
    # process takes it; it blocks on the lock too (the killed one's session still waits).
    wait_for(lambda: sessions_waiting_for_a_lock() == 2, timeout=20, what="the task to run again")
    assert "exited with 'signal 9 (SIGKILL)'" in worker.log()

    snapshot_lock.commit()  # releases the lock
    worker.wait_for_log("Task review.refresh_agreement[", count=2, timeout=20)  # received, then succeeded
    wait_for(lambda: "succeeded" in worker.log(), timeout=20, what="the task to finish")
    assert worker.log().count("succeeded") == 1
    assert_refreshed_once_in_effect(reviewed_study)


def test_a_task_whose_whole_worker_is_killed_is_redelivered_to_the_next_worker(
    reviewed_study: Any, snapshot_lock: Any, workers: Any
) -> None:
    first = workers.start(**WORKER_ENV)
    refresh_agreement.apply_async(args=[reviewed_study.pk])
    wait_for(lambda: sessions_waiting_for_a_lock() == 1, timeout=20, what="the task to block on the lock")
    first.kill()  # parent and pool at once: nobody is left to hand the message back
    killed_at = time.monotonic()

    # The unacknowledged message waits in Redis until its visibility timeout has passed.
    time.sleep(max(0.0, killed_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second = workers.start(**WORKER_ENV)
    wait_for(lambda: sessions_waiting_for_a_lock() == 2, timeout=20, what="the redelivered task to block")
    snapshot_lock.commit()  # releases the lock
    wait_for(lambda: "succeeded" in second.log(), timeout=20, what="the task to finish")
    assert "succeeded" not in first.log()
    assert second.log().count("Task review.refresh_agreement[") == 2  # received and succeeded, once
    assert_refreshed_once_in_effect(reviewed_study)


def test_a_visibility_timeout_within_the_debounce_window_stops_start_up() -> None:
    # A refresh waits its countdown unacknowledged in a worker; Redis would hand it to a second one.
    environ = {**os.environ, "TRIAD_CELERY_VISIBILITY_TIMEOUT": "30", "TRIAD_AGREEMENT_DEBOUNCE_SECONDS": "30"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=environ,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TRIAD_CELERY_VISIBILITY_TIMEOUT must exceed TRIAD_AGREEMENT_DEBOUNCE_SECONDS" in result.stderr


# Small, to keep the test short; the bound is the same: debounce + 30 s after the fault ends.
CATCH_UP_DEBOUNCE = 4
CATCH_UP_BOUND = CATCH_UP_DEBOUNCE + 30


def snapshot_counts(study: Any, reviews: int) -> bool:
    snapshot = AgreementSnapshot.objects.get(study=study)
    return snapshot.refresh_requested_at is None and snapshot.review_count == reviews


def test_after_a_worker_holding_a_refresh_is_killed_the_snapshot_catches_up_within_debounce_plus_30_s(
    app_on_private_redis: Any, workers: Any, beat: Any, settings: Any
) -> None:
    settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS = CATCH_UP_DEBOUNCE
    env = {"TRIAD_AGREEMENT_DEBOUNCE_SECONDS": str(CATCH_UP_DEBOUNCE)}
    first = workers.start(**env)
    study, reviewers = started_study(items=3, reviewers=3)
    # The first submit enqueues the refresh with a countdown of the debounce window.
    assert review_everything(study, reviewers) == 9
    first.wait_for_log("Task review.refresh_agreement[", timeout=20)  # held until its ETA
    first.kill()
    assert "succeeded" not in first.log(), "the refresh ran before the kill: nothing was tested"
    # Unacknowledged, the message stays in Redis until the visibility timeout (600 s).

    second = workers.start(**env)
    restored = time.monotonic()
    wait_for(lambda: snapshot_counts(study, 9), timeout=CATCH_UP_BOUND + 15, what="the snapshot to catch up")
    took = time.monotonic() - restored
    print(f"\nworker killed: snapshot fresh {took:.1f} s after the new worker was ready (bound {CATCH_UP_BOUND} s)")
    assert took <= CATCH_UP_BOUND
    assert "Task review.catch_up_agreement_refreshes[" in second.log()


def test_a_worker_running_a_task_when_redis_dies_finishes_it_and_works_on_when_redis_returns(
    workers: Any, reviewed_study: Any, snapshot_lock: Any, app_on_private_redis: Any
) -> None:
    worker = workers.start(**WORKER_ENV)
    refresh_agreement.apply_async(args=[reviewed_study.pk])
    wait_for(lambda: sessions_waiting_for_a_lock() == 1, timeout=20, what="the task to block on the lock")

    app_on_private_redis.stop()
    worker.wait_for_log("Connection to broker lost", timeout=20)
    snapshot_lock.commit()  # the task goes on without Redis: it only needs the database
    wait_for(lambda: "succeeded" in worker.log(), timeout=20, what="the task to finish")
    app_on_private_redis.start()
    worker.wait_for_log("Connected to redis://", count=2, timeout=20)

    refresh_agreement.apply_async(args=[reviewed_study.pk])
    wait_for(lambda: worker.log().count("succeeded") == 2, timeout=20, what="a task sent after Redis returned")
    assert worker.process is not None and worker.process.poll() is None
    assert "Unrecoverable error" not in worker.log()
    assert_refreshed_once_in_effect(reviewed_study)
