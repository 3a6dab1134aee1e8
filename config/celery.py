from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

import redis
from celery import Celery, bootsteps

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

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.timer_ref: Any = None
        self.client: redis.Redis | None = None

    def start(self, worker: Any) -> None:
        from django.conf import settings

        from config.health import redis_client

        if not settings.REDIS_URL:
            return
        self.client = redis_client(settings.REDIS_URL)
        self.beat(worker)
        self.timer_ref = worker.timer.call_repeatedly(
            settings.TRIAD_WORKER_HEARTBEAT_SECONDS, self.beat, (worker,), priority=10
        )

    def beat(self, worker: Any) -> None:
        from config.health import worker_heartbeat_write

        try:
            worker_heartbeat_write(client=self.client, hostname=worker.hostname)
        except redis.RedisError as exc:
            # Redis is down: the missing key already tells /healthz so; keep the worker running.
            logger.warning("worker heartbeat not written: %s", exc)

    def stop(self, worker: Any) -> None:
        from config.health import worker_heartbeat_clear

        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None
        if self.client is not None:
            # If Redis is down the key expires by itself.
            with contextlib.suppress(redis.RedisError):
                worker_heartbeat_clear(client=self.client, hostname=worker.hostname)


app.steps["worker"].add(WorkerHeartbeat)
