"""The front page: each role lands where its work is."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from core.roles import LEAD, REVIEWER, has_role, signed_in_user
from review.selectors import (
    lead_overview,
)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    is_lead = has_role(request.user, LEAD)
    if not is_lead and has_role(request.user, REVIEWER):
        # Where a reviewer's work is: signing in (LOGIN_REDIRECT_URL) lands them on their queue.
        return redirect("workspace:queue")
    # Roles come from the context processor; only a lead's page needs the data overview.
    context = lead_overview(user=signed_in_user(request.user)) if is_lead else {}
    return render(request, "workspace/home.html", context)
