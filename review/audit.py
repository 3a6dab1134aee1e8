"""The audit log as CSV, for a lead's download."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from review.dashboard import FORMULA_PREFIXES
from review.models import AuditEvent

AUDIT_CSV_HEADER = [
    "id",
    "at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target",
    "study_id",
    "details",
]


def audit_csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """The events as CSV text, a row at a time. Names, labels and details hold text people
    typed (study and token names, file names), so a cell that a spreadsheet would run as a
    formula gets a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_CSV_HEADER)
    for event in events.iterator(chunk_size=1000):
        writer.writerow(
            [
                event.pk,
                event.at.isoformat(),
                _defused(event.actor_label),
                event.action,
                event.target_type,
                "" if event.target_id is None else event.target_id,
                _defused(event.target_label),
                "" if event.study_id is None else event.study_id,
                _defused(json.dumps(event.details, ensure_ascii=False, sort_keys=True)),
            ]
        )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def _defused(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
