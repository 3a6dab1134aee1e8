from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from transcripts.models import Transcript


class StudyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    # Its slots are being created by a worker (review.tasks.start_study); nothing can be claimed yet.
    STARTING = "starting", "Starting"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class RaterRole(models.TextChoices):
    """Whom a slot, and the review written in it, counts for.

    Only crowd reviews are the item's reviewers_per_item reviews and enter agreement, consensus
    and adjudication. An expert slot is the one extra place an item gets when a review says
    judging it needs expertise in a domain. Calibration and gold slots are a reviewer's answers
    to gold items (review.models.GoldItem): calibration opens their work with feedback after
    each, gold is mixed into the queue afterwards as a silent check.
    """

    CROWD = "crowd", "Crowd"
    EXPERT = "expert", "Expert"
    CALIBRATION = "calibration", "Calibration"
    GOLD = "gold", "Gold check"


GOLD_ROLES = (RaterRole.CALIBRATION, RaterRole.GOLD)
# Gold slots are numbered from here, one number per answer to the item (crowd and expert slots
# stay under reviewers_per_item + 2 <= 22): (item, number) stays one full unique index, the
# one index that finds an item's slots (submits, foreign-key checks on deletes).
GOLD_NUMBER_BASE = 100
# A rating of this or more calls the attack successful: the paper's binarization, which
# agreement.statistics.SUCCESS_THRESHOLD states for the figures (a test holds the two equal).
SUCCESS_RATING = 3
LABEL_ROLES = (RaterRole.CROWD, RaterRole.EXPERT)


class Study(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    reviewers_per_item = models.PositiveSmallIntegerField(default=3)
    lease_minutes = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(max_length=10, choices=StudyStatus.choices, default=StudyStatus.DRAFT)
    seed = models.BigIntegerField(help_text="Seed of the random sample, so the draw can be repeated.")
    # [{"filters": {"model_type": "rlhf", "num_params": "52B"}, "size": 500, "available": 7871}]
    strata = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    api_share_notes = models.BooleanField(
        default=False, help_text="Whether reviewers' free-text notes go out through the REST API and exports."
    )
    # Wellbeing safeguards, per study.
    checkin_every_reviews = models.PositiveSmallIntegerField(
        default=10, help_text="Offer the feelings check-in after this many reviews (the paper's 10)."
    )
    daily_cap_minutes = models.PositiveSmallIntegerField(
        default=240, help_text="Active exposure a reviewer may have in a day; no more claims after it."
    )
    # Markdown, shown to reviewers before their first item and beside every review (rendered
    # with raw HTML escaped: core.markdown.markdown_safe).
    instructions = models.TextField(blank=True, default="", help_text="What reviewers are asked to do, in Markdown.")
    # Starting: how far the worker has got, stored so the lead's page can show it (and a rerun
    # of the task resumes after start_position, the last item position whose slots exist).
    start_items_total = models.PositiveIntegerField(default=0)
    start_items_done = models.PositiveIntegerField(default=0)
    start_position = models.PositiveIntegerField(default=0)
    # When the start last moved (asked for, or a batch committed): beat re-sends a start that
    # stopped moving (a lost enqueue, a dead worker), review.services.studies.study_starts_requeue.
    start_touched_at = models.DateTimeField(null=True, blank=True)
    # The status an archived study had, which unarchiving gives back; empty unless archived.
    archived_from = models.CharField(max_length=10, blank=True, default="")
    # Gold items (GoldItem): each reviewer's work opens with this many of them, each followed by
    # its reference answer and explanation; afterwards this share of their claims is a gold item.
    calibration_items = models.PositiveSmallIntegerField(
        default=0, help_text="Gold items that open each reviewer's work, with feedback after each (0: none)."
    )
    gold_percent = models.PositiveSmallIntegerField(
        default=0, help_text="Share of a reviewer's later claims that are a gold item, as a silent check (0: none)."
    )

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reviewers_per_item__gte=1, reviewers_per_item__lte=20), name="study_reviewers_1_20"
            ),
            models.CheckConstraint(condition=Q(lease_minutes__gte=1), name="study_lease_positive"),
            models.CheckConstraint(condition=Q(status__in=StudyStatus.values), name="study_known_status"),
            models.CheckConstraint(
                condition=Q(archived_from="")
                | Q(
                    status=StudyStatus.ARCHIVED,
                    archived_from__in=[StudyStatus.DRAFT, StudyStatus.STARTING, StudyStatus.ACTIVE, StudyStatus.PAUSED],
                ),
                name="study_archived_from_known",
            ),
            models.CheckConstraint(
                condition=Q(start_items_done__lte=F("start_items_total")), name="study_start_done_le_total"
            ),
            models.CheckConstraint(condition=Q(checkin_every_reviews__gte=1), name="study_checkin_every_positive"),
            models.CheckConstraint(
                condition=Q(daily_cap_minutes__gte=1, daily_cap_minutes__lte=24 * 60), name="study_daily_cap_in_a_day"
            ),
            models.CheckConstraint(condition=Q(calibration_items__lte=50), name="study_calibration_items_le_50"),
            models.CheckConstraint(condition=Q(gold_percent__lte=50), name="study_gold_percent_le_50"),
        ]

    def __str__(self) -> str:
        return self.name


class StudyItem(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="items")
    transcript = models.ForeignKey(Transcript, on_delete=models.PROTECT, related_name="study_items")
    position = models.PositiveIntegerField()
    stratum = models.CharField(max_length=200, help_text="The stratum this item was drawn from.")

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "position"], name="studyitem_unique_position"),
            models.UniqueConstraint(fields=["study", "transcript"], name="studyitem_unique_transcript"),
        ]

    def __str__(self) -> str:
        return f"{self.study} #{self.position}"


class ReviewerProfile(models.Model):
    """Links a reviewer to their red-team identity, so they are never assigned their own attacks."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profile")
    red_team_member_id = models.BigIntegerField(
        null=True, blank=True, unique=True, help_text="The reviewer's id as a red-team author, if they were one."
    )
    # Declared by a lead on the team page, from the 20 harm tags: what this reviewer knows well.
    expertise = models.ManyToManyField("tagging.Tag", blank=True, related_name="+")

    def __str__(self) -> str:
        return f"{self.user} (red-team member {self.red_team_member_id})"


class StudyLead(models.Model):
    """A lead who owns the study: its creator, and the co-leads they add. Only they reach its
    pages and its data in the API (review.selectors.study_for_lead); other leads get 404."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="leads")
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_studies")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "lead"], name="studylead_unique")]
        indexes = [models.Index(fields=["lead", "study"], name="studylead_lead_idx")]

    def __str__(self) -> str:
        return f"{self.lead} leads {self.study}"


class StudyMembership(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "reviewer"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.reviewer} in {self.study}"


class SlotStatus(models.TextChoices):
    OPEN = "open", "Open"
    LEASED = "leased", "Leased"
    DONE = "done", "Done"


class Slot(models.Model):
    """One of an item's reviewers_per_item places for a review, created when the study starts.

    Fixed slots make "never a 4th review" structural: a review needs a slot, a slot holds
    one review. Crowd slots are numbered 1..reviewers_per_item; an item has at most one expert
    slot (numbered after them), and gold slots (numbered from GOLD_NUMBER_BASE) are made for one
    reviewer at a time, always held, never open. study, position, author_member_id and item_done
    copy item facts onto the slot so one partial index answers a claim without joins, however
    large the study.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="slots")
    # slot_unique_number (item, number) already indexes item first. RESTRICT: an item's slots
    # go only with their whole study (a draft or one nobody reviewed), never with the item alone.
    item = models.ForeignKey(StudyItem, on_delete=models.RESTRICT, related_name="slots", db_index=False)
    number = models.PositiveSmallIntegerField()
    position = models.PositiveIntegerField()
    author_member_id = models.BigIntegerField()
    item_done = models.PositiveSmallIntegerField(default=0, help_text="Reviews the item has; fuller items go first.")
    status = models.CharField(max_length=10, choices=SlotStatus.choices, default=SlotStatus.OPEN)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="slots"
    )
    leased_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    role = models.CharField(max_length=12, choices=RaterRole.choices, db_default=RaterRole.CROWD)
    # An expert slot's domain: only reviewers who declared this area of expertise claim it.
    expert_tag = models.ForeignKey("tagging.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="slot_unique_number"),
            models.UniqueConstraint(fields=["item"], condition=Q(role=RaterRole.EXPERT), name="slot_one_expert"),
            models.CheckConstraint(condition=Q(role__in=RaterRole.values), name="slot_known_role"),
            models.CheckConstraint(
                condition=Q(role=RaterRole.EXPERT, expert_tag__isnull=False)
                | (~Q(role=RaterRole.EXPERT) & Q(expert_tag__isnull=True)),
                name="slot_expert_has_domain",
            ),
            # A gold slot belongs to the reviewer it was made for: never open, never passed on.
            models.CheckConstraint(
                condition=~Q(role__in=GOLD_ROLES) | Q(holder__isnull=False, number__gte=GOLD_NUMBER_BASE),
                name="slot_gold_held",
            ),
            models.CheckConstraint(
                condition=Q(role__in=GOLD_ROLES) | Q(number__lt=GOLD_NUMBER_BASE), name="slot_number_below_gold"
            ),
            # One reviewer, one place per item: no reviewer reviews an item twice.
            models.UniqueConstraint(
                fields=["item", "holder"], condition=Q(holder__isnull=False), name="slot_one_per_reviewer"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="open", holder__isnull=True, leased_until__isnull=True)
                    | Q(status="leased", holder__isnull=False, leased_until__isnull=False, leased_at__isnull=False)
                    | Q(status="done", holder__isnull=False)
                ),
                name="slot_status_consistent",
            ),
        ]
        indexes = [
            # The claim: open crowd slots of a study, fullest items first, then study order.
            models.Index(
                "study",
                models.F("item_done").desc(),
                "position",
                "number",
                condition=Q(status="open", role=RaterRole.CROWD),
                name="slot_claim_idx",
            ),
            # The expert claim: open expert slots of a study in study order, the reviewer's domains
            # filtered on the way. Not (study, expert_tag, position): with several domains (= ANY)
            # that order is lost, and the pick read and sorted every open expert slot (282 ms a
            # claim at 250,000 of them, against 7 ms at 250).
            models.Index(
                fields=["study", "position"],
                condition=Q(status="open", role=RaterRole.EXPERT),
                name="slot_expert_claim_idx",
            ),
            models.Index(fields=["leased_until"], condition=Q(status="leased"), name="slot_lease_expiry_idx"),
            models.Index(fields=["holder", "status"], name="slot_holder_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item} slot {self.number}"


class ReviewQuerySet(models.QuerySet["Review"]):
    def crowd(self) -> ReviewQuerySet:
        """The item's reviewers_per_item reviews: what agreement, consensus, reviewer quality,
        adjudication and study progress count. Expert and gold answers are rater sets of their own."""
        return self.filter(rater_role=RaterRole.CROWD)

    def labels(self) -> ReviewQuerySet:
        """What goes out as labels (API, exports): crowd and expert reviews, never calibration or
        gold answers, which are a reviewer's test, not a judgement of the item."""
        return self.filter(rater_role__in=LABEL_ROLES)


class Review(models.Model):
    slot = models.OneToOneField(Slot, on_delete=models.PROTECT, related_name="review")
    item = models.ForeignKey(StudyItem, on_delete=models.PROTECT, related_name="reviews")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    # At most two harm topics, as two columns so the database itself enforces the limit.
    first_tag = models.ForeignKey("tagging.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    second_tag = models.ForeignKey("tagging.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    needs_expertise = models.BooleanField(default=False)
    # The domain the judgement needs, from the 20 harm tags: an expert slot is routed by it.
    expertise_tag = models.ForeignKey("tagging.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Free-text detail on the domain ("nerve agents"), optional.
    expertise_domain = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    seconds_on_task = models.PositiveIntegerField(help_text="From the preview being shown to the submit.")
    # Copied at submit so the database can refuse a review of one's own attack.
    author_member_id = models.BigIntegerField()
    reviewer_member_id = models.BigIntegerField(null=True, blank=True)
    # Copied from the slot: only crowd reviews enter agreement, consensus and adjudication.
    rater_role = models.CharField(max_length=12, choices=RaterRole.choices, db_default=RaterRole.CROWD)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer"], name="review_one_per_reviewer"),
            models.CheckConstraint(condition=Q(rater_role__in=RaterRole.values), name="review_known_rater_role"),
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=4), name="review_rating_0_4"),
            models.CheckConstraint(
                condition=Q(second_tag__isnull=True)
                | (Q(first_tag__isnull=False) & ~Q(first_tag=models.F("second_tag"))),
                name="review_two_distinct_tags",
            ),
            models.CheckConstraint(
                condition=Q(reviewer_member_id__isnull=True) | ~Q(reviewer_member_id=models.F("author_member_id")),
                name="review_not_by_author",
            ),
        ]
        indexes = [
            models.Index(fields=["reviewer", "created_at"], name="review_reviewer_day_idx"),
            # Gold answers are read per reviewer for accuracy and the calibration count.
            models.Index(
                fields=["study", "reviewer"], condition=~Q(rater_role=RaterRole.CROWD), name="review_not_crowd_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Review of {self.item} by {self.reviewer}"

    @property
    def tag_ids(self) -> list[int]:
        return [tag_id for tag_id in (self.first_tag_id, self.second_tag_id) if tag_id is not None]


class Skip(models.Model):
    item = models.ForeignKey(StudyItem, on_delete=models.PROTECT, related_name="skips")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="skips")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="skips")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "reviewer"], name="skip_one_per_reviewer")]

    def __str__(self) -> str:
        return f"{self.reviewer} skipped {self.item}"


class GoldItem(models.Model):
    """A study item a lead has answered: the reference a reviewer's calibration and gold answers
    are checked against, with the explanation they see after a calibration answer."""

    item = models.OneToOneField(StudyItem, on_delete=models.CASCADE, related_name="gold")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="gold_items")
    rating = models.PositiveSmallIntegerField()
    first_tag = models.ForeignKey("tagging.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    second_tag = models.ForeignKey("tagging.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    explanation = models.TextField()
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "item__position"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=4), name="gold_rating_0_4"),
            models.CheckConstraint(
                condition=Q(second_tag__isnull=True)
                | (Q(first_tag__isnull=False) & ~Q(first_tag=models.F("second_tag"))),
                name="gold_two_distinct_tags",
            ),
            models.CheckConstraint(condition=~Q(explanation=""), name="gold_has_explanation"),
        ]

    def __str__(self) -> str:
        return f"Gold: {self.item}"

    @property
    def tag_ids(self) -> list[int]:
        return [tag_id for tag_id in (self.first_tag_id, self.second_tag_id) if tag_id is not None]
