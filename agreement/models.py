"""Each study's agreement snapshot: the dashboard's figures, recomputed after reviews."""

from __future__ import annotations

from django.db import models

from review.models import Study


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
