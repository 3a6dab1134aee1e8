from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)


class ServerTimingMiddleware:
    """Say how long the server took over each response, as `Server-Timing: app;dur=<ms>`.

    Outermost, so it covers every middleware, the view and the template. Browsers show it
    beside the network timings (and a page can read it from PerformanceNavigationTiming);
    bench/review_loop.py reads it to tell the server's share of a page from the network's.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response


class ContentSecurityPolicyMiddleware:
    """Send one strict policy on every response; views never loosen it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class SessionActivityMiddleware:
    """Keep a signed-in session alive while it is used, writing it at most once a minute.

    Django's SESSION_SAVE_EVERY_REQUEST gives the same inactivity expiry but costs an UPDATE
    and a commit on every request, a large share of a claim's time.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Like Django's SessionMiddleware, never touch the session store after a server error:
        # during a database outage that read would turn a friendly 503 into a logged 500.
        if response.status_code < 500 and session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get("_renewed", 0) >= settings.SESSION_ACTIVITY_RENEW_SECONDS:
                session["_renewed"] = now  # marks the session modified, so it is saved with a new expiry
        return response


class DatabaseUnavailableMiddleware:
    """Answer 503 with a friendly page (JSON under /api/) while PostgreSQL cannot be reached.

    During a database restart every request fails to connect; a bare 500 with Django's error
    page tells a reviewer nothing and a load balancer that the app is broken. Retry-After tells
    both to come back: CONN_HEALTH_CHECKS then reconnects by itself once the database is back.
    The page is rendered without context processors, which would query the database again.
    """

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable for %s %s: %s", request.method, request.path, exception)
        return database_unavailable_response(request, retry_after=self.RETRY_AFTER_SECONDS)


def database_unavailable_response(
    request: HttpRequest, *, retry_after: int = DatabaseUnavailableMiddleware.RETRY_AFTER_SECONDS
) -> HttpResponse:
    """The 503 of DatabaseUnavailableMiddleware, for a middleware that reads the database itself
    (process_exception only sees what views raise)."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": "The service is briefly unavailable. Try again in a few seconds."}, status=503
        )
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(retry_after)
    add_never_cache_headers(response)
    return response


class NotFoundPageMiddleware:
    """A 404 raised by a view is the friendly page for people, with DEBUG on or off.

    Back after a submit, a reload, or an old link reaches a conversation that has moved on;
    people should read what happened, not Django's debug page (which also breaks the CSP). API
    views answer their own JSON 404s, so /api/ is left to them. A URL that matches no route at
    all still gets Django's debug page when DEBUG is on (and handler404 when it is off).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, Http404) or request.path.startswith("/api/"):
            return None
        page = loader.render_to_string("404.html", {"message": str(exception)}, request=request)
        return HttpResponse(page, status=404)
