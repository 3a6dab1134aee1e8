"""Accounts and their roles. Every change to a user goes through a function here, which
records it in the audit log with the values before and after, in the same transaction.

The admin's user pages call these too, so an operator's password reset, role change or
deactivation is on the record like a lead's study changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

from audit.models import AuditAction
from audit.services import Actor, audit_record
from core.roles import LEAD, REVIEWER, roles_forget

ROLES = (REVIEWER, LEAD)
# The account fields whose changes are recorded; roles and permissions are recorded besides.
# The password is never recorded, only whether there is one.
AUDITED_FIELDS = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser")


class UnknownRole(ValueError):
    pass


def user_create(*, username: str, password: str | None, actor: Actor) -> User:
    """A new account with no roles; None for the password makes one nobody can log in with."""
    with transaction.atomic():
        user = get_user_model()(username=username)
        _password_apply(user, password)
        user.save()
        audit_record(
            actor=actor,
            action=AuditAction.USER_CREATED,
            target=user,
            details={"values": _snapshot(user), "password": _password_state(user)},
        )
    return user


def user_update(
    *,
    user: User,
    actor: Actor,
    fields: Mapping[str, Any] | None = None,
    roles: Sequence[str] | None = None,
    permissions: Iterable[Permission] | None = None,
) -> User:
    """Change an account's fields (AUDITED_FIELDS), its roles and its admin permissions.

    Records one event listing each value that changed, from and to; nothing if none did.
    A role taken away stops working on the account's next request (see has_role).
    """
    fields = dict(fields or {})
    unknown = sorted(set(fields) - set(AUDITED_FIELDS))
    if unknown:
        raise ValueError(f"user_update changes only {', '.join(AUDITED_FIELDS)}; not {', '.join(unknown)}")
    if roles is not None and set(roles) - set(ROLES):
        raise UnknownRole(f"unknown role(s) {sorted(set(roles) - set(ROLES))}; the roles are {', '.join(ROLES)}")
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        before = _snapshot(locked)
        for name, value in fields.items():
            setattr(locked, name, value)
        if fields:
            locked.save(update_fields=list(fields))
        if roles is not None:
            locked.groups.set(Group.objects.filter(name__in=roles))
        if permissions is not None:
            locked.user_permissions.set(permissions)
        after = _snapshot(locked)
        changes = {name: {"from": before[name], "to": after[name]} for name in before if before[name] != after[name]}
        if changes:
            audit_record(actor=actor, action=AuditAction.USER_CHANGED, target=locked, details=changes)
    for name, value in fields.items():
        setattr(user, name, value)
    roles_forget(user)
    return locked


def user_roles_set(*, user: User, roles: Sequence[str], actor: Actor) -> User:
    """Give the account exactly these roles."""
    return user_update(user=user, roles=roles, actor=actor)


def user_password_set(*, user: User, password: str | None, actor: Actor) -> User:
    """Set the password, or with None disable password login. Records that it happened, never the
    password or its hash. The account's other sessions end: Django ties them to the hash."""
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        before = _password_state(locked)
        _password_apply(locked, password)
        locked.save(update_fields=["password"])
        audit_record(
            actor=actor,
            action=AuditAction.USER_PASSWORD_SET,
            target=locked,
            details={"password": {"from": before, "to": _password_state(locked)}},
        )
    user.password = locked.password
    return locked


def user_delete(*, user: User, actor: Actor) -> None:
    """Delete an account. The database refuses (ProtectedError) while it has reviews, skips,
    studies it created or audit events it did; deactivate it instead."""
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        audit_record(actor=actor, action=AuditAction.USER_DELETED, target=locked, details={"values": _snapshot(locked)})
        locked.delete()


def account_ensure(
    *, username: str, password: str, roles: Sequence[str], admin: bool = False, actor: Actor = None
) -> User:
    """Create the user, or reset an existing one's password and roles, so setup scripts can rerun.

    A rerun that finds everything as asked writes and records nothing (a password that already
    matches is left alone).

    `admin` makes an operator: Django admin access with every permission. Leads are not
    operators: the admin reaches every account's password.
    """
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, password=password, actor=actor)
    elif not user.check_password(password):
        user = user_password_set(user=user, password=password, actor=actor)
    return user_update(
        user=user,
        fields={"is_active": True, "is_staff": admin, "is_superuser": admin},
        roles=roles,
        actor=actor,
    )


def _snapshot(user: User) -> dict[str, Any]:
    values = {name: getattr(user, name) for name in AUDITED_FIELDS}
    values["roles"] = sorted(user.groups.values_list("name", flat=True))
    values["permissions"] = sorted(
        f"{app}.{codename}"
        for app, codename in user.user_permissions.values_list("content_type__app_label", "codename")
    )
    return values


def _password_apply(user: User, password: str | None) -> None:
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)


def _password_state(user: User) -> str:
    return "set" if user.has_usable_password() else "unusable"
