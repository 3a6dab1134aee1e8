"""What an account needs besides Django's User: invitations to join, and one-time passwords."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class InvitationRole(models.TextChoices):
    REVIEWER = "reviewer", "Reviewer"
    LEAD = "lead", "Lead"


class Invitation(models.Model):
    """A single-use link that lets a person choose a username and password and join with a role.

    Only the SHA-256 of the link's secret is kept (like API tokens): the database, a backup or
    the admin cannot replay it. Used once: accepting sets accepted_at and accepted_by in the
    same row, under a row lock, so a second click (or a race) finds it spent.
    """

    token_hash = models.BinaryField(max_length=32, unique=True, editable=False)
    # Who it is for, as the lead wrote it: a reminder on the team page, not checked at acceptance.
    note = models.CharField(max_length=200, blank=True, help_text="Who it is for, e.g. a name or an e-mail address.")
    role = models.CharField(max_length=10, choices=InvitationRole.choices, default=InvitationRole.REVIEWER)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="invitation"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=InvitationRole.values), name="invitation_known_role"),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True, accepted_by__isnull=True)
                | Q(accepted_at__isnull=False, accepted_by__isnull=False),
                name="invitation_accepted_by_whom",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_accepted_or_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk} ({self.note or self.role})"


class PasswordChangeRequired(models.Model):
    """The account signs in with a one-time password and must choose its own before anything
    else: while this row exists, every page sends it to the change-password page."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} must change their password"
