"""The session store reads sessions with its own statement and keeps Django's rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.sessions import SessionStore
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_saved_session_loads_back_in_one_query() -> None:
    store = SessionStore()
    store["answer"] = 42
    store.save()
    with CaptureQueriesContext(connection) as queries:
        again = SessionStore(session_key=store.session_key)
        assert again["answer"] == 42
    assert len(queries) == 1


def test_an_expired_or_unknown_session_is_a_new_empty_one() -> None:
    store = SessionStore()
    store["answer"] = 42
    store.save()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(session_key=store.session_key)
    assert expired.load() == {} and expired.session_key is None
    unknown = SessionStore(session_key="x" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_signing_out_ends_the_session_for_every_later_request(client: Client) -> None:
    client.force_login(UserFactory(roles=["reviewer"]))
    assert client.get("/review/").status_code == 200
    stolen = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    replay = Client()
    replay.cookies["sessionid"] = stolen
    response = replay.get("/review/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
