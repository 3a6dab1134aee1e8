"""Every write in the review app goes through a function here."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from psycopg.types.json import set_json_dumps

# Re-exported: commands, benches and test scripts import these from here.
from review.accounts import account_ensure as account_ensure
from review.analytics import snapshot_compute
from review.audit import Actor, audit_record
from review.audit import audit_cli_actor as audit_cli_actor
from review.errors import (
    InvalidAnswers,
    LeaseLost,
    NotAMember,
    ReviewNotSaved,
    SlotNotYours,
    StudyHasReviews,
    StudyNotActive,
    StudyStateError,
)
from review.importing import (
    MAX_KEPT_REJECTS_RAW_CHARS,
    MAX_KEPT_WARNINGS,
    CleanRecord,
    ImportFileError,
    RecordError,
    collector_relaxed,
    inspect_source,
    iter_source_records,
    open_metered,
    raw_for_reject,
    validate_record,
)
from review.models import (
    AgreementSnapshot,
    ApiScope,
    ApiToken,
    AuditAction,
    ImportBatch,
    Review,
    ReviewerProfile,
    Skip,
    Slot,
    SlotStatus,
    Study,
    StudyItem,
    StudyMembership,
    StudyStatus,
    Transcript,
)
from review.sampling import Stratum, StratumTooSmall, StudyInvalid
from review.selectors import stratum_candidate_ids, study_ratings
from review.turns import spans_json
from tagging.models import Tag
from tagging.selectors import tag_lookup
from wellbeing.selectors.exposure import claim_safeguards

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
    if connection.vendor != "postgresql":
        return set(Transcript.objects.filter(content_hash__in=hashes).values_list("content_hash", flat=True))
    # One array parameter instead of thousands of placeholders: the query is parsed once.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT content_hash FROM {Transcript._meta.db_table} WHERE content_hash = ANY(%s)",  # noqa: S608
            [hashes],
        )
        return {row[0] for row in cursor.fetchall()}


@contextmanager
def _binary_copy() -> Iterator[Any]:
    """A binary COPY into the transcript table on the import's own connection and transaction.

    Binary, because PostgreSQL then skips parsing text: measured 0.96 s against 1.40 s for
    a text COPY of 38,961 rows. Errors surface as Django's (IntegrityError and so on).
    """
    fields = [Transcript._meta.get_field(name) for name in _COPY_FIELDS]
    columns = ", ".join(field.column for field in fields)
    sql = f"COPY {Transcript._meta.db_table} ({columns}) FROM STDIN (FORMAT BINARY)"  # noqa: S608
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # Rows carry their JSON already serialized (spans_json is about 3x faster than
        # json.dumps); set before the COPY exists, since it picks its dumpers when created.
        set_json_dumps(_json_text_as_is, cursor.cursor)
        with cursor.cursor.copy(sql) as copy:
            copy.set_types([field.db_type(connection).split("(")[0] for field in fields])
            yield copy


def _json_text_as_is(value: Any) -> str:
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


def transcript_import(
    *,
    path: Path,
    created_by: AbstractBaseUser | None = None,
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
    tag_ids = tag_lookup()
    rejected: list[RecordError] = []
    reject_rows: list[dict[str, Any]] = []
    warnings: list[RecordError] = []
    warnings_not_kept = 0
    kept_raw_chars = 0  # of all rejects' raw text: past MAX_KEPT_REJECTS_RAW_CHARS only errors are kept
    max_rejects = settings.TRIAD_IMPORT_MAX_REJECTS
    records_seen = 0
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
            for raw in iter_source_records(info, meter):
                records_seen += 1
                if records_seen % PROGRESS_EVERY == 0 and progress is not None:
                    progress(meter.bytes_read)
                outcome = [raw.error] if raw.error is not None else validate_record(raw, tag_ids)
                if isinstance(outcome, list):
                    if len(reject_rows) == max_rejects:
                        raise ImportFileError(
                            f"{path}: more than {max_rejects:,} invalid records (the limit, TRIAD_IMPORT_MAX_REJECTS): "
                            f"stopped at {outcome[0].location()}"
                        )
                    rejected.extend(outcome)
                    raw_text = raw_for_reject(raw) if kept_raw_chars < MAX_KEPT_REJECTS_RAW_CHARS else ""
                    kept_raw_chars += len(raw_text)
                    reject_rows.append(
                        {
                            "record": raw.index,
                            "line": raw.line,
                            "errors": [error.as_dict() for error in outcome],
                            "raw": raw_text,
                        }
                    )
                    continue
                if outcome.warnings:
                    if len(warnings) < MAX_KEPT_WARNINGS:
                        warnings.extend(outcome.warnings)
                    else:
                        warnings_not_kept += len(outcome.warnings)
                if skip_invalid or not rejected:  # after a reject, all-or-nothing only validates
                    writer.add(outcome)
            writer.flush()
        created, duplicates = writer.created, writer.duplicates
        if progress is not None:
            progress(meter.bytes_read)
        if rejected and not skip_invalid:
            transaction.set_rollback(True)
            raise ImportRejected(str(path), rejected, records_seen)
        if records_seen == 0:
            raise ImportFileError(f"{path}: holds no records")
        sha256 = meter.sha256.hexdigest()
        identical = list(ImportBatch.objects.filter(sha256=sha256).order_by("pk").values_list("pk", flat=True))
        if created == 0 and not reject_rows:
            # A re-import: everything is in the database already, so nothing is written.
            transaction.set_rollback(True)
            kept_batch = None
        else:
            batch.sha256 = sha256
            batch.created_count = created
            batch.duplicate_count = duplicates
            batch.rejected_count = len(reject_rows)
            batch.errors = reject_rows
            batch.warnings = [warning.as_dict() for warning in warnings]
            if warnings_not_kept:
                note = f"{warnings_not_kept:,} more warnings not kept"
                batch.warnings.append({"record": None, "line": None, "field": None, "reason": note})
            batch.finished_at = timezone.now()
            batch.save()
            kept_batch = batch
            audit_record(
                actor=actor if actor is not None else created_by,
                action=AuditAction.IMPORT,
                target=batch,
                details={
                    "file": batch.file_name,
                    "sha256": sha256,
                    "created": created,
                    "duplicates": duplicates,
                    "rejected": len(reject_rows),
                    "skip_invalid": skip_invalid,
                },
            )
    return ImportResult(
        created=created,
        duplicates=duplicates,
        rejected_records=len(reject_rows),
        seconds=(timezone.now() - started).total_seconds(),
        batch=kept_batch,
        identical_batch_ids=identical,
        warnings=warnings,
        rejected=rejected,
    )


# --- studies -----------------------------------------------------------------------------


def study_create(
    *,
    name: str,
    strata: Sequence[Stratum],
    seed: int,
    description: str = "",
    reviewers_per_item: int = 3,
    lease_minutes: int = 30,
    created_by: AbstractBaseUser | None = None,
    actor: Actor = None,
) -> Study:
    """Create a study from a seeded random sample, without replacement, of each stratum.

    The same seed on the same data gives the same items: candidates are ordered by
    content hash, which does not depend on import order or database ids.
    """
    if not strata:
        raise StudyInvalid("a study needs at least one stratum")
    if not 1 <= reviewers_per_item <= 20:
        raise StudyInvalid(f"reviewers per item must be 1-20, got {reviewers_per_item}")
    if lease_minutes < 1:
        raise StudyInvalid(f"lease minutes must be at least 1, got {lease_minutes}")
    if not name.strip():
        raise StudyInvalid("a study needs a name")
    if Study.objects.filter(name=name).exists():
        raise StudyInvalid(f"a study named {name!r} exists already")
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not secrecy
    chosen: set[int] = set()
    drawn: list[tuple[int, str]] = []
    summaries: list[dict[str, Any]] = []
    with transaction.atomic():
        for stratum in strata:
            candidates = [pk for pk in stratum_candidate_ids(stratum.filters) if pk not in chosen]
            if stratum.size > len(candidates):
                raise StratumTooSmall(stratum, available=len(candidates))
            picked = rng.sample(candidates, stratum.size)
            chosen.update(picked)
            drawn.extend((pk, stratum.label) for pk in picked)
            summaries.append({"filters": stratum.filters, "size": stratum.size, "available": len(candidates)})
        rng.shuffle(drawn)
        study = Study.objects.create(
            name=name,
            description=description,
            reviewers_per_item=reviewers_per_item,
            lease_minutes=lease_minutes,
            seed=seed,
            strata=summaries,
            created_by=created_by,
        )
        StudyItem.objects.bulk_create(
            [
                StudyItem(study=study, transcript_id=pk, position=position, stratum=label)
                for position, (pk, label) in enumerate(drawn, start=1)
            ],
            batch_size=1000,
        )
        AgreementSnapshot.objects.create(study=study)
        audit_record(
            actor=actor if actor is not None else created_by,
            action=AuditAction.STUDY_CREATED,
            target=study,
            study=study,
            details={
                "seed": seed,
                "strata": summaries,
                "items": len(drawn),
                "reviewers_per_item": reviewers_per_item,
                "lease_minutes": lease_minutes,
            },
        )
    return study


# --- study lifecycle and membership ----------------------------------------------------


def study_start(*, study: Study, actor: Actor = None) -> Study:
    """Create every item's slots and open the study to its reviewers."""
    with transaction.atomic():
        study = Study.objects.select_for_update(no_key=True).get(pk=study.pk)
        if study.status != StudyStatus.DRAFT:
            raise StudyStateError(f"study {study.name!r} is {study.get_status_display().lower()}, not a draft")
        numbers = " UNION ALL ".join(f"SELECT {number} AS number" for number in range(1, study.reviewers_per_item + 1))
        # One statement, so starting a million-item study does not round-trip per slot.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {Slot._meta.db_table}
                    (study_id, item_id, number, position, author_member_id, item_done, status)
                SELECT item.study_id, item.id, n.number, item.position, transcript.red_team_member_id, 0, %s
                FROM {StudyItem._meta.db_table} item
                JOIN {Transcript._meta.db_table} transcript ON transcript.id = item.transcript_id
                CROSS JOIN ({numbers}) n
                WHERE item.study_id = %s
                """,  # noqa: S608 - table names and numbers come from code, not input
                [SlotStatus.OPEN, study.pk],
            )
            if connection.vendor == "postgresql":
                # Fresh statistics, or the planner may think a just-started study is empty and
                # pick a claim plan that reads every open slot (measured: 565 ms a review
                # instead of 15). Autovacuum would wait until 10% of the table had changed.
                cursor.execute(f"ANALYZE {Slot._meta.db_table}")  # noqa: S608 - a table name from code
        study.status = StudyStatus.ACTIVE
        study.save(update_fields=["status"])
        audit_record(actor=actor, action=AuditAction.STUDY_STARTED, target=study, study=study)
    return study


def study_pause(*, study: Study, actor: Actor = None) -> Study:
    return _study_move(
        study=study,
        allowed_from={StudyStatus.ACTIVE},
        to=StudyStatus.PAUSED,
        actor=actor,
        action=AuditAction.STUDY_PAUSED,
    )


def study_resume(*, study: Study, actor: Actor = None) -> Study:
    return _study_move(
        study=study,
        allowed_from={StudyStatus.PAUSED},
        to=StudyStatus.ACTIVE,
        actor=actor,
        action=AuditAction.STUDY_RESUMED,
    )


def study_archive(*, study: Study, actor: Actor = None) -> Study:
    """Close a study for good: nothing more is offered, its reviews and figures stay."""
    return _study_move(
        study=study,
        allowed_from={StudyStatus.DRAFT, StudyStatus.ACTIVE, StudyStatus.PAUSED},
        to=StudyStatus.ARCHIVED,
        actor=actor,
        action=AuditAction.STUDY_ARCHIVED,
    )


def _study_move(*, study: Study, allowed_from: set[str], to: str, actor: Actor, action: str) -> Study:
    with transaction.atomic():
        # Every membership row of the study, as each claim, skip and submit locks its own: this
        # waits for those in flight and holds off new ones until the new status commits, so no
        # skip or review lands in a study after it stopped being active. (Skips and submits
        # share-locking the study row instead would starve this lock in a busy study.)
        list(
            StudyMembership.objects.select_for_update(no_key=True)
            .filter(study_id=study.pk)
            .order_by("pk")
            .values_list("pk")
        )
        study = Study.objects.select_for_update(no_key=True).get(pk=study.pk)
        if study.status not in allowed_from:
            raise StudyStateError(f"study {study.name!r} is {study.get_status_display().lower()}")
        previous, study.status = study.status, to
        study.save(update_fields=["status"])
        audit_record(actor=actor, action=action, target=study, study=study, details={"from": previous})
    return study


def study_delete(*, study: Study, actor: Actor = None) -> None:
    """Delete a study nobody has reviewed or skipped yet, such as a draft made by mistake.

    A study with reviews or skips is refused with StudyHasReviews: archive it instead. The
    database refuses too (the reviews' and skips' foreign keys are PROTECT), so no other
    path can drop them either.
    """
    with transaction.atomic():
        # FOR UPDATE, unlike the claims' NO KEY UPDATE: it conflicts with the key-share lock
        # that a review's or skip's foreign-key check takes, so none can land between the
        # counts below and the delete.
        study = Study.objects.select_for_update().get(pk=study.pk)
        reviews, skips = study.reviews.count(), study.skips.count()
        if reviews or skips:
            raise StudyHasReviews(study, reviews=reviews, skips=skips)
        details = {"status": study.status, "items": study.items.count(), "seed": study.seed}
        audit_record(actor=actor, action=AuditAction.STUDY_DELETED, target=study, study=study, details=details)
        study.delete()


def study_details_set(*, study: Study, name: str, description: str, lease_minutes: int, actor: Actor = None) -> Study:
    """Rename a study, or change its description or lease length; each change is recorded from and to.

    Status, reviewers per item, notes sharing and the safeguards have their own services,
    which keep their rules (starting creates the slots): this one never touches them.
    """
    if lease_minutes < 1:
        raise ValueError("a lease lasts at least 1 minute")
    wanted = {"name": name, "description": description, "lease_minutes": lease_minutes}
    with transaction.atomic():
        current = Study.objects.select_for_update(no_key=True).filter(pk=study.pk).values(*wanted).get()
        changed = {key: {"from": current[key], "to": value} for key, value in wanted.items() if current[key] != value}
        if changed:
            Study.objects.filter(pk=study.pk).update(**wanted)
            for key, value in wanted.items():
                setattr(study, key, value)
            audit_record(actor=actor, action=AuditAction.STUDY_CHANGED, target=study, study=study, details=changed)
    return study


def study_members_set(*, study: Study, reviewers: Sequence[AbstractBaseUser], actor: Actor = None) -> None:
    """Make exactly these reviewers the study's members. Removing one keeps their reviews."""
    wanted = {reviewer.pk: reviewer for reviewer in reviewers}
    with transaction.atomic():
        leaving = list(
            StudyMembership.objects.select_for_update()
            .filter(study=study)
            .exclude(reviewer_id__in=wanted)
            .select_related("reviewer")
        )
        StudyMembership.objects.filter(pk__in=[membership.pk for membership in leaving]).delete()
        present = set(StudyMembership.objects.filter(study=study).values_list("reviewer_id", flat=True))
        joining = [wanted[pk] for pk in sorted(set(wanted) - present)]
        StudyMembership.objects.bulk_create(
            [StudyMembership(study=study, reviewer=reviewer) for reviewer in joining], ignore_conflicts=True
        )
        for membership in leaving:
            audit_record(actor=actor, action=AuditAction.MEMBER_REMOVED, target=membership.reviewer, study=study)
        for reviewer in joining:
            audit_record(actor=actor, action=AuditAction.MEMBER_ADDED, target=reviewer, study=study)


def reviewer_profile_set(
    *, user: AbstractBaseUser, red_team_member_id: int | None, actor: Actor = None
) -> ReviewerProfile:
    """Link a reviewer to their red-team id (they are never offered their own attacks); recorded."""
    with transaction.atomic():
        previous = (
            ReviewerProfile.objects.select_for_update().filter(user=user).values_list("red_team_member_id", flat=True)
        ).first()
        profile, _ = ReviewerProfile.objects.update_or_create(
            user=user, defaults={"red_team_member_id": red_team_member_id}
        )
        if previous != red_team_member_id:
            details = {"red_team_member_id": {"from": previous, "to": red_team_member_id}}
            audit_record(actor=actor, action=AuditAction.USER_CHANGED, target=user, details=details)
    return profile


# --- the assignment engine ---------------------------------------------------------------


@dataclass(frozen=True)
class _Membership:
    study: Study
    red_team_member_id: int | None


def _member_lock(*, study_id: int, reviewer: AbstractBaseUser) -> _Membership:
    """Lock the reviewer's membership row: one reviewer's claims, skips and submits run one at a time.

    The same query brings the study and the reviewer's red-team id. Every lock here is FOR
    NO KEY UPDATE, never FOR UPDATE: foreign-key checks take KEY SHARE locks at commit, and
    FOR UPDATE would deadlock a skip's check on an item with a submit holding that item
    (the concurrency test found exactly that).

    A status change (_study_move) locks every membership of the study first, so it waits for
    the reviewers' claims, skips and submits in flight and holds off new ones until it
    commits. The study row this brings may therefore predate a status change this lock
    waited for: skips and submits read the status again, in a later statement (_slot_lock).
    """
    if connection.vendor == "postgresql":
        # Raw SQL: this runs twice per review, and compiling the ORM version cost more than
        # the query itself.
        studies = list(
            Study.objects.raw(
                f"""
                SELECT study.*, profile.red_team_member_id AS reviewer_member_id
                FROM {StudyMembership._meta.db_table} membership
                JOIN {Study._meta.db_table} study ON study.id = membership.study_id
                LEFT JOIN {ReviewerProfile._meta.db_table} profile ON profile.user_id = membership.reviewer_id
                WHERE membership.study_id = %s AND membership.reviewer_id = %s
                FOR NO KEY UPDATE OF membership
                """,  # noqa: S608 - table names come from code; values are parameters
                [study_id, reviewer.pk],
            )
        )
        if not studies:
            raise NotAMember(f"you are not a reviewer in study {study_id}")
        return _Membership(study=studies[0], red_team_member_id=studies[0].reviewer_member_id)
    # SQLite runs one writing transaction at a time: there is nothing to lock row by row.
    membership = (
        StudyMembership.objects.select_for_update(no_key=True, of=("self",))
        .select_related("study")
        .annotate(reviewer_member_id=F("reviewer__reviewer_profile__red_team_member_id"))
        .filter(study_id=study_id, reviewer=reviewer)
        .first()
    )
    if membership is None:
        raise NotAMember(f"you are not a reviewer in study {study_id}")
    return _Membership(study=membership.study, red_team_member_id=membership.reviewer_member_id)


def leases_expire(*, now: datetime | None = None, study: Study | None = None, limit: int = 1000) -> int:
    """Return expired leases to the pool. Safe to run anywhere, any time, concurrently."""
    now = now or timezone.now()
    expired = Slot.objects.filter(status=SlotStatus.LEASED, leased_until__lte=now)
    if study is not None:
        expired = expired.filter(study=study)
    # No savepoint when called inside a claim: it only adds two round trips to every claim.
    with transaction.atomic(savepoint=False):
        ids = list(expired.select_for_update(skip_locked=True, no_key=True).values_list("id", flat=True)[:limit])
        return Slot.objects.filter(id__in=ids).update(
            status=SlotStatus.OPEN, holder=None, leased_at=None, leased_until=None
        )


def slot_claim(
    *, study_id: int, reviewer: AbstractBaseUser, now: datetime | None = None, prompt_breaks: bool = False
) -> Slot | None:
    """Lease the reviewer their next slot, or give back the one they hold; None when nothing is left.

    Fullest items first, so agreement can be measured early. Never an item the reviewer
    authored, skipped or already holds, nor one whose known topics they opted out of. Rows
    another claim has locked are skipped, not waited for, so many reviewers claim at once
    without queueing behind each other.

    The reviewer's safeguards refuse before anything is leased: PausedForToday, then
    ExposureCapReached at today's cap, then (only with prompt_breaks, which the reviewer's
    pages ask for) BreakDue once their continuous exposure reaches the break interval.
    """
    now = now or timezone.now()
    with transaction.atomic():
        membership = _member_lock(study_id=study_id, reviewer=reviewer)
        study = membership.study
        if study.status != StudyStatus.ACTIVE:
            raise StudyNotActive(study)
        # One query of index lookups; it also brings the opt-outs the pick below needs.
        safeguards = claim_safeguards(reviewer_id=reviewer.pk, now=now, check_break=prompt_breaks)
        refusal = safeguards.refusal(study_cap_minutes=study.daily_cap_minutes)
        if refusal is not None:
            raise refusal
        held = (
            Slot.objects.filter(study=study, holder=reviewer, status=SlotStatus.LEASED, leased_until__gt=now)
            .order_by("leased_at")
            .first()
        )
        if held is not None:
            if not _is_author(membership, held):
                return held
            # Linked to the transcript's author id after the lease was taken: the author
            # never gets their own attack back. The slot goes back to the pool for others.
            _slot_release(slot=held)
        lease = (now, now + timedelta(minutes=study.lease_minutes))
        pick = {
            "study": study,
            "reviewer": reviewer,
            "member_id": membership.red_team_member_id,
            "lease": lease,
            "opted_out": safeguards.opted_out_tag_ids,
        }
        slot = _lease_open_slot(**pick)
        # Expired leases count as open: reopened here when no open slot is left for this
        # reviewer (and every minute by the beat sweep), which spares every other claim a
        # round trip.
        if slot is None and leases_expire(now=now, study=study, limit=100):
            slot = _lease_open_slot(**pick)
        return slot


def _lease_open_slot(
    *,
    study: Study,
    reviewer: AbstractBaseUser,
    member_id: int | None,
    lease: tuple[datetime, datetime],
    opted_out: Sequence[int] = (),
) -> Slot | None:
    """Pick the best open slot for the reviewer, skipping rows others have locked, and lease it.

    opted_out: tag ids the reviewer will not be shown. An item's known topics are its
    transcript's source tags and the topics earlier reviewers of the item chose.
    """
    if connection.vendor == "postgresql":
        # The claim is the hottest statement Triad runs: pick and lease in one round trip.
        # NOT IN over the reviewer's own items becomes one hashed set per claim; NOT EXISTS
        # probed an index for every open slot passed over, and a reviewer's own items sort
        # first (fullest first), so a reviewer far into a study paid ~40 ms a claim.
        author_clause = "AND s.author_member_id <> %(member)s" if member_id is not None else ""
        # Only for reviewers with opt-outs, so everyone else's claim is the statement it was.
        # NOT EXISTS here, unlike the hashed NOT IN above: a hashed set of every item in the
        # study carrying one of the topics grows with the study's reviews (the pick measured
        # 38 ms at 100k items and 59 ms with all 20 topics opted out), while these probes of
        # unique indexes kept it under 1 ms at 1k and 100k items alike. Unlike a reviewer's
        # own items, excluded items rarely pile up at the front: others take them, fullest first.
        topics_clause = (
            f"""AND NOT EXISTS (
                          SELECT 1 FROM {StudyItem._meta.db_table} tagged
                          JOIN {Transcript.tags.through._meta.db_table} source
                            ON source.transcript_id = tagged.transcript_id
                          WHERE tagged.id = s.item_id AND source.tag_id = ANY(%(opted_out)s))
                      AND NOT EXISTS (
                          SELECT 1 FROM {Review._meta.db_table} earlier
                          WHERE earlier.item_id = s.item_id
                            AND (earlier.first_tag_id = ANY(%(opted_out)s)
                                 OR earlier.second_tag_id = ANY(%(opted_out)s)))"""  # noqa: S608
            if opted_out
            else ""
        )
        slots = list(
            Slot.objects.raw(
                f"""
                WITH pick AS (
                    SELECT s.id FROM {Slot._meta.db_table} s
                    WHERE s.study_id = %(study)s AND s.status = %(open)s {author_clause}
                      AND s.item_id NOT IN (
                          SELECT mine.item_id FROM {Slot._meta.db_table} mine
                          WHERE mine.holder_id = %(reviewer)s AND mine.study_id = %(study)s)
                      AND s.item_id NOT IN (
                          SELECT skipped.item_id FROM {Skip._meta.db_table} skipped
                          WHERE skipped.reviewer_id = %(reviewer)s AND skipped.study_id = %(study)s)
                      {topics_clause}
                    ORDER BY s.item_done DESC, s.position, s.number
                    LIMIT 1
                    FOR NO KEY UPDATE SKIP LOCKED
                )
                UPDATE {Slot._meta.db_table} SET status = %(leased)s, holder_id = %(reviewer)s,
                    leased_at = %(start)s, leased_until = %(until)s
                FROM pick WHERE {Slot._meta.db_table}.id = pick.id
                RETURNING {Slot._meta.db_table}.*
                """,  # noqa: S608 - table names come from code; values are parameters
                {
                    "study": study.pk,
                    "open": SlotStatus.OPEN,
                    "leased": SlotStatus.LEASED,
                    "member": member_id,
                    "reviewer": reviewer.pk,
                    "start": lease[0],
                    "until": lease[1],
                    "opted_out": list(opted_out),
                },
            )
        )
        return slots[0] if slots else None
    candidates = (
        Slot.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
        .filter(study=study, status=SlotStatus.OPEN)
        .filter(~Exists(Slot.objects.filter(item=OuterRef("item"), holder=reviewer)))
        .filter(~Exists(Skip.objects.filter(item=OuterRef("item"), reviewer=reviewer)))
        .order_by("-item_done", "position", "number")
    )
    if member_id is not None:
        candidates = candidates.exclude(author_member_id=member_id)
    if opted_out:
        candidates = candidates.filter(
            ~Exists(StudyItem.objects.filter(pk=OuterRef("item_id"), transcript__tags__in=opted_out)),
            ~Exists(
                Review.objects.filter(
                    Q(first_tag_id__in=opted_out) | Q(second_tag_id__in=opted_out), item_id=OuterRef("item_id")
                )
            ),
        )
    slot = candidates.first()
    if slot is not None:
        slot.status, slot.holder = SlotStatus.LEASED, reviewer
        slot.leased_at, slot.leased_until = lease
        slot.save(update_fields=["status", "holder", "leased_at", "leased_until"])
    return slot


def _slot_lock(*, slot_id: int) -> Slot:
    """Lock the slot and bring its study, read now: after the caller's membership lock, so the
    study's status is the one any pause or archive that lock waited for left behind."""
    return Slot.objects.select_for_update(no_key=True, of=("self",)).select_related("study").get(pk=slot_id)


def _is_author(membership: _Membership, slot: Slot) -> bool:
    return membership.red_team_member_id is not None and membership.red_team_member_id == slot.author_member_id


def _slot_release(*, slot: Slot) -> None:
    """Put a leased slot back into the pool. The caller holds the reviewer's membership lock."""
    slot.status, slot.holder, slot.leased_at, slot.leased_until = SlotStatus.OPEN, None, None, None
    slot.save(update_fields=["status", "holder", "leased_at", "leased_until"])


def slot_skip(*, slot_id: int, reviewer: AbstractBaseUser, reason: str = "") -> Skip:
    """Never offer this item to this reviewer again, and reopen the slot for others. Idempotent.

    Only while the study is active (StudyNotActive otherwise): nothing is written to a paused
    or archived study. It takes the same membership lock as a submit, so a skip and a submit
    of one item by one reviewer run one after the other, and the later one sees the earlier.
    """
    with transaction.atomic():
        slot = Slot.objects.filter(pk=slot_id).first()
        if slot is None:
            raise SlotNotYours(slot_id)
        _member_lock(study_id=slot.study_id, reviewer=reviewer)
        earlier = Skip.objects.filter(item_id=slot.item_id, reviewer=reviewer).first()
        slot = _slot_lock(slot_id=slot_id)
        if slot.holder_id != reviewer.pk or slot.status != SlotStatus.LEASED:
            if earlier is not None:
                return earlier  # a repeated click
            raise SlotNotYours(slot_id)
        if slot.study.status != StudyStatus.ACTIVE:
            raise StudyNotActive(slot.study)
        skip = Skip.objects.create(item_id=slot.item_id, study_id=slot.study_id, reviewer=reviewer, reason=reason[:500])
        _slot_release(slot=slot)
        return skip


@dataclass(frozen=True)
class ReviewAnswers:
    rating: int
    tag_ids: tuple[int, ...] = ()
    needs_expertise: bool = False
    expertise_domain: str = ""
    note: str = ""


# How long the review page's lease token vouches for the lease it was issued for, in lease
# lengths from the lease's start: a reviewer who overruns their lease by up to one more lease
# length still lands, if nobody took the slot meanwhile. Beyond that the answers are refused.
LEASE_TOKEN_LEASES = 2


def review_submit(
    *,
    slot_id: int,
    reviewer: AbstractBaseUser,
    answers: ReviewAnswers,
    leased_at: datetime | None = None,
    now: datetime | None = None,
) -> Review:
    """Store the reviewer's review of the slot, once; a retry returns the same review.

    Every rule is checked here, under the row locks, so none can change before the commit:
    - the study is active: a pause or an archive locks every membership of the study, so it
      waits for this submit to commit, or this submit waits for it and sees the new status;
    - the reviewer is not the transcript's author (they may have been linked to the author's
      id after taking the lease: their lease is then released for others);
    - the reviewer holds the slot's live lease, or takes the slot back free: leased_at, when
      the caller can vouch the slot was leased to this reviewer then (the review page's
      signed lease token), lets answers land within LEASE_TOKEN_LEASES lease lengths of it if
      the slot is open again or still this reviewer's expired lease;
    - the reviewer has neither skipped nor reviewed (nor holds another slot of) the item.
    Anything else raises ReviewNotSaved saying why (LeaseLost when the slot is no longer
    theirs to take), and no review is stored.
    """
    now = now or timezone.now()
    _check_answers(answers)
    with transaction.atomic():
        slot = Slot.objects.filter(pk=slot_id).first()
        if slot is None:
            raise SlotNotYours(slot_id)
        membership = _member_lock(study_id=slot.study_id, reviewer=reviewer)
        # After the lock, so a double submit's second request finds the first one's review.
        existing = Review.objects.filter(slot_id=slot_id, reviewer=reviewer).first()
        if existing is not None:
            return existing
        # Lock the item before its slots: submits of one item queue here instead of
        # deadlocking over each other's sibling slots when they bump item_done.
        StudyItem.objects.select_for_update(no_key=True).filter(pk=slot.item_id).exists()
        slot = _slot_lock(slot_id=slot_id)
        refusal = _submit_refusal(slot=slot, membership=membership, reviewer=reviewer, leased_at=leased_at, now=now)
        if refusal is None:
            return _review_store(
                slot=slot, membership=membership, reviewer=reviewer, answers=answers, leased_at=leased_at, now=now
            )
        if _is_author(membership, slot) and slot.status == SlotStatus.LEASED and slot.holder_id == reviewer.pk:
            _slot_release(slot=slot)  # committed with the block; the refusal is raised after it
    raise refusal


def _submit_refusal(
    *, slot: Slot, membership: _Membership, reviewer: AbstractBaseUser, leased_at: datetime | None, now: datetime
) -> ReviewNotSaved | None:
    """Why these answers cannot be stored for this slot now, or None. The caller holds the locks."""
    study = slot.study  # read after the membership lock: see _slot_lock
    # The slot first: someone else's slot is refused as LeaseLost, whatever else is true.
    mine = slot.status == SlotStatus.LEASED and slot.holder_id == reviewer.pk
    if not (mine and slot.leased_until > now):
        vouched = leased_at is not None and now <= leased_at + LEASE_TOKEN_LEASES * timedelta(
            minutes=study.lease_minutes
        )
        if not (vouched and (mine or slot.status == SlotStatus.OPEN)):
            return LeaseLost(slot.pk)
        if Slot.objects.filter(item_id=slot.item_id, holder=reviewer).exclude(pk=slot.pk).exists():
            return LeaseLost(slot.pk, "you already reviewed this conversation or hold it under another place")
    if study.status != StudyStatus.ACTIVE:
        return ReviewNotSaved(
            slot.pk, f"the study is {study.get_status_display().lower()}: nothing can be saved in it now"
        )
    if _is_author(membership, slot):
        return ReviewNotSaved(slot.pk, "you wrote this conversation, and nobody reviews their own")
    if Skip.objects.filter(item_id=slot.item_id, reviewer=reviewer).exists():
        return ReviewNotSaved(slot.pk, "you skipped this conversation, and a skipped one is not reviewed")
    return None


def _review_store(
    *,
    slot: Slot,
    membership: _Membership,
    reviewer: AbstractBaseUser,
    answers: ReviewAnswers,
    leased_at: datetime | None,
    now: datetime,
) -> Review:
    started = slot.leased_at if slot.holder_id == reviewer.pk else leased_at
    review = Review.objects.create(
        slot=slot,
        item_id=slot.item_id,
        study_id=slot.study_id,
        reviewer=reviewer,
        rating=answers.rating,
        first_tag_id=answers.tag_ids[0] if answers.tag_ids else None,
        second_tag_id=answers.tag_ids[1] if len(answers.tag_ids) > 1 else None,
        needs_expertise=answers.needs_expertise,
        expertise_domain=answers.expertise_domain if answers.needs_expertise else "",
        note=answers.note,
        seconds_on_task=max(0, int((now - started).total_seconds())) if started else 0,
        author_member_id=slot.author_member_id,
        reviewer_member_id=membership.red_team_member_id,
    )
    # One statement closes this slot and moves all the item's slots up the claim order.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Slot._meta.db_table} SET
                item_done = item_done + 1,
                status = CASE WHEN id = %(slot)s THEN %(done)s ELSE status END,
                holder_id = CASE WHEN id = %(slot)s THEN %(reviewer)s ELSE holder_id END,
                leased_at = CASE WHEN id = %(slot)s THEN %(started)s ELSE leased_at END,
                leased_until = CASE WHEN id = %(slot)s THEN NULL ELSE leased_until END
            WHERE item_id = %(item)s
            """,  # noqa: S608 - a table name from code; values are parameters
            {
                "slot": slot.pk,
                "done": SlotStatus.DONE,
                "reviewer": reviewer.pk,
                "started": started,
                "item": slot.item_id,
            },
        )
    study_id = slot.study_id
    transaction.on_commit(lambda: agreement_refresh_request(study_id=study_id))
    return review


def _check_answers(answers: ReviewAnswers) -> None:
    if not 0 <= answers.rating <= 4:
        raise InvalidAnswers({"rating": "Choose a rating from 0 to 4."})
    if len(answers.tag_ids) > 2:
        raise InvalidAnswers({"tags": "Choose at most 2 topics."})
    if len(set(answers.tag_ids)) != len(answers.tag_ids):
        raise InvalidAnswers({"tags": "A topic was chosen twice."})
    if answers.tag_ids and Tag.objects.filter(pk__in=answers.tag_ids).count() != len(answers.tag_ids):
        raise InvalidAnswers({"tags": "Unknown topic."})
    if answers.needs_expertise and not answers.expertise_domain.strip():
        raise InvalidAnswers({"expertise_domain": "Say which domain the judgement needs."})


# --- agreement snapshots -----------------------------------------------------------------


def agreement_refresh_request(
    *, study_id: int, now: datetime | None = None, delay: int | None = None, force: bool = False
) -> bool:
    """Queue a recomputation of the study's snapshot unless one is queued already.

    The conditional UPDATE is the debounce: only the request that flips
    refresh_requested_at from NULL enqueues, with a countdown of the debounce window, so
    a busy study is recomputed at most once per window and never for every submit.
    force (a lead asking now) enqueues whatever is queued; the task is safe to re-run.
    """
    from review.tasks import refresh_agreement_enqueue

    now = now or timezone.now()
    delay = settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS if delay is None else delay
    pending = AgreementSnapshot.objects.filter(study_id=study_id)
    if not force:
        pending = pending.filter(refresh_requested_at__isnull=True)
    queued = pending.update(refresh_requested_at=now)
    if not queued:
        # Studies made before snapshots existed have no row yet.
        _, queued = AgreementSnapshot.objects.get_or_create(study_id=study_id, defaults={"refresh_requested_at": now})
    # Without a broker a task would run inside the reviewer's request, countdown ignored, on
    # every submit; there the request stays pending and the dashboard settles it when viewed.
    # With Redis down the enqueue is logged and skipped; the mark stays set, so the beat's
    # catch-up (agreement_refreshes_requeue) sends it once Redis is back.
    if queued and (force or not settings.CELERY_TASK_ALWAYS_EAGER):
        transaction.on_commit(lambda: refresh_agreement_enqueue(study_id=study_id, countdown=delay))
    return bool(queued)


# A refresh asked for longer ago than the debounce window plus this is overdue: its enqueue
# failed (Redis down), Redis lost it (restarted without persistence), its worker died while
# holding it for its countdown, or the workers are far behind. With the catch-up every 10 s
# (settings.CELERY_BEAT_SCHEDULE) a lost refresh runs within debounce + 20 s of being asked
# for, or of its fault ending, whichever is later. A refresh merely late by more than this
# runs twice, which is harmless (it is rewritten from the reviews) and rare (one takes ~1 s).
AGREEMENT_REFRESH_GRACE_SECONDS = 10


def agreement_refreshes_requeue(*, now: datetime | None = None) -> int:
    """Re-send every overdue agreement refresh; returns how many were sent.

    Each is claimed by a conditional UPDATE that moves its mark to now, so two runs at once
    cannot both send it, and an overdue refresh is re-sent at most once per window. If the
    send fails too, the moved mark brings it back one window later. A refresh that did run
    meanwhile (clearing the mark) is not claimed; one sent twice is harmless, since the
    task rewrites the snapshot from the reviews. Sends do not pile up while the workers are
    down: this runs in a worker, so catch-ups queued meanwhile run back to back when one
    returns, and only the first finds the refresh overdue.
    """
    from review.tasks import refresh_agreement_enqueue

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS + AGREEMENT_REFRESH_GRACE_SECONDS)
    sent = 0
    overdue = AgreementSnapshot.objects.filter(refresh_requested_at__lt=cutoff).values_list("study_id", flat=True)
    for study_id in overdue:
        claimed = AgreementSnapshot.objects.filter(study_id=study_id, refresh_requested_at__lt=cutoff).update(
            refresh_requested_at=now
        )
        if claimed and refresh_agreement_enqueue(study_id=study_id, countdown=0):
            sent += 1
    return sent


def agreement_snapshot_settle(*, study_id: int) -> AgreementSnapshot | None:
    """The study's snapshot, first recomputed if a refresh is pending and no worker will do it."""
    snapshot = AgreementSnapshot.objects.filter(study_id=study_id).first()
    if snapshot is not None and snapshot.refresh_requested_at is not None and settings.CELERY_TASK_ALWAYS_EAGER:
        snapshot = agreement_snapshot_refresh(study_id=study_id)
    return snapshot


def agreement_snapshot_refresh(*, study_id: int, resamples: int = 1000) -> AgreementSnapshot:
    """Recompute the study's agreement table and dashboard figures from its reviews now."""
    study = Study.objects.get(pk=study_id)
    snapshot, _ = AgreementSnapshot.objects.get_or_create(study=study)
    # Cleared before reading: a submit that lands during the computation queues the next one.
    AgreementSnapshot.objects.filter(pk=snapshot.pk).update(refresh_requested_at=None)
    snapshot.refresh_requested_at = None
    started = time.perf_counter()
    data = snapshot_compute(study_ratings(study=study), resamples=resamples)
    snapshot.data = data
    snapshot.review_count = data["review_count"]
    snapshot.computed_at = timezone.now()
    snapshot.compute_seconds = time.perf_counter() - started
    snapshot.save(update_fields=["data", "review_count", "computed_at", "compute_seconds"])
    return snapshot


# --- API tokens ----------------------------------------------------------------------------

API_TOKEN_PREFIX = "triad_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for
# A token's last use is written at most this often, not on every request.
API_TOKEN_TOUCH_SECONDS = 60


def api_token_hash(raw: str) -> bytes:
    return hashlib.sha256(raw.encode()).digest()


def api_token_create(
    *, user: AbstractBaseUser, name: str, scopes: Sequence[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for a lead; the raw token is returned once and only its hash is kept."""
    from review.permissions import LEAD, has_role

    if not has_role(user, LEAD):
        raise PermissionError("only leads can create API tokens")
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if not scopes or unknown:
        raise ValueError(
            f"choose scopes from {', '.join(ApiScope.values)}" + (f"; unknown: {unknown}" if unknown else "")
        )
    if not name.strip():
        raise ValueError("a token needs a name")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValueError("the expiry must be in the future")
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            prefix=raw[: len(API_TOKEN_PREFIX) + 6],
            key_hash=api_token_hash(raw),
            scopes=sorted(set(scopes)),
            created_at=now,
            expires_at=expires_at,
        )
        audit_record(
            actor=user,
            action=AuditAction.TOKEN_CREATED,
            target=token,
            details={"scopes": token.scopes, "expires_at": expires_at.isoformat() if expires_at else None},
        )
    return token, raw


def api_token_revoke(*, user: AbstractBaseUser, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False if it is not theirs or already revoked."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user, revoked_at__isnull=True).first()
        if token is None:
            return False
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, action=AuditAction.TOKEN_REVOKED, target=token)
    return True


def api_token_touch(*, token: ApiToken, now: datetime | None = None) -> None:
    """Record the token's use, writing at most once a minute so busy clients do not write per request."""
    now = now or timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(seconds=API_TOKEN_TOUCH_SECONDS))
    if ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now):
        token.last_used_at = now


def study_notes_sharing_set(*, study: Study, enabled: bool, actor: Actor = None) -> Study:
    with transaction.atomic():
        locked = Study.objects.select_for_update(no_key=True).filter(pk=study.pk)
        previous = locked.values_list("api_share_notes", flat=True).get()
        if previous != enabled:
            Study.objects.filter(pk=study.pk).update(api_share_notes=enabled)
            details = {"api_share_notes": {"from": previous, "to": enabled}}
            audit_record(actor=actor, action=AuditAction.STUDY_CHANGED, target=study, study=study, details=details)
    study.api_share_notes = enabled
    return study
