from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from review.models import (
    ImportBatch,
    Review,
    ReviewerProfile,
    Skip,
    Slot,
    Study,
    StudyItem,
    StudyMembership,
    Transcript,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Imported data is the record of what came in: it is viewed here, changed only by commands."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "file_name",
        "file_format",
        "created_count",
        "duplicate_count",
        "rejected_count",
        "created_by",
        "started_at",
    )
    list_filter = ("file_format", "skip_invalid")
    search_fields = ("file_name", "sha256")
    date_hierarchy = "started_at"


@admin.register(Transcript)
class TranscriptAdmin(ReadOnlyAdmin):
    list_display = ("id", "model_type", "num_params", "rating", "red_team_member_id", "is_upworker", "import_batch")
    list_filter = ("model_type", "num_params", "rating", "is_upworker", "tags")
    search_fields = ("task_description",)
    show_full_result_count = False  # a COUNT(*) per page is slow on 39k+ rows with filters
    list_select_related = ("import_batch",)
    readonly_fields = ("conversation", "content_hash_hex")

    @admin.display(description="Turns")
    def conversation(self, obj: Transcript) -> str:
        # Plain text: the admin escapes it, so hostile markup shows as text.
        return "\n\n".join(f"{turn.speaker}: {turn.text}" for turn in obj.turns)

    @admin.display(description="Content hash")
    def content_hash_hex(self, obj: Transcript) -> str:
        return bytes(obj.content_hash).hex()


class StudyItemInline(admin.TabularInline):
    model = StudyItem
    fields = ("position", "transcript", "stratum")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    max_num = 0


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "reviewers_per_item", "lease_minutes", "seed", "created_by", "created_at")
    list_filter = ("status",)
    search_fields = ("name",)
    readonly_fields = ("seed", "strata", "created_by", "created_at")
    inlines = [StudyItemInline]


@admin.register(StudyItem)
class StudyItemAdmin(ReadOnlyAdmin):
    list_display = ("study", "position", "transcript", "stratum")
    list_filter = ("study",)
    list_select_related = ("study", "transcript")
    raw_id_fields = ("transcript",)


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "red_team_member_id")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(StudyMembership)
class StudyMembershipAdmin(admin.ModelAdmin):
    list_display = ("study", "reviewer", "added_at")
    list_filter = ("study",)
    raw_id_fields = ("reviewer",)


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = ("id", "study", "item", "number", "status", "holder", "leased_until", "item_done")
    list_filter = ("status", "study")
    list_select_related = ("study", "item", "holder")
    show_full_result_count = False


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "study",
        "item",
        "reviewer",
        "rating",
        "first_tag",
        "second_tag",
        "seconds_on_task",
        "created_at",
    )
    list_filter = ("study", "rating")
    list_select_related = ("study", "item", "reviewer", "first_tag", "second_tag")
    show_full_result_count = False


@admin.register(Skip)
class SkipAdmin(ReadOnlyAdmin):
    list_display = ("id", "study", "item", "reviewer", "reason", "created_at")
    list_filter = ("study",)
    list_select_related = ("study", "item", "reviewer")
