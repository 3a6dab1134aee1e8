"""Query filters of the label and item lists; a bad value is a 400 naming the parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from config.inputs import DB_INT_MAX, BoundedIntegerField
from review.models import LABEL_ROLES, Review, Slot, StudyItem
from tagging.models import Tag
from transcripts.models import ModelSize, ModelType

# Only these, so a typo is a 400 rather than silently no filter (django-filter's BooleanFilter
# reads anything else as "not given").
BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, turned into UTC here: PostgreSQL refuses offsets beyond 15:59 and
    Python overflows near year 1, and either would otherwise surface as a 500."""

    def to_python(self, value: str | datetime | date | None) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("This time is out of range.", code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": DB_INT_MAX})
class IdFilter(filters.NumberFilter):
    """An id: a whole number the id column can hold, else a 400 naming the parameter. (NumberFilter's
    own field is a decimal, which lets 1.5 through and passes 10**20 to the database.)"""

    # django-filter's stubs pin NumberFilter's form field to DecimalField; django-filter itself
    # builds whichever field_class a subclass names.
    field_class = BoundedIntegerField  # type: ignore[assignment]

    def __init__(self, *, field_name: str, help_text: str, min_value: int = 1) -> None:
        super().__init__(field_name=field_name, help_text=help_text, min_value=min_value)


def _item_complete(item_ref: str) -> Exists:
    # Every slot of an item carries the item's review count; slot 1 stands for the item.
    return Exists(
        Slot.objects.filter(item_id=OuterRef(item_ref), number=1, item_done__gte=F("study__reviewers_per_item"))
    )


class LabelFilter(filters.FilterSet):
    study = IdFilter(field_name="study_id", help_text="Only this study's labels.")
    model_type = filters.ChoiceFilter(field_name="item__transcript__model_type", choices=ModelType.choices)
    num_params = filters.ChoiceFilter(field_name="item__transcript__num_params", choices=ModelSize.choices)
    complete = filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES,
        method="filter_complete",
        help_text="Labels of items with (or without) every review in.",
    )
    created_since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    updated_since = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Labels are never edited, so this equals created_since."
    )
    tag = filters.ModelChoiceFilter(
        queryset=Tag.objects.all(), to_field_name="slug", method="filter_tag", help_text="A tag's slug (see /tags/)."
    )
    rater_role = filters.ChoiceFilter(
        field_name="rater_role",
        choices=[(str(role), str(role)) for role in LABEL_ROLES],
        help_text="Only the crowd's labels, or only experts'.",
    )

    class Meta:
        model = Review
        fields: list[str] = []

    def filter_complete(self, queryset: QuerySet[Review], name: str, value: str) -> QuerySet[Review]:
        complete = _item_complete("item_id")
        return queryset.filter(complete) if value == "true" else queryset.exclude(complete)

    def filter_tag(self, queryset: QuerySet[Review], name: str, value: Tag | None) -> QuerySet[Review]:
        return queryset if value is None else queryset.filter(Q(first_tag=value) | Q(second_tag=value))


class ItemFilter(filters.FilterSet):
    model_type = filters.ChoiceFilter(field_name="transcript__model_type", choices=ModelType.choices)
    num_params = filters.ChoiceFilter(field_name="transcript__num_params", choices=ModelSize.choices)
    complete = filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES, method="filter_complete", help_text="Items with (or without) every review in."
    )
    updated_since = UtcDateTimeFilter(method="filter_updated_since", help_text="Items reviewed since then.")
    tag = filters.ModelChoiceFilter(
        queryset=Tag.objects.all(), to_field_name="slug", method="filter_tag", help_text="A tag's slug (see /tags/)."
    )

    class Meta:
        model = StudyItem
        fields: list[str] = []

    def filter_complete(self, queryset: QuerySet[StudyItem], name: str, value: str) -> QuerySet[StudyItem]:
        complete = _item_complete("pk")
        return queryset.filter(complete) if value == "true" else queryset.exclude(complete)

    def filter_updated_since(self, queryset: QuerySet[StudyItem], name: str, value: object) -> QuerySet[StudyItem]:
        if value is None:
            return queryset
        return queryset.filter(Exists(Review.objects.filter(item_id=OuterRef("pk"), created_at__gte=value)))

    def filter_tag(self, queryset: QuerySet[StudyItem], name: str, value: Tag | None) -> QuerySet[StudyItem]:
        if value is None:
            return queryset
        tagged = Review.objects.filter(Q(first_tag=value) | Q(second_tag=value), item_id=OuterRef("pk"))
        return queryset.filter(Exists(tagged))
