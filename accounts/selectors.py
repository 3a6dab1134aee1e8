"""Reads for accounts: open invitations and who must change their password."""

from __future__ import annotations

import hashlib
from datetime import datetime

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


def invitation_token_hash(raw: str) -> bytes:
    """What is stored of an invitation link's secret (SHA-256: the secret is 256 random bits)."""
    return hashlib.sha256(raw.encode()).digest()


def invitation_usable(*, raw: str, now: datetime | None = None) -> Invitation | None:
    """The invitation this secret opens, if it can still be accepted; None otherwise (unknown,
    used, revoked or expired are told apart by nobody: one page says the link no longer works)."""
    now = now or timezone.now()
    return (
        Invitation.objects.filter(
            token_hash=invitation_token_hash(raw), accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        )
        .select_related("created_by")
        .first()
    )
