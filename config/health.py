"""Liveness of the services Triad depends on, for /healthz, load balancers and deploy scripts.

A load balancer takes a web process out of rotation on a 503, so only what stops this process
from serving answers 503: the database. Without Redis reviewers still claim, skip and submit
(enqueues are skipped and caught up later) and without a worker the work waits in the queue,
so either is reported as "degraded" with a 200: draining every web process because the
broker blinked would turn a partial outage into a total one. The same goes for a read replica:
without it dashboards and exports read the primary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection, connections

from config.db_routing import REPLICA

# Workers write this key (plus their node name) every TRIAD_WORKER_HEARTBEAT_SECONDS; it
# expires after a few missed beats, so a dead worker disappears by itself.
WORKER_HEARTBEAT_PREFIX = "triad:worker-heartbeat:"
# Missed beats before a worker counts as gone.
WORKER_HEARTBEAT_MISSES = 3
# Short: a health check that hangs is worse than one that says "error".
REDIS_TIMEOUT_SECONDS = 1.0


@dataclass
class HealthReport:
    status: str  # ok, degraded or unavailable
    http_status: int
    parts: dict[str, dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "problems": self.problems, **self.parts}


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)


def heartbeat_ttl_seconds() -> int:
    return settings.TRIAD_WORKER_HEARTBEAT_SECONDS * WORKER_HEARTBEAT_MISSES


def worker_heartbeat_write(*, client: redis.Redis, hostname: str, now: float | None = None) -> None:
    """Record that the worker `hostname` is alive now; the key lapses after a few missed beats."""
    stamp = repr(time.time() if now is None else now)
    client.set(WORKER_HEARTBEAT_PREFIX + hostname, stamp, ex=heartbeat_ttl_seconds())


def worker_heartbeat_clear(*, client: redis.Redis, hostname: str) -> None:
    client.delete(WORKER_HEARTBEAT_PREFIX + hostname)


def worker_heartbeats(*, client: redis.Redis, now: float | None = None) -> dict[str, float]:
    """Seconds since each live worker's last heartbeat, by worker node name."""
    now = time.time() if now is None else now
    keys = sorted(client.scan_iter(match=WORKER_HEARTBEAT_PREFIX + "*", count=100))
    ages = {}
    for key, value in zip(keys, client.mget(keys) if keys else [], strict=True):
        if value is not None:  # expired between the scan and the read
            ages[key.decode()[len(WORKER_HEARTBEAT_PREFIX) :]] = round(max(0.0, now - float(value)), 1)
    return ages


def database_status() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"status": "error", "error": exc.__class__.__name__}
    return {"status": "ok", "seconds": round(time.perf_counter() - started, 4)}


# Seconds since the replica replayed its last transaction; NULL on a server that is not a standby.
# On a quiet primary it grows without any lag, so it is reported, not judged.
REPLICA_LAG_SQL = (
    "SELECT CASE WHEN pg_is_in_recovery() THEN EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)


def replica_status() -> dict[str, Any] | None:
    """The read replica's reachability and replay lag, or None when none is configured."""
    if REPLICA not in settings.DATABASES:
        return None
    replica = connections[REPLICA]
    started = time.perf_counter()
    try:
        with replica.cursor() as cursor:
            cursor.execute(REPLICA_LAG_SQL if replica.vendor == "postgresql" else "SELECT NULL")
            lag = cursor.fetchone()[0]
    except DatabaseError as exc:
        return {"status": "error", "error": exc.__class__.__name__}
    return {
        "status": "ok",
        "seconds": round(time.perf_counter() - started, 4),
        "lag_seconds": None if lag is None else round(float(lag), 1),
    }


def redis_and_worker_status() -> tuple[dict[str, Any], dict[str, Any]]:
    """Redis (the broker and shared cache) and the workers' heartbeats, which live in it."""
    if not settings.REDIS_URL:
        eager = "eager (no REDIS_URL: tasks run in-process)"
        return {"status": eager}, {"status": eager}
    started = time.perf_counter()
    try:
        client = redis_client(settings.REDIS_URL)
        client.ping()
        seconds = round(time.perf_counter() - started, 4)
        ages = worker_heartbeats(client=client)
    except redis.RedisError as exc:
        unknown = {"status": "unknown", "error": "Redis is unreachable, and the heartbeats are kept there"}
        return {"status": "error", "error": exc.__class__.__name__}, unknown
    workers: dict[str, Any] = {
        "status": "ok" if ages else "missing",
        "count": len(ages),
        "heartbeat_age_seconds": min(ages.values()) if ages else None,
        "heartbeats": ages,
    }
    return {"status": "ok", "seconds": seconds}, workers


def health_report() -> HealthReport:
    database = database_status()
    redis_part, workers = redis_and_worker_status()
    replica = replica_status()
    problems = []
    if database["status"] != "ok":
        problems.append(f"database unreachable ({database['error']})")
    if replica is not None and replica["status"] == "error":
        problems.append(f"read replica unreachable ({replica['error']}): dashboards and exports read the primary")
    if redis_part["status"] == "error":
        problems.append(f"Redis unreachable ({redis_part['error']}): agreement refreshes wait for it")
    elif workers["status"] == "missing":
        problems.append(f"no Celery worker heartbeat in the last {heartbeat_ttl_seconds()} s: tasks are waiting")
    if database["status"] != "ok":
        status, http_status = "unavailable", 503
    elif problems:
        status, http_status = "degraded", 200
    else:
        status, http_status = "ok", 200
    return HealthReport(
        status=status,
        http_status=http_status,
        parts={"database": database, "redis": redis_part, "workers": workers}
        | ({"replica": replica} if replica is not None else {}),
        problems=problems,
    )
