"""Labels export benchmark: a 1,000,000-label study streamed as JSONL and CSV over HTTP by gunicorn, on PostgreSQL.

    python bench/export_bench.py [--labels 1000000] [--runs 3]
        [--database-url postgres://postgres@127.0.0.1:5432/triad_export_bench]

It recreates a scratch database, migrates it and writes with set-based SQL a started study
of ceil(labels / 3) transcripts with exactly --labels reviews (3 per item; slots 'done'),
carrying 0-2 tags, expertise domains and notes with quotes, newlines, commas, backslashes
and formula-like starts. The study shares notes, so they are exported too. Then, for each
format and --runs times:

- HTTP: gunicorn (deploy/gunicorn.conf.py, 2 workers, production settings over plain
  HTTP) serves GET /api/v1/studies/{id}/labels/export?format=..., read with requests in
  1 MiB pieces by a lead logged in through the form. Rows received are counted (CSV
  records by quote parity, since notes hold newlines) and must equal --labels. The VmRSS
  of the gunicorn workers is sampled every 50 ms while the export streams;
- in-process: review.api.export.labels_export consumed in this process, without HTTP;
- baseline: the export's own COPY statement (labels_copy_statement, so the same rows and
  columns) read with psycopg into a null sink.

It prints rows/s, wall time, bytes and peak worker RSS next to the targets (>= 50,000
rows/s, < 200 MB RSS, within 5x of COPY). Every figure is measured in this run; there are
no figures of other tools here, since they were not measured alongside.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from figures import Figure, figures_write
from review_loop import (
    PASSWORD,
    BenchError,
    accounts_create,
    django_setup,
    import_batch_create,
    login,
    migrate,
    served,
    server_tracebacks,
    transcripts_insert,
    vacuum_analyze,
)
from scratch_db import recreate_database

REVIEWERS = 30
LEAD = "bench-export-lead"
MIB = 1024 * 1024
HTTP_TIMEOUT = 600.0
RSS_INTERVAL = 0.05
ENDPOINT_WAIT = 2400.0  # the endpoint may still be being built when the bench starts
TARGET_ROWS_PER_SECOND = 50_000
TARGET_RSS_BYTES = 200 * 1000 * 1000
TARGET_COPY_RATIO = 5.0
# Cycled over the reviews: mostly empty like real notes, and every kind of text that has to
# be quoted or escaped somewhere.
NOTES = [
    "",
    "",
    "",
    "",
    "Clear refusal, nothing harmful.",
    'He said "no", then asked again,\nand again; the model held firm.',
    '=HYPERLINK("http://example.com") looks like a formula but is a note',
    "back\\slash, a\ttab and a comma, in one note",
    "Windows line\r\nbreaks and </script> and 😀",
    "-3 points for tone; +1 for the refusal @ the end",
]
DOMAINS = ["chemistry", "cybersecurity", "medicine, clinical", 'law "US"', "+finance"]


# --- data (set-based SQL) -----------------------------------------------------------------


def data_build(labels: int) -> Any:
    """A started, notes-sharing study with exactly `labels` reviews, 3 per item; returns the study."""
    from django.db import connection

    from accounts.services import account_ensure
    from review.models import Review, Slot, Study, StudyItem, StudyStatus
    from review.services.studies import study_members_set
    from tagging.models import Tag
    from transcripts.models import Transcript

    items = math.ceil(labels / 3)
    started = time.perf_counter()
    batch_id = import_batch_create(f"export bench {items} items")
    transcripts_insert(first=1, count=items, batch_id=batch_id, progress=True)
    reviewers = accounts_create(REVIEWERS)
    account_ensure(username=LEAD, password=PASSWORD, roles=["lead"])
    study = Study.objects.create(
        name=f"Export bench {labels:,} labels",
        seed=1,
        reviewers_per_item=3,
        status=StudyStatus.ACTIVE,
        strata=[{"filters": {}, "size": items, "available": items}],
        api_share_notes=True,
    )
    study_members_set(study=study, reviewers=reviewers)
    reviewer_ids = [user.pk for user in reviewers]
    tag_ids = list(Tag.objects.order_by("position").values_list("id", flat=True))
    if len(tag_ids) < 6:
        raise BenchError(f"expected the seeded tag vocabulary, found {len(tag_ids)} tags")
    transcript, item, slot = Transcript._meta.db_table, StudyItem._meta.db_table, Slot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.5)")
        # Scores in hundredths between -10 and 10, so the export writes varied floats.
        cursor.execute(
            f"UPDATE {transcript} SET is_upworker = mod(source_index, 3) = 0,"
            " min_harmlessness_score_transcript = (mod(source_index::bigint * 7919, 2001) - 1000) / 100.0"
            " WHERE import_batch_id = %s",
            [batch_id],
        )
        cursor.execute(
            f"INSERT INTO {item} (study_id, transcript_id, position, stratum)"
            f" SELECT %s, id, source_index, 'all' FROM {transcript} WHERE import_batch_id = %s",
            [study.pk, batch_id],
        )
        # Slot n of the item at position p is reviewer (p + 7n) mod 30's: three different people.
        # Slots past the label count stay open, so the study holds exactly `labels` reviews.
        cursor.execute(
            f"""
            INSERT INTO {slot}
                (study_id, item_id, number, position, author_member_id, item_done, status, holder_id, leased_at)
            SELECT i.study_id, i.id, n, i.position, t.red_team_member_id,
                   least(3, %(labels)s - 3 * (i.position - 1)),
                   CASE WHEN 3 * (i.position - 1) + n <= %(labels)s THEN 'done' ELSE 'open' END,
                   CASE WHEN 3 * (i.position - 1) + n <= %(labels)s
                        THEN (%(reviewers)s::bigint[])[1 + mod(i.position + 7 * n, {REVIEWERS})] END,
                   now() - interval '1 day'
            FROM {item} i JOIN {transcript} t ON t.id = i.transcript_id
            CROSS JOIN generate_series(1, 3) n
            WHERE i.study_id = %(study)s
            ORDER BY i.position, n
            """,
            {"labels": labels, "reviewers": reviewer_ids, "study": study.pk},
        )
    print(f"  {items:,} transcripts, items and slots in {time.perf_counter() - started:.1f} s", flush=True)
    reviews_insert(study_id=study.pk, items=items, tag_ids=tag_ids)
    print(f"  VACUUM (ANALYZE) in {vacuum_analyze():.1f} s", flush=True)
    count = Review.objects.filter(study=study).count()
    if count != labels:
        raise BenchError(f"built {count:,} reviews, not {labels:,}")
    return study


def reviews_insert(*, study_id: int, items: int, tag_ids: list[int], chunk: int = 100_000) -> None:
    """One review for every done slot, `chunk` items a statement, in slot order so review ids follow it."""
    from django.db import connection

    from review.models import Review, Slot

    sql = f"""
        INSERT INTO {Review._meta.db_table}
            (slot_id, item_id, study_id, reviewer_id, rating, first_tag_id, second_tag_id, needs_expertise,
             expertise_domain, note, seconds_on_task, author_member_id, reviewer_member_id, created_at)
        SELECT s.id, s.item_id, s.study_id, s.holder_id, mod(s.position * 7 + s.number * 3, 5),
               CASE WHEN mod(s.id, 4) <> 0 THEN (%(tags)s::bigint[])[1 + mod(s.id, %(tag_count)s)] END,
               CASE WHEN mod(s.id, 4) = 1 THEN (%(tags)s::bigint[])[1 + mod(s.id + 3, %(tag_count)s)] END,
               mod(s.id, 7) = 0,
               CASE WHEN mod(s.id, 7) = 0 THEN (%(domains)s::text[])[1 + mod(s.id, %(domain_count)s)] ELSE '' END,
               (%(notes)s::text[])[1 + mod(s.id, %(note_count)s)],
               30 + mod(s.id, 300), s.author_member_id, NULL,
               now() - random() * interval '30 days'
        FROM {Slot._meta.db_table} s
        WHERE s.study_id = %(study)s AND s.status = 'done' AND s.position BETWEEN %(low)s AND %(high)s
        ORDER BY s.id
    """
    params = {
        "tags": tag_ids,
        "tag_count": len(tag_ids),
        "domains": DOMAINS,
        "domain_count": len(DOMAINS),
        "notes": NOTES,
        "note_count": len(NOTES),
        "study": study_id,
    }
    started = time.perf_counter()
    for low in range(1, items + 1, chunk):
        high = min(items, low + chunk - 1)
        with connection.cursor() as cursor:
            cursor.execute(sql, {**params, "low": low, "high": high})
        print(
            f"  reviews of items {high:>9,} / {items:,}  ({time.perf_counter() - started:.1f} s)",
            flush=True,
        )


# --- counting what arrives ------------------------------------------------------------------


class RowCounter:
    """Rows in a stream of export bytes: lines for JSONL; for CSV, newlines outside quotes, less the header.

    JSON escapes newlines inside strings, so a JSONL newline always ends a row. A CSV note can
    hold newlines, but only inside a quoted field, and a doubled quote inside one flips the
    parity twice, so counting the newlines seen at even quote parity counts records.
    """

    def __init__(self, export_format: str) -> None:
        self.csv = export_format == "csv"
        self.newlines = 0
        self.size = 0
        self.inside_quotes = False

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if not self.csv:
            self.newlines += chunk.count(b"\n")
            return
        pieces = chunk.split(b'"')
        outside = pieces[1::2] if self.inside_quotes else pieces[0::2]
        self.newlines += b"".join(outside).count(b"\n")
        if len(pieces) % 2 == 0:  # an odd number of quotes in this chunk
            self.inside_quotes = not self.inside_quotes

    @property
    def rows(self) -> int:
        return self.newlines - 1 if self.csv else self.newlines


# --- the gunicorn workers' memory ---------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # The command name is in parentheses and may hold spaces; the parent pid follows it.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def gunicorn_workers() -> list[int]:
    """Pids of the workers of the gunicorn this process started (its only other child)."""
    masters = [pid for pid in _children(os.getpid()) if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    if len(masters) != 1:
        raise BenchError(f"expected one gunicorn master among this process's children, found {masters}")
    return _children(masters[0])


def vm_rss(pid: int) -> int:
    """Resident memory of a process, in bytes (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the VmRSS of some processes every RSS_INTERVAL seconds in a thread, keeping each one's peak."""

    def __init__(self, pids: list[int]) -> None:
        self.peaks = {pid: vm_rss(pid) for pid in pids}
        self.before = dict(self.peaks)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(RSS_INTERVAL):
            for pid in self.peaks:
                self.peaks[pid] = max(self.peaks[pid], vm_rss(pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def busiest(self) -> tuple[int, int]:
        """(peak, RSS before the export) of the worker whose memory peaked highest."""
        pid = max(self.peaks, key=self.peaks.__getitem__)
        return self.peaks[pid], self.before[pid]


# --- the three ways to read the export -------------------------------------------------------


@dataclass
class Run:
    seconds: float
    rows: int
    size: int
    peak_rss: int = 0
    rss_before: int = 0

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else math.nan


def http_export(session: requests.Session, url: str, export_format: str) -> Run:
    counter = RowCounter(export_format)
    with RssSampler(gunicorn_workers()) as sampler:
        started = time.perf_counter()
        with session.get(url, params={"format": export_format}, stream=True, timeout=HTTP_TIMEOUT) as response:
            if response.status_code != 200:
                raise BenchError(f"GET {response.url} answered {response.status_code}: {response.text[:300]}")
            for chunk in response.iter_content(chunk_size=MIB):
                counter.feed(chunk)
        seconds = time.perf_counter() - started
    peak, before = sampler.busiest
    return Run(seconds, counter.rows, counter.size, peak, before)


def in_process_export(study: Any, export_format: str) -> Run:
    from api.export import labels_export

    counter = RowCounter(export_format)
    started = time.perf_counter()
    for chunk in labels_export(study=study, export_format=export_format):
        counter.feed(chunk)
    return Run(time.perf_counter() - started, counter.rows, counter.size)


def copy_baseline(study: Any, export_format: str) -> Run:
    """The export's own COPY statement into a null sink: what the database and psycopg cost alone."""
    from django.db import connection

    from api.export import labels_copy_statement

    statement, params = labels_copy_statement(study=study, export_format=export_format)
    rows = size = 0
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for data in copy:  # one COPY message a row
            rows += 1
            size += len(data)
    seconds = time.perf_counter() - started
    return Run(seconds, rows - (export_format == "csv"), size)


def warm_up(session: requests.Session, url: str) -> str:
    """One untimed JSONL export (it warms PostgreSQL's cache), polling while the endpoint answers 404,
    for at most ENDPOINT_WAIT seconds; returns the ETag the server sent."""
    deadline = time.perf_counter() + ENDPOINT_WAIT
    while True:
        with session.get(url, params={"format": "jsonl"}, stream=True, timeout=HTTP_TIMEOUT) as response:
            if response.status_code == 200:
                for _ in response.iter_content(chunk_size=MIB):
                    pass
                return response.headers.get("ETag", "")
        if response.status_code != 404 or time.perf_counter() > deadline:
            raise BenchError(f"GET {response.url} answered {response.status_code}: {response.text[:300]}")
        print(f"  {url} answers 404: not wired yet, asking again in 30 s", flush=True)
        time.sleep(30)


def not_modified(session: requests.Session, url: str, etag: str) -> int:
    """The status of a conditional request with the export's own ETag: 304 if the server honours it."""
    with session.get(
        url, params={"format": "jsonl"}, headers={"If-None-Match": etag}, stream=True, timeout=HTTP_TIMEOUT
    ) as response:
        return response.status_code


# --- reporting -----------------------------------------------------------------------------


def median_run(runs: Iterable[Run]) -> Run:
    """The run of median time, carrying the highest peak RSS of all the runs and that run's RSS before."""
    ordered = sorted(runs, key=lambda run: run.seconds)
    middle = ordered[(len(ordered) - 1) // 2]
    highest = max(ordered, key=lambda run: run.peak_rss)
    return Run(middle.seconds, middle.rows, middle.size, highest.peak_rss, highest.rss_before)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(export_format: str, labels: int, http: list[Run], local: list[Run], copy: list[Run]) -> list[str]:
    h, p, c = median_run(http), median_run(local), median_run(copy)
    ratio = h.seconds / c.seconds
    mb = 1e6
    return [
        f"{export_format.upper()}, {labels:,} labels, median of {len(http)} runs (all runs: "
        + ", ".join(f"{run.seconds:.2f}" for run in http)
        + " s)",
        f"  HTTP export       {h.seconds:7.2f} s  {h.rate:>9,.0f} rows/s  {h.size / mb:8.1f} MB"
        f"   target >= {TARGET_ROWS_PER_SECOND:,} rows/s: {verdict(h.rate >= TARGET_ROWS_PER_SECOND)}",
        f"  worker peak RSS   {h.peak_rss / mb:7.1f} MB   target < {TARGET_RSS_BYTES / mb:.0f} MB:"
        f" {verdict(h.peak_rss < TARGET_RSS_BYTES)}  ({h.rss_before / mb:.1f} MB just before the export, so the"
        f" export added {(h.peak_rss - h.rss_before) / mb:+.1f} MB; the rest was there before it: the app as"
        " loaded, and what the login and the warm-up export left; bench/worker_memory.py measures an idle worker)",
        f"  in-process export {p.seconds:7.2f} s  {p.rate:>9,.0f} rows/s   (labels_export without HTTP)",
        f"  COPY baseline     {c.seconds:7.2f} s  {c.rate:>9,.0f} rows/s  {c.size / mb:8.1f} MB   (same statement,"
        " null sink)",
        f"  HTTP / COPY       {ratio:7.2f} x"
        f"   target within {TARGET_COPY_RATIO:.0f}x: {verdict(ratio <= TARGET_COPY_RATIO)}",
    ]


def key_figures(results: dict[str, dict[str, list[Run]]], skip_http: bool) -> list[Figure]:
    """The figures bench/compare.py compares, as printed (figures.export_bench_parse reads the same)."""
    figures = []
    for export_format, runs in results.items():
        name = export_format.upper()
        local, copy = median_run(runs["local"]), median_run(runs["copy"])
        if skip_http:
            figures += [
                Figure(f"{name}: in-process rows/s", local.rate, "rows/s", "higher"),
                Figure(f"{name}: COPY rows/s", copy.rate, "rows/s", "higher"),
                Figure(f"{name}: in-process / COPY", local.seconds / copy.seconds, "x", "lower"),
            ]
            continue
        http = median_run(runs["http"])
        figures += [
            Figure(f"{name}: HTTP rows/s", http.rate, "rows/s", "higher"),
            Figure(f"{name}: worker peak RSS", http.peak_rss / 1e6, "MB", "lower"),
            Figure(f"{name}: in-process rows/s", local.rate, "rows/s", "higher"),
            Figure(f"{name}: COPY rows/s", copy.rate, "rows/s", "higher"),
            Figure(f"{name}: HTTP / COPY", http.seconds / copy.seconds, "x", "lower"),
        ]
    return figures


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="Timed exports of each kind and format.")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/triad_export_bench")
    parser.add_argument("--skip-http", action="store_true", help="Only the in-process export and the COPY baseline.")
    parser.add_argument("--json", metavar="PATH", help="Also write the key figures to PATH (for bench/compare.py).")
    options = parser.parse_args()
    if options.labels < 1 or options.runs < 1:
        parser.error("--labels and --runs must be positive")

    print(f"recreating {options.database_url} and migrating ...", flush=True)
    recreate_database(options.database_url)
    migrate(options.database_url)
    django_setup(options.database_url)
    from api.export import EXPORT_FORMATS

    print(f"building a study of {options.labels:,} labels with set-based SQL ...", flush=True)
    started = time.perf_counter()
    study = data_build(options.labels)
    print(f"  data built in {time.perf_counter() - started:.1f} s", flush=True)

    results: dict[str, dict[str, list[Run]]] = {fmt: {"http": [], "local": [], "copy": []} for fmt in EXPORT_FORMATS}

    def measure_locally(export_format: str) -> None:
        local = in_process_export(study, export_format)
        copy = copy_baseline(study, export_format)
        for kind, run in (("local", local), ("copy", copy)):
            if run.rows != options.labels:
                raise BenchError(f"{kind} {export_format}: {run.rows:,} rows, not {options.labels:,}")
            results[export_format][kind].append(run)
        print(
            f"  {export_format}: in-process {local.seconds:.2f} s ({local.rate:,.0f} rows/s),"
            f" COPY {copy.seconds:.2f} s ({copy.rate:,.0f} rows/s)",
            flush=True,
        )

    log_path = Path(tempfile.mkdtemp(prefix="triad-export-bench-")) / "gunicorn.log"
    if options.skip_http:
        for _ in range(options.runs):
            for export_format in EXPORT_FORMATS:
                measure_locally(export_format)
    else:
        with served(options.database_url, log_path) as base_url:
            url = f"{base_url}/api/v1/studies/{study.pk}/labels/export"
            session = login(base_url, LEAD, PASSWORD)
            print(f"warming up with one untimed JSONL export of {url} ...", flush=True)
            logged_in = {pid: vm_rss(pid) / 1e6 for pid in gunicorn_workers()}
            etag = warm_up(session, url)
            warm = {pid: vm_rss(pid) / 1e6 for pid in logged_in}
            print(
                "  workers' RSS (MB) after the login -> after the warm-up export: "
                + ", ".join(f"{pid}: {logged_in[pid]:.1f} -> {warm[pid]:.1f}" for pid in logged_in),
                flush=True,
            )
            status = not_modified(session, url, etag)
            print(f"  ETag {etag}; asking again with If-None-Match answers {status}", flush=True)
            if status != 304:
                raise BenchError(f"If-None-Match with the export's own ETag answered {status}, not 304")
            print(f"streaming {url} (workers {gunicorn_workers()}) ...", flush=True)
            for number in range(1, options.runs + 1):
                for export_format in EXPORT_FORMATS:
                    run = http_export(session, url, export_format)
                    print(
                        f"  run {number} {export_format}: HTTP {run.seconds:.2f} s ({run.rate:,.0f} rows/s),"
                        f" {run.size / 1e6:.1f} MB, worker peak RSS {run.peak_rss / 1e6:.1f} MB",
                        flush=True,
                    )
                    if run.rows != options.labels:
                        raise BenchError(f"HTTP {export_format}: {run.rows:,} rows received, not {options.labels:,}")
                    results[export_format]["http"].append(run)
                    measure_locally(export_format)
                    # Pseudonyms have a fixed length, so the server (another SECRET_KEY) sends as many bytes.
                    if run.size != results[export_format]["local"][-1].size:
                        raise BenchError(
                            f"HTTP {export_format} sent {run.size:,} bytes, in-process made a different size"
                        )
        tracebacks = server_tracebacks(log_path)
        print(f"gunicorn stopped; {len(tracebacks)} traceback(s) in {log_path}")
        for block in tracebacks[:3]:
            print("    " + block.replace("\n", "\n    "))

    print()
    for export_format in EXPORT_FORMATS:
        runs = results[export_format]
        if options.skip_http:
            local = median_run(runs["local"])
            copy = median_run(runs["copy"])
            print(
                f"{export_format.upper()}: in-process {local.seconds:.2f} s = {local.rate:,.0f} rows/s;"
                f" COPY {copy.seconds:.2f} s = {copy.rate:,.0f} rows/s; ratio {local.seconds / copy.seconds:.2f}x"
            )
            continue
        for line in report(export_format, options.labels, runs["http"], runs["local"], runs["copy"]):
            print(line)
    if options.json:
        figures_write(options.json, bench="export_bench", figures=key_figures(results, options.skip_http))


if __name__ == "__main__":
    main()
