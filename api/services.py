"""Every write of API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.models import ApiScope, ApiToken
from audit.models import AuditAction
from audit.services import audit_record
from core.roles import LEAD, has_role

# --- API tokens ----------------------------------------------------------------------------

API_TOKEN_PREFIX = "triad_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for
# A token's last use is written at most this often, not on every request.
API_TOKEN_TOUCH_SECONDS = 60


def api_token_hash(raw: str) -> bytes:
    return hashlib.sha256(raw.encode()).digest()


def api_token_create(
    *, user: User, name: str, scopes: Sequence[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for a lead; the raw token is returned once and only its hash is kept."""
    if not has_role(user, LEAD):
        raise PermissionError("only leads can create API tokens")
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if not scopes or unknown:
        raise ValueError(
            f"choose scopes from {', '.join(ApiScope.values)}" + (f"; unknown: {unknown}" if unknown else "")
        )
    if not name.strip():
        raise ValueError("a token needs a name")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValueError("the expiry must be in the future")
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            prefix=raw[: len(API_TOKEN_PREFIX) + 6],
            key_hash=api_token_hash(raw),
            scopes=sorted(set(scopes)),
            created_at=now,
            expires_at=expires_at,
        )
        audit_record(
            actor=user,
            action=AuditAction.TOKEN_CREATED,
            target=token,
            details={"scopes": token.scopes, "expires_at": expires_at.isoformat() if expires_at else None},
        )
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False if it is not theirs or already revoked."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user, revoked_at__isnull=True).first()
        if token is None:
            return False
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, action=AuditAction.TOKEN_REVOKED, target=token)
    return True


def api_token_touch(*, token: ApiToken, now: datetime | None = None) -> None:
    """Record the token's use, writing at most once a minute so busy clients do not write per request."""
    now = now or timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(seconds=API_TOKEN_TOUCH_SECONDS))
    if ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now):
        token.last_used_at = now
