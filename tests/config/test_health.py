"""/healthz reports the real database and broker, so deploy scripts can wait on it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    expected_broker = "ok" if settings.REDIS_URL else "eager (no REDIS_URL: tasks run in-process)"
    assert body["broker"] == expected_broker


@pytest.mark.django_db
def test_healthz_is_unavailable_when_the_broker_is_unreachable(client: Client, settings: object) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "error: ConnectionError"
