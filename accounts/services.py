"""Accounts and their roles. Every change to a user goes through a function here, which
records it in the audit log with the values before and after, in the same transaction.

The admin's user pages call these too, so an operator's password reset, role change or
deactivation is on the record like a lead's study changes.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Invitation, InvitationRole, PasswordChangeRequired
from accounts.selectors import invitation_token_hash
from audit.models import AuditAction
from audit.services import Actor, audit_record
from core.roles import LEAD, REVIEWER, has_role, roles_forget

ROLES = (REVIEWER, LEAD)
# The account fields whose changes are recorded; roles and permissions are recorded besides.
# The password is never recorded, only whether there is one.
USERNAME_MAX_LENGTH = 150
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


# --- invitations and one-time passwords ------------------------------------------------------

INVITATION_DAYS = 7
# The one-time password a lead hands over: long enough that guessing it is hopeless within the
# login lockout, and only letters and digits, so it survives being read out or retyped.
ONE_TIME_PASSWORD_LENGTH = 16


class InvitationUnusable(ValueError):
    """The link is unknown, used, revoked or expired: the page says so, nothing changes."""


class AccountInvalid(ValueError):
    """A username or password the person must change; `errors` maps each field to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


def invitation_create(
    *, role: str, created_by: User, note: str = "", days: int = INVITATION_DAYS
) -> tuple[Invitation, str]:
    """A single-use invitation for a new reviewer (or lead). Returns the row and the link's secret,
    which is shown once: only its hash is kept. Expires after `days`."""
    if not has_role(created_by, LEAD):
        raise PermissionError("only leads invite people")
    if role not in InvitationRole.values:
        raise UnknownRole(f"unknown role {role!r}; the roles are {', '.join(InvitationRole.values)}")
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            token_hash=invitation_token_hash(raw),
            note=note.strip(),
            role=role,
            created_by=created_by,
            expires_at=timezone.now() + timedelta(days=days),
        )
        details = {"role": role, "note": invitation.note, "expires_at": invitation.expires_at.isoformat()}
        audit_record(actor=created_by, action=AuditAction.INVITATION_CREATED, target=invitation, details=details)
    return invitation, raw


def invitation_accept(*, raw: str, username: str, password: str) -> User:
    """Create the invited person's account with their own username and password and the
    invitation's role, and spend the invitation, in one transaction.

    The invitation row is locked first, so two submits of one link (a double click, a replay)
    give one account: the second finds it spent and raises InvitationUnusable.
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(
                token_hash=invitation_token_hash(raw),
                accepted_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        if invitation is None:
            raise InvitationUnusable("This invitation link no longer works: it was used, revoked or has expired.")
        _new_account_check(username=username, password=password)
        user = get_user_model()(username=username)
        user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name=invitation.role))
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now(), accepted_by=user)
        audit_record(
            actor=user,
            action=AuditAction.USER_CREATED,
            target=user,
            details={"values": _snapshot(user), "password": _password_state(user), "invitation": invitation.pk},
        )
        audit_record(
            actor=user,
            action=AuditAction.INVITATION_ACCEPTED,
            target=invitation,
            details={"user": user.get_username(), "role": invitation.role},
        )
    return user


def invitation_revoke(*, invitation_id: int, actor: User) -> bool:
    """Withdraw an invitation not yet accepted; False if there is none such. Recorded."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True)
            .first()
        )
        if invitation is None:
            return False
        Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
        audit_record(actor=actor, action=AuditAction.INVITATION_REVOKED, target=invitation)
    return True


def user_create_with_one_time_password(*, username: str, role: str, actor: User) -> tuple[User, str]:
    """An account with the role and a generated one-time password, returned once for the lead to
    hand over. The person must choose their own password before any page opens to them."""
    if not has_role(actor, LEAD):
        raise PermissionError("only leads make accounts with a one-time password")
    if role not in ROLES:
        raise UnknownRole(f"unknown role {role!r}; the roles are {', '.join(ROLES)}")
    one_time = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(ONE_TIME_PASSWORD_LENGTH))
    with transaction.atomic():
        _new_account_check(username=username, password=None)
        user = user_create(username=username, password=one_time, actor=actor)
        user_update(user=user, roles=[role], actor=actor)
        PasswordChangeRequired.objects.create(user=user)
    return user, one_time


def user_password_change(*, user: User, password: str) -> User:
    """The person sets their own password (the forced change after a one-time password, or any
    later change). Checked by Django's password validators; recorded without the password."""
    if user.check_password(password):
        raise AccountInvalid({"password": "Choose a new password, not the one you signed in with."})
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise AccountInvalid({"password": " ".join(exc.messages)}) from exc
    with transaction.atomic():
        user_password_set(user=user, password=password, actor=user)
        PasswordChangeRequired.objects.filter(user=user).delete()
    return user


def user_active_set(*, user: User, active: bool, actor: User) -> User:
    """Deactivate (no login, no session, no API token works) or reactivate an account. A person
    cannot deactivate themselves, so a lead never locks themselves out by a slip."""
    if not active and user.pk == actor.pk:
        raise AccountInvalid({"active": "You cannot deactivate your own account."})
    if (user.is_staff or user.is_superuser) and not actor.is_superuser:
        # Operators' accounts are the admin's: a lead must not lock out the people who run Triad.
        raise AccountInvalid({"active": "Operators' accounts are changed in the admin."})
    return user_update(user=user, fields={"is_active": active}, actor=actor)


def _new_account_check(*, username: str, password: str | None) -> None:
    errors: dict[str, str] = {}
    try:
        get_user_model().username_validator(username)
    except ValidationError as exc:
        errors["username"] = " ".join(exc.messages)
    if not username or len(username) > USERNAME_MAX_LENGTH:
        errors["username"] = f"Choose a username of 1-{USERNAME_MAX_LENGTH} characters."
    elif get_user_model().objects.filter(username__iexact=username).exists():
        errors["username"] = "This username is taken."
    if password is not None:
        try:
            validate_password(password, user=get_user_model()(username=username))
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    if errors:
        raise AccountInvalid(errors)
