"""Reads behind the REST API: labels as rows, and the items' aggregate labels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.models import User
from django.db.models import Avg, Count, F, Max, Q, QuerySet

from agreement.consensus import DEFAULT_FIT
from agreement.selectors import CONSENSUS_COLUMNS
from agreement.statistics import SUCCESS_THRESHOLD
from api.models import ApiToken
from api.pseudonyms import reviewer_pseudonym
from review.models import RaterRole, Review, Slot, Study, StudyItem
from review.selectors import studies_for_lead
from transcripts.models import Transcript

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# One label (a review) as clients see it, in this order in JSON and as CSV columns. "note"
# is present only when the study's lead shares notes.
LABEL_FIELDS = [
    "id",
    "study",
    "item",
    "position",
    "transcript",
    "model_type",
    "num_params",
    "self_rating",
    "min_harmlessness_score",
    "red_team_member_id",
    "is_upworker",
    "reviewer",
    # crowd: one of the item's reviewers_per_item reviews; expert: its one extra review by a
    # reviewer with the expertise a crowd review asked for. Calibration and gold answers never go out.
    "rater_role",
    "rating",
    "binary_label",
    "tags",
    "needs_expertise",
    "expertise_tag",
    "expertise_domain",
    "note",
    "created_at",
    # The item's final label, when an adjudicator recorded one (null otherwise): the same on
    # every label of the item, beside the raw rating, which it never replaces.
    "adjudicated_rating",
    "adjudicated_tags",
    "adjudicated_by",
    "adjudicated_at",
    "consensus_method",
    "consensus_label",
    "consensus_probability",
]
# The item's consensus every label carries (agreement.consensus.DEFAULT_FIT: Dawid-Skene on the
# binary scale), null until the study's consensus is computed.
LABEL_CONSENSUS = DEFAULT_FIT
# The one timestamp format of the API and its exports: UTC, microseconds, a Z.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
TIMESTAMP_FORMAT_SQL = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'

_LABEL_VALUES = {
    "item_position": F("item__position"),
    "transcript_id": F("item__transcript_id"),
    "model_type": F("item__transcript__model_type"),
    "num_params": F("item__transcript__num_params"),
    "self_rating": F("item__transcript__rating"),
    "min_harmlessness_score": F("item__transcript__min_harmlessness_score_transcript"),
    "red_team_member_id": F("item__transcript__red_team_member_id"),
    "is_upworker": F("item__transcript__is_upworker"),
    "first_tag_name": F("first_tag__name"),
    "expertise_tag_name": F("expertise_tag__name"),
    "second_tag_name": F("second_tag__name"),
    "share_notes": F("study__api_share_notes"),
    "adjudication_id": F("item__adjudication__id"),
    "adjudicated_rating": F("item__adjudication__rating"),
    "adjudicated_first_tag": F("item__adjudication__first_tag__name"),
    "adjudicated_second_tag": F("item__adjudication__second_tag__name"),
    "adjudicated_by_id": F("item__adjudication__adjudicated_by_id"),
    "adjudicated_at": F("item__adjudication__adjudicated_at"),
    "consensus_label": F(f"item__consensus__{CONSENSUS_COLUMNS[DEFAULT_FIT][0]}"),
    "consensus_probability": F(f"item__consensus__{CONSENSUS_COLUMNS[DEFAULT_FIT][1]}"),
}


def label_rows(queryset: QuerySet[Review] | None = None) -> QuerySet[Any]:
    """Reviews as flat value rows carrying everything label_dict needs, in one query."""
    queryset = Review.objects.labels() if queryset is None else queryset
    return queryset.values(
        "id",
        "study_id",
        "item_id",
        "reviewer_id",
        "rater_role",
        "rating",
        "needs_expertise",
        "expertise_domain",
        "note",
        "created_at",
        **_LABEL_VALUES,
    )


def label_dict(row: dict[str, Any]) -> dict[str, Any]:
    """One label row as the API and the exports give it."""
    label = {
        "id": row["id"],
        "study": row["study_id"],
        "item": row["item_id"],
        "position": row["item_position"],
        "transcript": row["transcript_id"],
        "model_type": row["model_type"],
        "num_params": row["num_params"],
        "self_rating": row["self_rating"],
        "min_harmlessness_score": row["min_harmlessness_score"],
        "red_team_member_id": row["red_team_member_id"],
        "is_upworker": row["is_upworker"],
        "reviewer": reviewer_pseudonym(study_id=row["study_id"], reviewer_id=row["reviewer_id"]),
        "rater_role": row["rater_role"],
        "rating": row["rating"],
        "binary_label": int(row["rating"] >= SUCCESS_THRESHOLD),
        "tags": [name for name in (row["first_tag_name"], row["second_tag_name"]) if name],
        "needs_expertise": row["needs_expertise"],
        "expertise_tag": row["expertise_tag_name"],
        "expertise_domain": row["expertise_domain"],
        "note": row["note"],
        "created_at": timestamp(row["created_at"]),
        **adjudicated_fields(row),
        "consensus_method": None if row["consensus_label"] is None else LABEL_CONSENSUS,
        "consensus_label": row["consensus_label"],
        "consensus_probability": row["consensus_probability"],
    }
    if not row["share_notes"]:
        del label["note"]
    return label


def adjudicated_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The item's final label beside a raw one: all null when the item has none. The adjudicator
    appears as their study pseudonym, like reviewers (a reviewer who adjudicates keeps theirs)."""
    if row["adjudication_id"] is None:
        return dict.fromkeys(("adjudicated_rating", "adjudicated_tags", "adjudicated_by", "adjudicated_at"))
    return {
        "adjudicated_rating": row["adjudicated_rating"],
        "adjudicated_tags": [name for name in (row["adjudicated_first_tag"], row["adjudicated_second_tag"]) if name],
        "adjudicated_by": reviewer_pseudonym(study_id=row["study_id"], reviewer_id=row["adjudicated_by_id"]),
        "adjudicated_at": timestamp(row["adjudicated_at"]),
    }


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def studies_progress(*, studies: list[Study]) -> dict[int, dict[str, int]]:
    """Progress of many studies in two grouped queries: items by completeness, and reviews."""
    progress = {study.pk: {"items": 0, "complete": 0, "partial": 0, "untouched": 0, "reviews": 0} for study in studies}
    needed = {study.pk: study.reviewers_per_item for study in studies}
    item_counts = (
        StudyItem.objects.filter(study_id__in=needed)
        .values("study_id")
        .annotate(n=Count("id"))
        .values_list("study_id", "n")
    )
    for study_id, count in item_counts:
        progress[study_id]["items"] = progress[study_id]["untouched"] = count
    # Slot 1 stands for its item: every slot carries the item's review count.
    done_counts = (
        Slot.objects.filter(study_id__in=needed, number=1, item_done__gt=0)
        .values("study_id", "item_done")
        .annotate(n=Count("id"))
        .values_list("study_id", "item_done", "n")
    )
    for study_id, done, count in done_counts:
        key = "complete" if done >= needed[study_id] else "partial"
        progress[study_id][key] += count
        progress[study_id]["untouched"] -= count
    for study_id, count in (
        Review.objects.crowd()
        .filter(study_id__in=needed)
        .values("study_id")
        .annotate(n=Count("id"))
        .values_list("study_id", "n")
    ):
        progress[study_id]["reviews"] = count
    return progress


class ItemLabels(TypedDict):
    """What study_items adds to each item."""

    review_count: int
    success_count: int
    mean_rating: float | None
    last_reviewed_at: datetime | None


def study_items(*, study: Study | None) -> QuerySet[WithAnnotations[StudyItem, ItemLabels]]:
    """The study's items with their aggregate labels; none without a study (the schema
    generator reads the view's queryset with no request behind it)."""
    items = StudyItem.objects.filter(study=study) if study is not None else StudyItem.objects.none()
    # The crowd's reviews: an item's labels are its reviewers_per_item ratings (its expert
    # review is a label of its own, in /labels/ with rater_role "expert").
    crowd = Q(reviews__rater_role=RaterRole.CROWD)
    return items.select_related("transcript", "consensus").annotate(
        review_count=Count("reviews", filter=crowd),
        success_count=Count("reviews", filter=crowd & Q(reviews__rating__gte=SUCCESS_THRESHOLD)),
        mean_rating=Avg("reviews__rating", filter=crowd),
        last_reviewed_at=Max("reviews__created_at", filter=crowd),
    )


def studies_of(*, user: User | None) -> QuerySet[Study]:
    """The studies the user leads: all that their session or token sees through the API. None
    (the schema generator, with no request behind it) sees none."""
    return studies_for_lead(user=user) if user is not None else Study.objects.none()


def labels_of(*, user: User | None, study: Study | None = None) -> QuerySet[Any]:
    """The labels (see label_rows) of every study the user leads, or of one of them."""
    reviews = Review.objects.labels().filter(study__in=studies_of(user=user).values("pk"))
    if study is not None:
        reviews = reviews.filter(study=study)
    return label_rows(reviews)


def transcripts_with_tags(*, user: User | None) -> QuerySet[Transcript]:
    """The transcripts drawn into studies the user leads; the rest of the data set is not theirs
    to read through the API (a transcript is a red-team member's attack, not public text)."""
    drawn = StudyItem.objects.filter(study__in=studies_of(user=user).values("pk")).values("transcript_id")
    return Transcript.objects.filter(pk__in=drawn).prefetch_related("tags")


def item_tag_votes(*, item_ids: list[int]) -> dict[int, dict[str, int]]:
    """Item id -> {tag name: how many of its reviewers chose it}, for one page of items."""
    votes: dict[int, dict[str, int]] = {}
    for column in ("first_tag__name", "second_tag__name"):
        rows = (
            Review.objects.crowd()
            .filter(item_id__in=item_ids, **{f"{column}__isnull": False})
            .values("item_id", column)
            .annotate(n=Count("id"))
            .values_list("item_id", column, "n")
        )
        for item_id, name, count in rows:
            votes.setdefault(item_id, {})[name] = votes.get(item_id, {}).get(name, 0) + count
    return votes


def api_tokens_of(*, user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("-created_at"))
