"""Before/after: the review, export and agreement benches on a base revision and on the working tree, in one run.

    python bench/compare.py [--base REV] [--benches review,export,agreement] [--rounds 3] [--tolerance 0.10]
        [--review-args="..."] [--export-args="..."] [--agreement-args="..."]
        [--database-url postgres://postgres@127.0.0.1:5432/triad_compare] [--log-dir DIR] [--keep-databases]

The base revision is checked out into a temporary detached git worktree (removed at the end).
Each side runs its OWN copy of each bench script, with its own tree as working directory and
PYTHONPATH (so each imports its own modules, wherever a refactor put them), under this Python
(the shared venv), on its own scratch database: <database-url>_<bench>_base and _current,
recreated by the bench each run and dropped at the end.

--base defaults to the merge-base of HEAD and main when HEAD is a branch ahead of main (what
the branch changed, plus uncommitted changes); otherwise to HEAD when tracked files have
uncommitted changes; otherwise to HEAD~1. `--base HEAD` with a clean tree measures identical
code twice, which shows how far apart two measurements of the same thing land.

Each round runs every chosen bench on both sides back to back, base first in odd rounds and
current first in even ones, so that a machine getting busier or quieter during the run weighs on
both sides alike. The table gives, per key figure, the median of the rounds on each side with
their range, the ratio of the medians, and a verdict: REGRESSION when the current median is
worse than the base one by more than --tolerance AND every current round is worse than every
base round (given at least 3 rounds); "worse, within noise" when the medians differ that much
but the rounds overlap.
With 3 rounds a side, identical code separates that way by chance 1 time in 20 (per figure and
direction), so a REGRESSION is worth a second look, not a proof; more rounds make it stronger.
Baselines that measure no project code (statsmodels alone) are shown and never flagged. A
must-be-zero count (items reviewed 4 times, HTTP errors) is FAIL whenever the current side
counted any. The exit status is 1 if anything is REGRESSION or FAIL, or a bench failed.

Sizes (--review-args and friends replace the defaults below for that bench): the full-size
benches take 10-20 minutes each, so the defaults are shrunk for a comparison of all three,
3 rounds on 2 sides, to take about 10 minutes on the 2-core development VM:
- review: 30 clients (the headline load) on a 300-item study (900 reviews, about 15 s of
  load), no million-item study (about 2 minutes to build; run it on its own when claims change);
- export: 100,000 labels (a tenth; the rows/s and HTTP / COPY ratio hold, each export lasts
  about 1 s), 2 timed runs of each kind;
- agreement: 10,000 items (a quarter of the released size), 5 runs of each computation, 30
  dashboard requests.
Per-bench logs and JSON figures are kept in --log-dir.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from figures import PARSERS, Figure, figures_read, rows_collect, table_lines, value_format
from scratch_db import drop_database

ROOT = Path(__file__).resolve().parent.parent
BENCHES = {
    "review": ("review_loop", ["--clients", "30", "--items", "300", "--skip-million", "--deadline", "120"]),
    "export": ("export_bench", ["--labels", "100000", "--runs", "2"]),
    "agreement": ("agreement_bench", ["--items", "10000", "--runs", "5", "--requests", "30"]),
}
SIDES = ("base", "current")
STOP_WAIT = 30.0


def git(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def git_ok(*args: str) -> bool:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False).returncode == 0


def tracked_changes() -> bool:
    return bool(git("status", "--porcelain", "--untracked-files=no"))


def base_default() -> tuple[str, str]:
    """The revision to compare against when --base is not given, and why it was chosen."""
    head = git("rev-parse", "HEAD")
    if git_ok("rev-parse", "--verify", "--quiet", "main^{commit}"):
        merge_base = git("merge-base", "HEAD", "main")
        if merge_base != head:
            return merge_base, "the merge-base of HEAD and main"
    if tracked_changes():
        return "HEAD", "HEAD, since tracked files have uncommitted changes"
    return "HEAD~1", "HEAD~1, since HEAD is not ahead of main and nothing is uncommitted"


def describe(revision: str) -> str:
    line = git("log", "-1", "--format=%h %s", revision)
    return line if len(line) <= 72 else line[:71] + "…"


def side_database(url: str, key: str, side: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{key}_{side}"))


@dataclass
class Outcome:
    figures: dict[str, list[list[Figure]]] = field(default_factory=lambda: {side: [] for side in SIDES})
    failures: list[str] = field(default_factory=list)


def bench_run(command: list[str], *, tree: Path, log_path: Path) -> tuple[int, float]:
    """Run one bench in its tree, output to log_path; its own process group, so that Ctrl-C here
    reaches it and the gunicorn it started, and both stop cleanly before this script goes on."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env["PYTHONPATH"] = str(tree)
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = process.wait()
        except KeyboardInterrupt:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            raise
    return code, time.perf_counter() - started


def figures_of(bench: str, json_path: Path, log_path: Path) -> tuple[list[Figure], str]:
    """The run's figures from its --json file, or parsed from its output when its script has no --json."""
    if json_path.exists():
        return figures_read(json_path), "json"
    return PARSERS[bench](log_path.read_text(errors="replace")), "parsed"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--base", help="The revision to compare the working tree with (default: see below).")
    parser.add_argument(
        "--benches",
        default=",".join(BENCHES),
        help=f"Comma list of benches to run, among {', '.join(BENCHES)} (default: all).",
    )
    parser.add_argument("--rounds", type=int, default=3, help="Runs of each bench on each side (default 3).")
    parser.add_argument(
        "--tolerance", type=float, default=0.10, help="How much worse a median may be before it counts (0.10: 10%%)."
    )
    for key, (_, defaults) in BENCHES.items():
        parser.add_argument(
            f"--{key}-args",
            default=shlex.join(defaults),
            help=f"Arguments for both sides' {key} bench, replacing the defaults (default: {shlex.join(defaults)!r}); "
            f"write it --{key}-args='...'.",
        )
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/triad_compare",
        help="Stem of the scratch databases: each bench and side gets <stem>_<bench>_<side>.",
    )
    parser.add_argument("--log-dir", type=Path, help="Where each run's output and figures go (default: a new one).")
    parser.add_argument("--keep-databases", action="store_true", help="Leave the scratch databases in place.")
    options = parser.parse_args()
    keys = [key.strip() for key in options.benches.split(",") if key.strip()]
    if unknown := [key for key in keys if key not in BENCHES]:
        parser.error(f"unknown bench(es) {unknown}; choose among {', '.join(BENCHES)}")
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")

    if options.base:
        base_revision, why = git("rev-parse", "--verify", f"{options.base}^{{commit}}"), f"--base {options.base}"
    else:
        revision, why = base_default()
        base_revision = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    current = describe("HEAD") + (" + uncommitted changes" if tracked_changes() else "")
    log_dir = options.log_dir or Path(tempfile.mkdtemp(prefix="triad-compare-logs-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="triad-compare-"))
    base_tree = scratch / "base"
    print(f"base: {describe(base_revision)} ({why}); current: the working tree, {current}", file=sys.stderr)
    git("worktree", "add", "--detach", "--quiet", str(base_tree), base_revision)
    trees = {"base": base_tree, "current": ROOT}
    load_before = os.getloadavg()
    started = time.perf_counter()
    outcomes = {key: Outcome() for key in keys}
    databases: set[str] = set()
    try:
        plan = [
            (number, key, side)
            for number in range(1, options.rounds + 1)
            for key in keys
            for side in (SIDES if number % 2 else SIDES[::-1])
        ]
        for index, (number, key, side) in enumerate(plan, start=1):
            bench, _ = BENCHES[key]
            script = trees[side] / "bench" / f"{bench}.py"
            stem = f"{key}-{side}-{number}"
            log_path, json_path = log_dir / f"{stem}.log", log_dir / f"{stem}.json"
            prefix = f"[{index:>2}/{len(plan)}] round {number}/{options.rounds} {key:<9} {side:<7}"
            if not script.exists():
                outcomes[key].failures.append(f"{side}: no {script.relative_to(trees[side])} in that tree")
                print(f"{prefix} skipped: no such script", file=sys.stderr)
                continue
            database_url = side_database(options.database_url, key, side)
            databases.add(database_url)
            command = [sys.executable, str(script), *shlex.split(getattr(options, f"{key}_args"))]
            command += ["--database-url", database_url]
            if '"--json"' in script.read_text():
                command += ["--json", str(json_path)]
            print(f"{prefix} ...", end="", flush=True, file=sys.stderr)
            code, seconds = bench_run(command, tree=trees[side], log_path=log_path)
            if code != 0:
                outcomes[key].failures.append(f"{side} round {number}: exit {code}, see {log_path}")
                tail = log_path.read_text(errors="replace").splitlines()[-5:]
                print(f" FAILED (exit {code}, {seconds:.0f} s):\n    " + "\n    ".join(tail), file=sys.stderr)
                continue
            figures, source = figures_of(bench, json_path, log_path)
            if not figures:
                outcomes[key].failures.append(f"{side} round {number}: no figures found in {log_path}")
            outcomes[key].figures[side].append(figures)
            headline = f"{figures[0].name} {value_format(figures[0].value)} {figures[0].unit}" if figures else "none"
            print(f" {seconds:5.1f} s  {headline}  ({len(figures)} figures, {source})", file=sys.stderr)
    finally:
        git("worktree", "remove", "--force", str(base_tree))
        shutil.rmtree(scratch, ignore_errors=True)
        if not options.keep_databases:
            for database_url in sorted(databases):
                drop_database(database_url)

    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()
    print(f"Base: {describe(base_revision)} ({why})")
    print(f"Current: the working tree, {current}")
    print(
        f"{options.rounds} round(s) a side, alternating; {elapsed / 60:.1f} min; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; tolerance {options.tolerance:.0%}; "
        "cells: median (range)"
    )
    bad = False
    for key in keys:
        outcome = outcomes[key]
        bench, _ = BENCHES[key]
        print()
        print(f"`bench/{bench}.py {getattr(options, f'{key}_args')}`")
        print()
        rows = rows_collect(outcome.figures["base"], outcome.figures["current"])
        for line in table_lines(bench, rows, options.tolerance):
            print(line)
        for failure in outcome.failures:
            print(f"- FAILED: {failure}")
        bad |= bool(outcome.failures) or any(row.verdict(options.tolerance) in {"REGRESSION", "FAIL"} for row in rows)
    print()
    print(f"Logs and figures of every run: {log_dir}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
