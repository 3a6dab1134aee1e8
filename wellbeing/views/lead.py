"""The lead's wellbeing dashboard: group figures of at least five people, never an individual answer.

It covers closed months only, so it reads from the replica when there is one (config/db_routing.py).

The page and its CSV downloads are built from the same suppressed tables, so a download can never
say more than the page. Hidden cells reach this module with no number in them (Cell.public()).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.db_routing import replica_reads
from review import charts
from review.dashboard import Plot, Table
from review.permissions import LEAD, role_required
from wellbeing.selectors.aggregates import (
    Period,
    WellbeingDashboard,
    latest_complete_period,
    lead_wellbeing_dashboard,
    period_from_key,
    published_periods,
)
from wellbeing.suppression import Cell

HIDDEN = "–"
FOOTNOTE = "fewer than 5 people, or hidden so a small group can't be worked out"


@never_cache
@role_required(LEAD)
@require_GET
@replica_reads()
def dashboard(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    board = lead_wellbeing_dashboard(period=period)
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
    period = _period(request)
    table = _tables(lead_wellbeing_dashboard(period=period)).get(name)
    if table is None:
        raise Http404("No such table.")
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="wellbeing-{period.key}-{table.name}.csv"'
    return response


def _period(request: HttpRequest) -> Period:
    """The month asked for, or the latest finished one. A month still running is not published."""
    key = request.GET.get("period")
    if key is None:
        return latest_complete_period()
    period = period_from_key(key=key)
    if period is None:
        raise Http404("No such period: months are published once their last week is over.")
    return period


# --- tables (the CSV downloads) --------------------------------------------------------------------


def _tables(board: WellbeingDashboard) -> dict[str, Table]:
    feelings = board.feelings
    header = ["feeling"]
    for week in feelings.weeks:
        header += [f"{week.label} mean", f"{week.label} n"]
    header += ["overall mean", "overall n"]
    feeling_rows = [
        [row.label, *(item for cell in [*row.cells, row.overall] for item in (_value(cell, 2), _n(cell)))]
        for row in feelings.rows
    ]
    who5 = board.who5
    who5_rows: list[list[object]] = [[cell.label, _n(cell), _value(cell, 4), ""] for cell in who5.bins]
    total_share = HIDDEN if who5.total.hidden else (1 if who5.total.n else "")
    who5_rows.append([who5.total.label, _n(who5.total), total_share, _value(who5.total, 1)])
    tables = [
        Table("feelings", f"Feelings check-in by week, {board.period.label}", header, feeling_rows),
        Table(
            "who5",
            f"WHO-5 scores, each respondent's latest in {board.period.label}",
            ["band", "respondents", "share", "mean score"],
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
    if cell.hidden:
        return HIDDEN
    value = cell.values[index] if index < len(cell.values) else None
    if value is None:
        return ""
    return round(value) if digits == 0 else round(value, digits)


# --- plots --------------------------------------------------------------------------------------------


def _plots(board: WellbeingDashboard) -> list[Plot]:
    plots = []
    feelings = board.feelings
    if feelings.rows:
        plots.append(
            Plot(
                "Mean feelings",
                charts.bar_chart(
                    chart_id="wellbeing-feelings",
                    title=f"Mean feeling after tasks, {board.period.label} (0 not at all – {feelings.scale_max} very)",
                    categories=[row.label for row in feelings.rows],
                    series=[charts.Series("overall mean", [_shown(row.overall) for row in feelings.rows])],
                    value_label=f"mean answer (0–{feelings.scale_max})",
                    horizontal=True,
                    description="Overall mean of each feeling over the month; a hidden figure shows as n/a.",
                ),
                "feelings",
            )
        )
    plots.append(
        Plot(
            "WHO-5 distribution",
            charts.bar_chart(
                chart_id="wellbeing-who5",
                title=f"WHO-5 score bands, {board.period.label}",
                # The bands' short names ("0–28"); the table beside the chart says what they mean.
                categories=[cell.label.split(":")[0] for cell in board.who5.bins],
                series=[charts.Series("respondents", [None if cell.hidden else cell.n for cell in board.who5.bins])],
                value_label="respondents",
                category_label="WHO-5 score (0–100)",
                description="Respondents per WHO-5 band; a hidden count shows as n/a.",
            ),
            "who5",
        )
    )
    if board.exposure:
        plots.append(
            Plot(
                "Exposure",
                charts.bar_chart(
                    chart_id="wellbeing-exposure",
                    title=f"Mean hours of exposure per reviewer, {board.period.label}",
                    categories=[cell.label for cell in board.exposure],
                    series=[charts.Series("hours per reviewer", [_shown(cell, 1) for cell in board.exposure])],
                    value_label="hours per reviewer",
                    category_label="ISO week",
                    description="Mean hours on preview and review pages per reviewer with any; hidden weeks "
                    "show as n/a.",
                ),
                "exposure",
            )
        )
    return plots


def _shown(cell: Cell, index: int = 0) -> float | None:
    return None if cell.hidden or index >= len(cell.values) else cell.values[index]
