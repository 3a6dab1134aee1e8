"""The lead's wellbeing dashboard, built: the month's board from its stored publications, the
tables behind its CSV downloads and its plots (wellbeing/PRIVACY.md). Hidden cells stay hidden
in every form.
"""

from __future__ import annotations

from collections.abc import Sequence

from core import charts
from core.tables import Plot, Table
from wellbeing.selectors.aggregates import (
    WHO5_ALL,
    Period,
    WellbeingDashboard,
    lead_wellbeing_dashboard,
    trend_periods,
)
from wellbeing.services.publication import publication_ensure
from wellbeing.suppression import Cell

HIDDEN = "–"
FOOTNOTE = "fewer than 5 people: nothing is shown for them, not even how many"


def dashboard_board(*, period: Period) -> WellbeingDashboard:
    """The month's board, with the months of its trend, each published once (publication_ensure)."""
    months = trend_periods(period=period)
    publications = {month.key: publication_ensure(period=month) for month in {*months, period}}
    return lead_wellbeing_dashboard(period=period, publications=publications)


# --- tables (the CSV downloads) --------------------------------------------------------------------

TABLES = ("feelings", "who5", "exposure", "skips")


def dashboard_tables(*, board: WellbeingDashboard) -> dict[str, Table]:
    feelings = board.feelings
    spread = f"± ({board.coverage_percent}%)"
    header = ["feeling"]
    for month in feelings.months:
        header += [f"{month.key} mean", f"{month.key} {spread}", f"{month.key} n"]
    header.append("since the month before")
    feeling_rows = [
        [
            row.label,
            *(item for cell in row.cells for item in (_value(cell, 2), _margin(cell, 2), _n(cell))),
            row.change or HIDDEN,
        ]
        for row in feelings.rows
    ]
    who5 = board.who5
    who5_rows: list[list[object]] = [
        [cell.label, _value(cell, 0), _margin(cell, 0), _value(cell, 2, index=1), _margin(cell, 2, index=1), "", ""]
        for cell in who5.bins
    ]
    who5_rows.append([WHO5_ALL, _n(who5.total), "", "", "", _value(who5.total, 1), _margin(who5.total, 1)])
    tables = [
        Table("feelings", f"Feelings check-in by month, to {board.period.label}", header, feeling_rows),
        Table(
            "who5",
            f"WHO-5 scores, each respondent's latest in {board.period.label}",
            [
                "band",
                "respondents",
                f"respondents {spread}",
                "share",
                f"share {spread}",
                "mean score",
                f"mean score {spread}",
            ],
            who5_rows,
        ),
        Table(
            "exposure",
            f"Exposure by week, {board.period.label}",
            ["week", "reviewers", "total hours", "mean hours per reviewer"],
            [[cell.label, _n(cell), _value(cell, 1), _value(cell, 2, index=1)] for cell in board.exposure],
        ),
        Table(
            "skips",
            f"Skip rates by study, {board.period.label}",
            ["study", "reviewers", "skip rate", "skips", "reviews"],
            [
                [cell.label, _n(cell), _value(cell, 4), _value(cell, 0, index=1), _value(cell, 0, index=2)]
                for cell in board.skips
            ],
        ),
    ]
    return {table.name: table for table in tables}


def _n(cell: Cell) -> int | str:
    return HIDDEN if cell.hidden or cell.n is None else cell.n


def _value(cell: Cell, digits: int, *, index: int = 0) -> float | int | str:
    return _rounded(cell, cell.values, digits, index)


def _margin(cell: Cell, digits: int, *, index: int = 0) -> float | int | str:
    return _rounded(cell, cell.margins, digits, index)


def _rounded(cell: Cell, numbers: Sequence[float | None], digits: int, index: int) -> float | int | str:
    """numbers[index] of `cell` as a table shows it: hidden cells hidden, a missing figure blank."""
    if cell.hidden:
        return HIDDEN
    number = numbers[index] if index < len(numbers) else None
    if number is None:
        return ""
    return round(number) if digits == 0 else round(number, digits)


# --- plots --------------------------------------------------------------------------------------------


def dashboard_plots(*, board: WellbeingDashboard) -> list[Plot]:
    plots = []
    feelings = board.feelings
    shown = [(row, cell) for row, cell in feelings.latest if not cell.hidden]
    if shown:
        plots.append(
            Plot(
                "Mean feelings",
                charts.error_bar_chart(
                    chart_id="wellbeing-feelings",
                    title=f"Mean feeling after tasks, {board.period.label} (0 not at all – {feelings.scale_max} very)",
                    categories=[row.label for row, _cell in shown],
                    means=[cell.value for _row, cell in shown],
                    sds=[cell.margin for _row, cell in shown],
                    counts=[cell.n or 0 for _row, cell in shown],
                    value_label=f"mean answer (0–{feelings.scale_max})",
                    spread_name=f"{board.coverage_percent}% noise interval ±",
                    description=f"Mean of each feeling over the month; the whiskers are the {board.coverage_percent}% "
                    "interval of the noise added to protect individuals.",
                ),
                "feelings",
            )
        )
    if not board.who5.total.hidden:
        margin = board.who5.bins[0].margin or 0
        plots.append(
            Plot(
                f"WHO-5 distribution (each count ± {margin:.0f})",
                charts.bar_chart(
                    chart_id="wellbeing-who5",
                    title=f"WHO-5 score bands, {board.period.label} (noisy counts, ± {margin:.0f} at "
                    f"{board.coverage_percent}%)",
                    # The bands' short names ("0–28"); the table beside the chart says what they mean.
                    categories=[cell.label.split(":")[0] for cell in board.who5.bins],
                    series=[charts.Series("respondents", [cell.value for cell in board.who5.bins])],
                    value_label="respondents (with noise)",
                    category_label="WHO-5 score (0–100)",
                    description=f"Respondents per WHO-5 band, with noise of ± {margin:.0f} "
                    f"({board.coverage_percent}%) on each count.",
                ),
                "who5",
            )
        )
    if board.exposure:
        plots.append(
            Plot(
                "Exposure (exact)",
                charts.bar_chart(
                    chart_id="wellbeing-exposure",
                    title=f"Mean hours of exposure per reviewer, {board.period.label}",
                    categories=[cell.label for cell in board.exposure],
                    series=[charts.Series("hours per reviewer", [_shown(cell, 1) for cell in board.exposure])],
                    value_label="hours per reviewer",
                    category_label="ISO week",
                    description="Mean hours on preview and review pages per reviewer with any; exact, no noise; "
                    "hidden weeks show as n/a.",
                ),
                "exposure",
            )
        )
    return plots


def _shown(cell: Cell, index: int = 0) -> float | None:
    return None if cell.hidden or index >= len(cell.values) else cell.values[index]
