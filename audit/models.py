"""The audit log's rows, append-only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class AuditAction(models.TextChoices):
    IMPORT = "import", "Transcripts imported"
    STUDY_CREATED = "study.created", "Study created"
    STUDY_STARTED = "study.started", "Study started"
    STUDY_PAUSED = "study.paused", "Study paused"
    STUDY_RESUMED = "study.resumed", "Study resumed"
    STUDY_ARCHIVED = "study.archived", "Study archived"
    STUDY_UNARCHIVED = "study.unarchived", "Study unarchived"
    STUDY_CHANGED = "study.changed", "Study settings changed"
    STUDY_DELETED = "study.deleted", "Study deleted"
    MEMBER_ADDED = "member.added", "Reviewer added to a study"
    MEMBER_REMOVED = "member.removed", "Reviewer removed from a study"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    EXPORT = "export", "Data exported"
    USER_CREATED = "user.created", "Account created"
    USER_CHANGED = "user.changed", "Account changed"
    USER_PASSWORD_SET = "user.password_set", "Account password set"
    USER_DELETED = "user.deleted", "Account deleted"
    REVIEW_EDITED = "review.edited", "Review changed by its reviewer"
    ITEM_ADJUDICATED = "item.adjudicated", "Item's final label recorded by an adjudicator"
    ADJUDICATOR_ADDED = "adjudicator.added", "Adjudicator named for a study"
    ADJUDICATOR_REMOVED = "adjudicator.removed", "Adjudicator taken off a study"
    STUDY_LEAD_ADDED = "study.lead_added", "Co-lead added to a study"
    STUDY_LEAD_REMOVED = "study.lead_removed", "Co-lead removed from a study"
    INVITATION_CREATED = "invitation.created", "Invitation created"
    INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
    INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
    GOLD_MARKED = "item.gold_marked", "Item marked gold, with its reference answer"
    GOLD_UNMARKED = "item.gold_unmarked", "Item no longer gold"


class AuditEvent(models.Model):
    """Who did what, and when: one row per audited change or export, never changed or removed.

    Append-only in the database itself (migration 0007's triggers refuse UPDATE, DELETE and,
    on PostgreSQL, TRUNCATE by the application's role), so neither an ORM call nor raw SQL
    from the application can rewrite history. The row is written by the service that makes
    the change, inside the same transaction, so a change and its record commit together.
    """

    # Set by the database, so no caller can backdate an event.
    at = models.DateTimeField(db_default=Now(), editable=False)
    # PROTECT: an account that acted stays (deactivated) rather than taking its trail with it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    # The username at the time, or who ran a command without an account ("cli:root").
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    target_type = models.CharField(max_length=32, blank=True, help_text="e.g. study, apitoken, importbatch, user")
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=300, blank=True, help_text="The target's name when it happened.")
    # No database constraint and DO_NOTHING: the record of a study outlives the study, and
    # keeping one must never stop a study without reviews from being deleted.
    study = models.ForeignKey(
        "review.Study",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # auditevent_study_idx leads with it
        related_name="audit_events",
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "review_auditevent"  # made by the review app, where this model began
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=AuditAction.values), name="auditevent_known_action"),
            models.CheckConstraint(condition=~Q(actor_label=""), name="auditevent_has_actor"),
        ]
        indexes = [
            models.Index(fields=["action", "-id"], name="auditevent_action_idx"),
            models.Index(fields=["study", "-id"], name="auditevent_study_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_type} {self.target_id or ''}".strip()
