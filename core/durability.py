"""Which writes wait for the disk when they commit.

PostgreSQL makes a COMMIT wait until its write-ahead log is flushed to disk: 3.3 ms on the
development VM (bench: 300 one-row autocommit INSERTs, 3.27 ms each against 0.11 ms with
synchronous_commit off). A review page's submit made four such commits (the review, the
agreement refresh request, the exposure count, the next claim), and a gunicorn worker waiting
on the disk serves nobody.

Writes that are cheap to lose on a crash of the database server commit without that wait:
at most the last ~0.6 s of them (3 x wal_writer_delay) can be lost, never half of one, and
the database stays consistent. What may be lost that way and why it is safe:
- a lease (the claim): the slot is open again, and the reviewer's signed lease token lets
  their answers take it back (review_submit);
- seconds of exposure and the "last seen" mark: the next page counts on from the older mark;
- an agreement refresh request: the beat's catch-up recomputes snapshots that are behind.
Reviews, skips, survey answers, audit records and everything a lead or reviewer saves keep
waiting for the disk.
"""

from __future__ import annotations

from django.db import connection


def commit_without_waiting_for_disk() -> None:
    """Let the current transaction commit without waiting for its log to reach the disk.

    Call it first thing inside the `transaction.atomic()` of a write listed above. It acts only
    when that block is the whole transaction: inside a caller's transaction, which may hold
    writes that must wait for the disk, it leaves the commit as it is. PostgreSQL only (`SET
    LOCAL` ends with the transaction); SQLite, the embedded database, is left as it is.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("commit_without_waiting_for_disk needs a transaction: call it inside transaction.atomic()")
    if connection.vendor != "postgresql" or len(connection.atomic_blocks) != 1:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
