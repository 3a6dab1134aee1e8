"""Response shapes of the REST API. Label rows are built by selectors.label_dict, which the
streaming export shares, so a page and an export never disagree; the fields declared here
describe them for the OpenAPI schema."""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from adjudication.models import Adjudication
from agreement.consensus import DEFAULT_FIT, STUDY_FITS
from agreement.selectors import item_consensus_dict
from agreement.statistics import item_success_label
from api.pseudonyms import reviewer_pseudonym
from api.selectors import label_dict, timestamp
from review.models import LABEL_ROLES, Study, StudyItem, StudyStatus
from tagging.models import Tag
from transcripts.models import ModelSize, ModelType, Transcript


class CountedItem(Protocol):
    """A StudyItem as selectors.study_items annotates it. (drf-spectacular reads the method
    signatures at run time, so this cannot be django-stubs' WithAnnotations, a type-checking name.)"""

    review_count: int
    success_count: int


class ProgressSerializer(serializers.Serializer):
    items = serializers.IntegerField()
    complete = serializers.IntegerField(help_text="Items with every review in.")
    # DRF's metaclass takes declared fields off the class, so this does not replace Serializer.partial.
    partial = serializers.IntegerField()  # type: ignore[assignment]
    untouched = serializers.IntegerField()
    reviews = serializers.IntegerField()


class StudySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=StudyStatus.choices)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = [
            "id",
            "name",
            "description",
            "status",
            "reviewers_per_item",
            "seed",
            "strata",
            "api_share_notes",
            "created_at",
            "progress",
        ]

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, study: Study) -> dict[str, int]:
        return self.context["progress"][study.pk]


class AdjudicatedSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=0, max_value=4)
    tags = serializers.ListField(child=serializers.CharField(), max_length=2)
    by = serializers.CharField(help_text="The adjudicator's study pseudonym (as reviewers appear).")
    at = serializers.DateTimeField()


class ConsensusSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=list(STUDY_FITS),
        help_text="dawid_skene (binary, the default), dawid_skene_likert (0-4) or mace (binary); ask with ?consensus=.",
    )
    scale = serializers.ChoiceField(choices=["binary", "likert"])
    # DRF takes declared fields off the class, so this does not replace Field.label.
    label = serializers.IntegerField(  # type: ignore[assignment]
        min_value=0, max_value=4, help_text="0/1 on the binary scale, 0-4 on likert."
    )
    probability = serializers.FloatField(min_value=0, max_value=1, help_text="The model's posterior of that label.")


class ItemSerializer(serializers.ModelSerializer):
    transcript = serializers.IntegerField(source="transcript_id")
    model_type = serializers.ChoiceField(source="transcript.model_type", choices=ModelType.choices)
    num_params = serializers.ChoiceField(source="transcript.num_params", choices=ModelSize.choices)
    reviews = serializers.IntegerField(source="review_count")
    complete = serializers.SerializerMethodField()
    mean_rating = serializers.FloatField(allow_null=True)
    binary_label = serializers.SerializerMethodField(
        help_text="The majority of reviewers' binarized ratings (rating >= 3 is 1); null on a tie or with no reviews."
    )
    tag_votes = serializers.SerializerMethodField(help_text="Tag name -> how many reviewers chose it.")
    last_reviewed_at = serializers.DateTimeField(allow_null=True)
    adjudication = serializers.SerializerMethodField(
        help_text="The item's final label from an adjudicator, beside the raw labels it never replaces; null if none."
    )
    consensus = serializers.SerializerMethodField(
        help_text="A model-based label from the reviewers' ratings only (never the author's), recomputed after the "
        "agreement snapshot; null before it is computed or for an unreviewed item."
    )

    class Meta:
        model = StudyItem
        fields = [
            "id",
            "study",
            "position",
            "stratum",
            "transcript",
            "model_type",
            "num_params",
            "reviews",
            "complete",
            "mean_rating",
            "binary_label",
            "tag_votes",
            "last_reviewed_at",
            "adjudication",
            "consensus",
        ]

    def get_complete(self, item: CountedItem) -> bool:
        return item.review_count >= self.context["study"].reviewers_per_item

    @extend_schema_field(serializers.IntegerField(allow_null=True, min_value=0, max_value=1))
    def get_binary_label(self, item: CountedItem) -> int | None:
        return item_success_label(successes=item.success_count, reviews=item.review_count)

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_tag_votes(self, item: StudyItem) -> dict[str, int]:
        return self.context["tag_votes"].get(item.pk, {})

    @extend_schema_field(AdjudicatedSerializer(allow_null=True))
    def get_adjudication(self, item: StudyItem) -> dict[str, Any] | None:
        adjudication: Adjudication | None = self.context["adjudications"].get(item.pk)
        if adjudication is None:
            return None
        return {
            "rating": adjudication.rating,
            "tags": [tag.name for tag in (adjudication.first_tag, adjudication.second_tag) if tag is not None],
            "by": reviewer_pseudonym(study_id=adjudication.study_id, reviewer_id=adjudication.adjudicated_by_id),
            "at": timestamp(adjudication.adjudicated_at),
        }

    @extend_schema_field(ConsensusSerializer(allow_null=True))
    def get_consensus(self, item: StudyItem) -> dict[str, Any] | None:
        try:
            row = item.consensus  # select_related by selectors.study_items
        except ObjectDoesNotExist:
            row = None
        return item_consensus_dict(row, fit=self.context.get("consensus", DEFAULT_FIT))


class LabelSerializer(serializers.Serializer):
    """One review. `reviewer` is a pseudonym, stable within a study and unlinkable across studies."""

    id = serializers.IntegerField()
    study = serializers.IntegerField()
    item = serializers.IntegerField()
    position = serializers.IntegerField()
    transcript = serializers.IntegerField()
    model_type = serializers.ChoiceField(choices=ModelType.choices)
    num_params = serializers.ChoiceField(choices=ModelSize.choices)
    self_rating = serializers.IntegerField(min_value=0, max_value=4, help_text="The author's self-rated success.")
    min_harmlessness_score = serializers.FloatField()
    red_team_member_id = serializers.IntegerField()
    is_upworker = serializers.BooleanField()
    reviewer = serializers.CharField()
    rater_role = serializers.ChoiceField(
        choices=[str(role) for role in LABEL_ROLES],
        help_text="crowd: one of the item's reviewers_per_item reviews, the ones agreement and consensus use; "
        "expert: the item's one extra review by a reviewer with the expertise a crowd review asked for.",
    )
    rating = serializers.IntegerField(min_value=0, max_value=4)
    binary_label = serializers.IntegerField(min_value=0, max_value=1, help_text="1 if rating >= 3.")
    tags = serializers.ListField(child=serializers.CharField(), max_length=2)
    needs_expertise = serializers.BooleanField()
    expertise_tag = serializers.CharField(
        allow_null=True, help_text="The domain (a harm topic) judging this needs, when needs_expertise; else null."
    )
    expertise_domain = serializers.CharField(allow_blank=True, help_text="Free-text detail on the domain.")
    note = serializers.CharField(
        required=False, allow_blank=True, help_text="Present only when the study's lead shares notes."
    )
    created_at = serializers.DateTimeField()
    adjudicated_rating = serializers.IntegerField(
        min_value=0, max_value=4, allow_null=True, help_text="The item's final rating from an adjudicator, or null."
    )
    adjudicated_tags = serializers.ListField(child=serializers.CharField(), max_length=2, allow_null=True)
    adjudicated_by = serializers.CharField(allow_null=True, help_text="The adjudicator's study pseudonym.")
    adjudicated_at = serializers.DateTimeField(allow_null=True)
    consensus_method = serializers.CharField(
        allow_null=True, help_text="dawid_skene: the item's Dawid-Skene label on the binary scale; null until computed."
    )
    consensus_label = serializers.IntegerField(allow_null=True, min_value=0, max_value=1)
    consensus_probability = serializers.FloatField(allow_null=True, min_value=0, max_value=1)

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        return label_dict(instance)


class AgreementSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    computed_at = serializers.DateTimeField(allow_null=True)
    review_count = serializers.IntegerField()
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="One per group (overall, model type, size) and rater set, with likert and binary results: "
        "fleiss_kappa, per_category, se0, z, ci95, krippendorff_alpha, percent_agreement; and n_items, n_excluded.",
    )


class ReviewerQualitySerializer(serializers.Serializer):
    study = serializers.IntegerField()
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the study's agreement snapshot, which holds these figures, was computed."
    )
    pool = serializers.DictField(
        help_text="Reviewers-only agreement of the study: items, complete_items, kappa, binary_kappa, alpha "
        "(ordinal), successful_items, small (fewer than 30 complete items)."
    )
    rules = serializers.DictField(child=serializers.CharField(), help_text="The rule behind each flag, in words.")
    consensus_computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the study's consensus, which holds the reliability figures, was computed."
    )
    reviewers = serializers.ListField(
        child=serializers.DictField(),
        help_text="One per reviewer, by study pseudonym: reviews, median_seconds, skips, skip_rate, skip_reasons, "
        "mean_rating, others_mean_rating, rating_difference (+ sd, t, compared_items), majority_binary_percent and "
        "majority_likert_percent (agreement with the other reviewers' majority, + items), leave-one-out "
        "kappa_with/without/gain, binary_kappa_with/without, alpha_with/without/gain on loo_items, small, thirds "
        "(drift), drift, drift_t, flags [{rule, label, detail}]; and estimated reliability from the study's "
        "consensus, null before it is computed: dawid_skene_accuracy and dawid_skene_likert_accuracy (the chance the "
        "reviewer gives an item's true label, binary and 0-4, from their Dawid-Skene confusion matrix) and "
        "mace_competence (MACE's chance that they judge an item rather than answer at random, binary).",
    )


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "slug", "position"]


class TurnSerializer(serializers.Serializer):
    speaker = serializers.CharField()
    text = serializers.CharField()


class TranscriptSerializer(serializers.ModelSerializer):
    self_rating = serializers.IntegerField(source="rating")
    turns = serializers.SerializerMethodField()
    tags = serializers.SlugRelatedField[Tag](many=True, read_only=True, slug_field="name")

    class Meta:
        model = Transcript
        fields = [
            "id",
            "transcript",
            "turns",
            "model_type",
            "num_params",
            "self_rating",
            "min_harmlessness_score_transcript",
            "task_description",
            "task_description_harmlessness_score",
            "red_team_member_id",
            "is_upworker",
            "source_tags",
            "tags",
        ]

    @extend_schema_field(TurnSerializer(many=True))
    def get_turns(self, transcript: Transcript) -> list[dict[str, str]]:
        return [{"speaker": turn.speaker, "text": turn.text} for turn in transcript.turns]


class ItemQuerySerializer(serializers.Serializer):
    consensus = serializers.ChoiceField(choices=list(STUDY_FITS), default=DEFAULT_FIT)


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["jsonl", "csv"], default="jsonl")
