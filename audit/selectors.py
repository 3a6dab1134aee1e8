"""Reads of the audit log: pages of events, their details as fields, the studies they name, the log as CSV."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery

from audit.models import AuditEvent
from core.csv_safety import csv_writer

# --- the audit log --------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50
# The study model, reached through the log's own relation: the audit app sits below the review
# app (whose services write the log), so it names studies without importing them.
Study = AuditEvent._meta.get_field("study").related_model


def _studies_led_by(user: User) -> QuerySet[Any]:
    # The review app's StudyLead rows, through the study's reverse relation ("leads"): named,
    # not imported, as the Study model above.
    return Study._default_manager.filter(leads__lead=user)


def audit_events(*, user: User, action: str | None = None, study_id: int | None = None) -> QuerySet[AuditEvent]:
    """The audit events a lead may read, newest first, optionally of one action and one study.

    A lead reads the team's events (no study: accounts, invitations, tokens, imports), those of
    the studies they lead, and those of deleted studies, which nobody leads any more; another
    lead's study's events are not theirs, as its pages are not.

    Each carries study_name, None once its study is gone. A subquery, not select_related:
    the study column has no foreign key, and Django joins a foreign key with an INNER JOIN
    whenever a filter names it, which would drop the events of deleted studies.
    """
    study_name = Subquery(Study._default_manager.filter(pk=OuterRef("study_id")).values("name")[:1])
    visible = (
        Q(study_id__isnull=True)
        | Q(study_id__in=_studies_led_by(user).values("pk"))
        | ~Q(study_id__in=Study._default_manager.values("pk"))
    )
    events = AuditEvent.objects.filter(visible).annotate(study_name=study_name).order_by("-id")
    if action:
        events = events.filter(action=action)
    if study_id is not None:
        events = events.filter(study_id=study_id)
    return events


def audit_page(
    *,
    user: User,
    action: str | None = None,
    study_id: int | None = None,
    page: int | None = None,
    size: int = AUDIT_PAGE_SIZE,
) -> Page[AuditEvent]:
    """One page of audit_events (Django's Paginator), newest first by id, which is unique: the
    order is stable, so no event shows twice or never while a lead pages. A page past the last
    is the last page. Events appended meanwhile push older ones onto later pages."""
    paginator: Paginator[AuditEvent] = Paginator(audit_events(user=user, action=action, study_id=study_id), size)
    return paginator.get_page(page or 1)


def audit_detail_fields(details: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's details as (field, value) lines for the page, not JSON: a change reads
    "from → to", a nested record becomes "record: field" lines, yes/no and — stand for
    booleans and nothing. The CSV keeps the details whole, as JSON."""
    fields: list[tuple[str, str]] = []
    for key, value in sorted(details.items()):
        label = str(key).replace("_", " ")
        if isinstance(value, dict) and set(value) == {"from", "to"}:
            fields.append((label, f"{_detail_text(value['from'])} → {_detail_text(value['to'])}"))
        elif isinstance(value, dict) and value:
            fields.extend((f"{label}: {name}", text) for name, text in audit_detail_fields(value))
        else:
            fields.append((label, _detail_text(value)))
    return fields


def _detail_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
        return ", ".join(_detail_text(item) for item in value) or "—"
    if isinstance(value, dict | list):
        # Records in a list (a study's strata): compact, in the order written.
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def audit_studies(*, user: User) -> list[tuple[int, str]]:
    """(id, name) of every study the lead leads, to filter the audit log by."""
    return list(_studies_led_by(user).order_by("name").values_list("id", "name"))


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
    typed (study and token names, file names): csv_writer defuses any that a spreadsheet
    would run as a formula."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(AUDIT_CSV_HEADER)
    for event in events.iterator(chunk_size=1000):
        writer.writerow(
            [
                event.pk,
                event.at.isoformat(),
                event.actor_label,
                event.action,
                event.target_type,
                "" if event.target_id is None else event.target_id,
                event.target_label,
                "" if event.study_id is None else event.study_id,
                json.dumps(event.details, ensure_ascii=False, sort_keys=True),
            ]
        )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()
