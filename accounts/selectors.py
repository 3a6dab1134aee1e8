"""Reads for accounts: open invitations and who must change their password."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Invitation, PasswordChangeRequired


def password_change_required(*, user: User) -> bool:
    """Whether the account signed in with a one-time password it has not replaced yet."""
    return PasswordChangeRequired.objects.filter(user_id=user.pk).exists()


def password_change_required_ids(*, user_ids: list[int]) -> set[int]:
    return set(PasswordChangeRequired.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))


def invitations_open() -> QuerySet[Invitation]:
    """Invitations not accepted, revoked or expired, newest first, for the team page."""
    return Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("created_by")
