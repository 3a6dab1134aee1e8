"""Every label of a study as one streamed file, in JSON Lines or CSV.

JSONL is the lossless format: each line is exactly the JSON object the paginated label
endpoints give (selectors.label_dict: same keys, same order, same value formats), with
every character of free text kept, so pipelines should read it. CSV is for people with a
spreadsheet: booleans are "true"/"false", tags are joined with "; ", and every text cell
(tag names, notes, domains, any text column) that starts with = + - @ tab or CR gets a
leading apostrophe so a spreadsheet shows it as text instead of running it as a formula
(core.csv_safety, the rule every CSV of the project follows). That changes those values,
which is why CSV is not the format to feed anything automatic.

On PostgreSQL one COPY statement produces the whole file and its output is passed through
in ~64 KB chunks: constant memory and no Python work per row beyond the copy. Elsewhere
(SQLite, the embedded default) a Python fallback iterates label_rows and writes through
label_dict; it gives byte-identical output for the same data, and the tests check that.

Every JSONL line ends with a line feed, and JSON escapes every control character, so line
feeds split rows. Like json.dumps, it leaves U+2028, U+2029 and U+0085 unescaped inside
strings: readers must split on line feeds only, not with str.splitlines().
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Count, Max

from adjudication.models import Adjudication
from agreement.models import ConsensusSnapshot, ItemConsensus
from agreement.selectors import CONSENSUS_COLUMNS
from agreement.statistics import SUCCESS_THRESHOLD
from api.models import ApiToken
from api.pseudonyms import pseudonym_key, reviewer_pseudonym_sql
from api.selectors import LABEL_CONSENSUS, LABEL_FIELDS, TIMESTAMP_FORMAT_SQL, label_dict, label_rows
from audit.models import AuditAction
from audit.services import Actor, audit_record
from config.db_routing import read_alias
from core.csv_safety import csv_writer, defuse_formula_sql
from review.models import LABEL_ROLES, Review, Study, StudyItem
from tagging.models import Tag
from transcripts.models import Transcript

EXPORT_FORMATS = ("jsonl", "csv")
CHUNK_BYTES = 64 * 1024
# Part of the ETag: bump it whenever the bytes of an export change for the same data, so
# clients holding an old ETag download the new shape instead of getting 304.
# 2: every text column of the CSV is defused, tags included. 3: the adjudicated_* columns.
# 4: the consensus_* columns.
EXPORT_VERSION = 4

# How each label field is computed in SQL, and of what kind it is. The kind decides how it
# is written: JSON literal, CSV quoting. Tag columns are LEFT JOINed as ft and st, and the
# pseudonyms table as p.
_INTEGER, _FLOAT, _TEXT, _BOOLEAN, _TAGS = "integer", "float", "text", "boolean", "tags"
# The adjudicated_* fields, null (JSON null, an empty CSV cell written "") on items without a final label.
_NULL_INTEGER, _NULL_TEXT, _NULL_TAGS = "null-integer", "null-text", "null-tags"
_SQL_FIELDS: dict[str, tuple[str, str]] = {
    "id": (_INTEGER, "r.id"),
    "study": (_INTEGER, "r.study_id"),
    "item": (_INTEGER, "r.item_id"),
    "position": (_INTEGER, "i.position"),
    "transcript": (_INTEGER, "i.transcript_id"),
    "model_type": (_TEXT, "t.model_type"),
    "num_params": (_TEXT, "t.num_params"),
    "self_rating": (_INTEGER, "t.rating"),
    "min_harmlessness_score": (_FLOAT, "t.min_harmlessness_score_transcript"),
    "red_team_member_id": (_INTEGER, "t.red_team_member_id"),
    "is_upworker": (_BOOLEAN, "t.is_upworker"),
    "reviewer": (_TEXT, "p.pseudonym"),
    "rater_role": (_TEXT, "r.rater_role"),
    "rating": (_INTEGER, "r.rating"),
    "binary_label": (_INTEGER, "(r.rating >= %(success_threshold)s)::int"),
    "tags": (_TAGS, ""),
    "needs_expertise": (_BOOLEAN, "r.needs_expertise"),
    "expertise_tag": (_NULL_TEXT, "et.name"),
    "expertise_domain": (_TEXT, "r.expertise_domain"),
    "note": (_TEXT, "r.note"),
    "created_at": (_TEXT, "to_char(r.created_at AT TIME ZONE 'UTC', %(timestamp_format)s)"),
    "adjudicated_rating": (_NULL_INTEGER, "a.rating"),
    "adjudicated_tags": (_NULL_TAGS, ""),
    "adjudicated_by": (_NULL_TEXT, "pa.pseudonym"),
    "adjudicated_at": (_NULL_TEXT, "to_char(a.adjudicated_at AT TIME ZONE 'UTC', %(timestamp_format)s)"),
    "consensus_method": (_TEXT, "CASE WHEN c.item_id IS NOT NULL THEN %(consensus_method)s END"),
    "consensus_label": (_INTEGER, f"c.{CONSENSUS_COLUMNS[LABEL_CONSENSUS][0]}"),
    "consensus_probability": (_FLOAT, f"c.{CONSENSUS_COLUMNS[LABEL_CONSENSUS][1]}"),
}
# Fields that are NULL until the study's consensus is computed (the item's ItemConsensus row, joined as c):
# JSON null in JSONL, an empty quoted cell in CSV (what Python's csv writes for None).
_NULLABLE = frozenset({"consensus_method", "consensus_label", "consensus_probability"})
if list(_SQL_FIELDS) != LABEL_FIELDS or not all(re.fullmatch(r"[a-z_]+", name) for name in LABEL_FIELDS):
    # Field names go into the SQL text as JSON keys and column names, so they must stay plain.
    raise ImportError("review.api.export: _SQL_FIELDS must list exactly LABEL_FIELDS, in order")

# Python's repr of a float (what json.dumps and csv write) from PostgreSQL's float8 text,
# which has the same shortest round-trip digits (PostgreSQL 12+, default extra_float_digits)
# but writes integral values without ".0" and switches to exponent notation a decade
# earlier: 1e+15 where Python writes 1000000000000000.0. Comparisons pick the case, because
# a regular expression on every row cost a second per million. NaN and infinities fall
# through unchanged (the importer refuses them anyway).
_PYTHON_FLOAT_SQL = (
    "CASE WHEN abs({v}) >= 1e15 AND abs({v}) < 1e16"
    r" THEN regexp_replace({v}::text::numeric::text, '^(-?[0-9]+)$', '\1.0')"
    " WHEN abs({v}) < 1e15 AND {v} = trunc({v}) THEN {v}::text || '.0'"
    " ELSE {v}::text END"
)


def labels_export(*, study: Study, export_format: str, using: str | None = None) -> Iterator[bytes]:
    """Every label of the study, ordered by id, as chunks of a JSONL or CSV file.

    The format is checked now; the query runs when iteration starts, so the result can go
    straight into a StreamingHttpResponse. It reads from the database alias `using`, by
    default the one reads go to now (the replica inside a view under replica_reads()): the
    alias is fixed here because the response is iterated after the view has returned.
    """
    _check_format(export_format)
    using = using or read_alias()
    if connections[using].vendor == "postgresql":
        statement, params = labels_copy_statement(study=study, export_format=export_format)
        return _copy_chunks(statement, params, using=using)
    return labels_export_python(study=study, export_format=export_format, using=using)


@dataclass(frozen=True)
class ExportSummary:
    etag: str  # with its quotes
    last_modified: datetime | None
    rows: int


def labels_export_summary(*, study: Study, export_format: str) -> ExportSummary:
    """The ETag, Last-Modified and row count of the study's export, from one aggregate query.

    Reviews are only ever added, never edited, so their count and highest id change with
    every new label. The tag is weak because it stands for the data, not for a hash of the
    bytes. The pseudonym key is in it so that rotating SECRET_KEY, which changes every
    reviewer pseudonym, also changes the tag.
    """
    _check_format(export_format)
    figures = (
        Review.objects.labels()
        .filter(study_id=study.pk)
        .aggregate(count=Count("id"), last_id=Max("id"), last_at=Max("created_at"))
    )
    # A final label changes the rows of its item's labels without adding a review; adjudications
    # are only ever added, so their count and highest id change with each one.
    adjudicated = Adjudication.objects.filter(study_id=study.pk).aggregate(
        count=Count("id"), last_id=Max("id"), last_at=Max("adjudicated_at")
    )
    # Consensus is recomputed after reviews come in, so it can change with no new review.
    consensus_at = ConsensusSnapshot.objects.filter(study_id=study.pk).values_list("computed_at", flat=True).first()
    basis = ":".join(
        str(part)
        for part in (
            EXPORT_VERSION,
            study.pk,
            figures["count"],
            figures["last_id"],
            adjudicated["count"],
            adjudicated["last_id"],
            int(study.api_share_notes),
            export_format,
            pseudonym_key(),
            consensus_at.isoformat() if consensus_at else "",
        )
    )
    etag = f'W/"{hashlib.sha256(basis.encode()).hexdigest()[:32]}"'
    last_modified = max((at for at in (figures["last_at"], adjudicated["last_at"]) if at is not None), default=None)
    return ExportSummary(etag=etag, last_modified=last_modified, rows=figures["count"])


def labels_export_audit(
    *, actor: Actor, study: Study, export_format: str, rows: int, token: ApiToken | None = None
) -> None:
    """Record an export in the audit log when it is served: the export is read-only, so
    there is no change to commit with, and a client that stops reading still got rows."""
    details = {"what": "labels", "format": export_format, "rows": rows, "notes": study.api_share_notes}
    details["via"] = f"token {token.pk} ({token.prefix}…)" if token is not None else "session"
    audit_record(actor=actor, action=AuditAction.EXPORT, target=study, study=study, details=details)


def export_fields(study: Study) -> list[str]:
    """The label fields of this study's export: LABEL_FIELDS, without "note" unless notes are shared."""
    return [name for name in LABEL_FIELDS if name != "note" or study.api_share_notes]


# --- PostgreSQL: one COPY -----------------------------------------------------------------


def labels_copy_statement(*, study: Study, export_format: str) -> tuple[str, dict[str, Any]]:
    """The COPY ... TO STDOUT statement that writes the whole export, and its parameters.

    psycopg merges the parameters into the statement client-side (COPY takes no bind
    parameters), quoting them as literals; only constants of this module are in the SQL text.
    """
    _check_format(export_format)
    fields = export_fields(study)
    params = {
        "study_id": study.pk,
        "pseudonym_key": pseudonym_key(),
        "success_threshold": SUCCESS_THRESHOLD,
        "timestamp_format": TIMESTAMP_FORMAT_SQL,
        "consensus_method": LABEL_CONSENSUS,
        "label_roles": list(LABEL_ROLES),
    }
    # Each reviewer's pseudonym is hashed once, not once per label: per row, the hashing
    # was 3 of the 7 seconds of a million-label export. MATERIALIZED keeps it from being
    # inlined into the row expressions.
    pseudonyms = (
        "WITH p AS MATERIALIZED (SELECT u.id, "  # noqa: S608 - a table name; values are parameters
        f"{reviewer_pseudonym_sql('%(study_id)s::bigint', 'u.id')} AS pseudonym "
        f"FROM {get_user_model()._meta.db_table} u) "
    )
    source = (
        f"FROM {Review._meta.db_table} r "
        "JOIN p ON p.id = r.reviewer_id "
        f"JOIN {StudyItem._meta.db_table} i ON i.id = r.item_id "
        f"JOIN {Transcript._meta.db_table} t ON t.id = i.transcript_id "
        f"LEFT JOIN {Tag._meta.db_table} ft ON ft.id = r.first_tag_id "
        f"LEFT JOIN {Tag._meta.db_table} st ON st.id = r.second_tag_id "
        f"LEFT JOIN {Tag._meta.db_table} et ON et.id = r.expertise_tag_id "
        f"LEFT JOIN {Adjudication._meta.db_table} a ON a.item_id = r.item_id "
        "LEFT JOIN p pa ON pa.id = a.adjudicated_by_id "
        f"LEFT JOIN {Tag._meta.db_table} aft ON aft.id = a.first_tag_id "
        f"LEFT JOIN {Tag._meta.db_table} ast ON ast.id = a.second_tag_id "
        f"LEFT JOIN {ItemConsensus._meta.db_table} c ON c.item_id = r.item_id "
        "WHERE r.study_id = %(study_id)s AND r.rater_role = ANY(%(label_roles)s) ORDER BY r.id"
    )
    if export_format == "jsonl":
        # The line is put together with concat() because json_build_object separates with
        # " : " and ", " where json.dumps(separators=(",", ":")) does not, and jsonb reorders
        # keys. One concat() call copies each piece once, where a chain of || recopies the
        # growing line at every step.
        parts = []
        for number, name in enumerate(fields):
            key = ("{" if number == 0 else ",") + json.dumps(name) + ":"
            parts += [f"'{key}'", _field_sql(name, export_format)]
        select = f"{pseudonyms}SELECT concat({', '.join(parts)}, '}}') {source}"
        # COPY's text format would double every backslash of the JSON (and "\n" escapes are
        # backslashes). CSV format changes a value only when it holds the quote or delimiter
        # character, CR or LF, or is empty; with control characters as quote and delimiter,
        # none of these can occur in JSON text (JSON escapes every character below U+0020),
        # so each line comes out exactly as PostgreSQL built it.
        return f"COPY ({select}) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')", params
    columns = ", ".join(f'{_field_sql(name, export_format)} AS "{name}"' for name in fields)
    # Quoting every text column always, and no number, is what Python's csv.QUOTE_NONNUMERIC
    # does, so the fallback writes the same bytes.
    # A NULL is written empty and unquoted, so the nullable fields are written as text, with ''
    # for NULL, which PostgreSQL's CSV always quotes ("") to tell it from NULL, as Python writes None.
    unquoted = (_INTEGER, _FLOAT, _NULL_INTEGER)
    quoted = ", ".join(f'"{name}"' for name in fields if _SQL_FIELDS[name][0] not in unquoted)
    select = f"{pseudonyms}SELECT {columns} {source}"
    return f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER true, FORCE_QUOTE ({quoted}))", params


# The SQL of the kinds of field that read the same in JSONL and in CSV.
_SAME_IN_BOTH_FORMATS = {
    _INTEGER: "{v}",
    _FLOAT: _PYTHON_FLOAT_SQL,
    _BOOLEAN: "CASE WHEN {v} THEN 'true' ELSE 'false' END",
}


def _field_sql(name: str, export_format: str) -> str:
    """The field in SQL: JSON text (for concat) in JSONL, the cell's value in CSV."""
    sql = _field_sql_not_null(name, export_format)
    if name in _NULLABLE:
        return f"COALESCE(({sql})::text, '{'null' if export_format == 'jsonl' else ''}')"
    return sql


def _field_sql_not_null(name: str, export_format: str) -> str:
    kind, expression = _SQL_FIELDS[name]
    if kind in (_NULL_INTEGER, _NULL_TEXT, _NULL_TAGS):
        return _nullable_sql(kind, expression, export_format)
    if template := _SAME_IN_BOTH_FORMATS.get(kind):
        return template.format(v=expression)
    if kind == _TAGS:
        # NULLIF mirrors label_dict's `if name`: a missing or empty name is no tag.
        if export_format == "csv":
            return defuse_formula_sql("concat_ws('; ', NULLIF(ft.name, ''), NULLIF(st.name, ''))")
        return "'[' || concat_ws(',', to_json(NULLIF(ft.name, '')), to_json(NULLIF(st.name, ''))) || ']'"
    if export_format == "jsonl":
        return f"to_json({expression})"
    return defuse_formula_sql(expression)


def _nullable_sql(kind: str, expression: str, export_format: str) -> str:
    """An adjudicated_* field: JSON null (JSONL) or '' (CSV) where the item has no final label."""
    if kind == _NULL_TAGS:
        if export_format == "csv":
            return (
                "COALESCE("
                + defuse_formula_sql("concat_ws('; ', NULLIF(aft.name, ''), NULLIF(ast.name, ''))")
                + ", '')"
            )
        names = "concat_ws(',', to_json(NULLIF(aft.name, '')), to_json(NULLIF(ast.name, '')))"
        return f"CASE WHEN a.id IS NULL THEN 'null' ELSE '[' || {names} || ']' END"
    empty = "'null'" if export_format == "jsonl" else "''"
    if kind == _NULL_INTEGER:
        return f"COALESCE({expression}::text, {empty})"
    if export_format == "jsonl":
        return f"COALESCE(to_json({expression})::text, {empty})"
    return f"COALESCE({defuse_formula_sql(expression)}, {empty})"


def _copy_chunks(statement: str, params: dict[str, Any], *, using: str) -> Iterator[bytes]:
    # Django's cursor wraps psycopg's, whose copy() streams COPY OUT data row by row. Closing
    # this generator early (a client that went away) cancels the COPY on the server.
    with connections[using].cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        yield from _chunked(copy)


def _chunked(pieces: Iterable[Any]) -> Iterator[bytes]:
    """Gather small pieces (a row each) into ~CHUNK_BYTES writes: a yield per row costs more than the row."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        if len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


# --- everywhere else: Python over label_rows -----------------------------------------------


def labels_export_python(*, study: Study, export_format: str, using: str | None = None) -> Iterator[bytes]:
    """The same export written in Python from label_rows and label_dict, for databases without COPY."""
    _check_format(export_format)
    return _chunked(_python_pieces(study=study, export_format=export_format, using=using or read_alias()))


def _python_pieces(*, study: Study, export_format: str, using: str) -> Iterator[bytes]:
    share_notes = study.api_share_notes
    reviews = Review.objects.using(using).labels().filter(study_id=study.pk).order_by("id")
    rows = label_rows(reviews).iterator(chunk_size=2000)
    if export_format == "jsonl":
        for row in rows:
            row["share_notes"] = share_notes  # the study passed in decides, as in the COPY path
            yield (json.dumps(label_dict(row), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        return
    text = io.StringIO()
    csv_writer(text, lineterminator="\n").writerow(export_fields(study))
    writer = csv_writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    for row in rows:
        row["share_notes"] = share_notes
        writer.writerow(_csv_value(name, value) for name, value in label_dict(row).items())
        if text.tell() >= CHUNK_BYTES:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    yield text.getvalue().encode()


def _csv_value(name: str, value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in ("tags", "adjudicated_tags"):
        return "; ".join(value or ())
    return value


def _check_format(export_format: str) -> None:
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"export_format must be one of {', '.join(EXPORT_FORMATS)}, got {export_format!r}")
