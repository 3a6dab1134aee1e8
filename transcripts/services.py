"""Every write of imported transcripts: the import."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.utils import timezone
from psycopg.types.json import set_json_dumps

from audit.models import AuditAction
from audit.services import Actor, audit_record
from tagging.selectors import tag_lookup
from transcripts.importing import (
    MAX_KEPT_REJECTS_RAW_CHARS,
    MAX_KEPT_WARNINGS,
    CleanRecord,
    ImportFileError,
    MeteredReader,
    RecordError,
    SourceInfo,
    collector_relaxed,
    inspect_source,
    iter_source_records,
    open_metered,
    raw_for_reject,
    validate_record,
)
from transcripts.models import ImportBatch, Transcript
from transcripts.turns import spans_json

IMPORT_CHUNK_SIZE = 5000
# A chunk is also written once its transcripts reach this many characters, so that a file of
# large records (each within the import limits) cannot hold thousands of them in memory: 120
# records of 3.5 million characters peaked at 233 MB with this, 362 MB with 32 million, when
# re-imported. 5,000 released records hold about 6 million.
IMPORT_CHUNK_CHARS = 8_000_000
PROGRESS_EVERY = 1000
# One import at a time: a chunk's fallback looks up existing hashes, and could not see
# another import's uncommitted rows.
IMPORT_ADVISORY_LOCK = 0x7472_6961_6401


class ImportRejected(Exception):
    """All-or-nothing import found invalid records; nothing was written."""

    def __init__(self, file_name: str, errors: list[RecordError], records_seen: int) -> None:
        self.file_name = file_name
        self.errors = errors
        self.records_seen = records_seen
        super().__init__(f"{file_name}: {len(errors)} invalid field(s) in {records_seen} records; nothing imported")


@dataclass
class ImportResult:
    created: int
    duplicates: int
    rejected_records: int
    seconds: float
    # None when the file brought nothing new: no batch is kept for a no-op re-import.
    batch: ImportBatch | None
    # Earlier batches of a byte-identical file.
    identical_batch_ids: list[int] = field(default_factory=list)
    warnings: list[RecordError] = field(default_factory=list)
    rejected: list[RecordError] = field(default_factory=list)


_COPY_FIELDS = (
    "transcript",
    "min_harmlessness_score_transcript",
    "num_params",
    "model_type",
    "rating",
    "task_description",
    "task_description_harmlessness_score",
    "red_team_member_id",
    "is_upworker",
    "source_tags",
    "turn_spans",
    "content_hash",
    "import_batch",
    "source_index",
    "created_at",
)


class _TranscriptWriter:
    """Streams accepted records into the transcript table, a chunk at a time.

    On PostgreSQL each chunk is one binary COPY, written record by record as the file is
    parsed, so the server digests rows while Python reads the next ones. It is
    optimistic: a first import holds no duplicates, so the chunk is copied as it comes
    inside a savepoint and the unique index on content_hash objects to any duplicate;
    only then does the chunk pay for looking up which hashes exist, and is copied again
    without them. Elsewhere (SQLite) each chunk is deduplicated and bulk-inserted.
    """

    def __init__(self, batch: ImportBatch, chunk_size: int = IMPORT_CHUNK_SIZE) -> None:
        self.batch = batch
        self.chunk_size = chunk_size
        self.created = 0
        self.duplicates = 0
        self._pending: list[CleanRecord] = []
        self._pending_chars = 0
        self._open_copy: ExitStack | None = None
        self._copy: Any = None
        self._now = timezone.now()
        self._postgres = connection.vendor == "postgresql"

    def __enter__(self) -> _TranscriptWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._open_copy is not None:  # an error elsewhere: abort the COPY, roll back the chunk
            stack, self._open_copy = self._open_copy, None
            stack.__exit__(*exc_info)

    def add(self, record: CleanRecord) -> None:
        if self._postgres:
            if self._copy is None:
                self._open_copy = ExitStack()
                self._open_copy.enter_context(transaction.atomic())
                self._copy = self._open_copy.enter_context(_binary_copy())
            self._copy.write_row(_copy_row(record, self.batch, self._now))
        self._pending.append(record)
        self._pending_chars += len(record.transcript)
        if len(self._pending) >= self.chunk_size or self._pending_chars >= IMPORT_CHUNK_CHARS:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        chunk, self._pending, self._pending_chars = self._pending, [], 0
        if self._postgres:
            stack, self._open_copy, self._copy = self._open_copy, None, None
            try:
                if stack is not None:  # on PostgreSQL, pending records are always in an open COPY
                    stack.close()  # ends the COPY and releases the savepoint
                fresh = chunk
            except IntegrityError:
                fresh = self._new_records(chunk)
                if fresh:
                    with _binary_copy() as copy:
                        for record in fresh:
                            copy.write_row(_copy_row(record, self.batch, self._now))
        else:
            fresh = self._new_records(chunk)
            Transcript.objects.bulk_create(
                [_transcript_from(record, self.batch, self._now) for record in fresh], batch_size=500
            )
        _attach_tags(fresh)
        self.created += len(fresh)
        self.duplicates += len(chunk) - len(fresh)

    @staticmethod
    def _new_records(chunk: list[CleanRecord]) -> list[CleanRecord]:
        by_hash = {record.content_hash: record for record in chunk}
        existing = _existing_hashes(list(by_hash))
        return [record for content_hash, record in by_hash.items() if content_hash not in existing]


def _existing_hashes(hashes: list[bytes]) -> set[bytes]:
    """Which of these content hashes the transcript table holds already."""
    existing = _existing_hashes_postgresql if connection.vendor == "postgresql" else _existing_hashes_portable
    return existing(hashes)


def _existing_hashes_postgresql(hashes: list[bytes]) -> set[bytes]:
    # One array parameter instead of thousands of placeholders: the query is parsed once.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT content_hash FROM {Transcript._meta.db_table} WHERE content_hash = ANY(%s)",  # noqa: S608
            [hashes],
        )
        return {bytes(row[0]) for row in cursor.fetchall()}


def _existing_hashes_portable(hashes: list[bytes]) -> set[bytes]:
    return {
        bytes(content_hash)
        for content_hash in Transcript.objects.filter(content_hash__in=hashes).values_list("content_hash", flat=True)
    }


@contextmanager
def _binary_copy() -> Iterator[Any]:
    """A binary COPY into the transcript table on the import's own connection and transaction.

    Binary, because PostgreSQL then skips parsing text: measured 0.96 s against 1.40 s for
    a text COPY of 38,961 rows. Errors surface as Django's (IntegrityError and so on).
    """
    fields = [field for name in _COPY_FIELDS if isinstance(field := Transcript._meta.get_field(name), Field)]
    columns = ", ".join(str(field.column) for field in fields)
    sql = f"COPY {Transcript._meta.db_table} ({columns}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # Rows carry their JSON already serialized (spans_json is about 3x faster than
        # json.dumps); set before the COPY exists, since it picks its dumpers when created.
        set_json_dumps(_json_text_as_is, cursor.cursor)
        with cursor.cursor.copy(sql) as copy:
            copy.set_types([str(field.db_type(connection)).split("(")[0] for field in fields])
            yield copy


def _json_text_as_is(value: str) -> str:
    return value


def _copy_row(record: CleanRecord, batch: ImportBatch, now: Any) -> tuple[Any, ...]:
    return (
        record.transcript,
        record.min_harmlessness_score_transcript,
        record.num_params,
        record.model_type,
        record.rating,
        record.task_description,
        record.task_description_harmlessness_score,
        record.red_team_member_id,
        record.is_upworker,
        None if record.source_tags is None else json.dumps(record.source_tags),
        spans_json(record.turn_spans),
        record.content_hash,
        batch.pk,
        record.index,
        now,
    )


def _transcript_from(record: CleanRecord, batch: ImportBatch, now: Any) -> Transcript:
    return Transcript(
        transcript=record.transcript,
        min_harmlessness_score_transcript=record.min_harmlessness_score_transcript,
        num_params=record.num_params,
        model_type=record.model_type,
        rating=record.rating,
        task_description=record.task_description,
        task_description_harmlessness_score=record.task_description_harmlessness_score,
        red_team_member_id=record.red_team_member_id,
        is_upworker=record.is_upworker,
        source_tags=record.source_tags,
        turn_spans=record.turn_spans,
        content_hash=record.content_hash,
        import_batch=batch,
        source_index=record.index,
        created_at=now,
    )


def _attach_tags(records: list[CleanRecord]) -> None:
    tagged = {record.content_hash: record.tag_ids for record in records if record.tag_ids}
    if not tagged:
        return
    ids = dict(Transcript.objects.filter(content_hash__in=list(tagged)).values_list("content_hash", "id"))
    through = Transcript.tags.through
    through.objects.bulk_create(
        [
            through(transcript_id=ids[content_hash], tag_id=tag_id)
            for content_hash, tag_ids in tagged.items()
            for tag_id in tag_ids
        ]
    )


@dataclass
class _ImportTally:
    """What an import found wrong with its records: rejects and warnings, each kept up to a bound."""

    max_rejects: int
    rejected: list[RecordError] = field(default_factory=list)
    reject_rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[RecordError] = field(default_factory=list)
    warnings_not_kept: int = 0
    kept_raw_chars: int = 0  # of all rejects' raw text: past MAX_KEPT_REJECTS_RAW_CHARS only errors are kept

    def reject(self, raw: Any, errors: list[RecordError], *, path: Path) -> None:
        if len(self.reject_rows) == self.max_rejects:
            raise ImportFileError(
                f"{path}: more than {self.max_rejects:,} invalid records (the limit, TRIAD_IMPORT_MAX_REJECTS): "
                f"stopped at {errors[0].location()}"
            )
        self.rejected.extend(errors)
        raw_text = raw_for_reject(raw) if self.kept_raw_chars < MAX_KEPT_REJECTS_RAW_CHARS else ""
        self.kept_raw_chars += len(raw_text)
        self.reject_rows.append(
            {"record": raw.index, "line": raw.line, "errors": [error.as_dict() for error in errors], "raw": raw_text}
        )

    def warn(self, warnings: list[RecordError]) -> None:
        if len(self.warnings) < MAX_KEPT_WARNINGS:
            self.warnings.extend(warnings)
        else:
            self.warnings_not_kept += len(warnings)

    def warning_rows(self) -> list[dict[str, Any]]:
        rows = [warning.as_dict() for warning in self.warnings]
        if self.warnings_not_kept:
            note = f"{self.warnings_not_kept:,} more warnings not kept"
            rows.append({"record": None, "line": None, "field": None, "reason": note})
        return rows


def transcript_import(
    *,
    path: Path,
    created_by: User | None = None,
    actor: Actor = None,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Stream one file of red-team records into the database.

    All or nothing by default: any invalid record rolls the whole import back and
    raises ImportRejected listing every error. With skip_invalid the valid records are
    imported and the rejects are kept on the ImportBatch. Records already in the
    database (same content hash) are counted as duplicates, so re-importing is a no-op.
    On PostgreSQL rows stream into a COPY as they are validated, so parsing and loading overlap.
    A kept batch is recorded in the audit log as done by actor (default: created_by).
    """
    info = inspect_source(path)
    started = timezone.now()
    tally = _ImportTally(max_rejects=settings.TRIAD_IMPORT_MAX_REJECTS)
    raw_file, meter = open_metered(info)
    with raw_file, collector_relaxed(), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_ADVISORY_LOCK])
        batch = ImportBatch.objects.create(
            file_name=str(path),
            sha256="",
            file_size=info.size,
            file_format=info.file_format,
            compressed=info.compressed,
            skip_invalid=skip_invalid,
            created_by=created_by,
            started_at=started,
            finished_at=started,
        )
        with _TranscriptWriter(batch) as writer:
            records_seen = _records_write(
                info,
                meter,
                writer,
                tally,
                tag_ids=tag_lookup(),
                path=path,
                skip_invalid=skip_invalid,
                progress=progress,
            )
        if progress is not None:
            progress(meter.bytes_read)
        if tally.rejected and not skip_invalid:
            transaction.set_rollback(True)
            raise ImportRejected(str(path), tally.rejected, records_seen)
        if records_seen == 0:
            raise ImportFileError(f"{path}: holds no records")
        sha256 = meter.sha256.hexdigest()
        identical = list(ImportBatch.objects.filter(sha256=sha256).order_by("pk").values_list("pk", flat=True))
        if writer.created == 0 and not tally.reject_rows:
            # A re-import: everything is in the database already, so nothing is written.
            transaction.set_rollback(True)
            kept_batch = None
        else:
            kept_batch = _batch_finish(
                batch, writer, tally, sha256=sha256, actor=actor if actor is not None else created_by
            )
    return ImportResult(
        created=writer.created,
        duplicates=writer.duplicates,
        rejected_records=len(tally.reject_rows),
        seconds=(timezone.now() - started).total_seconds(),
        batch=kept_batch,
        identical_batch_ids=identical,
        warnings=tally.warnings,
        rejected=tally.rejected,
    )


def _records_write(
    info: SourceInfo,
    meter: MeteredReader,
    writer: _TranscriptWriter,
    tally: _ImportTally,
    *,
    tag_ids: dict[str, int],
    path: Path,
    skip_invalid: bool,
    progress: Callable[[int], None] | None,
) -> int:
    """Validate each record of the file and hand the valid ones to the writer; how many were seen."""
    records_seen = 0
    for raw in iter_source_records(info, meter):
        records_seen += 1
        if records_seen % PROGRESS_EVERY == 0 and progress is not None:
            progress(meter.bytes_read)
        outcome = [raw.error] if raw.error is not None else validate_record(raw, tag_ids)
        if isinstance(outcome, list):
            tally.reject(raw, outcome, path=path)
            continue
        if outcome.warnings:
            tally.warn(outcome.warnings)
        if skip_invalid or not tally.rejected:  # after a reject, all-or-nothing only validates
            writer.add(outcome)
    writer.flush()
    return records_seen


def _batch_finish(
    batch: ImportBatch, writer: _TranscriptWriter, tally: _ImportTally, *, sha256: str, actor: Actor
) -> ImportBatch:
    """Record on the batch what the import did, and the import in the audit log."""
    batch.sha256 = sha256
    batch.created_count = writer.created
    batch.duplicate_count = writer.duplicates
    batch.rejected_count = len(tally.reject_rows)
    batch.errors = tally.reject_rows
    batch.warnings = tally.warning_rows()
    batch.finished_at = timezone.now()
    batch.save()
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        target=batch,
        details={
            "file": batch.file_name,
            "sha256": sha256,
            "created": writer.created,
            "duplicates": writer.duplicates,
            "rejected": len(tally.reject_rows),
            "skip_invalid": batch.skip_invalid,
        },
    )
    return batch
