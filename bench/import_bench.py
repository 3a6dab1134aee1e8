"""Import benchmark: `import_transcripts` against a raw COPY of the same rows, on PostgreSQL.

    python bench/import_bench.py [--records 38961] [--rounds 3]
        [--database-url postgres://postgres@127.0.0.1:5432/triad_bench]

It generates N records in the released format (one gzipped JSON array, 1-4 exchanges and
50-400 words per transcript, the released proportions of model types, sizes and ratings).
Then, --rounds times, it recreates a scratch database, times `manage.py import_transcripts`
in a child process (its peak RSS and CPU time read from wait4) and, right after it in the
same round, a psycopg COPY of the same rows into a plain table in the same database, and an
INSERT ... SELECT of the imported rows into an empty copy of the import's table (the
server's share of the import, as a floor). Each round's ratio compares loads made under the
same conditions, which matters on a shared machine: the figures are the median and range
over the rounds, all from this run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from scratch_db import recreate_database

ROOT = Path(__file__).resolve().parent.parent
_WORD_TEXT = """
the a to of and in is it you that for on with can how what my do this be are your have about
would like tell me could please make know help there some think want people really just time way
good question answer friend neighbour garden recipe weather music story idea plan school work
cake bread dog cat park city walk book game movie holiday family coffee tea morning evening
"""
WORDS = _WORD_TEXT.split()
MODEL_TYPES = [("plain lm", 5152), ("context distillation", 21957), ("rejection sampling", 3981), ("rlhf", 7871)]
SIZES = [("52B", 23507), ("13B", 8316), ("2.7B", 7138)]
RATINGS = [(0.0, 16475), (1.0, 4367), (2.0, 4936), (3.0, 4249), (4.0, 8934)]
TAGS = ["Discrimination & injustice", "Violence & incitement", "Theft", "Fraud & deception", "Other"]


def _weighted(rng: random.Random, pairs: list[tuple[object, int]]) -> object:
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def generate(count: int, seed: int = 2022) -> list[dict[str, object]]:
    rng = random.Random(seed)
    records = []
    for number in range(count):
        exchanges = rng.randint(1, 4)
        total_words = rng.randint(50, 400)
        per_turn = max(3, total_words // (2 * exchanges))
        turns = []
        for _ in range(exchanges):
            turns.append(f"\n\nHuman: {_sentence(rng, max(3, per_turn // 2))} ({number})")
            turns.append(f"\n\nAssistant: {_sentence(rng, per_turn + per_turn // 2)}")
        records.append(
            {
                "transcript": "".join(turns),
                "min_harmlessness_score_transcript": round(rng.uniform(-7.5, 6.6), 6),
                "num_params": _weighted(rng, SIZES),
                "model_type": _weighted(rng, MODEL_TYPES),
                "rating": _weighted(rng, RATINGS),
                "task_description": _sentence(rng, rng.randint(5, 25)),
                "task_descripton_harmlessness_score": round(rng.uniform(-3, 3), 6),
                "red_team_member_id": rng.randint(0, 323),
                "is_upworker": rng.random() < 0.4,
                "tags": rng.sample(TAGS, rng.randint(1, 2)) if rng.random() < 0.019 else None,
            }
        )
    return records


@dataclass(frozen=True)
class ChildRun:
    wall: float  # seconds, start-up included
    peak_rss: int  # bytes, the child's own
    cpu: float  # the child's user + system seconds
    output: str


def run_child(args: list[str], env: dict[str, str]) -> ChildRun:
    """Run a child through bench/peak_rss.py; return its wall time, own peak RSS, CPU time and output."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "peak_rss.py"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}")
    peak = re.search(r"^peak_rss_bytes (\d+)$", result.stdout, re.MULTILINE)
    cpu = re.search(r"^cpu_seconds ([0-9.]+)$", result.stdout, re.MULTILINE)
    if peak is None or cpu is None:
        sys.exit(f"no peak RSS or CPU time reported by bench/peak_rss.py:\n{result.stdout}")
    return ChildRun(wall, int(peak.group(1)), float(cpu.group(1)), result.stdout)


COPY_COLUMNS = [
    ("transcript", "text"),
    ("min_harmlessness_score_transcript", "double precision"),
    ("num_params", "varchar(8)"),
    ("model_type", "varchar(32)"),
    ("rating", "smallint"),
    ("task_description", "text"),
    ("task_description_harmlessness_score", "double precision"),
    ("red_team_member_id", "bigint"),
    ("is_upworker", "boolean"),
    ("tags", "jsonb"),
]


def time_copy(url: str, records: list[dict[str, object]]) -> float:
    """Seconds for a text-format COPY of the records' released fields into a plain table."""
    rows = [
        (
            r["transcript"],
            r["min_harmlessness_score_transcript"],
            r["num_params"],
            r["model_type"],
            int(r["rating"]),  # type: ignore[call-overload]
            r["task_description"],
            r["task_descripton_harmlessness_score"],
            r["red_team_member_id"],
            r["is_upworker"],
            None if r["tags"] is None else json.dumps(r["tags"]),
        )
        for r in records
    ]
    columns = ", ".join(f"{name} {kind}" for name, kind in COPY_COLUMNS)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_baseline")
        conn.execute(f"CREATE TABLE bench_copy_baseline (id bigserial PRIMARY KEY, {columns})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor:
            names = ", ".join(name for name, _ in COPY_COLUMNS)
            with cursor.copy(f"COPY bench_copy_baseline ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy_baseline")
        conn.commit()
    return elapsed


@dataclass(frozen=True)
class Round:
    import_seconds: float  # as the command reports it: the import alone, without start-up
    wall: float
    peak_rss: int
    cpu: float
    copy_seconds: float
    floor_seconds: float

    @property
    def ratio(self) -> float:
        return self.import_seconds / self.copy_seconds


def time_table_floor(url: str) -> float:
    """Seconds to insert the rows the import stored into an empty copy of its table, indexes and all.

    INSERT ... SELECT inside PostgreSQL: no client, no parsing of input, so it is a floor for
    the server's share of the import, which the bare COPY baseline does not pay (the unique
    content_hash index, the stratum index, the constraints, the jsonb turn spans).
    """
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_table_floor")
        conn.execute("CREATE TABLE bench_table_floor (LIKE review_transcript INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        conn.execute("INSERT INTO bench_table_floor SELECT * FROM review_transcript")
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_table_floor")
        conn.commit()
    return elapsed


def import_round(url: str, env: dict[str, str], data_file: Path, records: list[dict[str, object]]) -> Round:
    """One round: a fresh database, the import, then the COPY baseline right after it, under the same load."""
    recreate_database(url)
    run_child([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], env)
    child = run_child([sys.executable, "manage.py", "import_transcripts", "--no-progress", str(data_file)], env)
    match = re.search(r"(\d+) created.* in ([0-9.]+)s", child.output)
    if not match or int(match.group(1)) != len(records):
        sys.exit(f"unexpected import output:\n{child.output}")
    copy_seconds = time_copy(url, records)
    floor_seconds = time_table_floor(url)
    return Round(float(match.group(2)), child.wall, child.peak_rss, child.cpu, copy_seconds, floor_seconds)


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    """Median and range, the way every figure of this bench is reported."""
    return f"{statistics.median(values):.{digits}f}{unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=38_961)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/triad_bench")
    parser.add_argument(
        "--rounds", "--runs", type=int, default=3, help="Rounds of import then COPY; median and range are shown."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the generated file and print its path.")
    options = parser.parse_args()
    if options.records < 1 or options.rounds < 1:
        parser.error("--records and --rounds must be positive")

    print(f"generating {options.records:,} records in the released format ...", flush=True)
    records = generate(options.records)
    workdir = Path(tempfile.mkdtemp(prefix="triad-bench-"))
    data_file = workdir / "red_team_attempts.jsonl.gz"
    with gzip.open(data_file, "wt", encoding="utf-8") as handle:
        json.dump(records, handle)
    raw_size = sum(len(r["transcript"]) for r in records)  # type: ignore[arg-type]
    print(f"  {data_file.stat().st_size / 1e6:.1f} MB gzipped, {raw_size / 1e6:.1f} MB of transcript text")

    env = {**os.environ, "DATABASE_URL": options.database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("REDIS_URL", None)
    rounds: list[Round] = []
    for number in range(1, options.rounds + 1):
        print(f"round {number}/{options.rounds}: fresh database, import_transcripts, then COPY ...", flush=True)
        result = import_round(options.database_url, env, data_file, records)
        rounds.append(result)
        print(
            f"  import {result.import_seconds:.2f} s (peak RSS {result.peak_rss / 2**20:.1f} MB,"
            f" CPU {result.cpu:.2f} s), COPY {result.copy_seconds:.2f} s: {result.ratio:.2f}x;"
            f" table floor {result.floor_seconds:.2f} s",
            flush=True,
        )

    n = options.records
    imports = [r.import_seconds for r in rounds]
    rss = max(r.peak_rss for r in rounds) / 2**20
    ratios = [r.ratio for r in rounds]
    print()
    print(f"{n:,} records, {options.rounds} rounds (each: import, then COPY right after); median (range)")
    rows = [
        ("import_transcripts (in the command)", spread(imports, " s"), f"{n / statistics.median(imports):,.0f} rec/s"),
        ("import process wall time", spread([r.wall for r in rounds], " s"), "with start-up"),
        ("import process CPU (user + system)", spread([r.cpu for r in rounds], " s"), "with start-up"),
        ("import peak RSS", f"{rss:.1f} MB", f"largest round; target < 150 MB: {'ok' if rss < 150 else 'MISSED'}"),
        ("COPY baseline", spread([r.copy_seconds for r in rounds], " s"), "text COPY into a plain table"),
        ("table floor (INSERT ... SELECT)", spread([r.floor_seconds for r in rounds], " s"), "server side only"),
        ("table floor / COPY, per round", spread([r.floor_seconds / r.copy_seconds for r in rounds], "x"), ""),
        (
            "import / COPY, per round",
            spread(ratios, "x"),
            f"target <= 3x: {'ok' if statistics.median(ratios) <= 3 else 'MISSED'} (median)",
        ),
    ]
    for label, value, note in rows:
        print(f"{label:<38}{value:>24}   {note}")
    if options.keep:
        print(f"data file: {data_file}")
    else:
        data_file.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
