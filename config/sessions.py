"""Django's database sessions, loaded by one written-out statement.

Every request of a signed-in person loads their session first. Django's store builds that
SELECT through the ORM each time, which cost more CPU than the database took to answer it;
this store runs the same statement, on the same database (the primary: sessions are never
read from a replica, as the router also has it outside replica_reads). Saving, expiry and
everything else are Django's.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import SuspiciousOperation
from django.db import connection
from django.utils import timezone

_TABLE = Session._meta.db_table


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Session | None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT session_key, session_data, expire_date FROM {_TABLE} "  # noqa: S608 - a table name from code
                    "WHERE session_key = %s AND expire_date > %s",
                    [self.session_key, timezone.now()],
                )
                row = cursor.fetchone()
        except SuspiciousOperation as exc:  # as Django's store: a malformed key is a new session
            logging.getLogger(f"django.security.{exc.__class__.__name__}").warning(str(exc))
            row = None
        if row is None:
            self._session_key = None
            return None
        return Session(session_key=row[0], session_data=row[1], expire_date=row[2])
