from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client

from tests.factories import UserFactory


@pytest.mark.django_db
def test_a_used_session_is_renewed_at_most_once_a_minute(client: Client, settings: object) -> None:
    client.force_login(UserFactory())
    client.get("/")
    session = Session.objects.get()
    first_expiry = session.expire_date
    client.get("/")
    assert Session.objects.get().expire_date == first_expiry  # within the minute: no write

    settings.SESSION_ACTIVITY_RENEW_SECONDS = 0  # type: ignore[attr-defined]
    client.get("/")
    assert Session.objects.get().expire_date > first_expiry


@pytest.mark.django_db
def test_anonymous_visits_create_no_session(client: Client) -> None:
    client.get("/")
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_a_session_unused_for_longer_than_its_age_is_signed_out(client: Client, settings: object) -> None:
    age = settings.SESSION_COOKIE_AGE  # type: ignore[attr-defined]
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        client.force_login(UserFactory(roles=["reviewer"]))
        assert client.get("/review/").status_code == 200
        clock.shift(timedelta(seconds=age + 1))
        response = client.get("/review/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_session_in_use_outlives_its_age_counted_from_login(client: Client, settings: object) -> None:
    age = settings.SESSION_COOKIE_AGE  # type: ignore[attr-defined]
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        client.force_login(UserFactory(roles=["reviewer"]))
        for _ in range(4):  # a visit every half age: twice the age in all, never idle for a whole one
            clock.shift(timedelta(seconds=age // 2))
            assert client.get("/review/").status_code == 200
        clock.shift(timedelta(seconds=age + 1))
        assert client.get("/review/").status_code == 302


@pytest.mark.django_db
def test_logging_out_ends_the_session_on_the_server(client: Client) -> None:
    client.force_login(UserFactory(roles=["reviewer"]))
    stolen_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=stolen_key).exists()

    assert client.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=stolen_key).exists()

    # A copy of the old cookie (kept by an attacker, or another tab) no longer signs anyone in.
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = stolen_key
    assert replay.get("/review/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/accounts/login/", "/no-such-page", "/review/"])
def test_every_response_says_how_long_the_server_took(client: Client, path: str) -> None:
    client.force_login(UserFactory(roles=["reviewer"]))
    timing = client.get(path)["Server-Timing"]
    assert re.fullmatch(r"app;dur=\d+\.\d", timing), timing
