"""Authentication backends that read the signed-in user and their roles in one statement.

Every request of a signed-in user loads the user (AuthenticationMiddleware, through the
backend that signed them in) and then their roles (core.roles.has_role): two queries, the
first built through the ORM each time. These backends answer both with one written-out join
and leave the roles where has_role looks first, so they are still read once per request, never
cached across requests (a role taken away stops working on the very next request).

Both backends Triad signs people in with get it: axes' (which Django's test client signs in
with, being first) and the model backend (which checks the password).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import connection

from core.roles import roles_remember
from core.rows import ModelColumns, instance_from_row, model_columns


class _UserWithRoles:
    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        columns, sql = _user_statement()
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            rows = cursor.fetchall()
        if not rows:
            return None
        user = instance_from_row(User, columns, rows[0])
        roles_remember(user, frozenset(row[-1] for row in rows if row[-1] is not None))
        # As ModelBackend.get_user: a deactivated account is signed out on its next request.
        return user if user.is_active else None


class UserWithRolesAxesBackend(_UserWithRoles, AxesStandaloneBackend):
    """axes' backend (it refuses locked-out logins and signs nobody in), reading users as above."""


class UserWithRolesModelBackend(_UserWithRoles, ModelBackend):
    """Django's model backend (username and password), reading users as above."""


@cache
def _user_statement() -> tuple[ModelColumns, str]:
    columns = model_columns([("u", User)])
    through = User.groups.through._meta
    sql = (
        f"SELECT {columns.sql}, g.name FROM {User._meta.db_table} u "  # noqa: S608 - names from code
        f"LEFT JOIN {through.db_table} member ON member.{through.get_field('user').column} = u.id "
        f"LEFT JOIN {Group._meta.db_table} g ON g.id = member.{through.get_field('group').column} "
        "WHERE u.id = %s"
    )
    return columns, sql
