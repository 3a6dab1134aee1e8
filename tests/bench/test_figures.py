"""The benches' key figures: reading them back from printed output, and the before/after verdicts.

The fixtures are one run of each bench at small sizes (review_loop with two 5-client loops,
--pages and a 20,000-item study; export_bench with and without HTTP; agreement_bench), each
saved with what it printed and what its --json wrote. bench/compare.py falls back to reading
the printed output for a base revision whose benches have no --json, so the two must agree.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.figures import PARSERS, Figure, Row, figures_read, figures_write, loop_labels, rows_collect, table_lines

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize(
    ("bench", "stem"),
    [
        ("review_loop", "review_loop"),
        ("export_bench", "export_bench"),
        ("export_bench", "export_bench_skip_http"),
        ("agreement_bench", "agreement_bench"),
    ],
)
def test_a_bench_s_printed_output_reads_back_as_the_figures_its_json_holds(bench: str, stem: str) -> None:
    written = figures_read(FIXTURES / f"{stem}.json")
    parsed = PARSERS[bench]((FIXTURES / f"{stem}.txt").read_text())

    assert [(f.name, f.unit, f.better) for f in parsed] == [(f.name, f.unit, f.better) for f in written]
    for read, exact in zip(parsed, written, strict=True):
        # Printed with 0 to 3 decimals: the parsed value is the JSON one, rounded.
        assert read.value == pytest.approx(exact.value, rel=0.005, abs=0.051), read.name


def test_the_review_loop_fixture_covers_pages_a_repeated_client_count_and_the_large_study() -> None:
    names = [figure.name for figure in PARSERS["review_loop"]((FIXTURES / "review_loop.txt").read_text())]

    assert "5 clients: pages p50" in names
    assert "5 clients #2: must-be-zero counts" in names
    assert "claim p50 large / small" in names


def test_a_repeated_client_count_gets_a_numbered_name() -> None:
    assert loop_labels([30, 1, 30]) == ["30 clients", "1 client", "30 clients #2"]


def test_figures_go_through_json_with_nan_as_null(tmp_path: Path) -> None:
    figures = [Figure("1 client: claim p50", math.nan, "ms", "lower"), Figure("x", 2.5, "s", "lower")]
    figures_write(tmp_path / "figures.json", bench="review_loop", figures=figures)

    assert '"value": null' in (tmp_path / "figures.json").read_text()
    back = figures_read(tmp_path / "figures.json")
    assert math.isnan(back[0].value)
    assert back[1] == figures[1]


def test_a_figure_with_an_unknown_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="better must be one of"):
        Figure("x", 1.0, "s", "faster")


def test_a_latency_worse_in_every_round_beyond_the_tolerance_is_a_regression() -> None:
    row = Row("claim p50", "ms", "lower", base=[100.0, 104.0, 98.0], current=[115.0, 120.0, 112.0])

    assert row.ratio == pytest.approx(115 / 100)
    assert row.verdict(0.10) == "REGRESSION"


def test_a_latency_worse_in_median_but_overlapping_the_base_rounds_is_within_noise() -> None:
    row = Row("claim p50", "ms", "lower", base=[100.0, 104.0, 125.0], current=[96.0, 120.0, 130.0])

    assert row.verdict(0.10) == "worse, within noise"


def test_with_fewer_than_three_rounds_a_side_a_worse_median_is_not_called_a_regression() -> None:
    row = Row("claim p50", "ms", "lower", base=[100.0, 101.0], current=[130.0, 131.0])

    assert row.verdict(0.10) == "worse, under 3 rounds: noise untold"


def test_lower_throughput_is_worse_and_higher_throughput_better() -> None:
    slower = Row("reviews/s", "reviews/s", "higher", base=[60.0, 62.0, 61.0], current=[50.0, 52.0, 51.0])
    faster = Row("reviews/s", "reviews/s", "higher", base=[50.0, 52.0, 51.0], current=[60.0, 62.0, 61.0])

    assert slower.verdict(0.10) == "REGRESSION"
    assert faster.verdict(0.10) == "better"


def test_a_difference_within_the_tolerance_has_no_verdict() -> None:
    row = Row("dashboard p50", "ms", "lower", base=[30.0, 30.5, 31.0], current=[32.0, 32.5, 33.0])

    assert row.verdict(0.10) == ""


def test_a_violation_count_fails_whenever_the_current_side_counts_one() -> None:
    assert Row("must-be-zero counts", "", "zero", base=[0.0, 0.0], current=[0.0, 1.0]).verdict(0.10) == "FAIL"
    assert Row("must-be-zero counts", "", "zero", base=[2.0], current=[0.0]).verdict(0.10) == ""


def test_a_baseline_outside_the_project_code_is_never_flagged() -> None:
    row = Row("one fleiss_kappa call", "ms", "info", base=[1.0, 1.0], current=[5.0, 5.0])

    assert row.verdict(0.10) == ""


def test_a_figure_only_one_side_reports_gets_a_row_with_a_dash_on_the_other() -> None:
    base = [[Figure("JSONL: HTTP rows/s", 100_000.0, "rows/s", "higher")]] * 2
    current = [[Figure("JSONL: HTTP rows/s", 110_000.0, "rows/s", "higher"), Figure("new", 1.0, "s", "lower")]] * 2

    rows = rows_collect(base, current)
    lines = table_lines("export_bench", rows, 0.10)

    assert [row.name for row in rows] == ["JSONL: HTTP rows/s", "new"]
    assert rows[0].ratio == pytest.approx(1.1)
    assert "| new | s | lower | — | 1.000 (1.000-1.000) |  |  |" in lines
