"""Hooks django-axes calls: whose address a login attempt came from, and the lockout page."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _valid_address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip_address(request: HttpRequest) -> str | None:
    """The client's address as the outermost trusted proxy saw it.

    With TRIAD_TRUSTED_PROXIES=N the N-th entry from the right of X-Forwarded-For was written by
    our own proxies; anything left of it came from the client and is ignored. A missing or
    malformed header falls back to the socket's address rather than failing the login.
    """
    remote = _valid_address(request.META.get("REMOTE_ADDR"))
    hops = settings.TRIAD_TRUSTED_PROXIES
    if hops == 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(forwarded) < hops:
        return remote
    return _valid_address(forwarded[-hops]) or remote


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The page a locked-out login gets instead of the form: 429, and how long to wait."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    context = {
        "username": (credentials or {}).get("username") or request.POST.get("username", ""),
        "cooloff_minutes": seconds // 60,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    response = render(request, "registration/lockout.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
