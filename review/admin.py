from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from core.admin import PersonalRowsHiddenOnDelete, ReadOnlyAdmin
from core.roles import signed_in_user
from review.errors import StudyHasReviews, StudyStateError
from review.models import Review, ReviewerProfile, Skip, Slot, Study, StudyItem, StudyMembership
from review.services.studies import (
    reviewer_profile_set,
    study_archive,
    study_delete,
    study_details_set,
    study_pause,
    study_resume,
    study_start,
)


class StudyItemInline(admin.TabularInline):
    model = StudyItem
    fields = ("position", "transcript", "stratum")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    max_num = 0


# What study_details_set changes; the admin shows every other field of a study but does not edit it.
STUDY_FIELDS_EDITED_IN_ADMIN = ("name", "description", "lease_minutes")


@admin.register(Study)
class StudyAdmin(PersonalRowsHiddenOnDelete):
    """Name, description and lease length are edited here, through study_details_set; the
    status moves only through the actions below (starting creates the slots), and reviewers
    per item, notes sharing and the safeguards are the lead pages' to change. Every change is
    audited. A study with reviews cannot be deleted (the admin lists the protected reviews),
    and one without goes through study_delete."""

    list_display = ("name", "status", "reviewers_per_item", "lease_minutes", "seed", "created_by", "created_at")
    list_filter = ("status",)
    search_fields = ("name",)
    fields = (
        "name",
        "description",
        "lease_minutes",
        "status",
        "reviewers_per_item",
        "api_share_notes",
        "checkin_every_reviews",
        "daily_cap_minutes",
        "seed",
        "strata",
        "created_by",
        "created_at",
    )
    readonly_fields = tuple(name for name in fields if name not in STUDY_FIELDS_EDITED_IN_ADMIN)
    inlines = [StudyItemInline]
    actions = ["start", "pause", "resume", "archive"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a study is a seeded sample: leads draw one on the New study page

    def save_model(self, request: HttpRequest, obj: Study, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        study_details_set(
            study=obj,
            name=data["name"],
            description=data["description"],
            lease_minutes=data["lease_minutes"],
            actor=signed_in_user(request.user),
        )

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        # The study has no many-to-many fields to save; the items inline is read-only and saves nothing.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

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
            study_delete(study=obj, actor=signed_in_user(request.user))
        except StudyHasReviews as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        for study in queryset:
            self.delete_model(request, study)

    def _move(self, request: HttpRequest, queryset: QuerySet[Study], service: Any, done: str) -> None:
        for study in queryset:
            try:
                service(study=study, actor=signed_in_user(request.user))
            except StudyStateError as exc:
                self.message_user(request, f"{study.name}: not {done}, {exc}.", messages.ERROR)
            else:
                self.message_user(request, f"{study.name}: {done}.", messages.SUCCESS)

    @admin.action(description="Start the selected drafts (creates their slots)")
    def start(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        self._move(request, queryset, study_start, "started")

    @admin.action(description="Pause the selected active studies")
    def pause(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        self._move(request, queryset, study_pause, "paused")

    @admin.action(description="Resume the selected paused studies")
    def resume(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        self._move(request, queryset, study_resume, "resumed")

    @admin.action(description="Archive the selected studies (for good)")
    def archive(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        self._move(request, queryset, study_archive, "archived")


@admin.register(StudyItem)
class StudyItemAdmin(ReadOnlyAdmin):
    list_display = ("study", "position", "transcript", "stratum")
    list_filter = ("study",)
    list_select_related = ("study", "transcript")
    raw_id_fields = ("transcript",)


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(admin.ModelAdmin):
    """Saved through reviewer_profile_set, which records the change on the account."""

    list_display = ("user", "red_team_member_id")
    # Expertise is a lead's to set on the team page (the admin would save it past the service).
    fields = ("user", "red_team_member_id")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request: HttpRequest, obj: ReviewerProfile | None = None) -> tuple[str, ...]:
        return ("user",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: ReviewerProfile, form: ModelForm, change: bool) -> None:
        saved = reviewer_profile_set(
            user=obj.user,
            red_team_member_id=form.cleaned_data["red_team_member_id"],
            actor=signed_in_user(request.user),
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # clear the id instead, which is recorded


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
