"""A study's adjudication rule, its named adjudicators, and the final labels they record.

Adjudications sit beside the raters' reviews and never replace them: the agreement figures
read reviews only, so a final label cannot move a kappa.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from review.models import Study, StudyItem


class RuleKind(models.TextChoices):
    OFF = "off", "Off: no adjudication"
    BINARY_SPLIT = "binary_split", "The binarized ratings split"
    LIKERT_SPREAD = "likert_spread", "The Likert spread is at least N"


# The widest spread on a 0-4 scale is 4; a spread of 0 would send every item.
SPREAD_MIN, SPREAD_MAX = 1, 4


class AdjudicationRule(models.Model):
    """Which disagreeing items of a study go to adjudication. No row means off (the default)."""

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="adjudication_rule")
    kind = models.CharField(max_length=20, choices=RuleKind.choices, default=RuleKind.OFF)
    min_spread = models.PositiveSmallIntegerField(
        default=2, help_text="For the Likert rule: highest minus lowest reviewer rating at least this."
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RuleKind.values), name="adjudicationrule_known_kind"),
            models.CheckConstraint(
                condition=Q(min_spread__gte=SPREAD_MIN, min_spread__lte=SPREAD_MAX), name="adjudicationrule_spread_1_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study}: {self.get_kind_display()}"


class Adjudicator(models.Model):
    """A reviewer a lead named to adjudicate one study (the study's leads adjudicate anyway)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="adjudicators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="adjudicates")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "user"], name="adjudicator_unique")]

    def __str__(self) -> str:
        return f"{self.user} adjudicates {self.study}"


class Adjudication(models.Model):
    """The final label of one item: one per item, enforced by the one-to-one column."""

    item = models.OneToOneField(StudyItem, on_delete=models.PROTECT, related_name="adjudication")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="adjudications")
    rating = models.PositiveSmallIntegerField()
    first_tag = models.ForeignKey("tagging.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    second_tag = models.ForeignKey("tagging.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    adjudicated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    adjudicated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=4), name="adjudication_rating_0_4"),
            models.CheckConstraint(
                condition=Q(second_tag__isnull=True)
                | (Q(first_tag__isnull=False) & ~Q(first_tag=models.F("second_tag"))),
                name="adjudication_two_distinct_tags",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="adjudication_has_reason"),
        ]
        indexes = [models.Index(fields=["study", "-adjudicated_at"], name="adjudication_study_idx")]

    def __str__(self) -> str:
        return f"Adjudication of {self.item}"

    @property
    def tag_ids(self) -> list[int]:
        return [tag_id for tag_id in (self.first_tag_id, self.second_tag_id) if tag_id is not None]
