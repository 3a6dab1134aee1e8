"""Reads for the review app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from review.models import Review, Slot, SlotStatus, Study, StudyStatus, Transcript


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


def lead_overview() -> dict[str, Any]:
    """The imported data and recent studies at a glance, for a lead's landing page."""
    return {
        "transcript_count": Transcript.objects.count(),
        "strata": stratum_counts(),
        "studies": list(Study.objects.annotate(item_count=Count("items")).order_by("-created_at")[:20]),
    }


def reviewer_studies(*, reviewer: Any) -> list[dict[str, Any]]:
    """The studies a reviewer is in (archived ones aside), each with the reviews they gave in it today."""
    today = timezone.localdate()
    studies = (
        Study.objects.filter(memberships__reviewer=reviewer)
        .exclude(status=StudyStatus.ARCHIVED)
        .annotate(done_today=Count("reviews", filter=Q(reviews__reviewer=reviewer, reviews__created_at__date=today)))
        .order_by("name")
    )
    return [{"study": study, "done_today": study.done_today} for study in studies]


def reviews_today(*, reviewer: Any) -> int:
    return Review.objects.filter(reviewer=reviewer, created_at__date=timezone.localdate()).count()


def slot_for_reviewer(*, slot_id: int, reviewer: Any) -> Slot | None:
    """The slot if the reviewer holds its lease now; what the preview and review pages show."""
    return (
        Slot.objects.select_related("study", "item__transcript")
        .filter(pk=slot_id, holder=reviewer, status=SlotStatus.LEASED)
        .first()
    )


def preview_text(*, transcript: Transcript, limit: int = 200) -> str:
    """The first human turn, cut at a word boundary near `limit` characters."""
    first = next((turn.text for turn in transcript.turns if turn.speaker == "Human"), "")
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0] if " " in first[:limit] else first[:limit]
    return cut + "…"


def lead_studies() -> list[dict[str, Any]]:
    """Every study with its slot counts by status, for the lead's study list."""
    counts: dict[int, dict[str, int]] = {}
    for study_id, status, number in Slot.objects.values_list("study_id", "status").annotate(n=Count("id")):
        counts.setdefault(study_id, {})[status] = number
    studies = Study.objects.annotate(
        item_count=Count("items", distinct=True), member_count=Count("memberships", distinct=True)
    )
    return [
        {"study": study, "slots": {status: counts.get(study.pk, {}).get(status, 0) for status in SlotStatus.values}}
        for study in studies.order_by("-created_at")
    ]
