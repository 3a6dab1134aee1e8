"""Streaming reader and validator for the released red-team data format.

Pure functions with no database access: ``iter_source_records`` yields raw records from
a file without loading it whole, and ``validate_record`` turns one raw record into a
``CleanRecord`` or a list of errors that say where (record, line) and what (field, reason).

Every record is bounded before it is held whole (ImportLimits, from settings): its size in
bytes (a JSON Lines line is read with a bounded readline; a JSON array's parser reads through
a budget that stops at the limit), its nesting depth (counted from parser events, or from a
scan of the line before json.loads recurses into it), the length of its strings and the
magnitude of its numbers (ids must fit 64 bits). So a hostile file, a gzip bomb included,
costs at most one record's worth of memory, and each excess is an error naming its place.
"""

from __future__ import annotations

import codecs
import gc
import gzip
import hashlib
import io
import json
import math
import re
import sys
import threading
from collections.abc import Container, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

import ijson
from django.conf import settings

from tagging.vocabulary import normalize_tag
from transcripts.models import ModelSize, ModelType
from transcripts.turns import TurnParseError, parse_turn_spans

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
MISSPELLED_SCORE_KEY = "task_descripton_harmlessness_score"
SCORE_KEY = "task_description_harmlessness_score"
KNOWN_KEYS = frozenset(
    {
        "transcript",
        "min_harmlessness_score_transcript",
        "num_params",
        "model_type",
        "rating",
        "task_description",
        MISSPELLED_SCORE_KEY,
        SCORE_KEY,
        "red_team_member_id",
        "is_upworker",
        "tags",
    }
)
_MODEL_TYPES = frozenset(ModelType.values)
_MODEL_SIZES = frozenset(ModelSize.values)
# Worded once: a choices enum's .values is rebuilt on every read.
_MODEL_SIZES_EXPECTED = f"one of {', '.join(ModelSize.values)}"
_MODEL_TYPES_EXPECTED = f"a known model type ({', '.join(ModelType.values)})"
# Longest raw record kept with a reject, so one huge bad line cannot bloat the batch row;
# and the most raw text kept for all of an import's rejects, and the most warnings, so that
# a file of endless bad or odd records costs no more memory, nor a bigger batch row.
MAX_KEPT_REJECT_CHARS = 20_000
MAX_KEPT_REJECTS_RAW_CHARS = 8_000_000
MAX_KEPT_WARNINGS = 1_000
# JSON text may hold no raw control byte but tab, newline and carriage return, inside a string
# or out, so one of these is the first thing wrong with a file that parsers reject.
_RAW_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Parsers' messages quote the text around an error: a hostile file could put terminal escapes
# or bidi controls there, so anything unprintable is shown as an escape instead.
_UNPRINTABLE = re.compile(r"[^\n\x20-\x7e]")
# The range of PostgreSQL's bigint (and SQLite's integer): a larger id cannot be stored.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# One JSON string (closing quote optional, so an unterminated one runs to the end) or a
# bracket: enough to count nesting without parsing, since brackets inside strings are skipped.
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"?|[\[\]{}]', re.DOTALL)
# How much a JSON array's parser reads at a time (ijson's default).
_ARRAY_READ_BYTES = 64 * 1024


class ImportFileError(Exception):
    """The file as a whole cannot be read: nothing in it can be trusted past this point."""


@dataclass(frozen=True, slots=True)
class ImportLimits:
    record_bytes: int  # one JSON Lines line, or one element of a JSON array, decompressed
    string_chars: int  # one text field: transcript, task description, a tag
    depth: int  # levels of objects and lists in one record; a released record has 2

    @classmethod
    def from_settings(cls) -> ImportLimits:
        return cls(
            record_bytes=settings.TRIAD_IMPORT_MAX_RECORD_BYTES,
            string_chars=settings.TRIAD_IMPORT_MAX_STRING_CHARS,
            depth=settings.TRIAD_IMPORT_MAX_DEPTH,
        )

    def too_long(self) -> str:
        return f"is longer than {self.record_bytes:,} bytes (the limit, TRIAD_IMPORT_MAX_RECORD_BYTES)"

    def too_deep(self) -> str:
        return f"nests deeper than {self.depth} levels of objects and lists (the limit, TRIAD_IMPORT_MAX_DEPTH)"


@dataclass(frozen=True, slots=True)
class RecordError:
    record: int
    line: int | None
    field: str | None
    reason: str

    def location(self) -> str:
        where = f"record {self.record}"
        if self.line is not None:
            where = f"line {self.line} ({where})"
        return where

    def describe(self, file_name: str) -> str:
        subject = f"field '{self.field}': " if self.field else ""
        return f"{file_name}: {self.location()}: {subject}{self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"record": self.record, "line": self.line, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class RawRecord:
    index: int  # 1-based position among the file's records
    line: int | None  # 1-based line, for JSON Lines
    data: Any = None
    error: RecordError | None = None


@dataclass(slots=True)
class CleanRecord:
    index: int
    line: int | None
    transcript: str
    turn_spans: list[list[str | int]]
    min_harmlessness_score_transcript: float
    num_params: str
    model_type: str
    rating: int
    task_description: str
    task_description_harmlessness_score: float | None
    red_team_member_id: int
    is_upworker: bool
    source_tags: list[str] | None
    tag_ids: list[int]
    content_hash: bytes
    warnings: list[RecordError] = field(default_factory=list)


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceInfo:
    path: Path
    size: int
    compressed: bool
    file_format: str  # "json-array" or "jsonl"


class MeteredReader(io.RawIOBase):
    """Counts and hashes the bytes read from the file on disk, for progress and the batch sha256."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        self._raw = raw
        self.bytes_read = 0
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)
        if count:
            view = memoryview(buffer)[:count]
            self.sha256.update(view)
            self.bytes_read += count
        return count or 0


def inspect_source(path: Path) -> SourceInfo:
    """Tell a gzipped or plain file, and a JSON array from JSON Lines, by content not by name."""
    compressed = False
    try:
        size = path.stat().st_size
        with path.open("rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            stream: BinaryIO = gzip.GzipFile(fileobj=raw) if compressed else raw  # type: ignore[assignment]
            head = stream.read(4096)
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise ImportFileError(f"{path}: permission denied") from None
    except (OSError, EOFError) as exc:
        if compressed:
            raise ImportFileError(f"{path}: the gzip stream is corrupt or truncated ({exc})") from None
        raise ImportFileError(f"{path}: cannot be read ({exc})") from None
    start = head.removeprefix(UTF8_BOM).lstrip()
    if not start:
        raise ImportFileError(f"{path}: the file is empty")
    first = start[:1]
    if first == b"[":
        file_format = "json-array"
    elif first == b"{":
        file_format = "jsonl"
    else:
        raise ImportFileError(
            f"{path}: expected a JSON array ('[' ...) or JSON Lines ('{{' per line) but the content starts "
            f"with {start[:20]!r}"
        )
    return SourceInfo(path=path, size=size, compressed=compressed, file_format=file_format)


def iter_source_records(
    info: SourceInfo, meter: MeteredReader, limits: ImportLimits | None = None
) -> Iterator[RawRecord]:
    limits = limits or ImportLimits.from_settings()
    stream = io.BufferedReader(meter, buffer_size=1 << 20)
    if info.compressed:
        stream = io.BufferedReader(gzip.GzipFile(fileobj=stream), buffer_size=1 << 20)  # type: ignore[arg-type]
    try:
        if stream.peek(3)[:3] == UTF8_BOM:
            stream.read(3)
        if info.file_format == "json-array":
            yield from _iter_json_array(info, stream, limits)
        else:
            yield from _iter_jsonl(stream, limits)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        if info.compressed:
            raise ImportFileError(f"{info.path}: the gzip stream is corrupt or truncated ({exc})") from None
        raise ImportFileError(f"{info.path}: cannot be read ({exc})") from None


class _RecordTooLong(Exception):
    """Raised from inside the JSON array parser's read: one element outgrew the record limit."""


class _RecordBudget:
    """What the JSON array parser reads through: it refuses to hand over more than one record's worth.

    The parser holds a string or number whole until it ends, so a 4 GiB string would be 4 GiB
    of memory; this stops it at the record limit instead. Counting starts again at the chunk
    in which the last record ended, which over-counts the next record by at most one chunk, so
    the allowance is one chunk more than the limit and no record within the limit is refused.
    """

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._allowance = limit + _ARRAY_READ_BYTES
        self._last_chunk = 0
        self.since_record = 0
        self.total = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(_ARRAY_READ_BYTES if size < 0 else min(size, _ARRAY_READ_BYTES))
        self._last_chunk = len(chunk)
        self.since_record += len(chunk)
        self.total += len(chunk)
        if self.since_record > self._allowance:
            raise _RecordTooLong
        return chunk

    def record_ended(self) -> None:
        self.since_record = self._last_chunk


@dataclass(frozen=True, slots=True)
class _TooDeep:
    field: str | None  # the record's key under which the nesting went too deep


def _iter_json_array(info: SourceInfo, stream: BinaryIO, limits: ImportLimits) -> Iterator[RawRecord]:
    """The records of one JSON array; the first bad byte ends the file, since the parser cannot resync.

    ijson counts records, not bytes, so on failure the file is read again to say exactly where
    (byte offset, line and column) and what (invalid UTF-8, a raw NUL) went wrong. A record
    nested too deep is skipped (the parser goes on); one longer than the limit ends the file.
    """
    index = 0
    budget = _RecordBudget(stream, limits.record_bytes)
    try:
        events = ijson.basic_parse(budget, use_float=True, buf_size=_ARRAY_READ_BYTES)
        for item in _array_elements(events, budget, limits.depth):
            index += 1
            if type(item) is _TooDeep:
                error = RecordError(index, None, item.field, limits.too_deep())
                yield RawRecord(index=index, line=None, error=error)
            else:
                yield RawRecord(index=index, line=None, data=item)
    except _RecordTooLong:
        content = "the decompressed content" if info.compressed else "the file"
        raise ImportFileError(
            f"{info.path}: record {index + 1} {limits.too_long()}: stopped by byte {budget.total:,} of {content}, "
            "and a JSON array cannot be read on past it"
        ) from None
    except (UnicodeDecodeError, ijson.JSONError) as exc:
        where = _first_unreadable_byte(info)
        if where is not None:
            raise ImportFileError(f"{info.path}: {where.describe(after_record=index)}") from None
        if isinstance(exc, UnicodeDecodeError):
            raise ImportFileError(f"{info.path}: invalid UTF-8 after record {index} ({exc.reason})") from None
        reason = _printable(exc)
        if "integer overflow" in reason:
            reason = f"a whole number too large for 64 bits: {reason}"
        raise ImportFileError(f"{info.path}: malformed JSON after record {index}: {reason}") from None


def _array_elements(events: Iterator[tuple[str, Any]], budget: _RecordBudget, max_depth: int) -> Iterator[Any]:
    """The elements of the top-level array, built from the parser's events.

    Built here rather than by ijson.items, whose event prefixes ("item.item.item...") make
    deep nesting cost memory in the square of the depth: past max_depth levels an element
    is no longer built, only its brackets are counted, and a _TooDeep stands for it.
    """
    stack: list[Any] = []  # the containers of the element being built, outermost first
    key: Any = None
    field: Any = None  # the element's key being read, to name where it nests too deep
    next(events, None)  # the array's own start: inspect_source saw the '['
    for event, value in events:
        if event == "map_key":
            key = value
            if len(stack) == 1:
                field = value
        elif event in _STARTS:
            if len(stack) == max_depth:
                yield from _refuse_too_deep(events, stack, budget, field)
                continue
            container: Any = {} if event == "start_map" else []
            if stack:
                _attach(stack[-1], key, container)
            else:
                field = None
            stack.append(container)
        elif event in _ENDS:
            if stack:
                element = stack.pop()
                if not stack:
                    budget.record_ended()
                    yield element
        elif stack:  # a scalar
            _attach(stack[-1], key, value)
        else:
            budget.record_ended()
            yield value


_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})


def _refuse_too_deep(
    events: Iterator[tuple[str, Any]], stack: list[Any], budget: _RecordBudget, field: Any
) -> Iterator[_TooDeep]:
    """Pass over the rest of an element that nests too deep, counting only its brackets.

    A _TooDeep stands for the element once its last bracket closes; nothing if the events end first.
    """
    open_levels = len(stack) + 1
    stack.clear()  # let go of what was built: the element is refused whole
    for event, _ in events:
        if event in _STARTS:
            open_levels += 1
        elif event in _ENDS:
            open_levels -= 1
            if not open_levels:
                budget.record_ended()
                yield _TooDeep(field)
                return


def _attach(parent: Any, key: Any, value: Any) -> None:
    """Put a parsed value into the object (a dict, under its key) or array (a list) it belongs to.

    `type(...) is dict` rather than isinstance, which is twice as slow on a list: this runs for
    every value of every record. The parent is Any because mypy narrows only with isinstance.
    """
    if type(parent) is dict:
        parent[key] = value
    else:
        parent.append(value)


def _iter_jsonl(stream: BinaryIO, limits: ImportLimits) -> Iterator[RawRecord]:
    index = 0
    line_number = 0
    while raw_line := stream.readline(limits.record_bytes + 1):
        line_number += 1
        if len(raw_line) > limits.record_bytes and not raw_line.endswith(b"\n"):
            # Over the limit: pass over the rest of the line without keeping it.
            del raw_line
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            index += 1
            error = RecordError(index, line_number, None, f"the line {limits.too_long()}")
            yield RawRecord(index=index, line=line_number, error=error)
            continue
        if not raw_line.strip():
            continue
        index += 1
        if raw_line.count(b"[") + raw_line.count(b"{") > limits.depth:  # else it cannot nest too deep
            deep_under = _too_deep_under(raw_line, limits.depth)
            if deep_under is not False:
                error = RecordError(index, line_number, deep_under, limits.too_deep())
                yield RawRecord(index=index, line=line_number, error=error)
                continue
        try:
            # Decoded here, strictly: json.loads would guess UTF-16 from the first bytes and
            # let encoded surrogates through.
            data = json.loads(raw_line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            reason = (
                f"not valid UTF-8: byte 0x{raw_line[exc.start]:02x} at column {exc.start + 1} ({exc.reason}); "
                "the file must be UTF-8 text"
            )
            yield RawRecord(index=index, line=line_number, error=RecordError(index, line_number, None, reason))
        except json.JSONDecodeError as exc:
            control = _RAW_CONTROL_BYTE.search(raw_line)
            if control is not None:
                reason = f"not valid JSON at column {control.start() + 1}: {_describe_control_byte(control.group()[0])}"
            else:
                reason = f"not valid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}"
            yield RawRecord(index=index, line=line_number, error=RecordError(index, line_number, None, reason))
        except ValueError:  # Python refuses to convert integers of more than 4,300 digits
            reason = f"not valid JSON here: a number has more than {sys.get_int_max_str_digits():,} digits"
            yield RawRecord(index=index, line=line_number, error=RecordError(index, line_number, None, reason))
        else:
            yield RawRecord(index=index, line=line_number, data=data)


def _too_deep_under(line: bytes, max_depth: int) -> str | Literal[False] | None:
    """False if the JSON text nests at most max_depth deep, else the top-level key it goes too deep under."""
    depth = 0
    last_string: bytes | None = None
    for match in _STRING_OR_BRACKET.finditer(line):
        token = match.group()
        if token[0] == 0x22:  # a string: at depth 1, the key of what may follow
            if depth == 1:
                last_string = token
        elif token in b"[{":
            depth += 1
            if depth > max_depth:
                if last_string is None:
                    return None
                try:
                    return str(json.loads(last_string))
                except ValueError:
                    return None
        else:
            depth -= 1
    return False


def _describe_control_byte(byte: int) -> str:
    if byte == 0:
        return "a raw NUL byte (0x00), which JSON must escape and PostgreSQL cannot store even escaped"
    return f"a raw control byte 0x{byte:02x}, which JSON must write as an escape (\\u{byte:04x})"


def _printable(error: Exception) -> str:
    text = error.args[0] if error.args else str(error)
    if isinstance(text, bytes):  # yajl reports bytes, quoting the file as it is
        text = text.decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode(), str(text).strip())


@dataclass(frozen=True, slots=True)
class _BadByte:
    offset: int  # 0-based, into the (decompressed) content
    line: int  # 1-based
    column: int  # 1-based, in bytes
    byte: int
    invalid_utf8: str | None  # the decoder's reason, or None for a raw control byte
    compressed: bool

    def describe(self, *, after_record: int) -> str:
        content = "the decompressed content" if self.compressed else "the file"
        where = f"at byte offset {self.offset} of {content} (line {self.line}, column {self.column})"
        if self.invalid_utf8 is not None:
            return (
                f"invalid UTF-8 after record {after_record}, {where}: byte 0x{self.byte:02x} ({self.invalid_utf8}); "
                "the file must be UTF-8 text"
            )
        return f"malformed JSON after record {after_record}, {where}: {_describe_control_byte(self.byte)}"


def _first_unreadable_byte(info: SourceInfo) -> _BadByte | None:
    """The first byte that is not UTF-8 or is a raw control character, found by reading the file again.

    Only called after the parser failed, so a valid file never pays for the second read.
    None when every byte is fine (the JSON itself is malformed) or the file cannot be reread.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # of this chunk's first byte
    lines_before = 0  # newlines before this chunk
    last_newline = -1  # offset of the last newline before this chunk
    try:
        with info.path.open("rb") as raw:
            stream: BinaryIO = gzip.GzipFile(fileobj=raw) if info.compressed else raw  # type: ignore[assignment]
            while chunk := stream.read(1 << 20):
                pending = decoder.getstate()[0]
                found: tuple[int, int, str | None] | None = None
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    # exc.start counts from the undecoded bytes the decoder held back from the last chunk.
                    found = (offset - len(pending) + exc.start, (pending + chunk)[exc.start], exc.reason)
                control = _RAW_CONTROL_BYTE.search(chunk)
                if control is not None and (found is None or offset + control.start() < found[0]):
                    found = (offset + control.start(), chunk[control.start()], None)
                if found is not None:
                    bad, byte, reason = found
                    inside = max(bad - offset, 0)
                    newlines = chunk.count(b"\n", 0, inside)
                    line_start = offset + chunk.rfind(b"\n", 0, inside) if newlines else last_newline
                    return _BadByte(bad, lines_before + newlines + 1, bad - line_start, byte, reason, info.compressed)
                lines_before += chunk.count(b"\n")
                if (position := chunk.rfind(b"\n")) >= 0:
                    last_newline = offset + position
                offset += len(chunk)
    except (OSError, EOFError):
        return None
    if pending := decoder.getstate()[0]:  # the file ends inside a multi-byte sequence
        bad = offset - len(pending)
        column = bad - last_newline
        return _BadByte(bad, lines_before + 1, column, pending[0], "unexpected end of data", info.compressed)
    return None


def open_metered(info: SourceInfo) -> tuple[BinaryIO, MeteredReader]:
    raw = info.path.open("rb")
    return raw, MeteredReader(raw)


# --- validating ------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _storable_text_problem(text: str) -> str | None:
    """PostgreSQL text cannot hold NUL, and lone surrogates are not encodable UTF-8."""
    if "\x00" in text:
        return "contains a NUL character (U+0000), which PostgreSQL cannot store"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired UTF-16 surrogate, which is not valid Unicode text"
    return None


def _show(value: Any) -> str:
    """A value quoted for an error message, cut short: hostile records can hold megabytes."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_problem(value: Any, expected: str) -> str | None:
    """Why value is not a finite number a column can hold (a float, or an integer within 64 bits), or None."""
    if _finite_number(value):
        return None
    if type(value) is int:
        return f"{_show(value)} is out of range: numbers must fit in 64 bits"
    if type(value) is float:
        return f"must be a finite number, got {value}"
    return f"must be {expected}, got {_type_name(value)}"


def _too_long(value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"is {len(value):,} characters long, over the limit of {limit:,} (TRIAD_IMPORT_MAX_STRING_CHARS)"
    return None


def _with_content_hash(record: CleanRecord) -> CleanRecord:
    """Set the accepted record's content hash; both validation paths end here.

    The hash covers every released field after normalization (4.0 and 4 are one rating,
    either spelling of the score key is one field). NUL never occurs in an accepted
    string, so joining on it is unambiguous. Raises UnicodeEncodeError on lone surrogates.
    """
    digest = hashlib.sha256(record.transcript.encode())
    rest = (
        repr(record.min_harmlessness_score_transcript),
        record.num_params,
        record.model_type,
        str(record.rating),
        record.task_description,
        repr(record.task_description_harmlessness_score),
        str(record.red_team_member_id),
        "1" if record.is_upworker else "0",
        "" if record.source_tags is None else json.dumps(record.source_tags),
    )
    digest.update(b"\x00" + "\x00".join(rest).encode())
    record.content_hash = digest.digest()
    return record


_RATINGS = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4}  # 4.0 == 4, so float ratings find their integer


def _finite_number(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return value - value == 0  # inf - inf and nan are not 0
    return kind is int and INT64_MIN <= value <= INT64_MAX


def _validate_common_case(raw: RawRecord) -> CleanRecord | None:
    """Accept a well-formed untagged record quickly, or return None for the thorough path.

    Nearly every record of the released file is valid and untagged; checking those with
    straight-line type tests roughly halves validation time. Anything unusual (tags,
    unknown keys, both score spellings, any doubt at all) goes to _validate_thoroughly,
    the one place that words errors.
    """
    data = raw.data
    if type(data) is not dict or data.get("tags") is not None or not KNOWN_KEYS.issuperset(data):
        return None
    max_chars = settings.TRIAD_IMPORT_MAX_STRING_CHARS
    transcript = data.get("transcript")
    task_description = data.get("task_description")
    num_params = data.get("num_params")
    model_type = data.get("model_type")
    score: Any = data.get("min_harmlessness_score_transcript")  # a finite number once checked below
    rating = data.get("rating")
    member_id = data.get("red_team_member_id")
    is_upworker = data.get("is_upworker")
    if MISSPELLED_SCORE_KEY in data:
        if SCORE_KEY in data:
            return None
        description_score = data[MISSPELLED_SCORE_KEY]
    else:
        description_score = data.get(SCORE_KEY)
    if not (
        type(transcript) is str
        and len(transcript) <= max_chars
        and "\x00" not in transcript
        and type(task_description) is str
        and len(task_description) <= max_chars
        and "\x00" not in task_description
        and type(num_params) is str
        and num_params in _MODEL_SIZES
        and type(model_type) is str
        and model_type in _MODEL_TYPES
        and _finite_number(score)
        and type(rating) in (int, float)
        and rating in _RATINGS
        and type(member_id) is int
        and 0 <= member_id <= INT64_MAX
        and type(is_upworker) is bool
        and (description_score is None or _finite_number(description_score))
    ):
        return None
    try:
        return _with_content_hash(
            CleanRecord(
                index=raw.index,
                line=raw.line,
                transcript=transcript,
                turn_spans=parse_turn_spans(transcript),
                min_harmlessness_score_transcript=float(score),
                num_params=num_params,
                model_type=model_type,
                rating=_RATINGS[rating],
                task_description=task_description,
                task_description_harmlessness_score=None if description_score is None else float(description_score),
                red_team_member_id=member_id,
                is_upworker=is_upworker,
                source_tags=None,
                tag_ids=[],
                content_hash=b"",
                warnings=[],
            )
        )
    except (TurnParseError, UnicodeEncodeError):
        return None


def validate_record(raw: RawRecord, tag_ids: Mapping[str, int]) -> CleanRecord | list[RecordError]:
    return _validate_common_case(raw) or _validate_thoroughly(raw, tag_ids)


def _validate_thoroughly(raw: RawRecord, tag_ids: Mapping[str, int]) -> CleanRecord | list[RecordError]:
    """Check every field of a record and word each problem; the fields are checked in file order."""
    data = raw.data
    if not isinstance(data, dict):
        return [RecordError(raw.index, raw.line, None, f"is {_type_name(data)}, not a JSON object")]
    check = _RecordCheck(raw, data)
    transcript, turn_spans = check.transcript()
    score = check.score()
    num_params = check.known("num_params", _MODEL_SIZES, _MODEL_SIZES_EXPECTED)
    model_type = check.known("model_type", _MODEL_TYPES, _MODEL_TYPES_EXPECTED)
    rating = check.rating()
    task_description = check.task_description()
    description_score = check.description_score()
    member_id = check.member_id()
    is_upworker = check.is_upworker()
    source_tags, mapped = check.tags(tag_ids)
    if check.errors:
        return check.errors
    check.warn_unknown_fields()
    return _with_content_hash(
        CleanRecord(
            index=raw.index,
            line=raw.line,
            transcript=transcript,
            turn_spans=turn_spans,
            min_harmlessness_score_transcript=float(score),
            num_params=num_params,
            model_type=model_type,
            rating=rating,
            task_description=task_description,
            task_description_harmlessness_score=None if description_score is None else float(description_score),
            red_team_member_id=member_id,
            is_upworker=is_upworker,
            source_tags=source_tags,
            tag_ids=mapped,
            content_hash=b"",
            warnings=check.warnings,
        )
    )


class _RecordCheck:
    """The field checks of _validate_thoroughly, collecting the errors and warnings of one record.

    Each check reports its field's problems and returns the value to keep: only when no check
    reported an error are the values used.
    """

    def __init__(self, raw: RawRecord, data: dict[str, Any]) -> None:
        self.index, self.line, self.data = raw.index, raw.line, data
        self.max_chars = settings.TRIAD_IMPORT_MAX_STRING_CHARS
        self.errors: list[RecordError] = []
        self.warnings: list[RecordError] = []

    def fail(self, field_name: str, reason: str) -> None:
        self.errors.append(RecordError(self.index, self.line, field_name, reason))

    def required(self, key: str) -> Any:
        if key not in self.data:
            self.fail(key, "is missing")
            return None
        return self.data[key]

    def transcript(self) -> tuple[Any, list[list[str | int]]]:
        transcript = self.required("transcript")
        if transcript is None:
            return None, []
        if not isinstance(transcript, str):
            self.fail("transcript", f"must be a string, got {_type_name(transcript)}")
        elif problem := _too_long(transcript, self.max_chars):
            self.fail("transcript", problem)
        elif not transcript.strip():
            self.fail("transcript", "is empty")
        elif problem := _storable_text_problem(transcript):
            self.fail("transcript", problem)
        else:
            try:
                return transcript, parse_turn_spans(transcript)
            except TurnParseError as exc:
                self.fail("transcript", f"does not parse into Human/Assistant turns: it {exc}")
        return transcript, []

    def score(self) -> Any:
        score = self.required("min_harmlessness_score_transcript")
        if "min_harmlessness_score_transcript" in self.data and (problem := _number_problem(score, "a finite number")):
            self.fail("min_harmlessness_score_transcript", problem)
        return score

    def known(self, key: str, values: Container[str], expected: str) -> Any:
        value = self.required(key)
        if key in self.data and not (isinstance(value, str) and value in values):
            self.fail(key, f"{_show(value)} is not {expected}")
        return value

    def rating(self) -> int:
        value = self.required("rating")
        if "rating" not in self.data:
            return 0
        if type(value) is int and not 0 <= value <= 4:
            self.fail("rating", f"{_show(value)} is outside 0-4")
        elif not _is_number(value) or not math.isfinite(value):
            self.fail("rating", f"must be a number 0-4, got {_type_name(value)}")
        elif value != int(value):
            self.fail("rating", f"{value} is not a whole number 0-4")
        elif not 0 <= value <= 4:
            self.fail("rating", f"{value:g} is outside 0-4")
        else:
            return int(value)
        return 0

    def task_description(self) -> Any:
        value = self.required("task_description")
        if "task_description" in self.data:
            if not isinstance(value, str):
                self.fail("task_description", f"must be a string, got {_type_name(value)}")
            elif problem := _too_long(value, self.max_chars) or _storable_text_problem(value):
                self.fail("task_description", problem)
        return value

    def description_score(self) -> Any:
        data = self.data
        present = [key for key in (MISSPELLED_SCORE_KEY, SCORE_KEY) if key in data]
        if len(present) == 2 and data[MISSPELLED_SCORE_KEY] != data[SCORE_KEY]:
            self.fail(SCORE_KEY, f"both spellings are present with different values ({MISSPELLED_SCORE_KEY} too)")
            return None
        if not present:
            return None
        value = data[present[0]]
        if value is not None and (problem := _number_problem(value, "a finite number or null")):
            self.fail(present[0], problem)
        return value

    def member_id(self) -> Any:
        value = self.required("red_team_member_id")
        if "red_team_member_id" not in self.data:
            return value
        # Finite first: int() of an infinity or NaN raises.
        if not (_is_number(value) and math.isfinite(value) and value == int(value)):
            self.fail("red_team_member_id", f"must be an integer, got {_type_name(value)}")
            return value
        value = int(value)
        if value < 0:
            self.fail("red_team_member_id", f"{_show(value)} is negative")
        elif value > INT64_MAX:
            self.fail("red_team_member_id", f"{_show(value)} is too large: ids must fit in 64 bits")
        return value

    def is_upworker(self) -> Any:
        value = self.required("is_upworker")
        if "is_upworker" in self.data and not isinstance(value, bool):
            self.fail("is_upworker", f"must be true or false, got {_type_name(value)}")
        return value

    def tags(self, tag_ids: Mapping[str, int]) -> tuple[Any, list[int]]:
        """The raw tags and the ids of the known ones, in order, once each; unknown tags are warned about."""
        source_tags = self.data.get("tags")
        mapped: list[int] = []
        if source_tags is None:
            return None, mapped
        if not isinstance(source_tags, list) or not all(isinstance(tag, str) for tag in source_tags):
            self.fail("tags", f"must be null or a list of strings, got {_type_name(source_tags)}")
            return source_tags, mapped
        problems = [
            (number, problem)
            for number, tag in enumerate(source_tags, 1)
            if (problem := _too_long(tag, self.max_chars) or _storable_text_problem(tag))
        ]
        # Raw tags are kept as jsonb, which refuses \u0000 and lone surrogates just as text does.
        for number, problem in problems:
            self.fail("tags", f"tag {number} {problem}")
        if problems:
            return source_tags, mapped
        for tag in source_tags:
            tag_id = tag_ids.get(tag) or tag_ids.get(normalize_tag(tag))
            if tag_id is None:
                self.warnings.append(
                    RecordError(self.index, self.line, "tags", f"unknown tag {_show(tag)} kept raw, not mapped")
                )
            elif tag_id not in mapped:
                mapped.append(tag_id)
        return source_tags, mapped

    def warn_unknown_fields(self) -> None:
        unknown = sorted(set(self.data) - KNOWN_KEYS)
        if unknown:
            names = ", ".join(_show(name) for name in unknown[:10])
            self.warnings.append(RecordError(self.index, self.line, None, f"ignored unknown fields: {names}"))


def raw_for_reject(raw: RawRecord) -> str:
    """What of a rejected record to keep, so a lead can see and fix it."""
    if raw.data is None and raw.error is not None:
        return ""
    # ASCII escapes keep NUL and lone surrogates storable in any database.
    text = json.dumps(raw.data, default=str)
    if len(text) > MAX_KEPT_REJECT_CHARS:
        return text[:MAX_KEPT_REJECT_CHARS] + f"... [{len(text) - MAX_KEPT_REJECT_CHARS} more characters]"
    return text


# --- the garbage collector during an import ---------------------------------------------

# Allocations between young-generation collections while an import runs (Python's default is 700).
IMPORT_GC_THRESHOLD = 50_000


class _Relaxation:
    """Who is relaxing the collector now, and the thresholds to put back after the last one."""

    lock = threading.Lock()
    users = 0
    saved: tuple[int, ...] = ()


@contextmanager
def collector_relaxed() -> Iterator[None]:
    """Let the garbage collector run less often while importing.

    An import allocates millions of short-lived containers (parsed records, turn spans) and
    keeps a chunk of them, so at Python's default threshold the collector ran about 500 times
    per 38,961 records, some of them full passes over every object Django and the agreement
    libraries loaded: a fifth of the import's CPU. Young collections wait for
    IMPORT_GC_THRESHOLD allocations instead (15 collections, none full); reference counting
    still frees nearly everything at once. Frozen objects (deploy/gunicorn.conf.py freezes a
    worker's start-up) stay frozen. Nested and concurrent users (threads of a web worker)
    share one relaxation: the first sets it, the last restores the thresholds.
    """
    with _Relaxation.lock:
        if _Relaxation.users == 0:
            _Relaxation.saved = gc.get_threshold()
            gc.set_threshold(max(IMPORT_GC_THRESHOLD, _Relaxation.saved[0]), *_Relaxation.saved[1:])
        _Relaxation.users += 1
    try:
        yield
    finally:
        with _Relaxation.lock:
            _Relaxation.users -= 1
            if _Relaxation.users == 0:
                gc.set_threshold(*_Relaxation.saved)
