"""Redis really stopped: reviewers keep working, and once it is back nothing is lost or done twice.

A private redis-server is killed under the app (the machine's own Redis serves other test
runs); the reviewer works through the real views; then Redis comes back empty, as one
without persistence does, a real worker starts, and beat's tasks are sent as beat sends them.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from agreement.models import AgreementSnapshot
from agreement.services import (
    AGREEMENT_REFRESH_GRACE_SECONDS,
    agreement_refresh_request,
    agreement_refreshes_requeue,
    agreement_snapshot_refresh,
)
from agreement.tasks import refresh_agreement
from api.models import ApiScope
from api.services import api_token_create
from config.celery import app
from review.models import Review, Skip
from tests.factories import UserFactory, review_everything, started_study
from wellbeing.models import Invitation

# Generous for a loaded 2-core machine (measured: 0.6 s at worst at load 9); a publish that
# waited on an unreachable Redis would take seconds, one that hung, forever.
REQUEST_SECONDS = 2.0


def timed(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return result, time.perf_counter() - started


def review_through_the_pages(client: Client, study_id: int, *, skip_first: bool) -> list[float]:
    """Claim, (skip once), and submit until nothing is left; returns each request's seconds."""
    seconds = []
    while True:
        response, took = timed(client.post, f"/review/studies/{study_id}/next")
        seconds.append(took)
        assert response.status_code == 302, response.content
        if response["Location"].endswith("/done"):
            return seconds
        slot_id = int(response["Location"].rstrip("/").split("/")[-1])
        if skip_first:
            skip_first = False
            response, took = timed(client.post, f"/review/slots/{slot_id}/skip", {"reason": "not today"})
        else:
            response, took = timed(client.post, f"/review/slots/{slot_id}/review", {"rating": "3"})
        seconds.append(took)
        assert response.status_code == 302, response.content


def wait_for(condition: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_with_redis_down_reviewers_work_on_and_everything_catches_up_once_when_it_returns(
    app_on_private_redis: Any, workers: Any
) -> None:
    study, reviewers = started_study(items=3, reviewers=4)
    app_on_private_redis.stop()

    slowest = 0.0
    for index, reviewer in enumerate(reviewers):
        client = Client()
        client.force_login(reviewer)
        slowest = max(slowest, *review_through_the_pages(client, study.pk, skip_first=index == 0))
    assert slowest < REQUEST_SECONDS
    assert Review.objects.filter(study=study).count() == 9
    assert Skip.objects.count() == 1
    # The refresh could not be sent, but the request for it is kept in the database.
    snapshot = AgreementSnapshot.objects.get(study=study)
    assert snapshot.refresh_requested_at is not None and snapshot.computed_at is None
    assert Invitation.objects.count() == 0  # beat's hourly invitations could not be sent either

    app_on_private_redis.start()  # back, and empty: whatever was queued in it is gone
    worker = workers.start(TRIAD_AGREEMENT_DEBOUNCE_SECONDS="1")
    # The catch-up only re-sends refreshes overdue by the debounce window plus a grace period.
    overdue = timedelta(seconds=settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS + AGREEMENT_REFRESH_GRACE_SECONDS + 1)
    AgreementSnapshot.objects.filter(study=study).update(refresh_requested_at=timezone.now() - overdue)
    # Beat's next two ticks, sent as beat sends them; twice, as after a beat restart or two beats.
    for _ in range(2):
        for entry in ("agreement-refresh-catch-up", "wellbeing-invite-periodic"):
            app.send_task(settings.CELERY_BEAT_SCHEDULE[entry]["task"])
    for task in ("review.catch_up_agreement_refreshes", "wellbeing.invite_periodic"):
        worker.wait_for_log(f"Task {task}[", count=2, timeout=20)
    worker.wait_for_log("Task review.refresh_agreement[", timeout=20)
    wait_for(
        lambda: "succeeded" in worker.log().split("Task review.refresh_agreement[")[-1],
        timeout=20,
        what="the refresh to finish",
    )
    time.sleep(1)  # room for a duplicate refresh to show up, if one had been sent

    assert worker.log().count("Task review.refresh_agreement[") == 2  # received, succeeded: once
    snapshot = AgreementSnapshot.objects.get(study=study)
    assert snapshot.refresh_requested_at is None
    assert snapshot.review_count == 9
    # Exactly what a computation from all the reviews gives.
    assert snapshot.data == agreement_snapshot_refresh(study_id=study.pk).data
    assert Review.objects.filter(study=study).count() == 9
    invited = Invitation.objects.values("respondent").annotate(n=Count("id"))
    assert sorted(row["respondent"] for row in invited) == sorted(reviewer.pk for reviewer in reviewers)
    assert {row["n"] for row in invited} == {1}


def test_with_redis_down_the_api_lets_requests_through_unthrottled(app_on_private_redis: Any, seeded: None) -> None:
    lead = UserFactory(roles=["lead"])
    _, raw = api_token_create(user=lead, name="pipeline", scopes=[ApiScope.READ_LABELS])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/studies/").status_code == 200
    app_on_private_redis.stop()
    response, took = timed(client.get, "/api/v1/studies/")
    assert response.status_code == 200
    assert took < REQUEST_SECONDS


@pytest.mark.django_db
def test_the_catch_up_sends_an_overdue_refresh_once_and_leaves_recent_ones_alone(
    app_on_private_redis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    study, reviewers = started_study(items=2, reviewers=3)
    review_everything(study, reviewers)
    with django_capture_on_commit_callbacks(execute=False):
        agreement_refresh_request(study_id=study.pk)  # its own enqueue is left out: say it was lost
    broker = app_on_private_redis.client()
    now = timezone.now()
    window = timedelta(seconds=settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS + AGREEMENT_REFRESH_GRACE_SECONDS)
    AgreementSnapshot.objects.filter(study=study).update(refresh_requested_at=now - window + timedelta(seconds=5))
    assert agreement_refreshes_requeue(now=now) == 0  # still inside its window: its own message may be coming

    AgreementSnapshot.objects.filter(study=study).update(refresh_requested_at=now - window - timedelta(seconds=5))
    assert agreement_refreshes_requeue(now=now) == 1
    assert agreement_refreshes_requeue(now=now) == 0  # claimed: a second beat finds nothing to send
    assert broker.llen("celery") == 1
    # One window later, still not done (the worker died with it), it is sent again.
    assert agreement_refreshes_requeue(now=now + window + timedelta(seconds=1)) == 1
    assert broker.llen("celery") == 2


@pytest.mark.django_db
def test_a_refresh_asked_for_with_redis_down_keeps_its_mark_and_raises_nothing(
    app_on_private_redis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    study, _ = started_study(items=1, reviewers=3)
    app_on_private_redis.stop()
    with django_capture_on_commit_callbacks(execute=True):
        assert agreement_refresh_request(study_id=study.pk) is True
    assert AgreementSnapshot.objects.get(study=study).refresh_requested_at is not None
    later = timezone.now() + timedelta(hours=1)
    # The catch-up cannot send it either; it moves the mark, so it tries again one window later.
    assert agreement_refreshes_requeue(now=later) == 0
    assert AgreementSnapshot.objects.get(study=study).refresh_requested_at == later


def test_a_worker_holding_a_countdown_task_survives_redis_dying_and_works_on_when_it_returns(
    app_on_private_redis: Any, workers: Any
) -> None:
    study, reviewers = started_study(items=2, reviewers=3)
    review_everything(study, reviewers)
    app_on_private_redis.client().flushdb()  # the submits' own refresh: this test sends its own
    worker = workers.start()
    # The refresh every submit enqueues: held by the worker, unacknowledged, until its ETA.
    refresh_agreement.apply_async(args=[study.pk], countdown=60)
    worker.wait_for_log("Task review.refresh_agreement[", timeout=20)

    app_on_private_redis.stop()
    worker.wait_for_log("Connection to broker lost", timeout=20)
    # Several reconnection attempts against a refused port; long enough that kombu's default
    # back-off (2, 4, 6 ... s between attempts) would next try about 7 s after Redis returns.
    time.sleep(12)
    assert worker.process is not None and worker.process.poll() is None, worker.log()[-4000:]
    assert "Unrecoverable error" not in worker.log()

    app_on_private_redis.start()
    reconnected = time.monotonic()
    worker.wait_for_log("Connected to redis://", count=2, timeout=20)
    # It reconnects within a couple of seconds of Redis returning, not up to 30 s later.
    assert time.monotonic() - reconnected < 4
    refresh_agreement.apply_async(args=[study.pk])
    wait_for(lambda: "succeeded" in worker.log(), timeout=20, what="a task sent after Redis returned to run")
    assert worker.process.poll() is None
    assert AgreementSnapshot.objects.get(study=study).review_count == 6


# Small, to keep the test short; the bound is the same: debounce + 30 s after the fault ends.
CATCH_UP_DEBOUNCE = 4
CATCH_UP_BOUND = CATCH_UP_DEBOUNCE + 30


def test_after_redis_comes_back_the_snapshot_catches_up_within_debounce_plus_30_s(
    app_on_private_redis: Any, workers: Any, beat: Any, settings: Any
) -> None:
    settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS = CATCH_UP_DEBOUNCE
    worker = workers.start(TRIAD_AGREEMENT_DEBOUNCE_SECONDS=str(CATCH_UP_DEBOUNCE))
    study, reviewers = started_study(items=3, reviewers=3)
    app_on_private_redis.stop()
    assert review_everything(study, reviewers) == 9  # the refresh cannot be sent; its mark stays
    worker.wait_for_log("Cannot connect to redis://", timeout=20)
    time.sleep(5)  # an outage longer than the debounce window: the refresh is overdue when Redis returns

    app_on_private_redis.start()  # empty: nothing queued before the outage survives
    restored = time.monotonic()

    def fresh() -> bool:
        snapshot = AgreementSnapshot.objects.get(study=study)
        return snapshot.refresh_requested_at is None and snapshot.review_count == 9

    wait_for(fresh, timeout=CATCH_UP_BOUND + 15, what="the snapshot to catch up")
    took = time.monotonic() - restored
    print(f"\nRedis restarted: snapshot fresh {took:.1f} s after it was back (bound {CATCH_UP_BOUND} s)")
    assert took <= CATCH_UP_BOUND
    assert worker.process is not None and worker.process.poll() is None
    assert beat.process is not None and beat.process.poll() is None, beat.log()[-3000:]
