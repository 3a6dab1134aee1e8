"""/healthz for load balancers: the database, Redis and the workers' heartbeats, against real ones.

Only a dead database takes a web process out of rotation (503); Redis or the workers missing
is "degraded" with a 200, since reviewers can still work without them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.disposable.redis import free_port


def healthz(client: Client) -> tuple[int, dict[str, Any]]:
    response = client.get("/healthz")
    return response.status_code, response.json()


def wait_until(condition: Any, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_without_a_worker_healthz_stays_200_but_says_degraded_and_why(
    client: Client, app_on_private_redis: Any, seeded: None
) -> None:
    status, body = healthz(client)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["workers"] == {"status": "missing", "count": 0, "heartbeat_age_seconds": None, "heartbeats": {}}
    assert body["problems"] == ["no Celery worker heartbeat in the last 30 s: tasks are waiting"]


def test_live_workers_show_as_ok_with_their_heartbeats_age_and_leave_when_stopped_or_killed(
    client: Client, app_on_private_redis: Any, workers: Any
) -> None:
    stopped, killed = workers.start_many(2, TRIAD_WORKER_HEARTBEAT_SECONDS="1")
    status, body = healthz(client)
    assert status == 200, body
    assert body["status"] == "ok" and body["problems"] == []
    assert body["database"]["status"] == "ok" and body["redis"]["status"] == "ok"
    assert body["workers"]["status"] == "ok" and body["workers"]["count"] == 2
    assert sorted(body["workers"]["heartbeats"]) == sorted([stopped.hostname, killed.hostname])
    assert 0 <= body["workers"]["heartbeat_age_seconds"] <= 2
    # The heartbeats keep coming: four seconds on (past their 3 s lifetime) they are still fresh.
    time.sleep(4)
    assert max(healthz(client)[1]["workers"]["heartbeats"].values()) <= 2

    stopped.stop()  # a warm shutdown takes its key away
    assert list(healthz(client)[1]["workers"]["heartbeats"]) == [killed.hostname]
    killed.kill()  # nothing runs to take the key away: it lapses after 3 missed beats of 1 s
    gone_by = time.monotonic() + 3
    wait_until(lambda: healthz(client)[1]["workers"]["count"] == 0, timeout=5)
    assert time.monotonic() <= gone_by + 1
    assert healthz(client)[0] == 200


def test_with_redis_down_healthz_stays_200_and_says_redis_is_unreachable(
    client: Client, app_on_private_redis: Any, seeded: None
) -> None:
    app_on_private_redis.stop()
    started = time.monotonic()
    status, body = healthz(client)
    assert time.monotonic() - started < 2  # a load balancer's probe must not hang
    assert status == 200
    assert body["status"] == "degraded"
    assert body["database"]["status"] == "ok"
    assert body["redis"] == {"status": "error", "error": "ConnectionError"}
    assert body["workers"]["status"] == "unknown"
    assert body["problems"] == ["Redis unreachable (ConnectionError): agreement refreshes wait for it"]
    app_on_private_redis.start()
    assert healthz(client)[1]["redis"]["status"] == "ok"


@pytest.fixture
def database_unreachable(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """The default connection aimed at a database nothing serves, for this test only: a port nothing
    listens on for PostgreSQL, a file in a folder that does not exist for SQLite."""
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT", "NAME")}
    # Closing SQLite's in-memory test database would destroy it, so that connection is set aside
    # (not closed) and handed back afterwards.
    set_aside = None
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        set_aside, connection.connection = connection.connection, None
        connection.settings_dict["NAME"] = str(tmp_path / "missing-folder" / "triad.sqlite3")
    else:
        connection.close()
        connection.settings_dict["HOST"], connection.settings_dict["PORT"] = "127.0.0.1", str(free_port())
    yield
    connection.close()
    connection.settings_dict.update(saved)
    if set_aside is not None:
        connection.connection = set_aside


def test_with_the_database_unreachable_healthz_answers_503(client: Client, database_unreachable: None) -> None:
    status, body = healthz(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"] == {"status": "error", "error": "OperationalError"}
    assert body["problems"][0] == "database unreachable (OperationalError)"


@pytest.mark.django_db
def test_without_redis_configured_tasks_run_eagerly_and_healthz_is_ok(client: Client, settings: Any) -> None:
    settings.REDIS_URL = None
    status, body = healthz(client)
    assert status == 200 and body["status"] == "ok"
    eager = {"status": "eager (no REDIS_URL: tasks run in-process)"}
    assert body["redis"] == eager and body["workers"] == eager
