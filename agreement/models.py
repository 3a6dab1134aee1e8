"""Each study's agreement snapshot: the dashboard's figures, recomputed after reviews."""

from __future__ import annotations

from django.db import models

from review.models import Study, StudyItem


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

    class Meta:
        db_table = "review_agreementsnapshot"  # made by the review app, where this model began

    def __str__(self) -> str:
        return f"Agreement of {self.study}"


class ConsensusSnapshot(models.Model):
    """A study's consensus summary: each reviewer's estimated reliability and how the model-based
    labels differ from the majority vote. The per-item labels are ItemConsensus rows.

    Computed by its own task after the agreement snapshot (agreement.services.consensus_refresh):
    fitting Dawid-Skene on both scales and MACE takes about as long again as the whole agreement
    snapshot, which must stay under its 2 s budget.
    """

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="consensus_snapshot")
    computed_at = models.DateTimeField(null=True, blank=True)
    compute_seconds = models.FloatField(null=True, blank=True)
    review_count = models.PositiveIntegerField(default=0, help_text="Reviews the consensus was computed from.")
    data = models.JSONField(default=dict, blank=True)
    # Set when the agreement snapshot is recomputed and cleared when the consensus task starts reading.
    refresh_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Consensus of {self.study}"


class ItemConsensus(models.Model):
    """One item's consensus labels, each with the posterior probability of that label.

    Only reviewers' ratings enter (never the author's self-rating). Binary labels are 0/1
    (rating >= 3 is 1), Likert labels 0-4. Rewritten whole for the study by each consensus run.
    """

    item = models.OneToOneField(StudyItem, on_delete=models.CASCADE, primary_key=True, related_name="consensus")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    ds_binary_label = models.PositiveSmallIntegerField()
    ds_binary_probability = models.FloatField()
    ds_likert_label = models.PositiveSmallIntegerField()
    ds_likert_probability = models.FloatField()
    mace_label = models.PositiveSmallIntegerField()
    mace_probability = models.FloatField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ds_binary_label__lte=1, mace_label__lte=1, ds_likert_label__lte=4),
                name="itemconsensus_labels_in_scale",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    ds_binary_probability__gte=0,
                    ds_binary_probability__lte=1,
                    ds_likert_probability__gte=0,
                    ds_likert_probability__lte=1,
                    mace_probability__gte=0,
                    mace_probability__lte=1,
                ),
                name="itemconsensus_probabilities_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"Consensus of item {self.item_id}"
