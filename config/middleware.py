from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get("_renewed", 0) >= settings.SESSION_ACTIVITY_RENEW_SECONDS:
                session["_renewed"] = now  # marks the session modified, so it is saved with a new expiry
        return response
