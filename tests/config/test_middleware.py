from __future__ import annotations

import pytest
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
