"""A table and a plot as the dashboards show them: rows with CSV download, an SVG figure."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString

from core.csv_safety import csv_writer


@dataclass
class Table:
    name: str
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(self.header)
        writer.writerows([["" if value is None else value for value in row] for row in self.rows])
        return out.getvalue()


# --- plots ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plot:
    title: str
    svg: SafeString
    table: str  # the name of the table it is drawn from
    note: str = ""  # said under the plot, e.g. why a series is missing
