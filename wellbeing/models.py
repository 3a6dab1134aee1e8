"""Reviewer wellbeing: surveys as data, check-ins and their invitations, exposure, breaks,
topic opt-outs and support.

Every row about a person belongs to that person: deleting the account deletes it (CASCADE),
and only aggregates of at least five people ever leave the respondent's own pages.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class InstrumentKind(models.TextChoices):
    CHECKIN = "checkin", "Check-in after tasks"
    PERIODIC = "periodic", "Periodic questionnaire"


class Instrument(models.Model):
    """A survey definition. A changed survey is a new version; responses keep the one they answered."""

    slug = models.SlugField(max_length=50)
    version = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=10, choices=InstrumentKind.choices)
    name = models.CharField(max_length=200)
    prompt = models.TextField(help_text="Shown above the items.")
    # The answer scale runs 0 .. len(scale_labels) - 1, each number with its label.
    scale_labels = models.JSONField()
    free_text = models.BooleanField(default=True, help_text="Offer an optional free-text answer.")
    every_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Periodic questionnaires: invite each reviewer this often."
    )
    # A score of at most this (as 0-100: raw sum x 100 / maximum) points the respondent to support.
    support_at_or_below = models.PositiveSmallIntegerField(null=True, blank=True)
    citation = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="instrument_unique_version"),
            models.CheckConstraint(condition=Q(kind__in=InstrumentKind.values), name="instrument_known_kind"),
            models.CheckConstraint(
                condition=Q(kind="checkin") | Q(every_days__gte=1), name="instrument_periodic_has_interval"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def scale_max(self) -> int:
        return len(self.scale_labels) - 1

    @property
    def every_item_required(self) -> bool:
        """A periodic questionnaire's score needs every item; a check-in is optional item by item."""
        return self.kind == InstrumentKind.PERIODIC


class InstrumentItem(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    key = models.SlugField(max_length=50)
    text = models.CharField(max_length=300)
    # An answer at the top of the scale on a negative item points the respondent to support.
    negative = models.BooleanField(default=False)

    class Meta:
        ordering = ["instrument", "position"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "key"], name="instrumentitem_unique_key"),
            models.UniqueConstraint(fields=["instrument", "position"], name="instrumentitem_unique_position"),
        ]

    def __str__(self) -> str:
        return self.text


class Trigger(models.TextChoices):
    AFTER_REVIEWS = "after_reviews", "After a run of reviews"
    SESSION_END = "session_end", "At the end of a work session"
    INVITATION = "invitation", "Periodic invitation"


class Response(models.Model):
    # One person's wellbeing or participation: never listed on admin delete pages (core.admin).
    personal_data = True
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wellbeing_responses"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="responses")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    answers = models.JSONField(help_text="Item key -> answer on the instrument's scale.")
    free_text = models.TextField(blank=True)
    # Periodic questionnaires: the sum as 0-100 (WHO-5: raw 0-25 x 4).
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["respondent", "instrument", "submitted_at"], name="response_mine_idx")]

    def __str__(self) -> str:
        return f"Response #{self.pk}"


class Decline(models.Model):
    """'Not now': when and to what, and nothing else."""

    # One person's wellbeing or participation: never listed on admin delete pages (core.admin).
    personal_data = True

    respondent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    declined_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Not now #{self.pk}"


class Invitation(models.Model):
    """A periodic questionnaire waiting for its respondent, shown at their next visit."""

    # One person's wellbeing or participation: never listed on admin delete pages (core.admin).
    personal_data = True

    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wellbeing_invitations"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="invitations")
    due_on = models.DateField()
    created_at = models.DateTimeField()
    # The invitation is hidden after 'Not now' until the reminder, REMINDER_DAYS later.
    snoozed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Answered (or superseded).")

    class Meta:
        constraints = [
            # The beat task can run twice in a day without inviting twice.
            models.UniqueConstraint(fields=["respondent", "instrument", "due_on"], name="invitation_once_per_due_day")
        ]

    def __str__(self) -> str:
        return f"Invitation #{self.pk} due {self.due_on}"


class Preference(models.Model):
    """A reviewer's own safeguards: topics they will not be shown, a lower daily cap, a pause."""

    # One person's wellbeing or participation: never listed on admin delete pages (core.admin).
    personal_data = True

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wellbeing")
    opted_out_tags = models.ManyToManyField("tagging.Tag", blank=True, related_name="+")
    daily_cap_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The reviewer's own cap; it can only lower the study's."
    )
    paused_on = models.DateField(null=True, blank=True, help_text="'Pause for today' was pressed on this day.")

    def __str__(self) -> str:
        return f"Wellbeing preferences of user {self.user_id}"


class ExposureDay(models.Model):
    """Active time a reviewer spent on preview and review pages on one day, counted on the server."""

    # One person's wellbeing or participation: never listed on admin delete pages (core.admin).
    personal_data = True

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exposure_days")
    day = models.DateField()
    seconds = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField()
    # Start of the current stretch without an idle gap or a break.
    streak_started_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reviewer", "day"], name="exposureday_unique")]

    def __str__(self) -> str:
        return f"Exposure of user {self.reviewer_id} on {self.day}"


class BreakOutcome(models.TextChoices):
    PROMPTED = "prompted", "Prompted"
    TAKEN = "taken", "Taken"
    DISMISSED = "dismissed", "Dismissed"


class BreakEvent(models.Model):
    # One person's wellbeing or participation: never listed on admin delete pages (core.admin).
    personal_data = True
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="breaks")
    prompted_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=BreakOutcome.choices, default=BreakOutcome.PROMPTED)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Break #{self.pk} ({self.outcome})"


class SupportResource(models.Model):
    """A link on the support page; leads and admins edit these in the admin."""

    title = models.CharField(max_length=200)
    url = models.URLField(blank=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self) -> str:
        return self.title


class Publication(models.Model):
    """Everything a lead sees about one closed month, computed once and then never changed.

    The figures (noise included) are drawn when the month is first shown after it closes and kept
    here, so no later view can differ from an earlier one: a late answer, a newcomer or a deleted
    account never shows up as a difference, and reloading cannot average the noise away.
    wellbeing/PRIVACY.md explains why.
    """

    period = models.CharField(max_length=7, unique=True, help_text="The month, YYYY-MM.")
    published_at = models.DateTimeField()
    figures = models.JSONField(help_text="The public figures only: no ids, no individual values.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(period__regex=r"^\d{4}-\d{2}$"), name="publication_period_key")
        ]

    def __str__(self) -> str:
        return f"Wellbeing figures for {self.period}"
