"""Imported transcripts and the batches they came in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from transcripts.turns import Turn, turns_from_spans


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
        db_table = "review_importbatch"  # made by the review app, where this model began
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
        db_table = "review_transcript"  # made by the review app, where this model began
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
