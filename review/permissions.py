from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

REVIEWER = "reviewer"
LEAD = "lead"


# Roles are read from the database at most this often per user and web process, so a
# role taken away stops working within this many seconds.
ROLE_CACHE_SECONDS = 30


def has_role(user: Any, role: str) -> bool:
    if not user.is_authenticated:
        return False
    roles = getattr(user, "_triad_roles", None)
    if roles is None:
        key = f"triad:roles:{user.pk}"
        roles = cache.get(key)
        if roles is None:
            roles = frozenset(user.groups.values_list("name", flat=True))
            cache.set(key, roles, ROLE_CACHE_SECONDS)
        user._triad_roles = roles
    return role in roles


def role_required(role: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Anonymous visitors go to the login page; signed-in users without the role get 403.

    Lead pages answer 404 instead: they name studies and items, and someone who is not a
    lead should not learn which exist.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                if role == LEAD:
                    raise Http404("No such page.")
                raise PermissionDenied(f"This page is for the {role} role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
