"""Every write in the review app goes through a function here."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from review.importing import (
    CleanRecord,
    ImportFileError,
    RawRecord,
    RecordError,
    inspect_source,
    iter_source_records,
    open_metered,
    raw_for_reject,
    validate_record,
)
from review.models import ImportBatch, Study, StudyItem, Transcript
from review.sampling import Stratum, StratumTooSmall, StudyInvalid
from review.selectors import stratum_candidate_ids
from tagging.selectors import tag_lookup

IMPORT_CHUNK_SIZE = 2000
# One import at a time: duplicate detection checks the table before writing each chunk.
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


_COPY_COLUMNS = (
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
    "turns",
    "content_hash",
    "import_batch_id",
    "source_index",
    "created_at",
)


def _write_chunk(chunk: list[CleanRecord], batch: ImportBatch) -> tuple[int, int]:
    """Insert the records of one chunk that are not in the database yet; return (created, duplicates)."""
    seen: set[str] = set()
    fresh: list[CleanRecord] = []
    for record in chunk:
        if record.content_hash not in seen:
            seen.add(record.content_hash)
            fresh.append(record)
    existing = set(Transcript.objects.filter(content_hash__in=seen).values_list("content_hash", flat=True))
    fresh = [record for record in fresh if record.content_hash not in existing]
    if fresh:
        now = timezone.now()
        if connection.vendor == "postgresql":
            _copy_into_postgres(fresh, batch, now)
        else:
            Transcript.objects.bulk_create([_transcript_from(record, batch, now) for record in fresh], batch_size=500)
        _attach_tags(fresh)
    return len(fresh), len(chunk) - len(fresh)


def _copy_into_postgres(records: list[CleanRecord], batch: ImportBatch, now: Any) -> None:
    # COPY is several times faster than INSERT for bulk loads; the Django connection is
    # used so the rows belong to the import's transaction.
    table = Transcript._meta.db_table
    with connection.cursor() as cursor:
        raw_cursor = cursor.cursor
        with raw_cursor.copy(f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy:  # noqa: S608
            for record in records:
                copy.write_row(
                    (
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
                        json.dumps(record.turns),
                        record.content_hash,
                        batch.pk,
                        record.index,
                        now,
                    )
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
        turns=record.turns,
        content_hash=record.content_hash,
        import_batch=batch,
        source_index=record.index,
        created_at=now,
    )


def _attach_tags(records: list[CleanRecord]) -> None:
    tagged = {record.content_hash: record.tag_ids for record in records if record.tag_ids}
    if not tagged:
        return
    ids = dict(Transcript.objects.filter(content_hash__in=tagged).values_list("content_hash", "id"))
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
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Stream one file of red-team records into the database.

    All or nothing by default: any invalid record rolls the whole import back and
    raises ImportRejected listing every error. With skip_invalid the valid records are
    imported and the rejects are kept on the ImportBatch. Records already in the
    database (same content hash) are counted as duplicates, so re-importing is a no-op.
    """
    info = inspect_source(path)
    started = timezone.now()
    tag_ids = tag_lookup()
    rejected: list[RecordError] = []
    reject_rows: list[dict[str, Any]] = []
    warnings: list[RecordError] = []
    raw_file, meter = open_metered(info)
    with raw_file, transaction.atomic():
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
        created = duplicates = records_seen = 0
        chunk: list[CleanRecord] = []
        reported = 0
        for raw in iter_source_records(info, meter):
            records_seen += 1
            outcome = _validate(raw, tag_ids)
            if isinstance(outcome, list):
                rejected.extend(outcome)
                reject_rows.append(
                    {
                        "record": raw.index,
                        "line": raw.line,
                        "errors": [e.as_dict() for e in outcome],
                        "raw": raw_for_reject(raw),
                    }
                )
                continue
            warnings.extend(outcome.warnings)
            if rejected and not skip_invalid:
                continue  # keep validating to report every error, but write nothing more
            chunk.append(outcome)
            if len(chunk) >= IMPORT_CHUNK_SIZE:
                made, dup = _write_chunk(chunk, batch)
                created, duplicates = created + made, duplicates + dup
                chunk.clear()
            if progress is not None and meter.bytes_read != reported:
                reported = meter.bytes_read
                progress(reported)
        if rejected and not skip_invalid:
            transaction.set_rollback(True)
            raise ImportRejected(str(path), rejected, records_seen)
        if chunk:
            made, dup = _write_chunk(chunk, batch)
            created, duplicates = created + made, duplicates + dup
        if progress is not None:
            progress(meter.bytes_read)
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
            batch.finished_at = timezone.now()
            batch.save()
            kept_batch = batch
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


def _validate(raw: RawRecord, tag_ids: dict[str, int]) -> CleanRecord | list[RecordError]:
    if raw.error is not None:
        return [raw.error]
    return validate_record(raw, tag_ids)


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
    return study


# --- accounts ----------------------------------------------------------------------------


def account_ensure(*, username: str, password: str, roles: Sequence[str], staff: bool = False) -> AbstractBaseUser:
    """Create the user, or reset an existing one's password and roles, so setup scripts can rerun."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.is_staff = staff
    user.is_superuser = staff
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    return user
