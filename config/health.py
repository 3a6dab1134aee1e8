"""Liveness of the services Triad depends on, for /healthz and the deploy scripts."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import DatabaseError, connection


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def broker_status() -> str:
    if not settings.REDIS_URL:
        return "eager (no REDIS_URL: tasks run in-process)"
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"
