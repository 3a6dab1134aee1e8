"""The lead's wellbeing dashboard: group figures of at least five people, never an individual answer.

A month's figures are published once, when it is first shown after it closes, and stored
(services.publication); the page and its CSV downloads are built from the stored figures, so a
download can never say more than the page, and nothing a lead sees changes later.
wellbeing/PRIVACY.md explains the design. Inputs are read from the replica when there is one
(config/db_routing.py): they are closed months.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.db_routing import replica_reads
from core import charts
from core.roles import LEAD, role_required
from core.tables import Plot, Table
from wellbeing.errors import PeriodInvalid
from wellbeing.selectors.aggregates import (
    WHO5_ALL,
    Period,
    WellbeingDashboard,
    latest_complete_period,
    lead_wellbeing_dashboard,
    period_from_key,
    published_periods,
    trend_periods,
)
from wellbeing.services.publication import publication_ensure
from wellbeing.suppression import Cell

HIDDEN = "–"
FOOTNOTE = "fewer than 5 people: nothing is shown for them, not even how many"


@never_cache
@role_required(LEAD)
@require_GET
@replica_reads()
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        period = _period(request)
    except PeriodInvalid as exc:
        return _bad_parameter(exc)
    board = _board(period)
    context = {
        "board": board,
        "period": period,
        "periods": published_periods(),
        "plots": _plots(board),
        "hidden": HIDDEN,
        "footnote": FOOTNOTE,
    }
    return render(request, "wellbeing/lead_dashboard.html", context)


@never_cache
@role_required(LEAD)
@require_GET
@replica_reads()
def table_csv(request: HttpRequest, name: str) -> HttpResponse:
    if name not in TABLES:
        raise Http404("No such table.")
    try:
        period = _period(request)
    except PeriodInvalid as exc:
        return _bad_parameter(exc)
    table = _tables(_board(period))[name]
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="wellbeing-{period.key}-{table.name}.csv"'
    return response


def _period(request: HttpRequest) -> Period:
    """The month asked for, or the latest finished one. A month still running is not published."""
    key = request.GET.get("period")
    if key is None:
        return latest_complete_period()
    return period_from_key(key=key)


def _bad_parameter(exc: PeriodInvalid) -> HttpResponse:
    # Malformed is 400; a month that is well formed but not over yet is a page that does not exist yet.
    return HttpResponse(
        f"Bad {exc}. Months are published once their last week is over.",
        status=404 if exc.not_yet else 400,
        content_type="text/plain; charset=utf-8",
    )


def _board(period: Period) -> WellbeingDashboard:
    months = trend_periods(period=period)
    publications = {month.key: publication_ensure(period=month) for month in {*months, period}}
    return lead_wellbeing_dashboard(period=period, publications=publications)


# --- tables (the CSV downloads) --------------------------------------------------------------------

TABLES = ("feelings", "who5", "exposure", "skips")


def _tables(board: WellbeingDashboard) -> dict[str, Table]:
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
        ),  # fmt: skip
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


def _plots(board: WellbeingDashboard) -> list[Plot]:
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
