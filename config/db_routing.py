"""Read replicas: lead dashboards and exports read from the `replica` alias when one is configured.

Django's routers choose a database per model, but whether a read may lag the primary depends
on who is reading, not on the model: a reviewer claiming a slot must see the latest state, a
lead's dashboard can be a few seconds behind. So the choice is made per view, with a context
variable: views whose reads tolerate replication lag run inside `replica_reads()`, and the
router sends their reads to the replica while it is set. Everything else, and every write,
goes to the primary.

Reads inside a transaction on the primary stay on the primary even then: a service that
writes and reads back in one transaction must see its own write, which a replica would only
show later. A read that follows an autocommitted write outside any transaction is not
protected, so views under `replica_reads()` do such work (the dashboard's snapshot settle)
before entering it.

If the replica cannot be reached when a view enters `replica_reads()`, that view reads from
the primary instead (and a warning is logged): an outage of the replica costs the primary
some load, not the leads their dashboards.

A context variable ends with the view, but a streamed response is read after the view has
returned: code that reads while streaming takes the alias as an argument (`read_alias()`,
taken inside the view) instead of relying on the router.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.models import Model

REPLICA = "replica"

logger = logging.getLogger(__name__)

_replica_reads: ContextVar[bool] = ContextVar("triad_replica_reads", default=False)


def replica_configured(databases: Mapping[str, Any] | None = None) -> bool:
    return REPLICA in (settings.DATABASES if databases is None else databases)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Send reads to the replica, when there is one, until the block or decorated view ends.

    Only for reads that tolerate a few seconds of replication lag: dashboards, exports.
    """
    token = _replica_reads.set(not replica_configured() or _replica_answers())
    try:
        yield
    finally:
        _replica_reads.reset(token)


def _replica_answers() -> bool:
    try:
        # A cursor runs the connection's health check (CONN_HEALTH_CHECKS) and connects if
        # needed, without a query of its own when the connection is known to be good.
        connections[REPLICA].cursor().close()
    except (OperationalError, InterfaceError) as exc:
        logger.warning("The read replica is unreachable, reading from the primary instead: %s", exc)
        return False
    return True


def read_alias() -> str:
    """The alias reads go to at this point: what a streamed response should read from later."""
    return REPLICA if _reading_replica(None) else DEFAULT_DB_ALIAS


def _reading_replica(databases: Mapping[str, Any] | None) -> bool:
    return _replica_reads.get() and replica_configured(databases) and not connections[DEFAULT_DB_ALIAS].in_atomic_block


class ReplicaRouter:
    """Reads inside `replica_reads()` go to the replica; all else to the primary.

    With no replica configured it has no opinion (None), which is Django's default routing.
    """

    def __init__(self, databases: Mapping[str, Any] | None = None) -> None:
        # None: read settings.DATABASES at each call. Tests pass a mapping to see both set-ups.
        self._databases = databases

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if not replica_configured(self._databases):
            return None
        if _reading_replica(self._databases):
            return REPLICA
        # Explicitly the primary, not None: for None Django falls back to the database the
        # `instance` hint came from, so an object read from the replica would keep pulling
        # its related objects from there after the view has left replica_reads().
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS if replica_configured(self._databases) else None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # Both aliases hold the same data, so an object read from the replica may be linked
        # to one on the primary (an audit record naming the study a dashboard read).
        return True if replica_configured(self._databases) else None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        # The replica receives the schema through replication, never from `migrate`.
        return False if db == REPLICA else None
