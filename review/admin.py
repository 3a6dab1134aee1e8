from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db.models import ProtectedError, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import SafeString
from django.views.decorators.debug import sensitive_post_parameters

from review.accounts import AUDITED_FIELDS, user_create, user_delete, user_password_set, user_update
from review.errors import StudyHasReviews, StudyStateError
from review.models import (
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
from review.services import (
    reviewer_profile_set,
    study_archive,
    study_delete,
    study_details_set,
    study_pause,
    study_resume,
    study_start,
)
from review.templatetags.transcript_text import reveal_hidden_characters
from wellbeing.admin import WellbeingHiddenOnDelete

User = get_user_model()


class ViewOnly:
    """For a ModelAdmin whose rows are shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(ViewOnly, admin.ModelAdmin):
    """Imported data is the record of what came in: it is viewed here, changed only by commands."""


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


# What study_details_set changes; the admin shows every other field of a study but does not edit it.
STUDY_FIELDS_EDITED_IN_ADMIN = ("name", "description", "lease_minutes")


@admin.register(Study)
class StudyAdmin(WellbeingHiddenOnDelete):
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
            actor=request.user,
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
            study_delete(study=obj, actor=request.user)
        except StudyHasReviews as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        for study in queryset:
            self.delete_model(request, study)

    def _move(self, request: HttpRequest, queryset: QuerySet[Study], service: Any, done: str) -> None:
        for study in queryset:
            try:
                service(study=study, actor=request.user)
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
    search_fields = ("user__username",)
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request: HttpRequest, obj: ReviewerProfile | None = None) -> tuple[str, ...]:
        return ("user",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: ReviewerProfile, form: ModelForm, change: bool) -> None:
        saved = reviewer_profile_set(
            user=obj.user, red_team_member_id=form.cleaned_data["red_team_member_id"], actor=request.user
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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log, append-only: the database refuses changes even if this allowed them."""

    list_display = ("id", "at", "actor_label", "action", "target_type", "target_id", "target_label", "study_id")
    list_filter = ("action",)
    search_fields = ("actor_label", "target_label")
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]


# --- accounts: operators only; every change goes through review.accounts and is audited ---------

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class TriadUserAdmin(WellbeingHiddenOnDelete, UserAdmin):
    """Django's user pages, with every write routed through review.accounts so that password
    resets, roles (groups), activation, staff and superuser flags are in the audit log with
    their values before and after. The delete page does not list wellbeing rows."""

    # Set by Django as things happen; save_model would not save an edit of them anyway.
    readonly_fields = ("last_login", "date_joined")

    def save_model(self, request: HttpRequest, obj: AbstractBaseUser, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            password = data["password1"] if data.get("set_usable_password", True) else None
            created = user_create(username=data["username"], password=password, actor=request.user)
            obj.pk, obj.password, obj._state.adding = created.pk, created.password, False
            return
        fields = {name: data[name] for name in AUDITED_FIELDS if name in data}
        roles = [group.name for group in data["groups"]] if "groups" in data else None
        permissions = data.get("user_permissions")
        user_update(user=obj, fields=fields, roles=roles, permissions=permissions, actor=request.user)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        # Groups and permissions were saved by save_model through user_update; the form's
        # save_m2m would write them again unrecorded.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """A valid new password (or "disable password login") is set through user_password_set;
        everything else, the form and its errors, is Django's own view."""
        user = self.get_object(request, unquote(id))
        if request.method == "POST" and user is not None and self.has_change_permission(request, user):
            form = self.change_password_form(user, request.POST)
            usable = form.is_valid() and form.cleaned_data["set_usable_password"]
            if form.is_valid() and (usable or "unset-password" in request.POST):
                password = form.cleaned_data["password1"] if usable else None
                user_password_set(user=user, password=password, actor=request.user)
                self.log_change(request, user, self.construct_change_message(request, form, None))
                message = "Password changed successfully." if usable else "Password-based authentication was disabled."
                self.message_user(request, message, messages.SUCCESS)
                update_session_auth_hash(request, user)
                return HttpResponseRedirect(reverse(f"{self.admin_site.name}:auth_user_change", args=[user.pk]))
        return super().user_change_password(request, id, form_url)

    def delete_model(self, request: HttpRequest, obj: AbstractBaseUser) -> None:
        try:
            user_delete(user=obj, actor=request.user)
        except ProtectedError:
            self.message_user(
                request,
                f"{obj} has reviews, studies or audit events and is kept: deactivate it instead.",
                messages.ERROR,
            )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            self.delete_model(request, user)


@admin.register(Group)
class RoleGroupAdmin(ViewOnly, GroupAdmin):
    """The groups are Triad's roles, which the code knows by name: they are shown, not changed.
    Give someone a role on their user page."""
