"""Holds an account that signed in with a one-time password on the change-password page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import password_change_required

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
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.session.get(CHECKED):
            if password_change_required(user=user):
                allowed = {reverse("accounts:password_change"), reverse("logout")}
                if request.path not in allowed and not request.path.startswith("/static/"):
                    return redirect("accounts:password_change")
            else:
                request.session[CHECKED] = True
        return self.get_response(request)
