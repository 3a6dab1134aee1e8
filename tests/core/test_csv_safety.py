"""One rule defuses spreadsheet formulas in every CSV: in Python for the writers, in SQL for COPY."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest
from django.db import connection

from core.csv_safety import FORMULA_PREFIXES, csv_writer, defuse_formula, defuse_formula_sql

FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)", "\tstarts with a tab", "\rstarts with CR"]
HARMLESS = ["a=b", "1+1", "e-mail", " =leading space", "\nstarts with LF", "", "'already quoted", "漢字", "😀=x"]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_starting_like_a_formula_gets_an_apostrophe(text: str) -> None:
    assert defuse_formula(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_other_text_is_left_alone(text: str) -> None:
    assert defuse_formula(text) == text


def test_the_writer_defuses_every_text_cell_and_leaves_numbers_as_numbers() -> None:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["=1+1", -3.25, -2, "-2", None, True])
    writer.writerows([["@me", "ok"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["'=1+1", "-3.25", "-2", "'-2", "", "True"],
        ["'@me", "ok"],
    ]


def test_on_postgresql_the_sql_rule_gives_what_the_python_rule_gives(on_postgres: None) -> None:
    values = [*FORMULAS, *HARMLESS, *(prefix * 3 for prefix in FORMULA_PREFIXES), "\\", "'"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT v, {defuse_formula_sql('v')} FROM unnest(%s::text[]) WITH ORDINALITY AS u(v, n) ORDER BY n",  # noqa: S608
            [values],
        )
        rows = cursor.fetchall()
        cursor.execute(f"SELECT {defuse_formula_sql('NULL::text')}")
        assert cursor.fetchone() == (None,)
    assert [defused for _, defused in rows] == [defuse_formula(value) for value in values]
    assert [value for value, _ in rows] == values


# --- one defuser: no module writes CSV, or states the rule, on its own ----------------------

ROOT = Path(__file__).resolve().parents[2]
CSV_SAFETY = ROOT / "core" / "csv_safety.py"
CSV_WRITERS = {"writer", "DictWriter"}


def _application_modules() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if not {".venv", "tests", "node_modules", "bench"} & set(path.relative_to(ROOT).parts) and path != CSV_SAFETY
    ]


def _raw_csv_writers(path: Path) -> list[str]:
    """Where the module makes a csv writer itself (csv.writer(...), or writer imported from csv)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "csv":
            found.extend(
                f"{path}:{node.lineno} imports csv.{alias.name}" for alias in node.names if alias.name in CSV_WRITERS
            )
        if (
            isinstance(node, ast.Attribute)
            and node.attr in CSV_WRITERS
            and isinstance(node.value, ast.Name)
            and node.value.id == "csv"
        ):
            found.append(f"{path}:{node.lineno} uses csv.{node.attr}")
    return found


def test_the_scan_sees_a_raw_csv_writer(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text("import csv\nfrom csv import DictWriter\n\ncsv.writer(open('x', 'w'))\n")
    assert [finding.split(" ", 1)[1] for finding in _raw_csv_writers(module)] == [
        "imports csv.DictWriter",
        "uses csv.writer",
    ]


def test_every_csv_the_project_writes_goes_through_csv_safety() -> None:
    modules = _application_modules()
    assert any(path.parts[-2:] == ("api", "export.py") for path in modules)
    assert [finding for path in modules for finding in _raw_csv_writers(path)] == []


def test_the_defusing_rule_is_stated_in_csv_safety_only() -> None:
    """A second copy of the formula prefixes, or of the apostrophe rule, would drift from this one."""
    copies = [
        str(path)
        for path in _application_modules()
        if "FORMULA_PREFIXES" in path.read_text()
        or '("=", "+", "-", "@"' in path.read_text()
        or "THEN '''' ||" in path.read_text()
    ]
    assert copies == []
