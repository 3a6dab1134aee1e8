from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

REVIEWER = "reviewer"
LEAD = "lead"

# Where has_role keeps the roles it read on the user object, for the rest of the request.
_ROLES_CACHE = "_triad_roles"


def has_role(user: User | AnonymousUser, role: str) -> bool:
    """Whether the user holds the role now.

    Read from the database once per request (the user object is the request's own) and never
    cached across requests: a role taken away must stop working on the very next request, in
    every web process and on every host, with no invalidation that a change made elsewhere
    (the admin, a shell, another host) could miss. It is one indexed query.
    """
    if not user.is_authenticated:
        return False
    roles: frozenset[str] | None = getattr(user, _ROLES_CACHE, None)
    if roles is None:
        roles = _roles_read(user.pk)
        setattr(user, _ROLES_CACHE, roles)
    return role in roles


def _roles_read(user_id: int) -> frozenset[str]:
    # Written out: every request of a signed-in user runs it, and building it through the ORM
    # (a many-to-many join) cost several times more than running it.
    through = User.groups.through._meta
    sql = (
        f"SELECT g.name FROM {Group._meta.db_table} g JOIN {through.db_table} member "  # noqa: S608 - names from code
        f"ON member.{through.get_field('group').column} = g.id WHERE member.{through.get_field('user').column} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        return frozenset(name for (name,) in cursor.fetchall())


def roles_remember(user: User, roles: frozenset[str]) -> None:
    """Keep roles just read with the user (core.auth reads both at once) for has_role, for this request."""
    setattr(user, _ROLES_CACHE, roles)


def roles_forget(user: User) -> None:
    """Drop the roles read for this user object, after changing them through it."""
    user.__dict__.pop(_ROLES_CACHE, None)


def signed_in_user(user: User | AnonymousUser) -> User:
    """The account behind a request to a page or endpoint that only signed-in users reach.

    role_required (or the API's authentication and permissions) has already sent anonymous
    visitors away, so this only tells the type checker so; if a view were ever wired without
    that check, it refuses instead of acting for nobody.
    """
    if isinstance(user, User):
        return user
    raise PermissionDenied("Sign in first.")


def role_required(role: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Anonymous visitors go to the login page; signed-in users without the role get 403.

    Lead pages answer 404 instead: they name studies and items, and someone who is not a
    lead should not learn which exist.
    """

    # HttpResponseBase, so that a view streaming its answer (StreamingHttpResponse) is one too.
    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                if role == LEAD:
                    raise Http404("No such page.")
                raise PermissionDenied(f"This page is for the {role} role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
