"""CSV cells a spreadsheet shows as text, never runs as a formula (CSV injection).

A spreadsheet treats a cell that starts with = + - @ (and, in some, tab or carriage return)
as a formula, so a name or note someone typed could fetch a URL or run a command when a
lead opens the download. Every CSV the project writes goes through ``csv_writer``, which
puts an apostrophe before any text cell that starts with one of those characters; the
PostgreSQL COPY export applies the same rule in SQL with ``defuse_formula_sql``, and a
test checks the two agree. Numbers are left alone: -3.25 as a number is not text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The same six characters as SQL literals, in standard_conforming_strings' E'' form for the controls.
_FORMULA_PREFIXES_SQL = ", ".join(
    f"E'\\x{ord(char):02x}'" if not char.isprintable() else f"'{char}'" for char in FORMULA_PREFIXES
)


def defuse_formula(text: str) -> str:
    """The text with an apostrophe in front if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def defuse_formula_sql(expression: str) -> str:
    """defuse_formula as a PostgreSQL expression over a text `expression` (NULL stays NULL)."""
    starts_like_formula = f"left({expression}, 1) IN ({_FORMULA_PREFIXES_SQL})"
    return f"CASE WHEN {starts_like_formula} THEN '''' || {expression} ELSE {expression} END"


class _Writer(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


class DefusingWriter:
    """A csv.writer whose every text cell goes through defuse_formula."""

    def __init__(self, writer: _Writer) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([defuse_formula(cell) if isinstance(cell, str) else cell for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **options: Any) -> DefusingWriter:
    """csv.writer(out, **options), with every text cell defused."""
    return DefusingWriter(csv.writer(out, **options))
