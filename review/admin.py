from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.template.defaultfilters import linebreaksbr
from django.utils.safestring import SafeString

from review.errors import StudyHasReviews
from review.models import (
    AuditAction,
    AuditEvent,
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
from review.services import audit_record, study_delete
from review.templatetags.transcript_text import reveal_hidden_characters


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
    def conversation(self, obj: Transcript) -> SafeString:
        # Escaped by reveal_hidden_characters, which also shows bidi controls and invisible
        # characters as markers, as the review pages do.
        return linebreaksbr(reveal_hidden_characters("\n\n".join(f"{turn.speaker}: {turn.text}" for turn in obj.turns)))

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
    """Edits here are audited like the lead pages' own; a study with reviews cannot be deleted
    (the admin lists the protected reviews), and one without goes through study_delete."""

    list_display = ("name", "status", "reviewers_per_item", "lease_minutes", "seed", "created_by", "created_at")
    list_filter = ("status",)
    search_fields = ("name",)
    readonly_fields = ("seed", "strata", "created_by", "created_at")
    inlines = [StudyItemInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a study is a seeded sample: leads draw one on the New study page

    def save_model(self, request: HttpRequest, obj: Study, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            details = {"fields": sorted(form.changed_data), "via": "admin"}
            audit_record(actor=request.user, action=AuditAction.STUDY_CHANGED, target=obj, study=obj, details=details)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, set[str], Any]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Items, slots, memberships and the snapshot go with an unreviewed study by design,
        # although their own admins are read-only; what keeps a study is its reviews and
        # skips, and the page should name those rather than missing permissions.
        if protected:
            return deleted, counts, set(), protected
        cascaded = {model._meta.verbose_name for model in (StudyItem, Slot, StudyMembership)}
        return deleted, counts, perms_needed - cascaded, protected

    def delete_model(self, request: HttpRequest, obj: Study) -> None:
        try:
            study_delete(study=obj, actor=request.user)
        except StudyHasReviews as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        for study in queryset:
            self.delete_model(request, study)


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
class StudyMembershipAdmin(ReadOnlyAdmin):
    """Read-only: leads change members on the study's Reviewers page, which the audit log records."""

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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log, append-only: the database refuses changes even if this allowed them."""

    list_display = ("id", "at", "actor_label", "action", "target_type", "target_id", "target_label", "study_id")
    list_filter = ("action",)
    search_fields = ("actor_label", "target_label")
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]
