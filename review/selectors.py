"""Reads for the review app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from review.models import Study, Transcript


def stratum_candidate_ids(filters: dict[str, Any]) -> list[int]:
    """Ids of the transcripts in a stratum, in an order that does not depend on import order."""
    return list(Transcript.objects.filter(**filters).order_by("content_hash").values_list("id", flat=True))


def stratum_counts() -> list[dict[str, Any]]:
    """How many transcripts each (model_type, num_params) stratum holds."""
    return list(
        Transcript.objects.values("model_type", "num_params")
        .annotate(count=Count("id"))
        .order_by("model_type", "num_params")
    )


def home_summary(*, user: Any) -> dict[str, Any]:
    """What the landing page shows: the signed-in user's roles and, for leads, the data at a glance."""
    if not user.is_authenticated:
        return {}
    groups = set(user.groups.values_list("name", flat=True))
    is_lead = "lead" in groups
    summary: dict[str, Any] = {"is_reviewer": "reviewer" in groups, "is_lead": is_lead}
    if is_lead:
        summary["transcript_count"] = Transcript.objects.count()
        summary["strata"] = stratum_counts()
        summary["studies"] = list(Study.objects.annotate(item_count=Count("items")).order_by("-created_at")[:20])
    return summary
