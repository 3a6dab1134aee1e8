from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

import redis
from celery import Celery, bootsteps
from celery.worker.consumer import Consumer as CeleryConsumer
from django.conf import settings

from config.health import redis_client, worker_heartbeat_clear, worker_heartbeat_write

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

app = Celery("triad")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Write this worker's heartbeat to Redis every few seconds, for /healthz.

    Celery's own heartbeats travel as events that only a listening monitor sees; a key with
    a time-to-live can be read by any web process with one SCAN, and it vanishes by itself
    when the worker dies, however it dies.
    """

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.timer_ref: Any = None
        self.client: redis.Redis | None = None

    def start(self, worker: Any) -> None:
        if not settings.REDIS_URL:
            return
        self.client = redis_client(settings.REDIS_URL)
        self.beat(worker)
        self.timer_ref = worker.timer.call_repeatedly(
            settings.TRIAD_WORKER_HEARTBEAT_SECONDS, self.beat, (worker,), priority=10
        )

    def beat(self, worker: Any) -> None:
        if self.client is None:  # start() schedules beats only once it has a client
            return
        try:
            worker_heartbeat_write(client=self.client, hostname=worker.hostname)
        except redis.RedisError as exc:
            # Redis is down: the missing key already tells /healthz so; keep the worker running.
            logger.warning("worker heartbeat not written: %s", exc)

    def stop(self, worker: Any) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None
        if self.client is not None:
            # If Redis is down the key expires by itself.
            with contextlib.suppress(redis.RedisError):
                worker_heartbeat_clear(client=self.client, hostname=worker.hostname)


app.steps["worker"].add(WorkerHeartbeat)

# While Redis is down the consumer tries to reconnect after 2, 4, 6 ... up to 30 s between
# attempts (kombu's defaults), so a worker could sit idle for 30 s after Redis is back.
# Attempts are one connect() to a socket that refuses at once; every 2 s costs nothing.
RECONNECT_INTERVAL_START = 0.5
RECONNECT_INTERVAL_STEP = 0.5
RECONNECT_INTERVAL_MAX = 2.0


class Consumer(CeleryConsumer):
    """Celery's consumer, made to survive Redis dying while the worker holds a message.

    When the connection is lost, Celery 5.7 first collect()s the broken connection (which
    also detaches its transport), then close()s it. If the worker holds a countdown task waiting
    for its ETA (every submit's agreement refresh), that close tries to hand the unacknowledged
    message back to Redis through the detached transport and raises AttributeError ('NoneType'
    object has no attribute 'hostname'). Only connection errors are ignored there, so the worker
    stops with "Unrecoverable error" and never comes back.

    The connection is dead either way: whatever the close raises is logged, not fatal, and the
    consumer reconnects as it does for any connection loss. The held message is not lost for
    good: Redis hands it out again after the visibility timeout if it kept it, and the agreement
    refresh's mark makes the beat catch-up re-send it in any case (review.tasks).
    """

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        try:
            super().on_connection_error_after_connected(exc)
        except Exception as close_error:
            logger.warning("consumer: the lost broker connection did not close cleanly (%r); reconnecting", close_error)
        self.connection = None

    def ensure_connected(self, conn: Any) -> Any:
        ensure_connection = conn.ensure_connection

        def ensure_connection_quickly(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("interval_start", RECONNECT_INTERVAL_START)
            kwargs.setdefault("interval_step", RECONNECT_INTERVAL_STEP)
            kwargs.setdefault("interval_max", RECONNECT_INTERVAL_MAX)
            return ensure_connection(*args, **kwargs)

        conn.ensure_connection = ensure_connection_quickly
        return super().ensure_connected(conn)
