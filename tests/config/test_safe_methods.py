"""No GET changes the database, for anyone.

A link preview, a browser's prefetch or an <img> on another site sends GETs with the
reviewer's cookies; if a GET leased work, recorded exposure or wrote an audit event, any of
them could act for the reviewer. So every GET URL of the authorization table is requested as
every role, and every table's rows must be exactly what they were before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from api.models import ApiToken
from audit.models import AuditAction, AuditEvent
from tests.config.authorization_table import ROLES, TABLE
from tests.config.test_authorization import World, _fill, _request, world_for_module
from wellbeing.models import Publication

pytestmark = pytest.mark.django_db

GET_URLS = [url for url, method, _ in TABLE if method == "GET"]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The authorization test's objects, with every session signed in before any snapshot."""
    with world_for_module(django_db_blocker) as built:
        yield built


# Records of the read itself, and nothing else, may be written by a GET: the audit log's
# export events (who downloaded which data, which a lead's export must leave however it is
# asked for) and an API token's last use (written at most once a minute). No one's work,
# leases, answers or settings depend on them. One store of what is read is allowed too: a closed
# month's wellbeing figures, published hourly by beat, are published by the lead's page if it
# comes first; they are the same figures whoever publishes them (wellbeing/PRIVACY.md).
# Every other row of every table must stay as it was.
ACCESS_RECORDS = {
    AuditEvent._meta.db_table: f"action <> '{AuditAction.EXPORT}'",
    ApiToken._meta.db_table: None,
    Publication._meta.db_table: "1 = 0",
}
ACCESS_COLUMNS = {ApiToken._meta.db_table: {ApiToken._meta.get_field("last_used_at").column}}


def _select_all(cursor: Any, table: str) -> str:
    quote = connection.ops.quote_name
    skipped = ACCESS_COLUMNS.get(table, set())
    columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
    chosen = ", ".join(quote(column) for column in columns if column not in skipped)
    where = ACCESS_RECORDS.get(table)
    return f"SELECT {chosen} FROM {quote(table)}" + (f" WHERE {where}" if where else "")  # noqa: S608 - names from the catalogue


def database_snapshot() -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of all its rows, in a stable order."""
    snapshot = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(_select_all(cursor, table))
            rows = sorted(repr(row) for row in cursor.fetchall())
            snapshot[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return snapshot


def changed_tables(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))


def test_the_walk_covers_the_pages_that_used_to_write() -> None:
    for url in ("/review/studies/{study}/next", "/review/slots/{held_slot}/", "/review/slots/{held_slot}/review"):
        assert url in GET_URLS, url


@pytest.mark.parametrize("role", ROLES)
def test_no_get_in_the_authorization_table_changes_the_database(world: World, role: str) -> None:
    client = world.client(role)
    # Signed in before the snapshot: this first request may slide the session's expiry, which
    # is written at most once a minute (config.middleware.SessionActivityMiddleware).
    _request(client, "GET", "/")
    before = database_snapshot()
    for url in GET_URLS:
        _request(client, "GET", _fill(url, world.values))
    if database_snapshot() == before:
        return
    # Something wrote: walk again, one snapshot per request, to name the URLs.
    wrote = []
    for url in GET_URLS:
        _request(client, "GET", _fill(url, world.values))
        after = database_snapshot()
        if after != before:
            wrote.append(f"GET {url}: {changed_tables(before, after)}")
            before = after
    pytest.fail(f"as {role}, GETs wrote: " + ("; ".join(wrote) or "only on the first walk"))


def test_the_snapshot_does_see_a_write(world: World) -> None:
    """So that the walk above cannot pass by looking at nothing: a POST claim shows up."""
    client = world.client("other")
    before = database_snapshot()
    client.post(_fill("/review/studies/{study}/next", world.values))  # other's held lease: handed back
    assert changed_tables(before, database_snapshot()) != []
