from __future__ import annotations

import pytest
from django.db import connection


@pytest.fixture
def on_postgres(db: None) -> None:
    """For tests of PostgreSQL-only behaviour (COPY, row locks); CI always runs them."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/triad")
