from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from review.turns import Turn, turns_from_spans


class ModelType(models.TextChoices):
    PLAIN_LM = "plain lm", "Plain LM"
    CONTEXT_DISTILLATION = "context distillation", "Prompted LM (context distillation)"
    REJECTION_SAMPLING = "rejection sampling", "Rejection sampling"
    RLHF = "rlhf", "RLHF"


class ModelSize(models.TextChoices):
    B2_7 = "2.7B", "2.7B"
    B13 = "13B", "13B"
    B52 = "52B", "52B"


class ImportBatch(models.Model):
    """One run of import_transcripts over one file, kept as the record of what came in."""

    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, db_index=True)
    file_size = models.BigIntegerField()
    file_format = models.CharField(max_length=20)
    compressed = models.BooleanField()
    skip_invalid = models.BooleanField()
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # [{"record": 12, "line": 12, "field": "rating", "reason": "...", "raw": "..."}]
    errors = models.JSONField(default=list, blank=True)
    # Accepted records with something to note, such as a tag outside the vocabulary.
    warnings = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at"]
        verbose_name_plural = "import batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(file_format__in=["json-array", "jsonl"]), name="importbatch_known_format"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"


class Transcript(models.Model):
    """One red-team attempt, with every field of the released data set."""

    # Released fields. The source spells one key task_descripton_harmlessness_score;
    # the importer accepts both spellings and stores it under the correct one.
    transcript = models.TextField(help_text="The conversation as released, raw.")
    min_harmlessness_score_transcript = models.FloatField()
    num_params = models.CharField(max_length=8, choices=ModelSize.choices)
    model_type = models.CharField(max_length=32, choices=ModelType.choices)
    rating = models.PositiveSmallIntegerField(help_text="The author's self-rated success, 0-4.")
    task_description = models.TextField(blank=True)
    task_description_harmlessness_score = models.FloatField(null=True, blank=True)
    red_team_member_id = models.BigIntegerField()
    is_upworker = models.BooleanField()
    source_tags = models.JSONField(
        null=True, blank=True, help_text="The tags list exactly as released (null on most records)."
    )

    # Derived on import.
    turn_spans = models.JSONField(
        help_text="The parsed conversation: ordered [speaker, start, end] character spans into the transcript, "
        'e.g. [["Human", 9, 42], ["Assistant", 55, 120]].'
    )
    tags = models.ManyToManyField("tagging.Tag", blank=True, related_name="transcripts")
    # The raw SHA-256 digest: a bytea compares with memcmp, where a hex string in the
    # database's collation cost about 0.2 s of server time per 39k-record import.
    content_hash = models.BinaryField(max_length=32, unique=True)
    # Provenance only, so neither an index nor a database foreign key: PostgreSQL checks a
    # foreign key with a trigger per inserted row, which measured 0.45 s of the 1.25 s that
    # PostgreSQL spent on a 38,961-record import. Batches are append-only (no delete path
    # exists) and PROTECT still guards ORM deletes.
    import_batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, related_name="transcripts", db_index=False, db_constraint=False
    )
    source_index = models.PositiveIntegerField(help_text="1-based record number in the imported file.")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["model_type", "num_params"], name="transcript_stratum_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=4), name="transcript_rating_0_4"),
            models.CheckConstraint(condition=Q(model_type__in=ModelType.values), name="transcript_known_model_type"),
            models.CheckConstraint(condition=Q(num_params__in=ModelSize.values), name="transcript_known_num_params"),
        ]

    def __str__(self) -> str:
        return f"Transcript {self.pk} ({self.model_type}, {self.num_params})"

    @property
    def turns(self) -> list[Turn]:
        """The conversation as ordered (speaker, text) turns."""
        return turns_from_spans(self.transcript, self.turn_spans)


class StudyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


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

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reviewers_per_item__gte=1, reviewers_per_item__lte=20), name="study_reviewers_1_20"
            ),
            models.CheckConstraint(condition=Q(lease_minutes__gte=1), name="study_lease_positive"),
            models.CheckConstraint(condition=Q(status__in=StudyStatus.values), name="study_known_status"),
            models.CheckConstraint(condition=Q(checkin_every_reviews__gte=1), name="study_checkin_every_positive"),
            models.CheckConstraint(
                condition=Q(daily_cap_minutes__gte=1, daily_cap_minutes__lte=24 * 60), name="study_daily_cap_in_a_day"
            ),
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

    def __str__(self) -> str:
        return f"{self.user} (red-team member {self.red_team_member_id})"


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
    one review. study, position, author_member_id and item_done copy item facts onto the
    slot so one partial index answers a claim without joins, however large the study.
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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="slot_unique_number"),
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
            # The claim: open slots of a study, fullest items first, then study order.
            models.Index(
                "study",
                models.F("item_done").desc(),
                "position",
                "number",
                condition=Q(status="open"),
                name="slot_claim_idx",
            ),
            models.Index(fields=["leased_until"], condition=Q(status="leased"), name="slot_lease_expiry_idx"),
            models.Index(fields=["holder", "status"], name="slot_holder_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item} slot {self.number}"


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
    expertise_domain = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    seconds_on_task = models.PositiveIntegerField(help_text="From the preview being shown to the submit.")
    # Copied at submit so the database can refuse a review of one's own attack.
    author_member_id = models.BigIntegerField()
    reviewer_member_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer"], name="review_one_per_reviewer"),
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
        indexes = [models.Index(fields=["reviewer", "created_at"], name="review_reviewer_day_idx")]

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


class AgreementSnapshot(models.Model):
    """A study's agreement table and dashboard figures, computed off the request path.

    Leads read the snapshot; a Celery task rewrites it after submissions, at most once per
    debounce window, so a 39k-item study's dashboard never computes kappa per page view.
    """

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="agreement_snapshot")
    computed_at = models.DateTimeField(null=True, blank=True)
    compute_seconds = models.FloatField(null=True, blank=True)
    review_count = models.PositiveIntegerField(default=0, help_text="Reviews the snapshot was computed from.")
    data = models.JSONField(default=dict, blank=True)
    # Set when a refresh is queued and cleared when the task starts reading, so submissions
    # during a computation queue the next one instead of being lost.
    refresh_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Agreement of {self.study}"


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
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("created_at")),
                name="apitoken_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class AuditAction(models.TextChoices):
    IMPORT = "import", "Transcripts imported"
    STUDY_CREATED = "study.created", "Study created"
    STUDY_STARTED = "study.started", "Study started"
    STUDY_PAUSED = "study.paused", "Study paused"
    STUDY_RESUMED = "study.resumed", "Study resumed"
    STUDY_ARCHIVED = "study.archived", "Study archived"
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
        Study,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # auditevent_study_idx leads with it
        related_name="audit_events",
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
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
