from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from core.roles import REVIEWER, has_role
from wellbeing.selectors.surveys import invitation_open_for


def wellbeing(request: HttpRequest) -> dict[str, Any]:
    """The support link for everyone; for a signed-in reviewer, the invitation waiting for them.

    The invitation is looked up lazily, in one query, only when a template uses it, so pages
    without the banner (the admin, JSON) pay nothing.
    """
    context: dict[str, Any] = {"support_url": reverse("wellbeing_surveys:support")}
    user = getattr(request, "user", None)
    if user is not None and has_role(user, REVIEWER):
        context["open_invitation"] = SimpleLazyObject(lambda: invitation_open_for(user=user))
    return context
