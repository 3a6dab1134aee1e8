"""Fixtures for tests that break Redis and kill workers, loaded for every test by tests/conftest.py."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kombu.pools
import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection
from django.utils.text import slugify

from config.celery import app as celery_app
from tagging.models import Tag
from tagging.vocabulary import HARM_TAGS
from tests.disposable.redis import REDIS_SERVER, DisposableRedis
from tests.disposable.worker import CELERY, DisposableBeat, DisposableWorker


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[DisposableRedis]:
    """A redis-server of the test's own, on a free port, that the test may stop and start."""
    if REDIS_SERVER is None:
        pytest.skip("needs the redis-server binary (Debian: apt-get install redis-server)")
    server = DisposableRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def _reset_producer_pools(app: Any) -> None:
    """Forget every broker connection and producer, so the next publish connects afresh.

    kombu keeps its pools in process-wide registries keyed by broker: closing only the app's
    pool left a closed one registered for the real Redis, and any later publish to it failed
    with "Acquire on closed pool". Resetting the registries closes them and forgets them.
    """
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def app_on_private_redis(private_redis: DisposableRedis, settings: Any) -> Iterator[DisposableRedis]:
    """This process's Celery producer, shared cache and health checks, pointed at the private Redis."""
    url = private_redis.url()
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    _reset_producer_pools(celery_app)
    settings.REDIS_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    caches = copy.deepcopy(settings.CACHES)
    caches["shared"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "triad",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    settings.CACHES = caches
    yield private_redis
    celery_app.conf.update(saved)
    _reset_producer_pools(celery_app)


@pytest.fixture
def seeded(transactional_db: None) -> None:
    """Transactional tests truncate every table, migration data included: put back the tags,
    the role groups and the seeded surveys."""
    importlib.import_module("wellbeing.migrations.0002_seed_instruments").seed(apps, None)
    for position, name in enumerate(HARM_TAGS, start=1):
        Tag.objects.get_or_create(name=name, defaults={"slug": slugify(name), "position": position})
    for role in ("reviewer", "lead"):
        Group.objects.get_or_create(name=role)


class Workers:
    """Starts real workers on the test database and the private Redis."""

    def __init__(self, redis_url: str, directory: Path) -> None:
        self.redis_url = redis_url
        self.directory = directory
        self.started: list[DisposableWorker] = []

    def start_many(self, count: int, **env: str) -> list[DisposableWorker]:
        """Several at once: each takes seconds to import the app, and they can do it side by side."""
        workers = [
            DisposableWorker(
                redis_url=self.redis_url, log_path=self.directory / f"worker-{len(self.started) + n}.log", env=env
            )
            for n in range(count)
        ]
        self.started += workers
        for worker in workers:
            worker.launch()
        for worker in workers:
            worker.wait_ready()
        return workers

    def start(self, **env: str) -> DisposableWorker:
        return self.start_many(1, **env)[0]


@pytest.fixture
def workers(private_redis: DisposableRedis, seeded: None, tmp_path: Path) -> Iterator[Workers]:
    """Real `celery worker` processes; what the test leaves running is killed afterwards."""
    if CELERY is None:
        pytest.skip("needs the celery command (pip install -r requirements.txt)")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a database it can share: set DATABASE_URL to PostgreSQL")
    factory = Workers(private_redis.url(), tmp_path)
    yield factory
    # Killed rather than stopped: the test is over, and a warm shutdown takes seconds.
    for worker in factory.started:
        worker.kill()


@pytest.fixture
def beat(workers: Workers, private_redis: DisposableRedis, tmp_path: Path) -> Iterator[DisposableBeat]:
    """A real `celery beat` on the private Redis, sending the real schedule."""
    process = DisposableBeat(redis_url=private_redis.url(), directory=tmp_path).start()
    yield process
    process.kill()
