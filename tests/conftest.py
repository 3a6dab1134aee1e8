from __future__ import annotations

import pytest
from django.db import connection

# Private Redis servers and Celery workers that tests may stop and kill.
pytest_plugins = ["tests.disposable.fixtures"]


@pytest.fixture
def on_postgres(db: None) -> None:
    """For tests of PostgreSQL-only behaviour (COPY, row locks); CI always runs them."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/triad")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: object) -> None:
    """PBKDF2's deliberate slowness is for attackers, not for the dozens of users tests create."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Cached values (throttle counts) are keyed by ids, and ids repeat across tests on SQLite."""
    from django.core.cache import caches

    for alias in ("default", "shared"):
        caches[alias].clear()
