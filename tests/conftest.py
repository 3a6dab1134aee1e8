from __future__ import annotations

from typing import Protocol

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection
from django.test import Client

from tests.factories import UserFactory

# Private Redis servers and Celery workers that tests may stop and kill.
pytest_plugins = ["tests.disposable.fixtures"]


@pytest.fixture
def on_postgres(db: None) -> None:
    """For tests of PostgreSQL-only behaviour (COPY, row locks); CI always runs them."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/triad")


class Login(Protocol):
    """Signs the test's client (or another) in as a user and returns it: `login(ann).get("/review/")`."""

    def __call__(self, user: User, *, client: Client | None = None) -> Client: ...


@pytest.fixture
def login(client: Client) -> Login:
    """The one way tests sign a client in as someone: the test's own client unless given another
    (a second person acting in the same test)."""

    test_client = client

    def sign_in(user: User, *, client: Client | None = None) -> Client:
        signed_in = client if client is not None else test_client
        signed_in.force_login(user)
        return signed_in

    return sign_in


@pytest.fixture
def lead(db: None) -> User:
    """A lead, who signs in as lead_client; a test module that needs them named overrides this."""
    return UserFactory(roles=["lead"])


@pytest.fixture
def lead_client(login: Login, lead: User) -> Client:
    """The test's client, signed in as a lead."""
    return login(lead)


@pytest.fixture
def reviewer_client(login: Login, db: None) -> Client:
    """The test's client, signed in as a reviewer who is in no study yet."""
    return login(UserFactory(roles=["reviewer"]))


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: object) -> None:
    """PBKDF2's deliberate slowness is for attackers, not for the dozens of users tests create."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Cached values (throttle counts) are keyed by ids, and ids repeat across tests on SQLite."""
    for alias in ("default", "shared"):
        caches[alias].clear()
