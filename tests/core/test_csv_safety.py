"""One rule defuses spreadsheet formulas in every CSV: in Python for the writers, in SQL for COPY."""

from __future__ import annotations

import csv
import io

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
