"""The key figures of the review, export and agreement benches, and their before/after comparison.

Each of those benches writes its key figures with --json PATH (figures_write). A bench script
from an older revision has no --json, so bench/compare.py reads the figures from what it
printed instead (PARSERS): one small parser per bench, which must give the same names, units
and directions as that bench's --json (tests/bench/test_figures.py checks both on one run's
output). Nothing here imports Django or the project's modules, so it runs without a database.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

# Which way a figure is better: "higher" (rows/s), "lower" (seconds, ms, MB, ratios to a
# baseline), "zero" (a count of violations, which must be 0), or "info": a figure measured
# outside the project's code (statsmodels alone), printed for scale and never flagged.
DIRECTIONS = ("higher", "lower", "zero", "info")
# Below this many rounds a side, every current round being worse than every base round happens
# by chance too often (1 time in 2 with one round, 1 in 6 with two; 1 in 20 with three).
MIN_ROUNDS = 3


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    better: str

    def __post_init__(self) -> None:
        if self.better not in DIRECTIONS:
            raise ValueError(f"{self.name}: better must be one of {DIRECTIONS}, not {self.better!r}")


def figures_write(path: str | Path, *, bench: str, figures: list[Figure]) -> None:
    """Write a bench's figures as JSON (NaN, for a latency with no samples, is written as null)."""
    rows = [{**asdict(figure), "value": None if math.isnan(figure.value) else figure.value} for figure in figures]
    Path(path).write_text(json.dumps({"bench": bench, "figures": rows}, indent=1) + "\n")


def figures_read(path: str | Path) -> list[Figure]:
    data = json.loads(Path(path).read_text())
    return [
        Figure(row["name"], math.nan if row["value"] is None else float(row["value"]), row["unit"], row["better"])
        for row in data["figures"]
    ]


def loop_labels(clients: list[int]) -> list[str]:
    """Names of review_loop's HTTP loops, in order: "30 clients", and "30 clients #2" for a repeated count."""
    seen: dict[int, int] = {}
    labels = []
    for count in clients:
        seen[count] = seen.get(count, 0) + 1
        label = f"{count} client{'s' if count != 1 else ''}"
        labels.append(label if seen[count] == 1 else f"{label} #{seen[count]}")
    return labels


# --- reading the printed output (for a base revision whose bench has no --json) ----------------


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def review_loop_parse(text: str) -> list[Figure]:
    """The per-loop report lines (one block per --clients entry) and the million-item summary rows."""
    clients: list[int] = []
    loops: list[dict[str, float]] = []
    million: list[Figure] = []
    for line in text.splitlines():
        if match := re.match(r"(\d+) client\(s\), \d+ reviewers, study ", line):
            clients.append(int(match[1]))
            loops.append({})
        elif loops and (match := re.match(r"  [\d,]+ reviews in [\d.]+ s = ([\d.]+) reviews/s", line)):
            loops[-1]["reviews/s"] = _number(match[1])
        elif loops and (match := re.match(r"  claim  p50 / p95 / p99\s+([\d.]+|nan) /", line)):
            loops[-1]["claim p50"] = _number(match[1])
        elif loops and (match := re.match(r"  submit p50 / p99\s+([\d.]+|nan) /", line)):
            loops[-1]["submit p50"] = _number(match[1])
        elif loops and (match := re.match(r"  pages  p50 / p99\s+([\d.]+|nan) /", line)):
            loops[-1]["pages p50"] = _number(match[1])
        elif match := re.match(r"\d+ clients?(?: #\d+)?: must-be-zero counts\s+([\d,]+)", line):
            # The summary rows come after every loop, in the same order.
            pending = [loop for loop in loops if "must-be-zero counts" not in loop]
            if pending:
                pending[0]["must-be-zero counts"] = _number(match[1])
        elif match := re.match(r"([\d,]+)-item study build\s+([\d.]+) s", line):
            million.append(Figure(f"{match[1]}-item study build", _number(match[2]), "s", "lower"))
        elif match := re.match(r"([\d,]+)-item claim p50/p95\s+([\d.]+|nan) /", line):
            million.append(Figure(f"{match[1]}-item study claim p50", _number(match[2]), "ms", "lower"))
        elif match := re.match(r"claim p50 ratio large / small\s+([\d.]+|nan) x", line):
            million.append(Figure("claim p50 large / small", _number(match[1]), "x", "lower"))
        elif match := re.match(r"([\d,]+)-item expert claim p50/p95\s+([\d.]+|nan) /", line):
            million.append(Figure(f"{match[1]}-item study expert claim p50", _number(match[2]), "ms", "lower"))
        elif match := re.match(r"expert claim p50 ratio large / small\s+([\d.]+|nan) x", line):
            million.append(Figure("expert claim p50 large / small", _number(match[1]), "x", "lower"))
    units = {
        "reviews/s": ("reviews/s", "higher"),
        "claim p50": ("ms", "lower"),
        "submit p50": ("ms", "lower"),
        "pages p50": ("ms", "lower"),
        "must-be-zero counts": ("", "zero"),
    }
    figures = []
    for label, loop in zip(loop_labels(clients), loops, strict=True):
        for key, (unit, better) in units.items():
            if key in loop:
                figures.append(Figure(f"{label}: {key}", loop[key], unit, better))
    return figures + million


def export_bench_parse(text: str) -> list[Figure]:
    """The per-format report (with HTTP), or the one line per format that --skip-http prints."""
    figures: list[Figure] = []
    section = ""
    patterns = [
        (r"  HTTP export\s+[\d.]+ s\s+([\d,.]+|nan) rows/s", "HTTP rows/s", "rows/s", "higher"),
        (r"  worker peak RSS\s+([\d.]+) MB", "worker peak RSS", "MB", "lower"),
        (r"  in-process export\s+[\d.]+ s\s+([\d,.]+|nan) rows/s", "in-process rows/s", "rows/s", "higher"),
        (r"  COPY baseline\s+[\d.]+ s\s+([\d,.]+|nan) rows/s", "COPY rows/s", "rows/s", "higher"),
        (r"  HTTP / COPY\s+([\d.]+) x", "HTTP / COPY", "x", "lower"),
    ]
    for line in text.splitlines():
        if match := re.match(r"([A-Z]+), [\d,]+ labels, median of", line):
            section = match[1]
        elif match := re.match(
            r"([A-Z]+): in-process [\d.]+ s = ([\d,.]+) rows/s; COPY [\d.]+ s = ([\d,.]+) rows/s; ratio ([\d.]+)x", line
        ):
            figures += [
                Figure(f"{match[1]}: in-process rows/s", _number(match[2]), "rows/s", "higher"),
                Figure(f"{match[1]}: COPY rows/s", _number(match[3]), "rows/s", "higher"),
                Figure(f"{match[1]}: in-process / COPY", _number(match[4]), "x", "lower"),
            ]
        elif section:
            for pattern, name, unit, better in patterns:
                if match := re.match(pattern, line):
                    figures.append(Figure(f"{section}: {name}", _number(match[1]), unit, better))
    return figures


def agreement_bench_parse(text: str) -> list[Figure]:
    patterns = [
        (r"Full computation \(.*\), best / median: [\d.]+ / ([\d.]+) s", "full computation, median", "s", "lower"),
        (r"  loading the ratings:\s+[\d.]+ / ([\d.]+) s", "loading the ratings, median", "s", "lower"),
        (r"Consensus task after it \(.*\), best / median: [\d.]+ / ([\d.]+) s", "consensus task, median", "s", "lower"),
        (r"  computing agreement and figures:\s+[\d.]+ / ([\d.]+) s", "agreement and figures, median", "s", "lower"),
        (r"  \S*fleiss_from_counts:\s+([\d.]+) ms", "kappa + interval, fleiss_from_counts", "ms", "lower"),
        (r"  naive statsmodels \(.*\):\s+([\d.]+) ms", "kappa + interval, naive statsmodels", "ms", "info"),
        (r"  for scale: one statsmodels fleiss_kappa call .*: ([\d.]+) ms", "one fleiss_kappa call", "ms", "info"),
        (r"Dashboard .*: p50 ([\d.]+) ms", "dashboard p50", "ms", "lower"),
        (r"Dashboard .*, p95 ([\d.]+) ms", "dashboard p95", "ms", "lower"),
        (
            r"  in the snapshot, from its loaded ratings:\s+[\d.]+ / ([\d.]+) s",
            "reviewer quality in the snapshot, median",
            "s",
            "lower",
        ),
        (
            r"  on read \(the overall page\), load \+ compute:\s+[\d.]+ / ([\d.]+) s",
            "reviewer quality on read, median",
            "s",
            "lower",
        ),
        (r"  leave-one-out kappa .*, vectorised: ([\d.]+) ms", "leave-one-out vectorised", "ms", "lower"),
        (r"  baseline: leave-one-out .*: ([\d.]+) ms", "leave-one-out reviewer by reviewer", "ms", "info"),
        (r"Reviewers page .*: p50 ([\d.]+) ms", "reviewers page p50", "ms", "lower"),
    ]
    figures = []
    for line in text.splitlines():
        for pattern, name, unit, better in patterns:
            if match := re.match(pattern, line):
                figures.append(Figure(name, _number(match[1]), unit, better))
    return figures


PARSERS: dict[str, Callable[[str], list[Figure]]] = {
    "review_loop": review_loop_parse,
    "export_bench": export_bench_parse,
    "agreement_bench": agreement_bench_parse,
}


# --- before / after -------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One figure over the rounds of both sides: medians, ranges, ratio and verdict."""

    name: str
    unit: str
    better: str
    base: list[float]
    current: list[float]

    @property
    def ratio(self) -> float:
        """Current median over base median (NaN when either side has no value or the base is 0)."""
        base, current = _median(self.base), _median(self.current)
        return current / base if base else math.nan

    def verdict(self, tolerance: float) -> str:
        """The verdict on the current side, given a tolerance (0.10: 10% worse).

        REGRESSION when the medians differ by more than the tolerance the wrong way and every
        current run is worse than every base run (with at least MIN_ROUNDS runs a side); "worse,
        within noise" when the medians differ that much but the runs overlap; "better" and
        "better, within noise" likewise; empty otherwise. A must-be-zero count is FAIL when any
        current run counted something.
        """
        base, current = [v for v in self.base if not math.isnan(v)], [v for v in self.current if not math.isnan(v)]
        if self.better == "zero":
            return "FAIL" if any(value != 0 for value in current) else ""
        if self.better == "info" or not base or not current or math.isnan(self.ratio):
            return ""
        higher = self.better == "higher"
        worse = self.ratio < 1 - tolerance if higher else self.ratio > 1 + tolerance
        better = self.ratio > 1 + tolerance if higher else self.ratio < 1 - tolerance
        if not worse and not better:
            return ""
        if min(len(base), len(current)) < MIN_ROUNDS:
            return ("worse" if worse else "better") + f", under {MIN_ROUNDS} rounds: noise untold"
        # Separated: the worst run of the better side beats the best run of the other side.
        if worse:
            separated = max(current) < min(base) if higher else min(current) > max(base)
            return "REGRESSION" if separated else "worse, within noise"
        separated = min(current) > max(base) if higher else max(current) < min(base)
        return "better" if separated else "better, within noise"


def _median(values: list[float]) -> float:
    values = [value for value in values if not math.isnan(value)]
    return statistics.median(values) if values else math.nan


def rows_collect(base_runs: list[list[Figure]], current_runs: list[list[Figure]]) -> list[Row]:
    """One row per figure name, in the order the current side reports them (then any the base alone has)."""
    names: dict[str, Figure] = {}
    for runs in (current_runs, base_runs):
        for figures in runs:
            for figure in figures:
                names.setdefault(figure.name, figure)

    def values(runs: list[list[Figure]], name: str) -> list[float]:
        return [figure.value for figures in runs for figure in figures if figure.name == name]

    return [
        Row(name, figure.unit, figure.better, values(base_runs, name), values(current_runs, name))
        for name, figure in names.items()
    ]


def value_format(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 10:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _cell(values: list[float]) -> str:
    """The median and, for more than one run, the range."""
    present = [value for value in values if not math.isnan(value)]
    if not present:
        return "—"
    text = value_format(statistics.median(present))
    if len(present) > 1:
        text += f" ({value_format(min(present))}-{value_format(max(present))})"
    return text


def table_lines(bench: str, rows: list[Row], tolerance: float) -> list[str]:
    """A Markdown table: figure, base and current median (range over the rounds), ratio, verdict."""
    lines = [
        f"| {bench} | unit | better | base | current | current / base | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = "" if math.isnan(row.ratio) else f"{row.ratio:.2f}x"
        better = {"info": "baseline, not flagged", "zero": "must be 0"}.get(row.better, row.better)
        lines.append(
            f"| {row.name} | {row.unit} | {better} | {_cell(row.base)} | {_cell(row.current)} | {ratio}"
            f" | {row.verdict(tolerance)} |"
        )
    return lines
