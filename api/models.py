"""API tokens: hashed, scoped, expiring."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiScope(models.TextChoices):
    READ_LABELS = "read:labels", "Read studies, items, labels and transcripts"
    READ_AGREEMENT = "read:agreement", "Read agreement snapshots"


class ApiToken(models.Model):
    """A lead's personal token for the REST API, stored as a hash and shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'training pipeline'.")
    # The start of the token, kept in clear so its owner can tell tokens apart.
    prefix = models.CharField(max_length=16)
    key_hash = models.BinaryField(max_length=32, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "review_apitoken"  # made by the review app, where this model began
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("created_at")),
                name="apitoken_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
