"""The lead's wellbeing dashboard: group figures of at least five people, never an individual answer.

A month's figures are published once, when it is first shown after it closes, and stored
(services.publication); the page and its CSV downloads are built from the stored figures, so a
download can never say more than the page, and nothing a lead sees changes later.
wellbeing/PRIVACY.md explains the design. Inputs are read from the replica when there is one
(config/db_routing.py): they are closed months.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.db_routing import replica_reads
from core.roles import LEAD, role_required
from wellbeing.dashboard import FOOTNOTE, HIDDEN, TABLES, dashboard_board, dashboard_plots, dashboard_tables
from wellbeing.errors import PeriodInvalid
from wellbeing.selectors.aggregates import (
    Period,
    latest_complete_period,
    period_from_key,
    published_periods,
)


@never_cache
@role_required(LEAD)
@require_GET
@replica_reads()
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        period = _period(request)
    except PeriodInvalid as exc:
        return _bad_parameter(exc)
    board = dashboard_board(period=period)
    context = {
        "board": board,
        "period": period,
        "periods": published_periods(),
        "plots": dashboard_plots(board=board),
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
    table = dashboard_tables(board=dashboard_board(period=period))[name]
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
