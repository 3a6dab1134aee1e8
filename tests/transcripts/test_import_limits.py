"""Issue 13: hostile import files meet limits before work. Each excess is an error naming file,
line or record, and field; nothing is written unless --skip-invalid, which skips the one record
wherever the file can still be parsed; and no file takes the reader over 300 MB."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.fixtures.hostile.bombs import (
    GIB,
    good,
    nested,
    record_line,
    write_array,
    write_gzip_bomb,
    write_jsonl_lines,
)
from transcripts import services
from transcripts.importing import ImportFileError
from transcripts.models import ImportBatch, Transcript
from transcripts.services import ImportRejected, transcript_import

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BEYOND_64_BITS = 2**70


def lines(*records: dict[str, Any] | bytes) -> list[bytes]:
    return [item if isinstance(item, bytes) else json.dumps(item).encode() for item in records]


def rejected(path: Path) -> list[tuple[int | None, int, str | None, str]]:
    """(line, record, field, reason) of every error of an all-or-nothing import, which must write nothing."""
    with pytest.raises(ImportRejected) as caught:
        transcript_import(path=path)
    assert Transcript.objects.count() == ImportBatch.objects.count() == 0
    return [(error.line, error.record, error.field, error.reason) for error in caught.value.errors]


def skipped(path: Path, *, created: int) -> list[dict[str, Any]]:
    result = transcript_import(path=path, skip_invalid=True)
    assert result.created == created == Transcript.objects.count()
    assert result.batch is not None
    return result.batch.errors


# --- numbers beyond 64 bits -------------------------------------------------------------------


def test_a_member_id_beyond_64_bits_is_a_named_error_and_nothing_is_written(tmp_path: Path) -> None:
    path = write_jsonl_lines(tmp_path / "big.jsonl", lines(good(1), good(2) | {"red_team_member_id": BEYOND_64_BITS}))
    [(line, record, field, reason)] = rejected(path)
    assert (line, record, field) == (2, 2, "red_team_member_id")
    assert reason == "1180591620717411303424 is too large: ids must fit in 64 bits"


def test_with_skip_invalid_a_member_id_beyond_64_bits_skips_that_record_only(tmp_path: Path) -> None:
    path = write_jsonl_lines(
        tmp_path / "big.jsonl",
        lines(good(1), good(2) | {"red_team_member_id": BEYOND_64_BITS}, good(3), good(4) | {"rating": 10**400}),
    )
    errors = skipped(path, created=2)
    assert [(row["line"], row["errors"][0]["field"]) for row in errors] == [(2, "red_team_member_id"), (4, "rating")]


def test_a_number_of_thousands_of_digits_is_a_named_error_on_its_line(tmp_path: Path) -> None:
    huge = record_line(red_team_member_id=7).replace(
        b'"red_team_member_id": 7', b'"red_team_member_id": ' + b"9" * 5000
    )
    path = write_jsonl_lines(tmp_path / "digits.jsonl", lines(good(1), huge, good(3)))
    [(line, record, field, reason)] = rejected(path)
    assert (line, record, field) == (2, 2, None)
    assert reason == "not valid JSON here: a number has more than 4,300 digits"
    assert len(skipped(path, created=2)) == 1


def test_in_a_json_array_a_number_beyond_64_bits_stops_the_file_naming_where(tmp_path: Path) -> None:
    path = write_array(tmp_path / "big.json", lines(good(1), good(2) | {"red_team_member_id": BEYOND_64_BITS}))
    with pytest.raises(ImportFileError, match=r"big\.json: malformed JSON after record 1: a whole number too large"):
        transcript_import(path=path, skip_invalid=True)
    assert Transcript.objects.count() == ImportBatch.objects.count() == 0


def test_the_command_reports_a_number_beyond_64_bits_without_a_traceback(tmp_path: Path) -> None:
    path = write_jsonl_lines(tmp_path / "big.jsonl", lines(good(1) | {"red_team_member_id": BEYOND_64_BITS}, good(2)))
    stderr = StringIO()
    with pytest.raises(CommandError):
        call_command("import_transcripts", str(path), "--no-progress", stderr=stderr)
    assert f"{path}: line 1 (record 1): field 'red_team_member_id': 1180591620717411303424 is too large" in (
        stderr.getvalue()
    )
    assert "Traceback" not in stderr.getvalue()
    call_command("import_transcripts", str(path), "--no-progress", "--skip-invalid", stderr=StringIO())
    assert Transcript.objects.count() == 1


# --- nesting depth ----------------------------------------------------------------------------


def test_deep_nesting_in_json_lines_is_a_named_error_not_a_recursion_error(tmp_path: Path) -> None:
    deep = record_line().replace(b'"tags": null', f'"tags": {nested(100_000)}'.encode())
    path = write_jsonl_lines(tmp_path / "deep.jsonl", lines(good(1), deep, good(3)))
    [(line, record, field, reason)] = rejected(path)
    assert (line, record, field) == (2, 2, "tags")
    assert reason == "nests deeper than 32 levels of objects and lists (the limit, TRIAD_IMPORT_MAX_DEPTH)"
    assert [row["line"] for row in skipped(path, created=2)] == [2]


def test_deep_nesting_in_a_json_array_is_skipped_record_by_record(tmp_path: Path) -> None:
    """80 KB of brackets: ijson.items took memory in the square of the depth on this (3.9 GB)."""
    deep = record_line().replace(b'"tags": null', f'"tags": {nested(40_000)}'.encode())
    path = write_array(tmp_path / "deep.json", lines(good(1), deep, good(3), nested(40_000).encode(), good(5)))
    assert path.stat().st_size > 160_000
    assert rejected(path) == [
        (None, 2, "tags", "nests deeper than 32 levels of objects and lists (the limit, TRIAD_IMPORT_MAX_DEPTH)"),
        (None, 4, None, "nests deeper than 32 levels of objects and lists (the limit, TRIAD_IMPORT_MAX_DEPTH)"),
    ]
    assert [row["record"] for row in skipped(path, created=3)] == [2, 4]


@pytest.mark.parametrize("file_format", ["jsonl", "json"])
def test_nesting_up_to_the_limit_is_read_and_one_level_more_is_refused(
    tmp_path: Path, settings: Any, file_format: str
) -> None:
    settings.TRIAD_IMPORT_MAX_DEPTH = 4
    # The record is level 1, so an extra field nested 3 deep reaches the limit exactly.
    at_limit = good(1) | {"extra": [[["[{ in a string, not a level"]]]}
    beyond = good(2) | {"extra": [[[[1]]]]}
    write = write_jsonl_lines if file_format == "jsonl" else write_array
    path = write(tmp_path / f"depth.{file_format}", lines(at_limit, beyond))
    [(_, record, field, reason)] = rejected(path)
    assert (record, field) == (2, "extra")
    assert "deeper than 4 levels" in reason


# --- record size and string length ----------------------------------------------------------


def test_a_json_lines_line_over_the_record_limit_is_skipped_without_being_held(tmp_path: Path, settings: Any) -> None:
    settings.TRIAD_IMPORT_MAX_RECORD_BYTES = 65_536
    long_line = record_line(task_description="x" * 200_000)
    exactly = record_line(task_description="")
    exactly = record_line(task_description="y" * (65_536 - len(exactly)))
    assert len(exactly) == 65_536
    path = write_jsonl_lines(tmp_path / "long.jsonl", lines(good(1), long_line, good(3), exactly))
    [(line, record, field, reason)] = rejected(path)
    assert (line, record, field) == (2, 2, None)
    assert reason == "the line is longer than 65,536 bytes (the limit, TRIAD_IMPORT_MAX_RECORD_BYTES)"
    assert [(row["line"], row["raw"]) for row in skipped(path, created=3)] == [(2, "")]
    assert Transcript.objects.filter(task_description="y" * (65_536 - len(record_line(task_description="")))).exists()


def test_a_json_array_element_over_the_record_limit_stops_the_file(tmp_path: Path, settings: Any) -> None:
    settings.TRIAD_IMPORT_MAX_RECORD_BYTES = 65_536
    path = write_array(tmp_path / "long.json", lines(good(1), good(2) | {"transcript": "z" * 300_000}, good(3)))
    with pytest.raises(ImportFileError) as caught:
        transcript_import(path=path, skip_invalid=True)
    assert re.fullmatch(
        rf"{re.escape(str(path))}: record 2 is longer than 65,536 bytes \(the limit, TRIAD_IMPORT_MAX_RECORD_BYTES\): "
        r"stopped by byte [\d,]+ of the file, and a JSON array cannot be read on past it",
        str(caught.value),
    )
    assert Transcript.objects.count() == ImportBatch.objects.count() == 0


@pytest.mark.parametrize("file_format", ["jsonl", "json"])
def test_a_text_field_over_the_string_limit_is_a_named_error(tmp_path: Path, settings: Any, file_format: str) -> None:
    settings.TRIAD_IMPORT_MAX_STRING_CHARS = 1024
    records = [
        good(1) | {"task_description": "d" * 1024},
        good(2) | {"task_description": "d" * 1025},
        good(3) | {"tags": ["Theft", "t" * 2000]},
        good(4) | {"transcript": "\n\nHuman: " + "h" * 2000 + "\n\nAssistant: no"},
    ]
    write = write_jsonl_lines if file_format == "jsonl" else write_array
    path = write(tmp_path / f"strings.{file_format}", lines(*records))
    assert [(record, field, reason) for _, record, field, reason in rejected(path)] == [
        (2, "task_description", "is 1,025 characters long, over the limit of 1,024 (TRIAD_IMPORT_MAX_STRING_CHARS)"),
        (3, "tags", "tag 2 is 2,000 characters long, over the limit of 1,024 (TRIAD_IMPORT_MAX_STRING_CHARS)"),
        (4, "transcript", "is 2,024 characters long, over the limit of 1,024 (TRIAD_IMPORT_MAX_STRING_CHARS)"),
    ]


# --- gzip bombs, and the memory every hostile file costs ---------------------------------------

READER = """
import json, sys
import django
django.setup()
from transcripts.importing import ImportFileError, inspect_source, iter_source_records, open_metered, validate_record

for name in sys.argv[1:]:
    outcome = {"file": name, "valid": 0, "errors": []}
    try:
        info = inspect_source(__import__("pathlib").Path(name))
        raw_file, meter = open_metered(info)
        with raw_file:
            for raw in iter_source_records(info, meter):
                result = [raw.error] if raw.error is not None else validate_record(raw, {})
                if isinstance(result, list):
                    outcome["errors"] += [[error.record, error.line, error.field, error.reason] for error in result]
                else:
                    outcome["valid"] += 1
    except ImportFileError as exc:
        outcome["file_error"] = str(exc)
    print("OUTCOME " + json.dumps(outcome), flush=True)
"""


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    here = tmp_path_factory.mktemp("hostile-imports")
    before, after = json.dumps(good(1)).encode() + b"\n", b"\n" + json.dumps(good(2)).encode() + b"\n"
    deep = record_line().replace(b'"tags": null', f'"tags": {nested(40_000)}'.encode())
    return {
        # One 4 GiB line between two good ones: a MemoryError before.
        "line_bomb": write_gzip_bomb(
            here / "line.jsonl.gz", head=before + b'{"transcript": "', filler=b"A", size=4 * GIB, tail=b'"}' + after
        ),
        # A 4 GiB string inside an array: no result within 300 s before.
        "string_bomb": write_gzip_bomb(
            here / "string.json.gz", head=b'[{"transcript": "', filler=b"B", size=4 * GIB, tail=b'"}]'
        ),
        "deep_array": write_array(here / "deep.json", lines(good(1), deep, good(3))),
        "deep_jsonl": write_jsonl_lines(here / "deep.jsonl", lines(good(1), deep, good(3))),
        "big_number": write_jsonl_lines(
            here / "big.jsonl", lines(good(1), good(2) | {"red_team_member_id": BEYOND_64_BITS})
        ),
    }


def test_gzip_bombs_are_a_few_megabytes(hostile_files: dict[str, Path]) -> None:
    for name in ("line_bomb", "string_bomb"):
        assert hostile_files[name].stat().st_size < 6_000_000, name


def test_no_hostile_file_takes_the_reader_over_300_mb_and_each_is_named(hostile_files: dict[str, Path]) -> None:
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"
    files = [str(path) for path in hostile_files.values()]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "peak_rss.py"), sys.executable, "-c", READER, *files],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = {}
    for line in result.stdout.splitlines():
        if line.startswith("OUTCOME "):
            outcome = json.loads(line.removeprefix("OUTCOME "))
            outcomes[Path(outcome["file"])] = outcome
    peak = int(re.search(r"^peak_rss_bytes (\d+)$", result.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert peak < 300 * 2**20, f"peak RSS {peak / 2**20:.0f} MB"

    too_long = "the line is longer than 16,777,216 bytes (the limit, TRIAD_IMPORT_MAX_RECORD_BYTES)"
    too_deep = "nests deeper than 32 levels of objects and lists (the limit, TRIAD_IMPORT_MAX_DEPTH)"
    line_bomb = outcomes[hostile_files["line_bomb"]]
    assert (line_bomb["valid"], line_bomb["errors"]) == (2, [[2, 2, None, too_long]])
    assert outcomes[hostile_files["string_bomb"]]["file_error"].startswith(
        f"{hostile_files['string_bomb']}: record 1 is longer than 16,777,216 bytes"
    )
    assert outcomes[hostile_files["deep_array"]]["errors"] == [[2, None, "tags", too_deep]]
    assert outcomes[hostile_files["deep_jsonl"]]["errors"] == [[2, 2, "tags", too_deep]]
    assert outcomes[hostile_files["big_number"]]["errors"][0][:3] == [2, 2, "red_team_member_id"]


# --- what an import keeps of its problems ------------------------------------------------------


def test_more_invalid_records_than_the_limit_stop_the_import_and_write_nothing(tmp_path: Path, settings: Any) -> None:
    settings.TRIAD_IMPORT_MAX_REJECTS = 3
    records = [good(1)] + [good(n) | {"rating": 9} for n in range(2, 7)]
    path = write_jsonl_lines(tmp_path / "bad.jsonl", lines(*records))
    for skip_invalid in (False, True):
        with pytest.raises(ImportFileError) as caught:
            transcript_import(path=path, skip_invalid=skip_invalid)
        assert str(caught.value) == (
            f"{path}: more than 3 invalid records (the limit, TRIAD_IMPORT_MAX_REJECTS): stopped at line 5 (record 5)"
        )
        assert Transcript.objects.count() == ImportBatch.objects.count() == 0


def test_rejects_keep_their_raw_text_only_up_to_a_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("transcripts.services.MAX_KEPT_REJECTS_RAW_CHARS", 1500)
    records = [good(n) | {"rating": 9, "task_description": f"{n} " + "x" * 600} for n in range(1, 5)]
    path = write_jsonl_lines(tmp_path / "bad.jsonl", lines(*records, good(5)))
    errors = skipped(path, created=1)
    assert [bool(row["raw"]) for row in errors] == [True, True, False, False]
    assert all(row["errors"][0]["field"] == "rating" for row in errors)


def test_warnings_are_kept_up_to_a_number_and_the_rest_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("transcripts.services.MAX_KEPT_WARNINGS", 2)
    path = write_jsonl_lines(tmp_path / "odd.jsonl", lines(*(good(n) | {"extra": n} for n in range(1, 6))))
    result = transcript_import(path=path)
    assert result.created == 5
    assert [warning["reason"] for warning in result.batch.warnings] == [
        "ignored unknown fields: 'extra'",
        "ignored unknown fields: 'extra'",
        "3 more warnings not kept",
    ]


def test_large_records_are_written_in_chunks_of_bounded_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("transcripts.services.IMPORT_CHUNK_CHARS", 100_000)
    flushed: list[int] = []
    original = services._TranscriptWriter.flush

    def counting_flush(writer: Any) -> None:
        flushed.append(len(writer._pending))
        original(writer)

    monkeypatch.setattr(services._TranscriptWriter, "flush", counting_flush)
    transcript = "\n\nHuman: " + "w" * 40_000 + "\n\nAssistant: no"
    path = write_jsonl_lines(tmp_path / "big.jsonl", lines(*(good(n) | {"transcript": transcript} for n in range(7))))
    assert transcript_import(path=path).created == 7
    assert flushed == [3, 3, 1]
    assert Transcript.objects.filter(transcript=transcript).count() == 7
