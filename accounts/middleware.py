"""Holds an account that signed in with a one-time password on the change-password page."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import password_change_required
from config.middleware import database_unavailable_response

logger = logging.getLogger(__name__)

# Set in a session once it is known that its account needs no change: then no request of that
# session queries again. Safe because a hold is only ever put on a new account (one with no
# sessions yet, accounts.services.user_create_with_one_time_password), never added later.
CHECKED = "_triad_password_ok"


class PasswordChangeRequiredMiddleware:
    """Until the person has chosen their own password, every request but the change-password
    page itself and signing out is sent there: the one-time password a lead handed over opens
    nothing else, so whoever else saw it cannot use the account."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            held = self._held(request)
        except (OperationalError, InterfaceError):
            # The database is down (a restart): the same 503 its middleware gives the views.
            logger.warning("Database unavailable for %s %s", request.method, request.path)
            return database_unavailable_response(request)
        if held:
            return redirect("accounts:password_change")
        return self.get_response(request)

    def _held(self, request: HttpRequest) -> bool:
        """Whether this request is sent to the change-password page instead."""
        user = getattr(request, "user", None)
        if user is not None and not request.session.get(CHECKED) and user.is_authenticated:
            if password_change_required(user=user):
                allowed = {reverse("accounts:password_change"), reverse("logout")}
                return request.path not in allowed and not request.path.startswith("/static/")
            request.session[CHECKED] = True
        return False
