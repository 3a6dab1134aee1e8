"""Surveys and support links are data: an operator adds a questionnaire, its items and the
support page's links here, with no code.

Answers, declines and invitations are deliberately not registered: nobody but the
respondent reads individual answers, and the admin must not be a way round that. Nor do
delete-confirmation pages list them (core.admin.PersonalRowsHiddenOnDelete, which hides the
models marked personal_data): "Responses: 1" under an account says who took part.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import IntegrityError, models
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import PersonalRowsHiddenOnDelete
from wellbeing.models import (
    Instrument,
    InstrumentItem,
    InstrumentKind,
    SupportResource,
)
from wellbeing.services.surveys import instrument_version_create


class InstrumentForm(forms.ModelForm):
    class Meta:
        model = Instrument
        fields = (
            "name",
            "slug",
            "version",
            "kind",
            "prompt",
            "scale_labels",
            "free_text",
            "every_days",
            "support_at_or_below",
            "citation",
            "active",
        )
        help_texts = {
            "scale_labels": 'A JSON list of answer labels, lowest first: ["not at all", "a little", "very"] '
            "gives answers 0, 1 and 2.",
            "kind": "Check-in: offered after a run of reviews (the active check-in with the highest version is "
            "used). Periodic: reviewers are invited every 'every days' days.",
            "active": "Reviewers are asked the active version with the highest number.",
        }

    def clean_scale_labels(self) -> list[str]:
        labels = self.cleaned_data.get("scale_labels")
        if not isinstance(labels, list) or len(labels) < 2:
            raise forms.ValidationError("Give a JSON list of at least two labels, lowest answer first.")
        if not all(isinstance(label, str) and label.strip() for label in labels):
            raise forms.ValidationError("Every label must be non-empty text.")
        return [label.strip() for label in labels]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        # The database refuses a periodic survey without an interval; say so before it does.
        if data.get("kind") == InstrumentKind.PERIODIC and not data.get("every_days"):
            self.add_error("every_days", "A periodic questionnaire needs an interval in days.")
        support = data.get("support_at_or_below")
        if support is not None and support > 100:
            self.add_error("support_at_or_below", "Scores run 0-100.")
        return data


class InstrumentItemInline(admin.TabularInline):
    model = InstrumentItem
    extra = 3
    fields = ("position", "key", "text", "negative")

    # Stored answers are keyed by item; once a version has answers its items stay as they
    # were answered. Change a survey by drafting a new version (the list's action).
    def has_add_permission(self, request: HttpRequest, obj: Instrument | None = None) -> bool:
        return super().has_add_permission(request, obj) and not _answered(obj)

    def has_change_permission(self, request: HttpRequest, obj: Instrument | None = None) -> bool:
        return super().has_change_permission(request, obj) and not _answered(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Instrument | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not _answered(obj)


def _answered(instrument: Instrument | None) -> bool:
    return instrument is not None and instrument.pk is not None and instrument.responses.exists()


@admin.register(Instrument)
class InstrumentAdmin(PersonalRowsHiddenOnDelete):
    form = InstrumentForm
    inlines = [InstrumentItemInline]
    list_display = ("name", "slug", "version", "kind", "every_days", "support_at_or_below", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "slug")
    actions = ["draft_new_version"]

    def has_delete_permission(self, request: HttpRequest, obj: Instrument | None = None) -> bool:
        # Answers keep their questionnaire (PROTECT); deactivate an answered one instead.
        return super().has_delete_permission(request, obj) and not _answered(obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Instrument | None = None) -> tuple[str, ...]:
        if _answered(obj):
            return ("slug", "version", "kind", "scale_labels")
        return ()

    @admin.action(description="Draft a new version (a copy, inactive until you activate it)")
    def draft_new_version(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        for instrument in queryset:
            try:
                copy = instrument_version_create(instrument=instrument)
            except IntegrityError:
                self.message_user(request, f"{instrument} was not copied: try again.", messages.ERROR)
            else:
                self.message_user(request, f"Drafted {copy}: edit it, then tick 'active'.", messages.SUCCESS)


@admin.register(SupportResource)
class SupportResourceAdmin(admin.ModelAdmin):
    list_display = ("title", "url", "position")
    list_editable = ("position",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    search_fields = ("title", "description")
