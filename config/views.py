"""Pages of the project itself rather than of an app: the health check."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.health import health_report


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 503 only when the database is down; Redis or workers missing is 200 "degraded"."""
    report = health_report()
    return JsonResponse(report.as_json(), status=report.http_status)
