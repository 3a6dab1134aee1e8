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


def reviewer_studies(*, reviewer: Any) -> list[dict[str, Any]]:
    """The studies a reviewer is in, with what they did today and what is left overall."""
    today = timezone.localdate()
    studies = Study.objects.filter(memberships__reviewer=reviewer).exclude(status=StudyStatus.ARCHIVED)
    rows = []
    for study in studies.annotate(
        done_today=Count("reviews", filter=Q(reviews__reviewer=reviewer, reviews__created_at__date=today)),
    ).order_by("name"):
        rows.append({"study": study, "done_today": study.done_today})
    return rows


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
