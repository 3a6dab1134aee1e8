"""Starting a large study: the lead's request, the time to "active", and the old synchronous start.

    python bench/study_start_bench.py [--items 1000000] [--database-url postgres://postgres@127.0.0.1:5432/triad_life_start_bench]
                                      [--redis-url redis://127.0.0.1:6379/5] [--json PATH]

It recreates a scratch PostgreSQL database, migrates it, writes --items transcripts with
set-based SQL (bench/review_loop.py's builders) and two draft studies of every one of them
(3 reviewers per item, so 3 slots an item).

Baseline, measured first in the same run: the synchronous start (study_start, what the lead's
request used to run: every slot in one statement, then ANALYZE) on the first study.

Then a real Celery worker (prefork, one process) on the Redis database --redis-url names (its
queue is purged first), and the lead's request on the second study through Django's test client
with a signed-in lead: POST /lead/studies/<id>/status action=start, timed to its response (the
target is under 200 ms). The bench then polls the start-progress JSON, as the page's script does,
timing each poll, until the study is active, and prints the time from the request to "active",
the slots made, and one claim on the started study. The worker is stopped (by its own pid) at the end.

The baseline runs on an empty slot table and the worker's start on one holding the baseline's
slots, which makes the worker's start look slower than it would be alone, not faster.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from figures import Figure, figures_write
from review_loop import import_batch_create, migrate, transcripts_check, transcripts_insert
from scratch_db import recreate_database

ROOT = Path(__file__).resolve().parent.parent
WORKER_READY_SECONDS = 60.0
ACTIVE_DEADLINE_SECONDS = 900.0
PASSWORD = "bench-study-start-password"  # noqa: S105 - scratch accounts in a scratch database


def django_setup(database_url: str, redis_url: str) -> None:
    """Django in this process on the scratch database, with Redis as the broker (not eager)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_DEBUG"] = "false"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def draft_build(*, name: str, batch_id: int, reviewers: list[Any], chunk: int = 250_000) -> tuple[Any, float]:
    """A draft study over every transcript of the batch, in transcript order; returns it and the seconds taken."""
    from django.db import connection

    from review.models import Study, StudyItem
    from review.services.studies import study_members_set
    from transcripts.models import Transcript

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(id), max(id), count(*) FROM {Transcript._meta.db_table} WHERE import_batch_id = %s",
            [batch_id],
        )
        low, high, count = cursor.fetchone()
    study = Study.objects.create(
        name=name, seed=batch_id, reviewers_per_item=3, strata=[{"filters": {}, "size": count, "available": count}]
    )
    sql = f"""
        INSERT INTO {StudyItem._meta.db_table} (study_id, transcript_id, position, stratum)
        SELECT %s, id, id - %s + 1, 'all' FROM {Transcript._meta.db_table} WHERE id BETWEEN %s AND %s
    """
    for chunk_low in range(low, high + 1, chunk):
        with connection.cursor() as cursor:
            cursor.execute(sql, [study.pk, low, chunk_low, min(high, chunk_low + chunk - 1)])
    study_members_set(study=study, reviewers=reviewers)
    return study, time.perf_counter() - started


def worker_start(database_url: str, redis_url: str, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env["DJANGO_DEBUG"] = "false"
    celery = str(Path(sys.executable).with_name("celery"))
    subprocess.run(
        [celery, "-A", "config", "purge", "-f"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60
    )
    log = log_path.open("wb")
    return subprocess.Popen(
        [celery, "-A", "config", "worker", "-l", "info", "--concurrency", "1", "-O", "fair", "-n", "startbench@%h"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def worker_wait(process: subprocess.Popen[bytes], log_path: Path) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < WORKER_READY_SECONDS:
        if process.poll() is not None:
            sys.exit(f"the Celery worker exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
        if " ready." in log_path.read_text(errors="replace"):
            return time.perf_counter() - started
        time.sleep(0.2)
    sys.exit(f"the Celery worker was not ready within {WORKER_READY_SECONDS:.0f} s:\n{log_path.read_text()[-3000:]}")


def worker_stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the worker and its pool child
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/triad_life_start_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--json", metavar="PATH", help="Also write the key figures to PATH (for bench/compare.py).")
    options = parser.parse_args()

    print(f"scratch database {options.database_url}: recreating and migrating ...", flush=True)
    recreate_database(options.database_url)
    migrate(options.database_url)
    django_setup(options.database_url, options.redis_url)

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.services import account_ensure
    from review.models import Slot, Study, StudyStatus
    from review.services.studies import START_BATCH_ITEMS, study_start
    from workspace.services import work_claim

    if settings.CELERY_TASK_ALWAYS_EAGER:
        sys.exit("Celery is eager: REDIS_URL did not reach the settings")
    items = options.items
    reviewers = [
        account_ensure(username=f"bench-reviewer-{n}", password=PASSWORD, roles=["reviewer"]) for n in (1, 2, 3)
    ]
    lead = account_ensure(username="bench-lead", password=PASSWORD, roles=["lead"])

    print(f"building {items:,} transcripts and two draft studies of them ...", flush=True)
    started = time.perf_counter()
    batch_id = import_batch_create(f"{items} items")
    transcripts_insert(first=10_000_001, count=items, batch_id=batch_id, progress=True)
    transcripts_check([10_000_001, 10_000_000 + items])
    baseline_study, _ = draft_build(name="baseline: synchronous start", batch_id=batch_id, reviewers=reviewers)
    study, _ = draft_build(name="the lead's start, by a worker", batch_id=batch_id, reviewers=reviewers)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) review_transcript, review_studyitem")
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)

    print("baseline: study_start (synchronous, one statement, as the lead's request used to run) ...", flush=True)
    started = time.perf_counter()
    study_start(study=baseline_study)
    baseline_seconds = time.perf_counter() - started
    print(f"  {baseline_seconds:.1f} s", flush=True)

    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"study_start_bench_worker_{os.getpid()}.log"  # noqa: S108
    worker = worker_start(options.database_url, options.redis_url, log_path)
    try:
        print(f"Celery worker (pid {worker.pid}) ready in {worker_wait(worker, log_path):.1f} s; log {log_path}")
        client = Client()
        client.force_login(lead)
        client.get("/lead/studies/")  # warm the process: URLconf, templates, the session
        started = time.perf_counter()
        response = client.post(f"/lead/studies/{study.pk}/status", {"action": "start"})
        request_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 302:
            sys.exit(f"the start request answered {response.status_code}")
        print(f"the lead's start request: {request_ms:.1f} ms (HTTP {response.status_code})", flush=True)

        polls: list[float] = []
        last_report = 0.0
        while True:
            poll_started = time.perf_counter()
            progress = client.get(f"/lead/studies/{study.pk}/start-progress").json()
            polls.append(time.perf_counter() - poll_started)
            elapsed = time.perf_counter() - started
            if progress["status"] != StudyStatus.STARTING:
                break
            if elapsed > ACTIVE_DEADLINE_SECONDS:
                sys.exit(f"not active after {ACTIVE_DEADLINE_SECONDS:.0f} s: {progress}")
            if elapsed - last_report >= 5:
                print(f"  {elapsed:5.1f} s: {progress['done']:>9,} of {progress['total']:,} items ready", flush=True)
                last_report = elapsed
            time.sleep(0.5)
        active_seconds = time.perf_counter() - started
        if progress["status"] != StudyStatus.ACTIVE:
            sys.exit(f"the start ended {progress['status']}, not active")
        slots = Slot.objects.filter(study=study).count()
        claimed = work_claim(study_id=study.pk, reviewer=reviewers[0])
    finally:
        worker_stop(worker)

    status = Study.objects.values_list("status", flat=True).get(pk=study.pk)
    poll_p50 = statistics.median(polls) * 1000
    rows = [
        ("items (3 slots each)", f"{items:,}", ""),
        ("baseline: synchronous start", f"{baseline_seconds:.1f} s", "what the lead's request used to wait for"),
        ("the lead's start request", f"{request_ms:.1f} ms", "target < 200 ms; POST .../status action=start"),
        ("request to active (worker)", f"{active_seconds:.1f} s", f"batches of {START_BATCH_ITEMS:,} items"),
        ("start-progress poll p50", f"{poll_p50:.1f} ms", f"{len(polls)} polls while starting"),
        ("slots made / expected", f"{slots:,} / {3 * items:,}", f"status {status}"),
        ("a claim once active", "ok" if claimed is not None else "NOTHING CLAIMED", ""),
    ]
    width = max(len(row[0]) for row in rows)
    print()
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>18}  {note}")
    if slots != 3 * items or claimed is None:
        sys.exit("the started study is wrong: see above")
    if options.json:
        figures_write(
            options.json,
            bench="study_start",
            figures=[
                Figure("synchronous start (baseline)", baseline_seconds, "s", "lower"),
                Figure("lead's start request", request_ms, "ms", "lower"),
                Figure("request to active", active_seconds, "s", "lower"),
                Figure("start-progress poll p50", poll_p50, "ms", "lower"),
            ],
        )


if __name__ == "__main__":
    main()
