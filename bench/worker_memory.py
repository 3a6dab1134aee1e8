"""Web worker memory benchmark: one gunicorn worker's RSS idle and after serving the lead dashboard, on PostgreSQL.

    python bench/worker_memory.py [--items 38961] [--requests 10] [--with-snapshot]
        [--database-url postgres://postgres@127.0.0.1:5432/triad_worker_memory_bench]

It recreates a scratch database, migrates it and writes with set-based SQL a started study of
--items transcripts with 3 reviews each (bench/agreement_bench.py's data). Then it serves the
app with gunicorn (deploy/gunicorn.conf.py, production settings over plain HTTP, no Celery
broker, as bench/review_loop.py does) with one worker, so every request lands on it, and reads
that worker's memory from /proc at each step:

- idle: after start-up and the health check;
- after a lead logs in through the form;
- after the first GET of the lead dashboard. Without --with-snapshot a refresh of the
  study's agreement snapshot is pending, as after any submit, so this request computes it as
  a deployment without a broker does (the dashboard settles it in the request), loading
  scipy and statsmodels into the worker; with it, the page only reads the snapshot;
- after --requests more dashboard requests.

RSS counts every resident page, shared ones included; PSS divides each shared page among the
processes that map it, so it is the worker's own share. The master's RSS is shown too.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from agreement_bench import data_build
from export_bench import _children, gunicorn_workers, vm_rss
from review_loop import BenchError, django_setup, login, migrate, served, server_tracebacks
from scratch_db import recreate_database

HTTP_TIMEOUT = 600.0
MB = 1e6


def pss(pid: int) -> int:
    """Proportional set size of a process, in bytes (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=38_961)
    parser.add_argument("--requests", type=int, default=10, help="Dashboard requests after the first.")
    parser.add_argument(
        "--with-snapshot", action="store_true", help="Compute the agreement snapshot before serving, in this process."
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/triad_worker_memory_bench")
    options = parser.parse_args()
    if options.items < 1 or options.requests < 0:
        parser.error("--items must be positive and --requests not negative")

    print(f"recreating {options.database_url} and migrating ...", flush=True)
    recreate_database(options.database_url)
    migrate(options.database_url)
    django_setup(options.database_url)
    study, lead = data_build(options.items)
    from agreement.services import agreement_refresh_request, agreement_snapshot_refresh

    if options.with_snapshot:
        agreement_snapshot_refresh(study_id=study.pk)  # type: ignore[attr-defined]
        print("  agreement snapshot computed before serving", flush=True)
    else:
        # What a submit does: without a broker the request stays pending and the dashboard settles it.
        agreement_refresh_request(study_id=study.pk)  # type: ignore[attr-defined]

    log_path = Path(tempfile.mkdtemp(prefix="triad-worker-memory-")) / "gunicorn.log"
    steps: list[tuple[str, int, int, float | None]] = []
    with served(options.database_url, log_path, workers=1) as base_url:
        workers = gunicorn_workers()
        if len(workers) != 1:
            raise BenchError(f"expected one gunicorn worker, found {workers}")
        worker = workers[0]
        master = next(iter(_master_pids()))

        def step(name: str, seconds: float | None = None) -> None:
            steps.append((name, vm_rss(worker), pss(worker), seconds))
            print(f"  {name}: RSS {vm_rss(worker) / MB:.1f} MB, PSS {pss(worker) / MB:.1f} MB", flush=True)

        time.sleep(1)
        step("idle, after start-up and the health check")
        session = login(base_url, lead.username, "bench-agreement")  # type: ignore[attr-defined]
        step("after the lead's login")
        url = f"{base_url}/lead/studies/{study.pk}/"  # type: ignore[attr-defined]
        started = time.perf_counter()
        response = session.get(url, timeout=HTTP_TIMEOUT)
        if response.status_code != 200:
            raise BenchError(f"GET {url} answered {response.status_code}")
        first = "after the first dashboard" + ("" if options.with_snapshot else " (computes the snapshot)")
        step(first, time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(options.requests):
            response = session.get(url, timeout=HTTP_TIMEOUT)
            if response.status_code != 200:
                raise BenchError(f"GET {url} answered {response.status_code}")
        step(f"after {options.requests} more dashboards", (time.perf_counter() - started) / max(options.requests, 1))
        master_rss = vm_rss(master)
    tracebacks = server_tracebacks(log_path)
    if tracebacks:
        raise BenchError(f"{len(tracebacks)} traceback(s) in {log_path}:\n{tracebacks[0]}")

    print()
    print(
        f"One gunicorn worker (deploy/gunicorn.conf.py, its threads, no broker), study of {options.items:,} items"
        f" x 3 reviews; master RSS {master_rss / MB:.1f} MB"
    )
    print(f"{'step':<58}{'RSS':>10}{'PSS':>10}   seconds per request")
    for name, rss, proportional, seconds in steps:
        timing = "" if seconds is None else f"{seconds:.2f} s"
        print(f"{name:<58}{rss / MB:>7.1f} MB{proportional / MB:>7.1f} MB   {timing}")


def _master_pids() -> list[int]:
    return [pid for pid in _children(os.getpid()) if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()]


if __name__ == "__main__":
    main()
